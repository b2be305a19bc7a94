# Exemplar (instance discrimination by a triplet loss, as Doersch & Zisserman 2017 train
# it in their multi-task study) on the Fashion-MNIST demo. ``Exemplar`` reuses MoCo: it
# is MoCo's end-to-end mechanism (the query encoder computes the keys, the other images of
# the batch are the negatives) with the ranking loss in place of InfoNCE:
#   max(0, D(q, k+) - D(q, k-) + margin), D the cosine distance, over every in-batch k-.
# Everything else (data, views, network, schedule) is the MoCo v2 demo's, so the two runs
# compare the losses alone. (These parts are also ``Exemplar``'s defaults.)
_base_ = ['../mocov2/mocov2_resnet18-endtoend_1xb256-coslr-2e_fmnist.py']

model = dict(type='Exemplar', head=dict(_delete_=True, type='TripletRankingHead', margin=0.5))
