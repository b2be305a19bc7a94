from .collate import pad_collate
from .fashion_mnist import FashionMNIST, read_idx
from .image_folder import ImageFolder
from .knn_dataset import KNNDataset
from .transforms import *  # noqa: F401,F403
from .transitive_pairs import TransitiveTripletDataset
from .voc07_cls import VOC07Classification

__all__ = ['FashionMNIST', 'ImageFolder', 'KNNDataset', 'read_idx', 'pad_collate',
           'VOC07Classification']
__all__ += ['TransitiveTripletDataset']
