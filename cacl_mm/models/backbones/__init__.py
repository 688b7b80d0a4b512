from .transformer_clip_encoder import ClipTransformer, TransformerClipEncoder

__all__ = ['TransformerClipEncoder', 'ClipTransformer']
