from .metrics import (EmbeddingSpreadMetric, ShuffleDegreeMetric,
                      VideoRetrievalMetric)
from .retrieval import recall_at_k, topk_neighbours

__all__ = [
    'EmbeddingSpreadMetric', 'ShuffleDegreeMetric', 'VideoRetrievalMetric',
    'recall_at_k', 'topk_neighbours'
]
