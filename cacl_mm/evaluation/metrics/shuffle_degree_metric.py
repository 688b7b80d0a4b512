"""``ShuffleDegreeMetric``: edit-distance prediction on held-out clips."""
from __future__ import annotations
import json
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmaction.registry import METRICS
from .retrieval_metric import counted_samples


@METRICS.register_module()
class ShuffleDegreeMetric(BaseMetric):
    """Accuracy and confusion of the shuffle-degree (edit-distance) head.

    Each data sample carries ``med_label`` (from ``ShuffleByMED``, packed by
    ``PackActionInputs``) and ``med_pred`` (``CACL.predict``: the predicted
    class of the clip's shuffled twin). ``accuracy`` is compared with
    ``chance`` = 1 / classes (the distances are drawn uniformly); a head
    that stays at chance has not learned frame order. A model without the
    head sets no ``med_pred`` and gets no metric (mmengine warns that the
    metric got no results).

    Args:
        num_classes (int): Distance classes (= clip length T).
        role (str, optional): Count only samples of this ``retrieval_role``
            (the held-out queries when the dataset also holds the train
            gallery). Defaults to ``'query'``; None counts all.
        out_file (str, optional): JSON file for the confusion matrix
            (rows true, columns predicted), accuracy and chance, which
            ``tools/med_confusion.py`` draws.
        prefix (str): Metric name prefix. Defaults to ``'sdp'``.
    """

    default_prefix = 'sdp'

    def __init__(self,
                 num_classes: int,
                 role: Optional[str] = 'query',
                 out_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2, got {num_classes}')
        self.num_classes = num_classes
        self.role = role
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep each counted sample's (true, predicted) class."""
        for sample in counted_samples(data_samples, self.role, 'med_pred'):
            if 'med_label' not in sample:
                raise KeyError(
                    "ShuffleDegreeMetric needs 'med_label' on each sample: "
                    "ShuffleByMED in the pipeline and PackActionInputs("
                    "algorithm_keys=('shuffle_order', 'med_label', ...))")
            self.results.append(
                (int(sample['med_label']), int(sample['med_pred'])))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """``accuracy`` and ``chance``; the confusion goes to ``out_file``."""
        if not results:
            return {}
        matrix = np.zeros((self.num_classes, self.num_classes), np.int64)
        for true, predicted in results:
            matrix[true, predicted] += 1
        total = max(int(matrix.sum()), 1)
        metrics = dict(
            accuracy=float(np.trace(matrix)) / total,
            chance=1.0 / self.num_classes)
        if self.out_file:
            with open(self.out_file, 'w') as f:
                json.dump(
                    dict(matrix=matrix.tolist(), num_clips=total, **metrics),
                    f,
                    indent=2)
        return metrics
