"""Export, fine-tuning, linear probe and CACL backbones in MMAction2 configs."""
import copy
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS
from conftest import CONFIG_TINY, REPO

EXPORT = osp.join(REPO, 'tools', 'export_backbone.py')
FINETUNE_TINY = osp.join(REPO, 'configs', 'finetune', 'r3d_tiny_motion10_split1.py')
ENV = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')


def run(cmd, timeout=600):
    proc = subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=timeout)
    return proc


@pytest.fixture(scope='module')
def cacl_checkpoint(tmp_path_factory):
    """A CACL checkpoint as mmengine writes it (weights + saved config)."""
    cfg = Config.fromfile(CONFIG_TINY)
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'cacl.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(cfg=cfg.pretty_text)), path)
    return path, model


def test_export_keeps_only_the_backbone(cacl_checkpoint, tmp_path):
    path, model = cacl_checkpoint
    out = tmp_path / 'backbone.pth'
    proc = run([sys.executable, EXPORT, path, str(out)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = torch.load(out)['state_dict']
    assert set(state) == set(model.backbone.state_dict())
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(state[key], value)


def test_export_refuses_a_checkpoint_without_that_backbone(tmp_path):
    init_default_scope('mmaction')
    frame_model = MODELS.build(dict(type='ResNet', depth=18))
    bad = tmp_path / 'frames.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               frame_model.state_dict().items()}}, bad)
    proc = run([sys.executable, EXPORT, str(bad), str(tmp_path / 'o.pth'),
                '--config', CONFIG_TINY])
    assert proc.returncode == 1
    assert 'does not hold a ResNet3d backbone' in proc.stderr
    assert not (tmp_path / 'o.pth').exists()
    proc = run([sys.executable, EXPORT, str(bad), str(tmp_path / 'o.pth')])
    assert proc.returncode == 1 and 'no saved config' in proc.stderr


def test_finetune_backbone_receives_the_exported_weights(cacl_checkpoint,
                                                         tmp_path):
    path, model = cacl_checkpoint
    out = str(tmp_path / 'backbone.pth')
    assert run([sys.executable, EXPORT, path, out]).returncode == 0
    cfg = Config.fromfile(FINETUNE_TINY)
    cfg.model.backbone.pretrained = out
    init_default_scope('mmaction')
    recognizer = MODELS.build(cfg.model)
    recognizer.init_weights()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(recognizer.backbone.state_dict()[key],
                                   value, msg=key)


@pytest.mark.parametrize('name', ['r3d_ucf101', 'r21d_ucf101', 'c3d_ucf101',
                                  'r3d_hmdb51', 'r21d_hmdb51', 'c3d_hmdb51'])
def test_finetune_configs_build_and_select_splits(name, monkeypatch):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'finetune', f'{name}.py'))
    classes = 101 if 'ucf' in name else 51
    assert cfg.model.cls_head.num_classes == classes
    assert cfg.train_dataloader.dataset.ann_file.endswith(
        'train_split_1_videos.txt')
    test_sampler = cfg.test_dataloader.dataset.pipeline[1]
    assert test_sampler.num_clips == 10
    assert any(t.type == 'ThreeCrop' for t in cfg.test_dataloader.dataset.pipeline)
    monkeypatch.setenv('SPLIT', '3')
    cfg3 = Config.fromfile(osp.join(REPO, 'configs', 'finetune', f'{name}.py'))
    assert cfg3.val_dataloader.dataset.ann_file.endswith('val_split_3_videos.txt')
    init_default_scope('mmaction')
    MODELS.build(cfg.model)


def test_linear_probe_trains_only_the_classifier():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'linear', 'r3d_ucf101.py'))
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.cls_head.parameters())
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))


