from .metrics import VideoRetrievalMetric
from .retrieval import recall_at_k, topk_neighbours

__all__ = ['VideoRetrievalMetric', 'recall_at_k', 'topk_neighbours']
