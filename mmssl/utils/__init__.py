from .atomic_io import atomic_write_text, publish_file
from .setup_env import register_all_modules

__all__ = ['atomic_write_text', 'publish_file', 'register_all_modules']
