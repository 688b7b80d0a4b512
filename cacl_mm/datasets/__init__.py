from .robust_video_dataset import (BadVideoError, RetrievalVideoDataset,
                                   RobustVideoDataset)
from .samplers import RepeatSampler
from .transforms import MEDPermutationSampler, MultiViewClip, ShuffleByMED

__all__ = [
    'BadVideoError', 'RetrievalVideoDataset', 'RobustVideoDataset',
    'ShuffleByMED', 'MEDPermutationSampler', 'MultiViewClip', 'RepeatSampler'
]
