from .hooks import MoCoQueueHook

__all__ = ['MoCoQueueHook']
