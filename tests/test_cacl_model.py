import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from cacl_mm.models import Arch, shuffle_time
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from helpers import CLIP_LEN, REPO, batch, build, tiny_model_cfg


def test_shuffle_time_reorders_each_sample():
    x = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)
    order = torch.tensor([[3, 2, 1, 0], [1, 0, 3, 2]])
    out = shuffle_time(x, order, dim=2)
    torch.testing.assert_close(out[0], x[0][:, [3, 2, 1, 0]])
    torch.testing.assert_close(out[1], x[1][:, [1, 0, 3, 2]])


def test_loss_dict_and_gradients_reach_only_online_parts():
    model = build()
    model.train()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert {
        'loss_contrast', 'loss_sdp', 'acc_sdp', 'nce_cnn_q-cnn_k',
        'nce_cnn_q-trans_q', 'nce_cnn_q-trans_k', 'nce_trans_q-trans_k',
        'cos_cnn_q', 'cos_trans_q', 'dead_sdp'
    } <= set(losses)
    total = losses['loss_contrast'] + losses['loss_sdp']
    total.backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    assert all(p.grad is not None
               for p in model.transformer.clip_transformer.parameters())
    assert all(p.grad is not None for p in model.sdp_head.parameters())
    for frozen in (model.momentum_encoders, model.transformer.frame_encoder):
        assert all(p.grad is None and not p.requires_grad
                   for p in frozen.parameters())
    # The momentum keys go to the queues after the optimizer step, once.
    model.after_optimizer_step()
    for arch in ('cnn', 'trans'):
        assert model.queues[arch].ids[:4].tolist() == [0, 1, 2, 3]
        assert int(model.queues[arch].ptr) == 4
    model.enqueue_pending_keys()
    assert int(model.queues['cnn'].ptr) == 4


def test_frozen_frame_encoder_keeps_no_graph_and_stays_in_eval():
    model = build()
    model.train()
    assert not model.transformer.frame_encoder.training
    assert model.transformer.clip_transformer.training
    feats = model.transformer.extract_frame_features(
        torch.randn(2, 3, CLIP_LEN, 32, 32))
    assert feats.shape == (2, CLIP_LEN, 512)
    assert not feats.requires_grad and feats.grad_fn is None


def test_momentum_encoders_start_as_copies_and_follow_the_formula():
    model = build()
    for arch in Arch:
        online = model.online_encoder(arch).state_dict()
        for name, p_ema in model.momentum_encoder(arch).state_dict().items():
            torch.testing.assert_close(p_ema, online[name], msg=name)
    key_cnn = model.momentum_encoder(Arch.CNN)
    before = {k: v.clone() for k, v in key_cnn.named_parameters()}
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(1.0)
    online = dict(model.online_encoder(Arch.CNN).named_parameters())
    # The first update after the build is an EMA step, not mmengine's copy.
    model.momentum_update(0.9)
    for name, p in key_cnn.named_parameters():
        torch.testing.assert_close(
            p, 0.9 * before[name] + 0.1 * online[name], msg=name)


def test_predict_and_tensor_modes_give_backbone_features():
    model = build()
    model.eval()
    clips = torch.randn(3, 2, 3, CLIP_LEN, 32, 32)
    feats = model(clips, mode='tensor')
    assert feats.shape == (3, 64)
    samples = model(
        clips, [ActionDataSample() for _ in range(3)], mode='predict')
    torch.testing.assert_close(samples[1].feature, feats[1])


def test_predict_gives_the_diagnostics_of_clips_with_a_shuffle():
    model = build()
    model.eval()
    clips, samples = batch(n=3)
    clips = clips[:, :1]  # one clip per sample, as the validation pipeline
    out = model(clips, samples, mode='predict')
    order = torch.stack([torch.as_tensor(s.shuffle_order) for s in samples])
    with torch.no_grad():
        pairs = model.online_encoder(Arch.CNN).twin_features(
            clips[:, 0], order)
        logits = model.sdp_head(pairs)
        embedding = model.cnn_neck(pairs)
    for index, sample in enumerate(out):
        torch.testing.assert_close(sample.feature, pairs[index, :64])
        assert int(sample.med_pred) == int(logits[index].argmax())
        torch.testing.assert_close(sample.embedding, embedding[index])
    torch.testing.assert_close(out[0].feature,
                               model(clips[:1], mode='tensor')[0])


def test_missing_hook_is_reported():
    model = build()
    inputs, samples = batch()
    model.loss(inputs, samples)
    with pytest.warns(UserWarning, match='MoCoQueueHook'):
        model.loss(inputs, samples)


