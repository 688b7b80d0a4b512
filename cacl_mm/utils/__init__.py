from .checkpoint import (backbone_config_from_checkpoint, backbone_state_dict,
                         load_checkpoint_dict, save_atomic, state_dict_of)

__all__ = [
    'backbone_state_dict', 'backbone_config_from_checkpoint',
    'load_checkpoint_dict', 'save_atomic', 'state_dict_of'
]
