# Exemplar (instance discrimination by a triplet loss, the exemplar task of Doersch &
# Zisserman 2017, after Dosovitskiy et al. 2014 and Wang & Gupta 2015) on ImageNet.
# MoCo's end-to-end mechanism (in-batch keys from the query encoder, with gradients) with
# the cosine ranking loss in place of InfoNCE; data, augmentation, network and schedule
# are MoCo v1's (ALGORITHMS.md gives no separate exemplar setting). The margin is Wang &
# Gupta's 0.5 on the cosine distance.
_base_ = ['../mocov1/mocov1_resnet50-endtoend_8xb32-steplr-200e_in1k.py']

model = dict(type='Exemplar', head=dict(_delete_=True, type='TripletRankingHead', margin=0.5))
