from .base_moco import BaseMoCo, stack_sample_field
from .cacl import CACL
from .feature_extractor import VideoFeatureExtractor
from .frame_moco import FrameMoCo

__all__ = [
    'BaseMoCo', 'CACL', 'FrameMoCo', 'VideoFeatureExtractor',
    'stack_sample_field'
]
