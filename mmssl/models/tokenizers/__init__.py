"""Visual tokenizers: BEiT's prediction targets (token ids per patch)."""
from .dalle_tokenizer import DALLETokenizer
from .kmeans_tokenizer import KMeansTokenizer

__all__ = ['DALLETokenizer', 'KMeansTokenizer']
