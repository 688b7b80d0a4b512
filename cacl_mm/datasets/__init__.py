from .transforms import MEDPermutationSampler, MultiViewClip, ShuffleByMED

__all__ = ['ShuffleByMED', 'MEDPermutationSampler', 'MultiViewClip']
