"""Export, fine-tuning, linear probe, CACL backbones in MMAction2 configs."""
import functools
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS
import helpers
from helpers import CONFIG_TINY, REPO

EXPORT = osp.join(REPO, 'tools', 'export_backbone.py')
FINETUNE_TINY = osp.join(REPO, 'configs', 'finetune',
                         'r3d_tiny_motion10_split1.py')

#: helpers.run in the repository with SUBPROCESS_ENV (test-only modules,
#: the probe hook, importable); each test reads the exit code itself.
run = functools.partial(helpers.run, check=False)

#: Each 3D backbone family: its CACL pretraining config and the MMAction2
#: recognition config that takes the exported backbone (MMAction2's own zoo
#: recipe where one exists for that backbone).
FAMILIES = {
    'r3d': (osp.join(REPO, 'configs', 'cacl', 'r3d_ucf101.py'),
            osp.join(REPO, 'configs', 'finetune', 'r3d_ucf101.py')),
    'r21d': (osp.join(REPO, 'configs', 'cacl', 'r21d_ucf101.py'),
             osp.join(REPO, 'configs', 'finetune',
                      'zoo_r2plus1d_kinetics400_cacl.py')),
    'c3d': (osp.join(REPO, 'configs', 'cacl', 'c3d_ucf101.py'),
            osp.join(REPO, 'configs', 'finetune', 'zoo_c3d_ucf101_cacl.py')),
}


@pytest.fixture(scope='module')
def runner_checkpoints(paper_runs):
    """Each family's checkpoint exactly as mmengine's Runner writes it
    (weights + config in meta): the paper configs' real-size runs of
    test_paper_scale (``paper_runs.py``), made once per session."""
    return {
        family:
        paper_runs.run(osp.splitext(osp.basename(config))[0])['checkpoint']
        for family, (config, _) in FAMILIES.items()
    }


def backbone_of(checkpoint: str) -> dict:
    state = torch.load(checkpoint, map_location='cpu', mmap=True)['state_dict']
    return {
        k[len('backbone.'):]: v
        for k, v in state.items() if k.startswith('backbone.')
    }


@pytest.mark.parametrize('family', list(FAMILIES))
def test_backbone_drop_in_through_the_export_tool(family, runner_checkpoints,
                                                  tmp_path):
    pretrain_config, recognition_config = FAMILIES[family]
    checkpoint = runner_checkpoints[family]
    expected = backbone_of(checkpoint)
    for args in ([], ['--config', pretrain_config]):
        out = str(tmp_path / f'{family}{len(args)}.pth')
        proc = run([sys.executable, EXPORT, checkpoint, out, *args])
        assert proc.returncode == 0, proc.stderr[-2000:]
        # Only tensors and plain Python: every safe loader accepts it.
        exported = torch.load(out, weights_only=True)
        assert set(exported['state_dict']) == set(expected)
        assert exported['meta']['source'] == checkpoint
    # An MMAction2 recognition config loads it with `backbone.pretrained`,
    # as the Runner builds and initialises the model.
    cfg = Config.fromfile(recognition_config)
    cfg.model.backbone.pretrained = out
    init_default_scope('mmaction')
    recognizer = MODELS.build(cfg.model)
    recognizer.init_weights()
    arrived = recognizer.backbone.state_dict()
    assert set(arrived) == set(expected)
    for key, value in expected.items():
        torch.testing.assert_close(
            arrived[key], value, msg=key, rtol=0, atol=0)


def test_export_refuses_a_checkpoint_without_that_backbone(tmp_path):
    init_default_scope('mmaction')
    frame_model = MODELS.build(dict(type='ResNet', depth=18))
    bad = tmp_path / 'frames.pth'
    torch.save(
        {
            'state_dict': {
                f'backbone.{k}': v
                for k, v in frame_model.state_dict().items()
            }
        }, bad)
    proc = run([
        sys.executable, EXPORT,
        str(bad),
        str(tmp_path / 'o.pth'), '--config', CONFIG_TINY
    ])
    assert proc.returncode == 1
    assert 'does not hold a ResNet3d backbone' in proc.stderr
    assert not (tmp_path / 'o.pth').exists()
    proc = run([sys.executable, EXPORT, str(bad), str(tmp_path / 'o.pth')])
    assert proc.returncode == 1 and 'no saved config' in proc.stderr


@pytest.mark.parametrize('name', [
    'r3d_ucf101', 'r21d_ucf101', 'c3d_ucf101', 'r3d_hmdb51', 'r21d_hmdb51',
    'c3d_hmdb51'
])
def test_finetune_configs_build_and_select_splits(name, monkeypatch):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'finetune', f'{name}.py'))
    classes = 101 if 'ucf' in name else 51
    assert cfg.model.cls_head.num_classes == classes
    assert cfg.train_dataloader.dataset.ann_file.endswith(
        'train_split_1_videos.txt')
    test_sampler = cfg.test_dataloader.dataset.pipeline[1]
    assert test_sampler.num_clips == 10
    assert any(t.type == 'ThreeCrop'
               for t in cfg.test_dataloader.dataset.pipeline)
    monkeypatch.setenv('SPLIT', '3')
    cfg3 = Config.fromfile(osp.join(REPO, 'configs', 'finetune', f'{name}.py'))
    assert cfg3.val_dataloader.dataset.ann_file.endswith(
        'val_split_3_videos.txt')
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


