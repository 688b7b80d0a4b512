from .cacl import CACL, CNNBranch, TransformerBranch, pool_features, shuffle_time

__all__ = ['CACL', 'CNNBranch', 'TransformerBranch', 'pool_features', 'shuffle_time']
