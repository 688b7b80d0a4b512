from .circular_shift import RandomCircularShift
from .multi_view import MultiViewClip
from .nearby_clips import SampleNearbyClips
from .shuffle_by_med import MEDPermutationSampler, ShuffleByMED
from .view_augmentation import VIEW_AUGMENTATION_FIELDS, DrawViewAugmentations

__all__ = [
    'ShuffleByMED', 'MEDPermutationSampler', 'MultiViewClip',
    'SampleNearbyClips', 'DrawViewAugmentations', 'VIEW_AUGMENTATION_FIELDS',
    'RandomCircularShift'
]
