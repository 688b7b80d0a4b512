from .base_moco import BaseMoCo, CNNBranch, pool_features
from .cacl import (CACL, TransformerBranch, shuffle_time,
                   stack_sample_field)
from .feature_extractor import VideoFeatureExtractor
from .frame_moco import FrameMoCo

__all__ = [
    'BaseMoCo', 'CACL', 'FrameMoCo', 'VideoFeatureExtractor', 'CNNBranch',
    'TransformerBranch', 'pool_features', 'shuffle_time', 'stack_sample_field'
]
