from .robust_video_dataset import (BadVideoError, RetrievalVideoDataset,
                                   RobustVideoDataset)
from .samplers import RepeatSampler
from .transforms import (DrawViewAugmentations, MEDPermutationSampler,
                         MultiViewClip, ShuffleByMED)

__all__ = [
    'BadVideoError', 'RetrievalVideoDataset', 'RobustVideoDataset',
    'ShuffleByMED', 'MEDPermutationSampler', 'MultiViewClip', 'RepeatSampler',
    'DrawViewAugmentations'
]
