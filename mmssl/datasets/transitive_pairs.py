import copy
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import Compose
from mmengine.dataset import BaseDataset

from mmssl.registry import DATASETS
from .transitive_graph import PatchGraph


@DATASETS.register_module()
class TransitiveTripletDataset(BaseDataset):
    """Triplets (anchor, positive, negative) from a transitive-invariance patch graph.

    The graph (:class:`PatchGraph`, written by
    ``tools/dataset_converters/mine_transitive_graph.py``) links patches of one instance
    (``'intra'``) or of one kind (``'inter'``). Every node in a connected component of at
    least two nodes is an anchor (one sample); each time a sample is drawn, its positive is
    another node of the same component, uniformly (connected directly or transitively),
    and its negative a uniformly random node of another component (numpy's global random
    state: mmengine seeds it per worker).

    ``view_pipeline`` runs on each of the three patches alone (e.g. ``LoadImageFromFile``
    and augmentations), like one branch of mmpretrain's ``MultiView``; their ``img`` are
    then gathered as the list [anchor, positive, negative] in the anchor's results, and
    ``pipeline`` (e.g. ``PackInputs``) packs it: ``inputs`` holds 3 views, in that order.

    Args:
        graph_file: the graph JSON.
        data_root: the folder the nodes' ``img_path`` are relative to (default: the
            graph file's folder).
        view_pipeline: transforms applied to each patch.
        pipeline: transforms applied to the gathered triplet (ends in ``PackInputs``).
        indices, test_mode, lazy_init: as mmengine's ``BaseDataset``.

    Raises:
        FileNotFoundError / ValueError (from :meth:`PatchGraph.load`), naming the file;
        ValueError if the graph has no edge or a single component (no negatives).
    """

    def __init__(self,
                 graph_file: str,
                 data_root: Optional[str] = None,
                 view_pipeline: Sequence = (),
                 pipeline: Sequence = (),
                 indices: Optional[int | Sequence[int]] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False) -> None:
        self.graph_file = graph_file
        self.view_pipeline = Compose(list(view_pipeline))
        self._paths: list[str] = []
        self._component = np.zeros(0, np.int64)
        self._members: list[np.ndarray] = []
        super().__init__(data_root=data_root or osp.dirname(osp.abspath(graph_file)),
                         pipeline=list(pipeline), indices=indices, test_mode=test_mode,
                         lazy_init=lazy_init, serialize_data=False)

    def load_data_list(self) -> list[dict]:
        graph = PatchGraph.load(self.graph_file)
        labels = graph.components()
        sizes = np.bincount(labels) if len(labels) else np.zeros(0, np.int64)
        if not graph.edges or len(sizes) < 2:
            raise ValueError(
                f'TransitiveTripletDataset: the graph {self.graph_file} has '
                f'{len(graph.edges)} edges and {len(sizes)} connected components; it needs '
                f'at least one edge (positives) and two components (negatives)')
        self._paths = [osp.join(self.data_root, n['img_path']) for n in graph.nodes]
        self._component = labels
        self._members = [np.flatnonzero(labels == c) for c in range(len(sizes))]
        return [dict(node=i, component=int(labels[i]), img_path=self._paths[i])
                for i in range(len(labels)) if sizes[labels[i]] > 1]

    def _node_info(self, node: int) -> dict:
        return dict(node=int(node), component=int(self._component[node]),
                    img_path=self._paths[node])

    def sample_positive(self, node: int) -> int:
        """Another node of ``node``'s component, uniformly."""
        members = self._members[self._component[node]]
        pick = np.random.randint(len(members) - 1)
        others = members[members != node]
        return int(others[pick])

    def sample_negative(self, node: int) -> int:
        """A node of another component than ``node``'s, uniformly."""
        own = self._component[node]
        for _ in range(64):  # rejection sampling: cheap unless one component dominates
            pick = np.random.randint(len(self._component))
            if self._component[pick] != own:
                return int(pick)
        others = np.flatnonzero(self._component != own)
        return int(others[np.random.randint(len(others))])

    def get_data_info(self, idx: int) -> dict:
        """The anchor's info with ``positive`` and ``negative`` node infos drawn for it."""
        info = copy.deepcopy(super().get_data_info(idx))
        info['positive'] = self._node_info(self.sample_positive(info['node']))
        info['negative'] = self._node_info(self.sample_negative(info['node']))
        return info

    def prepare_data(self, idx: int) -> Optional[dict]:
        info = self.get_data_info(idx)
        positive, negative = info.pop('positive'), info.pop('negative')
        views = []
        for part in (info, positive, negative):
            results = self.view_pipeline(part)
            if results is None:  # a transform dropped it (e.g. an unreadable file)
                return None
            views.append(results)
        anchor = views[0]
        anchor['img'] = [v['img'] for v in views]
        anchor['triplet_nodes'] = [v['node'] for v in views]
        return self.pipeline(anchor)
