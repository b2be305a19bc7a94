from .fashion_mnist import FashionMNIST, read_idx
from .image_folder import ImageFolder
from .knn_dataset import KNNDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['FashionMNIST', 'ImageFolder', 'KNNDataset', 'read_idx']