def test_wrong_clip_length_names_both_keys():
    model = build()
    inputs = torch.randn(2, 2, 3, CLIP_LEN + 2, 32, 32)
    with pytest.raises(ValueError, match='model.clip_len'):
        model.loss(inputs, batch(2)[1])


def test_missing_shuffle_order_explains_the_pipeline():
    model = build()
    inputs, _ = batch(2)
    with pytest.raises(KeyError, match='ShuffleByMED'):
        model.loss(inputs, [ActionDataSample(), ActionDataSample()])


@pytest.mark.parametrize('change,match', [
    (dict(sdp_head=dict(num_classes=CLIP_LEN + 1)), 'sdp_head.num_classes'),
    (dict(transformer=dict(num_heads=5)), 'divisible by num_heads'),
    (dict(contrast_head=dict(pairs=[('cnn_q', 'rgb_k')])),
     'unknown representation'),
    (dict(transformer_neck=dict(in_channels=100)),
     'transformer_neck.in_channels must be 2 x'),
    (dict(transformer_neck=dict(out_channels=64)), 'out_channels differ'),
    (dict(transformer_neck=None), 'model.transformer_neck'),
    (dict(contrast_head=dict(queue_len=64)), "keyword argument 'queue_len'"),
    (dict(transformer=dict(num_frames=CLIP_LEN - 2)), 'num_frames'),
    (dict(transformer=None), 'model.transformer'),
    (dict(contrast_head=None, sdp_head=None), 'contrast_head'),
])
def test_inconsistent_configs_fail_at_build(change, match):
    cfg = tiny_model_cfg()
    for key, value in change.items():
        if value is None or not isinstance(value, dict):
            cfg[key] = value
        else:
            cfg[key].update(value)
    with pytest.raises((ValueError, KeyError, TypeError), match=match):
        MODELS.build(cfg)


def test_ablations_are_config_changes():
    cfg = tiny_model_cfg()
    cfg.contrast_head.pairs = [('cnn_q', 'cnn_k')]
    moco = build(cfg)
    assert moco.transformer is None and moco.transformer_neck is None
    assert set(moco.momentum_encoders) == set(moco.queues) == {'cnn'}
    losses = moco.loss(*batch())
    assert set(k for k in losses if k.startswith('nce')) == {'nce_cnn_q-cnn_k'}

    cfg = tiny_model_cfg()
    cfg.contrast_head = None
    sdp_only = build(cfg)
    assert not sdp_only.momentum_encoders and not sdp_only.queues
    assert set(sdp_only.loss(*batch())) == {'loss_sdp', 'acc_sdp', 'dead_sdp'}


def test_arrow_head_reads_each_clip_and_its_reversal_in_one_batch():
    cfg = tiny_model_cfg()
    cfg.arrow_head = dict(type='ArrowOfTimeHead')
    model = build(cfg)
    model.train()
    inputs, samples = batch()
    seen = {}

    def recording(name, loss):

        def loss_and_record(*args):
            seen[name] = args
            return loss(*args)

        return loss_and_record

    for name in ('arrow_head', 'sdp_head'):
        head = getattr(model, name)
        head.loss = recording(name, head.loss)
    losses = model.loss(inputs, samples)
    assert {'loss_arrow', 'acc_arrow', 'loss_sdp',
            'loss_contrast'} <= set(losses)
    forward, backward, key = seen['arrow_head']
    # The clip's features are the [original | twin] pairs' first half.
    torch.testing.assert_close(forward, seen['sdp_head'][0][:, :64])
    assert backward.shape == key.shape == (4, 64) and not key.requires_grad
    losses['loss_arrow'].backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    # The reversals share the clips' batch (eval: no batch statistics).
    model.eval()
    cnn = model.online_encoder(Arch.CNN)
    clips = inputs[:, 0]
    order = torch.stack([torch.as_tensor(s.shuffle_order) for s in samples])
    pairs, reversed_feats = cnn.twin_and_reversed_features(clips, order)
    torch.testing.assert_close(pairs, cnn.twin_features(clips, order))
    torch.testing.assert_close(reversed_feats, cnn.features(clips.flip(2)))
    assert build().arrow_head is None
    cfg.contrast_head.pairs = [('trans_q', 'trans_k')]
    with pytest.raises(ValueError, match="model.arrow_head.*'cnn_k'"):
        build(cfg)


