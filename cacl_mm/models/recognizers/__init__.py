from .base_moco import BaseMoCo, CNNBranch, pool_features
from .cacl import CACL, TransformerBranch, shuffle_time

__all__ = [
    'BaseMoCo', 'CACL', 'CNNBranch', 'TransformerBranch', 'pool_features',
    'shuffle_time'
]
