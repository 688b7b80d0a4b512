from .embedding_spread_metric import EmbeddingSpreadMetric
from .retrieval_metric import VideoRetrievalMetric
from .shuffle_degree_metric import ShuffleDegreeMetric

__all__ = [
    'EmbeddingSpreadMetric', 'ShuffleDegreeMetric', 'VideoRetrievalMetric'
]
