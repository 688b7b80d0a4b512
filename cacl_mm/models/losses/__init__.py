from .info_nce import info_nce, mean_pairwise_cosine

__all__ = ['info_nce', 'mean_pairwise_cosine']
