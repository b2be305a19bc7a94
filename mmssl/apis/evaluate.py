"""The full frozen-feature protocol of a backbone: weighted kNN and a linear probe."""
import time
from typing import Optional, Union

import torch
from mmengine.config import Config

from mmssl.evaluation.functional import (linear_probe_accuracy, topk_accuracy,
                                         weighted_knn_scores)
from .features import (build_feature_dataloader, build_feature_model, extract_features,
                       is_knn_dataset)


def evaluate_backbone(config: Union[str, Config],
                      checkpoint: Optional[str] = None,
                      k: int = 20,
                      temperature: float = 0.07,
                      max_images: Optional[int] = None,
                      device: Optional[str] = None) -> dict:
    """kNN and linear-probe accuracy of ``checkpoint``'s backbone on the config's kNN data.

    The config's ``knn_dataloader`` (else ``test_dataloader``) must hold a ``KNNDataset``:
    the backbone's pooled last-stage features of every bank image (the training split)
    and every query image (the test split) are extracted once, in order. Then

    - ``knn_top1``/``knn_top5``: the weighted k-NN vote (``k``, ``temperature``) of the
      bank for each query, as ``KNNAccuracy`` computes it during training;
    - ``linear_top1``/``linear_top5``: a softmax regression fitted on the bank's features
      and labels and scored on the queries (:func:`linear_probe_accuracy`: standardised
      features, L2 penalty picked on a held-out sixth of the bank).

    Args:
        config: a pretraining or benchmark config (file or Config).
        checkpoint: an mmssl or backbone-only checkpoint; ``None``/``'none'``: the
            backbone's random initialisation (seed it with ``mmengine``'s ``set_random_seed``
            first for a reproducible baseline).
        max_images: only the first N bank images and N queries (tests, smoke runs).

    Returns:
        the four accuracies (%), ``linear_weight_decay``, ``num_bank``, ``num_query``,
        ``feature_dim`` and ``seconds``.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    name = 'knn' if cfg.get('knn_dataloader') is not None else 'test'
    if not is_knn_dataset(cfg, name):
        raise ValueError(f'{getattr(cfg, "filename", config)}: {name}_dataloader is not a '
                         'KNNDataset (bank = training images, query = test images)')
    start = time.time()
    model = build_feature_model(cfg, checkpoint, device=device)
    model.backbone.to(memory_format=torch.channels_last)  # 25 % faster convolutions on CPU
    loader = build_feature_dataloader(cfg, name, max_images=max_images)
    feats = extract_features(model, loader, model.stages)
    features = torch.from_numpy(feats[str(model.stages[-1])])
    labels = torch.from_numpy(feats['labels']).long()
    in_bank = torch.from_numpy(feats['knn_bank'])
    bank, bank_labels = features[in_bank], labels[in_bank]
    query, query_labels = features[~in_bank], labels[~in_bank]
    num_classes = int(labels.max()) + 1
    scores = weighted_knn_scores(query, bank, bank_labels, num_classes, k, temperature)
    knn = topk_accuracy(scores, query_labels, (1, 5))
    linear = linear_probe_accuracy(bank, bank_labels, query, query_labels, num_classes)
    return dict(knn_top1=round(knn['top1'], 2), knn_top5=round(knn['top5'], 2),
                linear_top1=round(linear['top1'], 2), linear_top5=round(linear['top5'], 2),
                linear_weight_decay=linear['weight_decay'], num_bank=len(bank),
                num_query=len(query), feature_dim=features.shape[1],
                seconds=round(time.time() - start, 1))
