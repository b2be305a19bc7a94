from typing import Union

from mmengine.dataset import BaseDataset

from mmssl.registry import DATASETS

DatasetCfg = Union[dict, BaseDataset]


def _build(cfg: DatasetCfg) -> BaseDataset:
    return cfg if isinstance(cfg, BaseDataset) else DATASETS.build(cfg)


@DATASETS.register_module()
class KNNDataset:
    """The two sets a kNN evaluation needs, in one dataset: the bank, then the queries.

    Every sample's data sample carries ``knn_bank`` in its metainfo (True for the
    bank's), which :class:`~mmssl.evaluation.KNNAccuracy` reads, so one pass of the
    model over this dataset (``tools/test.py``, or :class:`KNNEvalHook` during
    pretraining) gives everything the metric needs.

    Args:
        bank: the labelled training set whose features vote (e.g. Fashion-MNIST train).
        query: the labelled set that is classified (e.g. Fashion-MNIST test).
    """

    def __init__(self, bank: DatasetCfg, query: DatasetCfg) -> None:
        self.bank = _build(bank)
        self.query = _build(query)

    @property
    def metainfo(self) -> dict:
        return self.bank.metainfo

    def __len__(self) -> int:
        return len(self.bank) + len(self.query)

    def __getitem__(self, idx: int) -> dict:
        in_bank = idx < len(self.bank)
        data = self.bank[idx] if in_bank else self.query[idx - len(self.bank)]
        if 'data_samples' not in data:
            raise KeyError("KNNDataset needs pipelines that end with PackInputs "
                           "(their output has no 'data_samples')")
        data['data_samples'].set_metainfo(dict(knn_bank=in_bank))
        return data
