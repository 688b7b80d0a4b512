"""ChannelsLastHook: the backbone sees channels-last clips, nothing else
changes."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.model.wrappers import MMDistributedDataParallel

import cacl_mm  # noqa: F401
from cacl_mm.engine.hooks import ChannelsLastHook
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

CONFIG = 'configs/finetune/r3d_tiny_motion10_split1.py'


def tiny_recognizer() -> torch.nn.Module:
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.train()


def loss_and_grads(model, clips, labels):
    model.zero_grad()
    torch.manual_seed(1)  # the head's dropout draws the same mask
    feats = model.extract_feat(clips)[0]
    loss = torch.nn.functional.cross_entropy(model.cls_head(feats), labels)
    loss.backward()
    return loss.detach(), {
        name: p.grad.clone()
        for name, p in model.named_parameters() if p.grad is not None
    }


def layouts_seen(module):
    """(contiguous, channels-last) of each input ``module`` gets."""
    seen = []

    def record(_, args):
        clips = args[0]
        seen.append(
            (clips.is_contiguous(),
             clips.is_contiguous(memory_format=torch.channels_last_3d)))

    module.register_forward_pre_hook(record)
    return seen


def test_the_config_has_the_hook():
    hooks = [h['type'] for h in Config.fromfile(CONFIG).custom_hooks]
    assert 'ChannelsLastHook' in hooks
    # the few-label config inherits it
    few_labels = Config.fromfile(CONFIG.replace('.py', '_10pct.py'))
    assert 'ChannelsLastHook' in [h['type'] for h in few_labels.custom_hooks]


def test_the_backbone_gets_channels_last_clips_and_the_same_results():
    plain = tiny_recognizer()
    hooked = copy.deepcopy(plain)
    hook = ChannelsLastHook()
    hook.before_run(SimpleNamespace(model=hooked))
    hook.before_run(SimpleNamespace(model=hooked))  # train() then test()
    seen = layouts_seen(hooked.backbone)
    # (N, num_clips, C, T, H, W), as Recognizer3D gets them
    clips = torch.randn(4, 1, 3, 8, 32, 32)
    labels = torch.tensor([0, 3, 5, 9])

    loss, grads = loss_and_grads(plain, clips, labels)
    loss_cl, grads_cl = loss_and_grads(hooked, clips, labels)

    # converted once (the second before_run added nothing), before the
    # backbone: a (4, 3, 8, 32, 32) clip batch is contiguous in one layout only
    assert seen == [(False, True)]
    torch.testing.assert_close(loss_cl, loss, rtol=1e-5, atol=1e-6)
    assert grads_cl.keys() == grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grads_cl[name], grad, rtol=1e-4, atol=1e-6)
    # the parameters and their gradients keep the parameters' layout, so
    # DDP's buckets, the optimizer state and checkpoints do not change
    for param in hooked.parameters():
        assert param.is_contiguous()
        assert param.grad is None or param.grad.is_contiguous()


def test_it_finds_the_model_inside_a_wrapper_and_is_removed_after_the_run(
        monkeypatch):
    model = tiny_recognizer()
    wrapper = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    torch.nn.Module.__init__(wrapper)
    wrapper.module = model
    hook = ChannelsLastHook()
    runner = SimpleNamespace(model=wrapper)
    hook.before_run(runner)
    seen = layouts_seen(model.backbone)
    model.extract_feat(torch.randn(2, 1, 3, 8, 32, 32))
    hook.after_run(runner)
    model.extract_feat(torch.randn(2, 1, 3, 8, 32, 32))
    assert seen == [(False, True), (True, False)]


def test_a_model_without_the_module_is_named_before_the_run():
    hook = ChannelsLastHook(module='cnn')
    with pytest.raises(KeyError, match="Recognizer3D.*no module 'cnn'"):
        hook.before_run(SimpleNamespace(model=tiny_recognizer()))
