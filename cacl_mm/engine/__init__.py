from .hooks import (AtomicCheckpointHook, EpochSeedHook, MoCoQueueHook,
                    SkippedVideosHook)
from .optim_wrappers import FiniteCheckOptimWrapper

__all__ = ['AtomicCheckpointHook', 'EpochSeedHook', 'FiniteCheckOptimWrapper',
           'MoCoQueueHook', 'SkippedVideosHook']