def test_mmaction_zoo_config_trains_and_tests_with_a_cacl_backbone(
        runner_checkpoints, tiny_dataset, tmp_path):
    """configs/finetune/zoo_c3d_ucf101_cacl.py, MMAction2's own C3D recipe,
    through tools/train.py and `mim test`, on the C3D-BN backbone that
    tools/export_backbone.py exported from a pretraining checkpoint."""
    exported = str(tmp_path / 'c3d_cacl.pth')
    proc = run([sys.executable, EXPORT, runner_checkpoints['c3d'], exported])
    assert proc.returncode == 0, proc.stderr[-2000:]
    one_video = tmp_path / 'one.txt'
    one_video.write_text(open(tiny_dataset['ann_file']).readline())
    options = {
        'model.backbone.pretrained': exported,
        'train_cfg.max_epochs': 1,
        'val_cfg': None,
        'val_dataloader': None,
        'val_evaluator': None,
        'param_scheduler': [],
        'optim_wrapper.optimizer.lr': 0.,  # the step must not move weights
        'optim_wrapper.optimizer.weight_decay': 0.,
        'default_hooks.checkpoint.interval': 1,
        'env_cfg.dist_cfg.backend': 'gloo',
    }
    for split in ('train', 'test'):
        options.update({
            f'{split}_dataloader.dataset.ann_file':
            str(one_video),
            f'{split}_dataloader.dataset.data_prefix.video':
            tiny_dataset['video_root'],
            f'{split}_dataloader.batch_size':
            1,
            f'{split}_dataloader.num_workers':
            0,
            f'{split}_dataloader.persistent_workers':
            False,
        })
    opts = ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    work = str(tmp_path / 'work')
    config = FAMILIES['c3d'][1]
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trained = backbone_of(osp.join(work, 'epoch_1.pth'))
    for key, value in backbone_of(runner_checkpoints['c3d']).items():
        if 'running_' in key or 'num_batches' in key:
            continue  # BatchNorm statistics move in train mode
        torch.testing.assert_close(trained[key], value, msg=key)
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    proc = run([
        mim, 'test', 'mmaction', config, '--checkpoint',
        osp.join(work, 'epoch_1.pth'), '--work-dir', work
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'acc/top1' in proc.stdout + proc.stderr


def test_mim_test_runs_a_finetune_config(tiny_dataset, tmp_path):
    work = str(tmp_path / 'ft')
    data = {
        f'{s}_dataloader.dataset.{k}': v
        for s in ('train', 'val', 'test')
        for k, v in (('ann_file', tiny_dataset['ann_file']),
                     ('data_prefix.video', tiny_dataset['video_root']))
    }
    data.update({
        'train_cfg.max_epochs': 1,
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'val_dataloader.num_workers': 0,
        'test_dataloader.num_workers': 0
    })
    opts = ['--cfg-options'] + [f'{k}={v}' for k, v in data.items()]
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), FINETUNE_TINY, '--work-dir', work
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = osp.join(work, 'epoch_1.pth')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    proc = run([
        mim, 'test', 'mmaction', FINETUNE_TINY, '--checkpoint', ckpt,
        '--work-dir', work
    ] + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'acc/top1' in proc.stdout + proc.stderr

    # Retrieval works on any MMAction2 recognizer checkpoint, too.
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools',
                 'retrieval.py'), FINETUNE_TINY, ckpt, '--work-dir',
        osp.join(work, 'ret'), '--gallery-list', tiny_dataset['ann_file'],
        '--video-root', tiny_dataset['video_root'], '--num-clips', '2',
        '--num-workers', '0'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(osp.join(work, 'ret', 'retrieval.json'))


def test_conv5_maxpool_feature_is_the_released_codes_feature():
    init_default_scope('mmaction')
    backbone = Config.fromfile(
        osp.join(REPO, 'configs', 'cacl', 'r3d_ucf101.py')).model.backbone
    extractor = MODELS.build(
        dict(
            type='VideoFeatureExtractor',
            backbone=backbone,
            feature='conv5_maxpool'))
    extractor.eval()
    with torch.no_grad():
        # R3D-18 conv5 on 16x112x112 is 512 x 2 x 7 x 7; (1,2,2) max pool
        # -> 512 x 2 x 3 x 3 = 9216, the literature's 9216-d feature.
        feats = extractor(torch.randn(1, 2, 3, 16, 112, 112), mode='tensor')
    assert feats.shape == (1, 9216)
    with pytest.raises(ValueError, match="'avg' or 'conv5_maxpool'"):
        MODELS.build(
            dict(
                type='VideoFeatureExtractor', backbone=backbone,
                feature='max'))
