from .atomic_io import atomic_write_text, publish_file
from .checkpoint_export import (ConversionReport, extract_backbone, extract_backbone_file,
                                import_checkpoint_file, save_backbone_checkpoint,
                                summarize_keys)
from .checkpoint_layouts import LAYOUTS, detect_layout, import_checkpoint, map_layout_keys
from .checkpoint_loading import (load_checkpoint_file, load_local_checkpoint,
                                 load_state_dict_file)
from .errors import NonFiniteLossError, UnsafeCheckpointError
from .setup_env import register_all_modules

__all__ = [
    'atomic_write_text', 'publish_file', 'register_all_modules', 'LAYOUTS',
    'ConversionReport', 'NonFiniteLossError', 'UnsafeCheckpointError', 'detect_layout',
    'extract_backbone', 'extract_backbone_file', 'import_checkpoint', 'import_checkpoint_file',
    'load_checkpoint_file', 'load_local_checkpoint', 'load_state_dict_file', 'map_layout_keys',
    'save_backbone_checkpoint', 'summarize_keys'
]
