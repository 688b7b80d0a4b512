from .c3d_conv5 import C3DConv5
from .transformer_clip_encoder import ClipTransformer, TransformerClipEncoder

__all__ = ['C3DConv5', 'TransformerClipEncoder', 'ClipTransformer']
