from .moco_queue_hook import MoCoQueueHook

__all__ = ['MoCoQueueHook']
