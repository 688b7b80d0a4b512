"""Export the 3D backbone of a CACL checkpoint as a plain state dict.

    python tools/export_backbone.py work_dirs/cacl/epoch_300.pth r3d18_cacl.pth

The output holds only the backbone (no momentum encoders, Transformer or
heads), keys without prefix: load it with ``backbone.pretrained=...`` in an
MMAction2 ResNet3d/C3D config, or with ``init_cfg=dict(type='Pretrained',
checkpoint=...)`` on backbones that honour ``init_cfg``. The backbone
architecture comes from the config saved in the checkpoint, or ``--config``.
"""
import argparse
import sys


def plain(value):
    """``value`` with every ``ConfigDict`` (at any depth) a plain dict.

    What the file holds must pass ``torch.load(weights_only=True)``, which
    refuses mmengine's ``ConfigDict`` (C3D's and R(2+1)D's ``conv_cfg`` and
    ``norm_cfg`` are nested ones).
    """
    if isinstance(value, dict):  # ConfigDict is a dict
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def export(checkpoint: str,
           out: str,
           config: str = None,
           prefix: str = 'backbone.') -> dict:
    """Write the backbone state dict of ``checkpoint`` to ``out``."""
    # Imported here, not at the top: ``--help`` answers without torch.
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cacl_mm  # noqa: F401  (compat + registration)
    from cacl_mm.utils import (backbone_config_from_checkpoint,
                               backbone_state_dict, load_checkpoint_dict,
                               save_atomic)
    from mmaction.registry import MODELS
    if config:
        backbone_cfg = Config.fromfile(config).model.backbone
    else:
        backbone_cfg = backbone_config_from_checkpoint(
            load_checkpoint_dict(checkpoint))
        if backbone_cfg is None:
            raise ValueError(
                f'{checkpoint} has no saved config; pass --config')
    # Backbones build their layers through mmcv's registries by name
    # (R(2+1)D's Conv2plus1d): MMAction2's scope must be the default.
    init_default_scope('mmaction')
    backbone = MODELS.build(backbone_cfg)
    state = backbone_state_dict(checkpoint, backbone, prefix)
    save_atomic(
        dict(
            state_dict=state,
            meta=dict(source=checkpoint, backbone=plain(backbone_cfg))), out)
    return state


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    parser.add_argument(
        '--config', help='config whose model.backbone to export')
    parser.add_argument('--prefix', default='backbone.')
    args = parser.parse_args(argv)
    try:
        state = export(args.checkpoint, args.out, args.config, args.prefix)
    except (ValueError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'{args.out}: {len(state)} tensors')
    return 0


if __name__ == '__main__':
    sys.exit(main())