def test_a_backbone_with_several_stages_contrasts_its_last():
    """``model.backbone.out_indices=(2, 3)`` (tools/sdp_readout.py reads
    layer 3 that way): training and the twin features use layer 4."""
    cfg = tiny_model_cfg()
    cfg.backbone.out_indices = (2, 3)
    model = build(cfg)
    model.eval()
    clips, samples = batch(n=2)
    order = torch.stack([torch.as_tensor(s.shuffle_order) for s in samples])
    with torch.no_grad():
        pairs = model.online_encoder(Arch.CNN).twin_features(
            clips[:, 0], order)
        layer3, layer4 = model.backbone(clips[:, 0])
    assert layer3.shape[1:3] == (32, 8) and layer4.shape[1:3] == (64, 4)
    torch.testing.assert_close(pairs[:, :64], layer4.mean(dim=(2, 3, 4)))
    model.train()
    losses = model.loss(clips, samples)
    assert 'loss_sdp' in losses and 'nce_cnn_q-cnn_k' in losses


def test_non_finite_loss_stops_before_the_optimizer_step():
    model = build()
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    MessageHub.get_current_instance().update_info('iter', 41)
    inputs, samples = batch()
    inputs[0, 0] = float('nan')
    before = {k: v.clone() for k, v in model.named_parameters()}
    with pytest.raises(FloatingPointError) as err:
        model.train_step(
            dict(inputs=list(inputs), data_samples=samples), optim)
    assert 'iteration 42' in str(err.value)
    assert 'loss_contrast' in str(err.value) and 'loss_sdp' in str(err.value)
    # No optimizer step happened. (BatchNorm running statistics did see the
    # bad batch, but the run stops here, so no checkpoint is written.)
    for key, value in model.named_parameters():
        torch.testing.assert_close(value, before[key], msg=key)


def test_a_finite_train_step_updates_the_weights():
    model = build()
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    inputs, samples = batch()
    before = model.backbone.conv1.conv.weight.clone()
    log_vars = model.train_step(
        dict(inputs=list(inputs), data_samples=samples), optim)
    assert np.isfinite(float(log_vars['loss']))
    assert not torch.equal(before, model.backbone.conv1.conv.weight)


PAPER_CONFIGS = [
    'r3d_ucf101', 'r21d_ucf101', 'c3d_ucf101', 'r3d_hmdb51', 'r21d_hmdb51',
    'c3d_hmdb51'
]


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_configs_hold_the_paper_settings(name):
    import os.path as osp
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cacl', f'{name}.py'))
    assert cfg.model.clip_len == 16 and cfg.model.sdp_head.num_classes == 16
    sampler = cfg.train_dataloader.dataset.pipeline[1]
    assert (sampler.clip_len, sampler.frame_interval) == (16, 2)
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.model.transformer.embed_dims == 768
    assert cfg.model.transformer.num_layers == 6
    assert cfg.model.contrast_head.temperature == 0.07
    assert cfg.model.momentum == 0.999
    assert {'type': 'MoCoQueueHook', 'momentum_schedule': 'constant'} in \
        cfg.custom_hooks
    videos = 3570 if 'hmdb' in name else 9537  # split-1 train lists
    assert cfg.model.queue.length < videos
    # the small-scale recipe's background swap is not the paper's
    assert 'background_swap' not in cfg.model.data_preprocessor


@pytest.mark.parametrize('name,feat_dims', [('r3d_ucf101', 512),
                                            ('r21d_ucf101', 512)])
def test_paper_models_run_a_loss_step(name, feat_dims):
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')  # Conv2plus1d is built through mmcv
    import os.path as osp
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cacl', f'{name}.py'))
    model = MODELS.build(cfg.model)
    assert model.transformer.frame_encoder.depth == 50
    inputs = torch.randn(2, 2, 3, 16, 48, 48)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(2):
        s = ActionDataSample()
        s.set_field(rng.permutation(16), 'shuffle_order')
        s.set_field(3, 'med_label')
        samples.append(s)
    with torch.no_grad():
        losses = model.loss(inputs, samples)
    assert torch.isfinite(losses['loss_contrast'])
    assert model.extract_feat(inputs[:, 0]).shape == (2, feat_dims)


def test_c3d_config_dims_match_the_backbone():
    import os.path as osp
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cacl', 'c3d_ucf101.py'))
    backbone = MODELS.build(cfg.model.backbone).eval()
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, 16, 112, 112))
    # the released code's C3D feature: conv5b, average-pooled to 512-d
    assert feats.shape == (1, 512, 2, 7, 7)
    assert not hasattr(backbone, 'fc6') and not hasattr(backbone, 'fc7')
    assert cfg.model.cnn_neck.in_channels == 2 * feats.shape[1]
    assert cfg.model.sdp_head.in_channels == 2 * feats.shape[1]
