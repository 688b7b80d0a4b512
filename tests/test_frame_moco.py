import copy
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from cacl_mm.engine import MoCoQueueHook
from mmaction.registry import MODELS
from helpers import REPO, capture_keys

CONFIG = osp.join(REPO, 'configs', 'frame_moco', 'moco_r18_tiny_frames.py')


def build():
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(Config.fromfile(CONFIG).model))
    model.init_weights()
    return model


def test_frame_moco_trains_the_frame_encoder_with_our_moco_pieces():
    model = build()
    model.train()
    frames = torch.randn(6, 2, 3, 1, 32, 32)
    keys = capture_keys(model)
    losses = model.loss(frames, [None] * 6)
    assert set(losses) == {'loss_contrast', 'nce_cnn_q-cnn_k', 'cos_cnn_q'}
    losses['loss_contrast'].backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    assert all(p.grad is None for p in model.momentum_encoders.parameters())
    runner = SimpleNamespace(model=model, iter=0, max_iters=10)
    MoCoQueueHook().after_train_iter(runner, 0)
    torch.testing.assert_close(model.queues['cnn'].keys[:6], keys['cnn'])
    assert model(frames[:, 0], mode='tensor').shape == (6, 512)


def tiny_encoder(**kwargs):
    return MODELS.build(
        dict(
            type='TransformerClipEncoder',
            frame_encoder=dict(type='ResNet', depth=18, norm_eval=True),
            frame_feat_dims=512,
            embed_dims=32,
            num_frames=4,
            num_layers=1,
            num_heads=2,
            **kwargs))


def test_frame_encoder_checkpoint_is_one_option(tmp_path):
    """A stage-0 checkpoint (keys under backbone.) or a plain state dict is
    handed over by ``frame_encoder_checkpoint`` alone."""
    model = build()
    stage0 = tmp_path / 'frame_moco.pth'
    torch.save({'state_dict': model.state_dict()}, stage0)
    plain = tmp_path / 'plain.pth'
    torch.save(model.backbone.state_dict(), plain)
    for path in (stage0, plain):
        encoder = tiny_encoder(frame_encoder_checkpoint=str(path))
        encoder.init_weights()
        for key, value in model.backbone.state_dict().items():
            torch.testing.assert_close(
                encoder.frame_encoder.state_dict()[key], value, msg=key)
    other = tmp_path / 'r50.pth'
    torch.save(
        {
            'state_dict': {
                'backbone.conv1.conv.weight': torch.zeros(64, 3, 7, 7)
            }
        }, other)
    with pytest.raises(
            ValueError,
            match=r"r50.pth does not hold a ResNet "
            r"backbone under prefix 'backbone.': \d+ of \d+ keys"):
        tiny_encoder(frame_encoder_checkpoint=str(other)).init_weights()


def test_frame_moco_rejects_clip_inputs_and_other_pairs():
    model = build()
    with pytest.raises(ValueError, match='clip_len=1'):
        model.loss(torch.randn(2, 2, 3, 4, 32, 32), [None] * 2)
    cfg = copy.deepcopy(Config.fromfile(CONFIG).model)
    cfg.contrast_head.pairs = [('cnn_q', 'trans_k')]
    with pytest.raises(ValueError, match='pairs must be'):
        MODELS.build(cfg)
