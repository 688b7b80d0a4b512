import pytest
import torch
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from helpers import torchvision_names

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


def random_resnet18(seed: int = 1):
    torch.manual_seed(seed)
    source = MODELS.build(dict(type='ResNet', depth=18))
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    return source


@pytest.mark.parametrize('layout', [
    'stage0', 'mmaction', 'mmpretrain', 'torchvision', 'torchvision_no_fc',
    'mmaction_plain'
])
def test_frame_encoder_checkpoint_reads_every_layout(tmp_path, layout):
    """One option, four sources: every frame-encoder tensor loads."""
    source = random_resnet18()
    state = source.state_dict()
    tv = torchvision_names(state)
    assert tv['layer2.0.downsample.1.running_var'] is state[
        'layer2.0.downsample.bn.running_var']
    assert tv['bn1.weight'] is state['conv1.bn.weight']
    fc = {'fc.weight': torch.zeros(1000, 512), 'fc.bias': torch.zeros(1000)}
    saved = dict(
        stage0={'state_dict': {
            f'backbone.{k}': v
            for k, v in state.items()
        }},
        mmaction={
            'meta': {},
            'state_dict':
            dict({
                f'backbone.{k}': v
                for k, v in state.items()
            }, **{'cls_head.fc_cls.weight': torch.zeros(3)})
        },
        mmpretrain={
            'state_dict':
            dict({
                f'backbone.{k}': v
                for k, v in tv.items()
            }, **{'head.fc.weight': torch.zeros(1000, 512)})
        },
        torchvision=dict(tv, **fc),
        torchvision_no_fc=tv,
        mmaction_plain=state)[layout]
    path = tmp_path / f'{layout}.pth'
    torch.save(saved, path)
    encoder = MODELS.build(dict(TINY, frame_encoder_checkpoint=str(path)))
    assert not torch.equal(encoder.frame_encoder.conv1.conv.weight,
                           source.conv1.conv.weight)
    encoder.init_weights()
    loaded = encoder.frame_encoder.state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        torch.testing.assert_close(loaded[key], value, msg=key)


def test_frame_encoder_checkpoint_names_the_file_and_what_is_missing(tmp_path):
    tv = torchvision_names(random_resnet18().state_dict())
    del tv['layer4.1.bn2.running_mean']
    path = tmp_path / 'resnet18-partial.pth'
    torch.save(tv, path)
    encoder = MODELS.build(dict(TINY, frame_encoder_checkpoint=str(path)))
    with pytest.raises(
            ValueError,
            match=r'resnet18-partial.pth does not hold a ResNet backbone '
            r"under prefix '': 1 of 120 keys missing "
            r'\(e.g. layer4.1.conv2.bn.running_mean\)'):
        encoder.init_weights()


def test_frozen_frame_encoder_without_weights_is_refused():
    """No checkpoint and a frozen encoder: init_weights (the Runner's,
    before training) names the key; 'random' or a trainable encoder is a
    choice; building (for testing) is unaffected."""
    encoder = MODELS.build(TINY)  # building works (evaluation loads later)
    with pytest.raises(
            ValueError,
            match=r'frozen frame encoder has no weights.*'
            r'model\.transformer\.frame_encoder_checkpoint'):
        encoder.init_weights()
    MODELS.build(dict(TINY, frame_encoder_checkpoint='random')).init_weights()
    MODELS.build(dict(TINY, freeze_frame_encoder=False)).init_weights()


@pytest.mark.parametrize('key', ['init_cfg', 'pretrained'])
def test_other_ways_to_load_the_frame_encoder_are_refused(tmp_path, key):
    value = dict(
        type='Pretrained',
        checkpoint='r50.pth') if (key == 'init_cfg') else 'r50.pth'
    cfg = dict(TINY, frame_encoder=dict(TINY['frame_encoder'], **{key: value}))
    with pytest.raises(
            ValueError,
            match=rf'frame_encoder\.{key} is not supported.*'
            r'model\.transformer\.frame_encoder_checkpoint=PATH'):
        MODELS.build(cfg)


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
