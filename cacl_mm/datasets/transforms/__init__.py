from .multi_view import MultiViewClip
from .shuffle_by_med import MEDPermutationSampler, ShuffleByMED

__all__ = ['ShuffleByMED', 'MEDPermutationSampler', 'MultiViewClip']
