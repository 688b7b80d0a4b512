from .arrow_of_time_head import ArrowOfTimeHead
from .cross_arch_contrastive_head import CrossArchContrastiveHead
from .shuffle_degree_head import ShuffleDegreeHead

__all__ = ['ArrowOfTimeHead', 'CrossArchContrastiveHead', 'ShuffleDegreeHead']
