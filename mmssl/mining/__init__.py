"""Offline mining from videos and images, run by ``tools/dataset_converters/mine_*.py``:
motion masks (:mod:`.motion_masks`) and the transitive-invariance patch graph (tracks:
:mod:`.tracking`, inter-instance edges: :mod:`.inter_edges`, the graph file: :mod:`.graph`).

The submodules are imported by name; this package imports none of them, so that the
training datasets can read :class:`~mmssl.mining.graph.PatchGraph` without loading the
miners.
"""
