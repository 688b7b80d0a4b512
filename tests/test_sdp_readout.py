"""Frozen-feature edit-distance readouts (``tools/sdp_readout.py``)."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from cacl_mm.analysis.sdp_readout import (AlignmentReadout, build_readouts,
                                          fit_readout, split_loader_cfg,
                                          stage_names, twin_sources)
from cacl_mm.models.utils.encoders import with_twins
from helpers import CONFIG_TINY, REPO, run, tiny_data_options


def one_hot_frames() -> torch.Tensor:
    """(1, C=1, T=3, H=1, W=3) clip whose frame t is the unit vector e_t."""
    return torch.eye(3).view(1, 1, 3, 1, 3)


def test_pixel_alignment_shows_the_permutation():
    """Frames e_0, e_1, e_2 minus their mean (1/3, 1/3, 1/3) have cosine 1
    with themselves and (0 - 1/3) / (2/3) = -0.5 with each other, so the
    alignment of a twin in order (2, 0, 1) is 1 where twin slot t holds
    original frame s (s = order[t]) and -0.5 elsewhere."""
    clips, order = one_hot_frames(), torch.tensor([[2, 0, 1]])
    twins = with_twins(clips, order, 2)
    sources = twin_sources(twins.mean(dim=(3, 4)), twins)
    feats, slots = sources['pixels']
    assert slots == 3 and feats.shape == (1, 2 * 3 * 3)
    head = build_readouts({'pixels': sources['pixels']}, 3,
                          8)['alignment_pixels'][1]
    expected = torch.tensor([[-0.5, 1.0, -0.5], [-0.5, -0.5, 1.0],
                             [1.0, -0.5, -0.5]])
    assert torch.allclose(
        head.mlp_input(feats).view(3, 3), expected, atol=1e-6)


def test_alignment_of_time_slots():
    # 2 channels x 2 slots per clip, flattened channel-major (c0t0, c0t1,
    # c1t0, c1t1) as pool_features(keep_time=True) gives them.
    readout = AlignmentReadout(
        8, num_classes=2, num_slots=2, hidden_channels=3)
    assert readout.classifier[0].in_features == 4
    original = torch.tensor([[1., 3., 0., 0.]])
    reversed_twin = torch.tensor([[3., 1., 0., 0.]])
    # Centred on the original's mean over time ([2, 0]): the original's
    # slots are (-1, 0) and (1, 0), the reversed twin's (1, 0) and (-1, 0).
    torch.testing.assert_close(
        readout.mlp_input(torch.cat([original, reversed_twin], dim=1)),
        torch.tensor([[-1., 1., 1., -1.]]))
    torch.testing.assert_close(
        readout.mlp_input(torch.cat([original, original], dim=1)),
        torch.tensor([[1., -1., -1., 1.]]))
    # The cosines do not depend on the clip's content shared by all slots.
    shifted = original + torch.tensor([[5., 5., -2., -2.]])
    torch.testing.assert_close(
        readout.mlp_input(
            torch.cat([shifted, reversed_twin + shifted - original], 1)),
        readout.mlp_input(torch.cat([original, reversed_twin], 1)))
    with pytest.raises(ValueError, match='num_slots'):
        AlignmentReadout(8, num_classes=2, num_slots=3, hidden_channels=3)


def test_sources_name_each_stage_and_pool_the_last():

    class Backbone(torch.nn.Module):
        out_indices = (2, 3)

    layer3 = torch.arange(2 * 2 * 4 * 1 * 1.).view(2, 2, 4, 1, 1)
    layer4 = torch.ones(2, 3, 2, 2, 2)
    layer4[1] = 3.0
    twins = torch.zeros(2, 1, 4, 2, 2)
    sources = twin_sources((layer3, layer4), twins, stage_names(Backbone(), 2))
    assert list(sources) == ['pooled', 'layer3', 'layer4', 'pixels']
    pooled, slots = sources['pooled']
    # [original | twin] of layer4 averaged over (T, H, W): ones, then 3s.
    assert slots == 1
    assert pooled.tolist() == [[1.0, 1.0, 1.0, 3.0, 3.0, 3.0]]
    assert sources['layer3'][1] == 4 and sources['layer4'][1] == 2
    assert sources['layer3'][0].shape == (1, 2 * 2 * 4)
    readouts = build_readouts(sources, 4, 8)
    assert set(readouts) == {
        'difference', 'alignment_layer3', 'alignment_layer4',
        'alignment_pixels'
    }
    assert readouts['difference'][1].input_mode == 'difference'
    assert stage_names(torch.nn.Identity(), 2) == ['stage0', 'stage1']


def test_fit_readout_learns_what_the_input_shows_and_not_noise():
    generator = torch.Generator().manual_seed(0)

    def split(count, random_labels=False):
        labels = torch.randint(0, 4, (count, ), generator=generator)
        x = torch.nn.functional.one_hot(labels, 4).float()
        x = x + 0.05 * torch.randn(count, 4, generator=generator)
        if random_labels:
            labels = torch.randint(0, 4, (count, ), generator=generator)
        return x.repeat(1, 2), labels  # [orig | twin] width

    # The classifier of a 'difference' head over 4 + 4 features reads 8.
    head = build_readouts({'pooled': (torch.zeros(1, 8), 1)}, 4,
                          16)['difference'][1]
    learnable = fit_readout(head, split(200), split(100), epochs=30)
    assert learnable == dict(train_acc=1.0, heldout_acc=1.0)
    noise = fit_readout(head, split(200, True), split(400, True), epochs=30)
    assert noise['heldout_acc'] < 0.4  # chance 0.25; 400 clips: sd 0.02


def test_split_loader_cfg_reads_one_list_with_seeded_shuffles():
    loader = Config.fromfile(CONFIG_TINY).test_dataloader
    split = split_loader_cfg(loader, 'held_out.txt', 7)
    dataset = split['dataset']
    assert dataset['type'] == 'RobustVideoDataset'
    assert dataset['ann_file'] == 'held_out.txt'
    assert 'gallery_ann_file' not in dataset
    assert 'query_ann_file' not in dataset
    shuffles = [t for t in dataset['pipeline'] if t['type'] == 'ShuffleByMED']
    assert [t['seed'] for t in shuffles] == [7]
    assert split['sampler'] == dict(type='DefaultSampler', shuffle=False)
    # The config itself is untouched.
    assert 'gallery_ann_file' in loader['dataset']
    loader['dataset']['pipeline'] = [
        t for t in loader['dataset']['pipeline'] if t['type'] != 'ShuffleByMED'
    ]
    with pytest.raises(KeyError, match='ShuffleByMED'):
        split_loader_cfg(loader, 'held_out.txt', 0)


def test_sdp_readout_tool_on_tiny_videos(tiny_dataset, tmp_path):
    """The tool as a user runs it: random init, two stages, two draws."""
    work = str(tmp_path / 'readout')
    options = tiny_data_options(tiny_dataset)
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools', 'sdp_readout.py'), CONFIG_TINY, 'none',
        '--work-dir', work, '--train-draws', '2', '--heldout-draws', '2',
        '--epochs', '3', '--cfg-options', 'model.backbone.out_indices=(2,3)'
    ] + [f'{k}={v}' for k, v in options.items()])
    result = json.load(open(osp.join(work, 'sdp_readout.json')))
    # 12 train videos and 7 held-out videos, two shuffles each.
    assert result['num_train_pairs'] == 24
    assert result['num_heldout_pairs'] == 14
    assert result['chance'] == 1 / 8
    assert set(result['readouts']) == {
        'difference', 'alignment_layer3', 'alignment_layer4',
        'alignment_pixels'
    }
    for readout in result['readouts'].values():
        assert 0.0 <= readout['heldout_acc'] <= 1.0
    assert 0.0 <= result['pretrained_head']['heldout_acc'] <= 1.0
    assert 'alignment_pixels' in proc.stdout


def test_sdp_readout_tool_names_a_missing_list(tiny_dataset, tmp_path):
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools',
                 'sdp_readout.py'), CONFIG_TINY, 'none', '--work-dir',
        str(tmp_path), '--train-list', tiny_dataset['ann_file'],
        '--heldout-list',
        str(tmp_path / 'missing.txt')
    ],
               check=False)
    assert proc.returncode == 2
    assert '--heldout-list: no such file' in proc.stderr
    assert 'missing.txt' in proc.stderr
