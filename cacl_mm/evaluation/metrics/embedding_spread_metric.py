"""``EmbeddingSpreadMetric``: a collapse monitor for self-supervised models."""
from __future__ import annotations
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mmaction.registry import METRICS
from ...models.losses import mean_pairwise_cosine
from .retrieval_metric import counted_samples


@METRICS.register_module()
class EmbeddingSpreadMetric(BaseMetric):
    """How spread out the embeddings of different clips are.

    A contrastive model that collapses maps every clip to one point; its
    loss can still look fine (it sits at the value of a uniform guess). Two
    numbers make that visible in the first evaluation:

    * ``mean_cosine``: mean cosine between the embeddings of different
      clips, near 0 when they spread over the sphere, 1 at collapse;
    * ``dim_std``: mean per-dimension standard deviation of the
      L2-normalised embeddings, ``1 / sqrt(D)`` when spread evenly, 0 at
      collapse (SimSiam's monitor).

    Reads the ``key`` field of each data sample (``CACL.predict`` sets
    ``embedding``: the projected [original | shuffled] 3D CNN features that
    the contrastive loss sees). With ``role`` set, only samples whose
    ``retrieval_role`` equals it count (the held-out queries). A model that
    sets no such field (edit-distance prediction alone) gives no metric,
    and mmengine warns that the metric got no results.

    Args:
        key (str): Data-sample field holding a (D,) embedding.
        role (str, optional): Count only samples of this
            ``retrieval_role``. Defaults to ``'query'``; None counts all.
        prefix (str): Metric name prefix. Defaults to ``'embedding'``.
    """

    default_prefix = 'embedding'

    def __init__(self,
                 key: str = 'embedding',
                 role: Optional[str] = 'query',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.key = key
        self.role = role

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep the embedding of each counted sample."""
        for sample in counted_samples(data_samples, self.role, self.key):
            self.results.append(
                torch.as_tensor(sample[self.key]).detach().float().cpu())

    def compute_metrics(self, results: List[torch.Tensor]) -> Dict[str, float]:
        """``mean_cosine`` and ``dim_std`` over the kept embeddings."""
        if len(results) < 2:
            return {}
        unit = F.normalize(torch.stack(results), dim=1)
        return dict(
            mean_cosine=float(mean_pairwise_cosine(unit)),
            dim_std=float(unit.std(dim=0).mean()))
