from .batch_shuffle import (batch_shuffle, batch_unshuffle, shuffle_bn_forward,
                            split_bn_forward)
from .encoders import (CNNEncoder, TransformerEncoder, concat_twins,
                       shuffle_time, with_twins)
from .key_queue import KeyQueue
from .pooling import mean_over_clips, pool_features
from .representations import (CNN_K, CNN_Q, PAPER_PAIRS, REPRESENTATIONS,
                              TRANS_K, TRANS_Q, Arch, Representation,
                              parse_pairs)

__all__ = [
    'KeyQueue', 'batch_shuffle', 'batch_unshuffle', 'shuffle_bn_forward',
    'split_bn_forward', 'CNNEncoder', 'TransformerEncoder', 'concat_twins',
    'shuffle_time', 'with_twins', 'mean_over_clips', 'pool_features', 'Arch',
    'Representation', 'REPRESENTATIONS', 'PAPER_PAIRS', 'CNN_Q', 'CNN_K',
    'TRANS_Q', 'TRANS_K', 'parse_pairs'
]
