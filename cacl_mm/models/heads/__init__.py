from .cross_arch_contrastive_head import (PAPER_PAIRS, REPRESENTATIONS,
                                          CrossArchContrastiveHead,
                                          ProjectionMLP, info_nce)
from .shuffle_degree_head import ShuffleDegreeHead

__all__ = [
    'CrossArchContrastiveHead', 'ShuffleDegreeHead', 'ProjectionMLP',
    'info_nce', 'PAPER_PAIRS', 'REPRESENTATIONS'
]
