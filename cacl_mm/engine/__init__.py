from .hooks import (AtomicCheckpointHook, EpochSeedHook, FiniteGradientHook,
                    MoCoQueueHook, SkippedVideosHook)

__all__ = [
    'AtomicCheckpointHook', 'EpochSeedHook', 'FiniteGradientHook',
    'MoCoQueueHook', 'SkippedVideosHook'
]
