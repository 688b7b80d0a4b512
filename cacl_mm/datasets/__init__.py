from .robust_video_dataset import BadVideoError, RobustVideoDataset
from .transforms import MEDPermutationSampler, MultiViewClip, ShuffleByMED

__all__ = ['BadVideoError', 'RobustVideoDataset', 'ShuffleByMED',
           'MEDPermutationSampler', 'MultiViewClip']
