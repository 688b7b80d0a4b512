from .retrieval_metric import VideoRetrievalMetric

__all__ = ['VideoRetrievalMetric']
