from .batch_shuffle import (batch_shuffle, batch_unshuffle, shuffle_bn_forward,
                            split_bn_forward)
# Edit distance lives in cacl_mm.utils (the datasets use it too).
from ...utils.edit_distance import (distance_to_identity, label_to_med,
                                    levenshtein, med_to_label,
                                    reachable_distances)

__all__ = [
    'levenshtein', 'distance_to_identity', 'reachable_distances',
    'med_to_label', 'label_to_med', 'batch_shuffle', 'batch_unshuffle',
    'shuffle_bn_forward', 'split_bn_forward'
]
