"""``VideoRetrievalMetric``: R@k of test queries against a train gallery."""
from __future__ import annotations
import json
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmaction.registry import METRICS
from ..retrieval import recall_at_k, topk_neighbours


def as_dict(sample) -> dict:
    """A data sample (``ActionDataSample`` or the dict mmengine passes)."""
    return sample if isinstance(sample, dict) else sample.to_dict()


def counted_samples(data_samples: Sequence, role: Optional[str],
                    key: str) -> Iterator[dict]:
    """The samples (as dicts) of ``retrieval_role`` ``role`` (any if None;
    samples without a role count) that carry ``key``."""
    for sample in map(as_dict, data_samples):
        if role is not None and sample.get('retrieval_role', role) != role:
            continue
        if key in sample:
            yield sample


@METRICS.register_module()
class VideoRetrievalMetric(BaseMetric):
    """Class-label video retrieval over one evaluation pass.

    The evaluated dataset is ``ConcatDataset([gallery, queries])``: the
    first ``gallery_size`` samples (the train split) form the gallery, the
    rest (the test split) are the queries. With ``gallery_size=None`` each
    sample says which it is instead: ``retrieval_role`` ``'gallery'`` or
    ``'query'`` (``RetrievalVideoDataset`` and
    ``PackActionInputs(algorithm_keys=('retrieval_role', ))``), so a config
    needs no list length. mmengine's evaluator gathers the results of all
    ranks in dataset order and drops the sampler's padding, so every video
    counts exactly once.

    Each data sample must carry ``feature`` (the model's predict output)
    and ``gt_label``.

    Args:
        gallery_size (int, optional): Number of gallery samples at the
            start; None reads ``retrieval_role`` from each sample.
        topk (Sequence[int]): k values of R@k.
        chunk_size (int): Queries per similarity product.
        out_file (str, optional): JSON file for the per-query top-k list.
        save_topk (int): Neighbours per query written to ``out_file``.
        features_file (str, optional): ``.npz`` file for the gallery and
            query features and labels (for embedding maps).
        prefix (str): Metric name prefix. Defaults to ``'retrieval'``.
    """

    default_prefix = 'retrieval'

    def __init__(self,
                 gallery_size: Optional[int] = None,
                 topk: Sequence[int] = (1, 5, 10, 20, 50),
                 chunk_size: int = 4096,
                 out_file: Optional[str] = None,
                 save_topk: int = 5,
                 features_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if gallery_size is not None and gallery_size < 1:
            raise ValueError(f'gallery_size must be >= 1, got {gallery_size}')
        self.gallery_size = gallery_size
        self.topk = tuple(topk)
        self.chunk_size = chunk_size
        self.out_file = out_file
        self.save_topk = save_topk
        self.features_file = features_file

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep each sample's feature, label and role."""
        for sample in data_samples:
            sample = as_dict(sample)
            role = sample.get('retrieval_role')
            if self.gallery_size is None and role not in ('gallery', 'query'):
                raise KeyError(
                    'VideoRetrievalMetric(gallery_size=None) needs '
                    "retrieval_role='gallery' or 'query' on every sample, got "
                    f'{role!r}: evaluate a RetrievalVideoDataset and pack '
                    "PackActionInputs(algorithm_keys=('retrieval_role', ))")
            self.results.append(
                dict(
                    feature=torch.as_tensor(
                        sample['feature']).detach().float().cpu(),
                    label=int(torch.as_tensor(sample['gt_label']).view(-1)[0]),
                    is_query=role == 'query'))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """R@k of the queries against the gallery."""
        feats = torch.stack([r['feature'] for r in results])
        labels = torch.tensor([r['label'] for r in results])
        if self.gallery_size is None:
            is_query = torch.tensor([r['is_query'] for r in results])
        else:
            is_query = torch.arange(len(results)) >= self.gallery_size
        if bool(is_query.all()) or not bool(is_query.any()):
            raise ValueError(
                f'{len(results)} samples, {int(is_query.sum())} of them '
                'queries: retrieval needs both a gallery and queries')
        gallery, queries = feats[~is_query], feats[is_query]
        g_labels, q_labels = labels[~is_query], labels[is_query]
        scores, neighbours = topk_neighbours(queries, gallery, max(self.topk),
                                             self.chunk_size)
        metrics = recall_at_k(q_labels, g_labels, neighbours, self.topk)
        metrics['num_queries'] = float(len(queries))
        metrics['num_gallery'] = float(len(gallery))
        if self.features_file:
            np.savez(
                self.features_file,
                gallery_features=gallery.numpy(),
                gallery_labels=g_labels.numpy(),
                query_features=queries.numpy(),
                query_labels=q_labels.numpy())
        if self.out_file:
            k = min(self.save_topk, neighbours.shape[1])
            rows = [
                dict(
                    query=i,
                    label=int(q_labels[i]),
                    neighbours=neighbours[i, :k].tolist(),
                    neighbour_labels=g_labels[neighbours[i, :k]].tolist(),
                    scores=[round(s, 6) for s in scores[i, :k].tolist()])
                for i in range(len(queries))
            ]
            with open(self.out_file, 'w') as f:
                json.dump(rows, f)
        return metrics
