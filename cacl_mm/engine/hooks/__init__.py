from .atomic_checkpoint_hook import AtomicCheckpointHook
from .channels_last_hook import ChannelsLastHook
from .epoch_seed_hook import EpochSeedHook
from .finite_gradient_hook import FiniteGradientHook
from .moco_queue_hook import MoCoQueueHook
from .skipped_videos_hook import SkippedVideosHook

__all__ = [
    'AtomicCheckpointHook', 'ChannelsLastHook', 'EpochSeedHook',
    'FiniteGradientHook', 'MoCoQueueHook', 'SkippedVideosHook'
]
