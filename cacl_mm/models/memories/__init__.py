from .key_queue import KeyQueue

__all__ = ['KeyQueue']
