"""mmssl: self-supervised visual representation learning on MMEngine."""
from .version import __version__

__all__ = ['__version__']
