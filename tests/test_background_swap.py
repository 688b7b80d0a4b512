"""Views with another clip's background (``background_swap``)."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from cacl_mm.models.data_preprocessors import ViewAugmentDataPreprocessor
from cacl_mm.models.utils.background_swap import (draw_partners, motion_masks,
                                                  swap_backgrounds)
from mmaction.structures import ActionDataSample
from helpers import REPO, run


def moving_square_clips():
    """Two 3-frame 8x8 clips: clip 0 a 2x2 white square moving right one
    pixel a frame on black, clip 1 a still ramp (pixel value = its index)."""
    clips = torch.zeros(2, 3, 3, 8, 8)
    for t in range(3):
        clips[0, :, t, 3:5, 1 + t:3 + t] = 255
    clips[1] = torch.arange(64.).view(8, 8)
    return clips


def path_mask():
    """Rows 2..5, columns 0..5 of an 8x8 frame."""
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[2:6, 0:6] = True
    return mask


def test_the_mask_keeps_what_moves_and_not_what_is_still():
    clips = moving_square_clips()
    # The square's path is columns 1..4 of rows 3..4. After the 3x3 blur,
    # pixel (3, 1) holds 4/9, 2/9 and 0/9 of 255 in frames 0, 1, 2 (std
    # 56.7), and (3, 4) 0, 2/9, 4/9: the path's two ends change most; its
    # middle (columns 2..3) less (std 32.7),
    # and the still background not at all. 4 of 64 pixels, no dilation:
    mask = motion_masks(clips, 4 / 64, dilation=0)
    assert mask.shape == (2, 1, 1, 8, 8)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[3:5, 1] = expected[3:5, 4] = True
    assert torch.equal(mask[0, 0, 0], expected)
    # dilation 1 grows it by one pixel on every side: rows 2..5, cols 0..5,
    # which covers the whole path
    grown = motion_masks(clips, 4 / 64, dilation=1)[0, 0, 0]
    assert torch.equal(grown, path_mask())
    # a still clip changes nowhere: every pixel ties at 0 and is kept
    assert motion_masks(clips[1:], 4 / 64, dilation=0).all()


def test_pixel_noise_does_not_make_a_foreground():
    # Two pixels bright in one frame only (noise): unblurred their std
    # (147.2) beats the square's; blurred, each corner pixel is 1/4 of 255
    # in one frame (std 36.8), below the square's ends (56.7).
    clips = moving_square_clips()[:1]
    clips[0, :, 1, 7, 7] = 255
    clips[0, :, 1, 0, 7] = 255
    mask = motion_masks(clips, 4 / 64, dilation=0)[0, 0, 0]
    assert not mask[7, 7] and not mask[0, 7]
    assert mask[3:5, 1].all() and mask[3:5, 4].all()


def test_swap_puts_the_foreground_on_the_partners_middle_frame():
    clips = moving_square_clips()
    out = swap_backgrounds(
        clips,
        chosen=torch.tensor([True, False]),
        partners=torch.tensor([1, 0]),
        foreground_fraction=4 / 64,
        dilation=1)
    ramp = torch.arange(64.).view(8, 8)
    inside = path_mask()
    for t in range(3):
        frame = out[0, 0, t]
        # outside the path: clip 1's (still) ramp
        assert torch.equal(frame[~inside], ramp[~inside])
        # on it: clip 0's own pixels, frame by frame (the moving square)
        assert torch.equal(frame[inside], clips[0, 0, t][inside])
    # the unchosen clip is untouched and the input is not modified
    assert torch.equal(out[1], clips[1])
    assert torch.equal(clips, moving_square_clips())


def test_partners_are_never_the_clip_itself():
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        chosen, partners = draw_partners(5, 0.5, gen)
        assert (partners != torch.arange(5)).all()
        assert partners.min() >= 0 and partners.max() < 5
    chosen, partners = draw_partners(1, 1.0)
    assert not chosen.any() and partners.tolist() == [0]
    share = torch.cat([draw_partners(100, 0.3, gen)[0]
                       for _ in range(20)]).float().mean().item()
    assert abs(share - 0.3) < 0.05


def test_preprocessor_swaps_only_the_named_view_and_only_in_training():
    norm = dict(mean=[0., 0., 0.], std=[1., 1., 1.])
    swap = dict(views=[1], prob=1.0, foreground_fraction=4 / 64)
    plain = ViewAugmentDataPreprocessor(**norm)
    ours = ViewAugmentDataPreprocessor(background_swap=swap, **norm)
    clips = moving_square_clips().to(torch.uint8)
    # identity views: no resize, the whole 8x8 frame, no jitter
    row = np.zeros(19, dtype=np.float32)
    from cacl_mm.datasets.transforms import VIEW_AUGMENTATION_FIELDS
    col = {name: i for i, name in enumerate(VIEW_AUGMENTATION_FIELDS)}
    for key, value in dict(
            resize_h=8, resize_w=8, x2=8, y2=8, out_h=8, out_w=8).items():
        row[col[key]] = value
    samples = []
    for _ in range(2):
        sample = ActionDataSample()
        sample.set_field(np.stack([row, row]), 'view_augmentations')
        samples.append(sample)
    data = dict(inputs=[c[None] for c in clips], data_samples=samples)
    reference = plain(data, training=True)['inputs']
    swapped = ours(data, training=True)['inputs']
    assert torch.equal(swapped[:, 0], reference[:, 0])  # view 0 untouched
    # batch of two: each clip's partner is the other one
    ramp = torch.arange(64.).view(8, 8)
    inside = path_mask()
    for t in range(3):
        assert torch.equal(swapped[0, 1, 0, t][~inside], ramp[~inside])
        assert torch.equal(swapped[0, 1, 0, t][inside], reference[0, 1, 0,
                                                                  t][inside])
    # clip 1 is still: all of it is "foreground", so it stays as it was
    assert torch.equal(swapped[1, 1], reference[1, 1])
    # validation batches (no view_augmentations) are never swapped
    val = dict(
        inputs=[c[None] for c in clips],
        data_samples=[ActionDataSample(),
                      ActionDataSample()])
    torch.testing.assert_close(
        ours(val, training=False)['inputs'],
        plain(val, training=False)['inputs'])


@pytest.mark.parametrize('bad, message', [
    (dict(views=[1], prob=0.5), 'takes views, prob, foreground_fraction'),
    (dict(views=[1], prob=0.5, foreground_fraction=0.1,
          size=3), 'takes views, prob, foreground_fraction'),
    (dict(views=[1], prob=1.5, foreground_fraction=0.1), r'prob must be in'),
])
def test_bad_settings_name_the_key(bad, message):
    with pytest.raises(ValueError, match=message):
        ViewAugmentDataPreprocessor(background_swap=bad)


def test_a_view_the_batch_does_not_have_is_refused():
    with pytest.raises(ValueError, match='views: view 2 of a 2-view batch'):
        ViewAugmentDataPreprocessor(
            background_swap=dict(views=[2], prob=1.0,
                                 foreground_fraction=0.1))._swap_backgrounds(
                                     torch.zeros(2, 2, 3, 3, 8, 8), [2])
    with pytest.raises(ValueError, match=r'foreground_fraction must be'):
        motion_masks(torch.zeros(1, 3, 3, 8, 8), 0.0)


def test_mask_check_tool_scores_masks_against_the_rendered_objects(tmp_path):
    """tools/data/check_swap_masks.py on 6 clips of two members: on
    motion10 (still camera, smooth scenes) the mask covers the objects and
    mostly them; on busy8 (clutter, strong noise, a panning camera) most
    of the mask lies on the scene (measured: precision 0.78 and 0.13)."""
    out = tmp_path / 'masks.json'
    run([
        sys.executable,
        osp.join(REPO, 'tools/data/check_swap_masks.py'), 'motion10', 'busy8',
        '--clips', '6', '--out',
        str(out)
    ])
    members = json.loads(out.read_text())['members']
    assert members['motion10']['recall'] >= 0.8
    assert members['motion10']['precision'] >= 0.5
    assert members['busy8']['precision'] < members['motion10']['precision']
    assert members['busy8']['camera_motion'] == 0.6
    failed = run([
        sys.executable,
        osp.join(REPO, 'tools/data/check_swap_masks.py'), 'motion11'
    ],
                 check=False)
    assert failed.returncode == 2
    assert 'not a family member: motion11' in failed.stderr