def test_mmaction_zoo_config_takes_a_cacl_backbone(tiny_dataset, tmp_path):
    """configs/finetune/zoo_c3d_ucf101_cacl.py inherits mmaction's own zoo."""
    from mmengine.runner import Runner
    init_default_scope('mmaction')
    zoo = Config.fromfile(osp.join(REPO, 'configs', 'finetune',
                                   'zoo_c3d_ucf101_cacl.py'))
    # A CACL C3D-BN backbone, exported as tools/export_backbone.py does.
    torch.manual_seed(3)
    c3d = MODELS.build(Config.fromfile(
        osp.join(REPO, 'configs', 'cacl', 'c3d_ucf101.py')).model.backbone)
    c3d.init_weights()
    exported = str(tmp_path / 'c3d_backbone.pth')
    torch.save({'state_dict': c3d.state_dict()}, exported)

    one_video = tmp_path / 'one.txt'
    one_video.write_text(open(tiny_dataset['ann_file']).readline())
    zoo.model.backbone.pretrained = exported
    zoo.work_dir = str(tmp_path / 'work')
    for split in ('train', 'val', 'test'):
        loader = zoo[f'{split}_dataloader']
        loader.dataset.ann_file = str(one_video)
        loader.dataset.data_prefix = dict(video=tiny_dataset['video_root'])
        loader.batch_size, loader.num_workers = 1, 0
        loader.persistent_workers = False
    zoo.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=10)
    zoo.val_cfg = zoo.val_dataloader = zoo.val_evaluator = None
    zoo.param_scheduler = []
    zoo.optim_wrapper.optimizer.lr = 0.  # the step must not move the weights
    zoo.optim_wrapper.optimizer.weight_decay = 0.
    zoo.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    zoo.env_cfg.dist_cfg = dict(backend='gloo')
    runner = Runner.from_cfg(zoo)
    runner.train()
    for key, value in c3d.state_dict().items():
        if 'running_' in key or 'num_batches' in key:
            continue  # BatchNorm statistics move in train mode
        torch.testing.assert_close(runner.model.backbone.state_dict()[key],
                                   value, msg=key)
    metrics = runner.test()
    assert 'acc/top1' in metrics


def test_mim_test_runs_a_finetune_config(tiny_dataset, tmp_path):
    work = str(tmp_path / 'ft')
    data = {
        f'{s}_dataloader.dataset.{k}': v
        for s in ('train', 'val', 'test')
        for k, v in (('ann_file', tiny_dataset['ann_file']),
                     ('data_prefix.video', tiny_dataset['video_root']))
    }
    data.update({'train_cfg.max_epochs': 1, 'train_dataloader.batch_size': 4,
                 'train_dataloader.num_workers': 0,
                 'val_dataloader.num_workers': 0,
                 'test_dataloader.num_workers': 0})
    opts = ['--cfg-options'] + [f'{k}={v}' for k, v in data.items()]
    proc = run([sys.executable, osp.join(REPO, 'tools', 'train.py'),
                FINETUNE_TINY, '--work-dir', work] + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = osp.join(work, 'epoch_1.pth')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    proc = run([mim, 'test', 'mmaction', FINETUNE_TINY, '--checkpoint', ckpt,
                '--work-dir', work] + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'acc/top1' in proc.stdout + proc.stderr

    # Retrieval works on any MMAction2 recognizer checkpoint, too.
    proc = run([sys.executable, osp.join(REPO, 'tools', 'retrieval.py'),
                FINETUNE_TINY, ckpt, '--work-dir', osp.join(work, 'ret'),
                '--gallery-list', tiny_dataset['ann_file'],
                '--video-root', tiny_dataset['video_root'], '--num-clips', '2',
                '--num-workers', '0'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(osp.join(work, 'ret', 'retrieval.json'))


def test_conv5_maxpool_feature_is_the_released_codes_feature():
    init_default_scope('mmaction')
    backbone = Config.fromfile(osp.join(REPO, 'configs', 'cacl',
                                        'r3d_ucf101.py')).model.backbone
    extractor = MODELS.build(dict(type='VideoFeatureExtractor',
                                  backbone=backbone, feature='conv5_maxpool'))
    extractor.eval()
    with torch.no_grad():
        # R3D-18 conv5 on 16x112x112 is 512 x 2 x 7 x 7; (1,2,2) max pool
        # -> 512 x 2 x 3 x 3 = 9216, the literature's 9216-d feature.
        feats = extractor(torch.randn(1, 2, 3, 16, 112, 112), mode='tensor')
    assert feats.shape == (1, 9216)
    with pytest.raises(ValueError, match="'avg' or 'conv5_maxpool'"):
        MODELS.build(dict(type='VideoFeatureExtractor', backbone=backbone,
                          feature='max'))
