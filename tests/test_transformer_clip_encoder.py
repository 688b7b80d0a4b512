import pytest
import torch
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

TINY = dict(
    type='TransformerClipEncoder',
    frame_encoder=dict(type='ResNet', depth=18, norm_eval=True),
    frame_feat_dims=512,
    embed_dims=32,
    num_frames=4,
    num_layers=2,
    num_heads=2)


def test_defaults_follow_the_paper():
    encoder = MODELS.build(dict(type='TransformerClipEncoder'))
    assert encoder.frame_encoder.depth == 50
    assert encoder.embed_dims == 768
    layers = encoder.clip_transformer.encoder.layers
    assert len(layers) == 6 and layers[0].self_attn.num_heads == 6
    assert layers[0].norm_first
    assert layers[0].linear1.out_features == 4 * 768
    assert encoder.clip_transformer.pos_embed.shape == (1, 17, 768)
    assert not any(p.requires_grad for p in encoder.frame_encoder.parameters())


def test_shapes_and_order_sensitivity():
    torch.manual_seed(0)
    encoder = MODELS.build(TINY).eval()
    clips = torch.randn(2, 3, 4, 32, 32)
    out = encoder(clips)
    assert out.shape == (2, 32)
    # Positions are by slot: a reversed clip is a different clip.
    reversed_out = encoder(clips.flip(2))
    assert not torch.allclose(out, reversed_out, atol=1e-4)
    with pytest.raises(ValueError, match='NCTHW'):
        encoder(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match='num_frames=4'):
        encoder(torch.randn(1, 3, 6, 32, 32))


def test_frame_encoder_loads_from_checkpoint_via_init_cfg(tmp_path):
    torch.manual_seed(1)
    source = MODELS.build(dict(type='ResNet', depth=18))
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    ckpt = tmp_path / 'frame_r18.pth'
    torch.save(
        {
            'state_dict': {
                f'backbone.{k}': v
                for k, v in source.state_dict().items()
            }
        }, ckpt)
    cfg = dict(TINY)
    cfg['frame_encoder'] = dict(
        type='ResNet',
        depth=18,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=str(ckpt), prefix='backbone.'))
    encoder = MODELS.build(cfg)
    assert not torch.equal(encoder.frame_encoder.conv1.conv.weight,
                           source.conv1.conv.weight)
    encoder.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(
            encoder.frame_encoder.state_dict()[key], value, msg=key)


def test_usable_as_recognizer3d_backbone():
    init_default_scope('mmaction')  # as a config's default_scope does
    torch.manual_seed(0)
    recognizer = MODELS.build(
        dict(
            type='Recognizer3D',
            backbone=TINY,
            cls_head=dict(
                type='I3DHead',
                num_classes=3,
                in_channels=32,
                spatial_type=None),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', format_shape='NCTHW')))
    inputs = torch.randn(2, 1, 3, 4, 32, 32)
    samples = [ActionDataSample().set_gt_label(i) for i in (0, 2)]
    losses = recognizer(inputs, samples, mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    preds = recognizer(inputs, samples, mode='predict')
    assert preds[0].pred_score.numel() == 3
