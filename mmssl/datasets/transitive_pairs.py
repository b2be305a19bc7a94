import copy
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import Compose
from mmengine.dataset import BaseDataset

from mmssl.mining.graph import PAIR_KINDS, PatchGraph
from mmssl.registry import DATASETS


@DATASETS.register_module()
class TransitiveTripletDataset(BaseDataset):
    """Triplets (anchor, positive, negative) from a transitive-invariance patch graph.

    The graph (:class:`PatchGraph`, written by
    ``tools/dataset_converters/mine_transitive_graph.py``) links patches of one instance
    (``'intra'``: a track's first and later patches) and of one kind (``'inter'``). One
    sample per positive pair of the kinds in ``pair_kinds`` (:meth:`PatchGraph.pairs`):
    the two edge kinds and the ``'transitive'`` pairs (A, B') with A-B inter and B-B'
    intra, the paper's three kinds of pair. Each time a sample is drawn, its two patches
    are anchor and positive in random order, and the negative is a uniformly random node
    that is neither the anchor nor paired with it in any kind (numpy's global random
    state: mmengine seeds it per worker).

    ``view_pipeline`` runs on each of the three patches alone (e.g. ``LoadImageFromFile``
    and augmentations), like one branch of mmpretrain's ``MultiView``; their ``img`` are
    then gathered as the list [anchor, positive, negative] in the anchor's results, with
    ``triplet_nodes`` (the 3 node indices) and ``pair_kind``, and ``pipeline`` (e.g.
    ``PackInputs``, with ``meta_keys=('pair_kind', )`` to log the loss per kind) packs
    it: ``inputs`` holds 3 views, in that order.

    Args:
        graph_file: the graph JSON.
        data_root: the folder the nodes' ``img_path`` are relative to (default: the
            graph file's folder).
        pair_kinds: the kinds of positive pair to sample (a subset of
            ``('intra', 'inter', 'transitive')``).
        view_pipeline: transforms applied to each patch.
        pipeline: transforms applied to the gathered triplet (ends in ``PackInputs``).
        indices, test_mode, lazy_init: as mmengine's ``BaseDataset``.

    Raises:
        FileNotFoundError / ValueError (from :meth:`PatchGraph.load`), naming the file;
        ValueError, naming the file, if ``pair_kinds`` is wrong, the graph has no pair of
        those kinds or a paired node is paired with every other node (no negative).
    """

    def __init__(self,
                 graph_file: str,
                 data_root: Optional[str] = None,
                 pair_kinds: Sequence[str] = PAIR_KINDS,
                 view_pipeline: Sequence = (),
                 pipeline: Sequence = (),
                 indices: Optional[int | Sequence[int]] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False) -> None:
        unknown = set(pair_kinds) - set(PAIR_KINDS)
        if unknown or not pair_kinds:
            raise ValueError(f'pair_kinds must be a non-empty subset of {PAIR_KINDS}, got '
                             f'{tuple(pair_kinds)}')
        self.graph_file = graph_file
        self.pair_kinds = tuple(pair_kinds)
        self.view_pipeline = Compose(list(view_pipeline))
        self._paths: list[str] = []
        self._partners: list[set[int]] = []
        super().__init__(data_root=data_root or osp.dirname(osp.abspath(graph_file)),
                         pipeline=list(pipeline), indices=indices, test_mode=test_mode,
                         lazy_init=lazy_init, serialize_data=False)

    def load_data_list(self) -> list[dict]:
        graph = PatchGraph.load(self.graph_file)
        pairs = {kind: graph.pairs(kind) for kind in PAIR_KINDS}
        self._partners = [set() for _ in graph.nodes]
        for i, j in (pair for kind_pairs in pairs.values() for pair in kind_pairs):
            self._partners[i].add(j)
            self._partners[j].add(i)
        data_list = [dict(pair=pair, pair_kind=kind) for kind in self.pair_kinds
                     for pair in pairs[kind]]
        if not data_list:
            raise ValueError(f'TransitiveTripletDataset: the graph {self.graph_file} has no '
                             f'pair of the kinds {self.pair_kinds} (its pairs: '
                             f'{ {kind: len(p) for kind, p in pairs.items()} })')
        for node in sorted({n for item in data_list for n in item['pair']}):
            if len(self._partners[node]) + 1 >= len(graph.nodes):
                raise ValueError(
                    f'TransitiveTripletDataset: in the graph {self.graph_file}, node {node} '
                    f'is paired with all the {len(graph.nodes) - 1} other nodes: no negative '
                    f'can be sampled for it')
        self._paths = [osp.join(self.data_root, n['img_path']) for n in graph.nodes]
        return data_list

    def _node_info(self, node: int) -> dict:
        return dict(node=int(node), img_path=self._paths[node])

    def sample_negative(self, node: int) -> int:
        """A uniformly random node that is neither ``node`` nor paired with it."""
        excluded = self._partners[node]
        for _ in range(64):  # rejection sampling: cheap unless a node is paired with most
            pick = np.random.randint(len(self._paths))
            if pick != node and pick not in excluded:
                return int(pick)
        others = np.setdiff1d(np.arange(len(self._paths)), list(excluded | {node}))
        return int(others[np.random.randint(len(others))])

    def get_data_info(self, idx: int) -> dict:
        """The anchor's info, ``pair_kind``, and ``positive`` and ``negative`` node infos:
        the pair in random order and a negative drawn for the anchor."""
        item = copy.deepcopy(super().get_data_info(idx))
        anchor, positive = item['pair'] if np.random.rand() < 0.5 else item['pair'][::-1]
        info = dict(self._node_info(anchor), pair_kind=item['pair_kind'],
                    sample_idx=item['sample_idx'])
        info['positive'] = self._node_info(positive)
        info['negative'] = self._node_info(self.sample_negative(anchor))
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
