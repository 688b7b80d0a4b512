from .hooks import (AtomicCheckpointHook, EpochSeedHook, FiniteGradientHook,
                    MoCoQueueHook, SkippedVideosHook)
from .runner import MonitorValLoop

__all__ = [
    'AtomicCheckpointHook', 'EpochSeedHook', 'FiniteGradientHook',
    'MoCoQueueHook', 'MonitorValLoop', 'SkippedVideosHook'
]
