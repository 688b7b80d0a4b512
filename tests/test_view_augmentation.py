"""Batched view augmentation against MMAction2's per-frame one.

Two layers: the arithmetic (given the same parameters, our torch functions
give MMAction2's / OpenCV's pixels within stated grey levels), and the
distributions (many draws of ``DrawViewAugmentations`` + the data
preprocessor against many draws of MMAction2's per-view pipeline, compared
with two-sample Kolmogorov-Smirnov tests; a planted difference shows that
the tests can see one).
"""
import copy
import itertools
import os.path as osp
import random

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from scipy import stats

from cacl_mm.datasets.transforms import (VIEW_AUGMENTATION_FIELDS,
                                         DrawViewAugmentations)
from cacl_mm.models.data_preprocessors import ViewAugmentDataPreprocessor
from cacl_mm.models.utils import view_augment
from mmaction.datasets.transforms import ColorJitter
from mmaction.registry import TRANSFORMS
from helpers import REPO

COL = {name: i for i, name in enumerate(VIEW_AUGMENTATION_FIELDS)}
# the paper configs' own settings (configs/cacl/_base_/ucf101_pretrain_data.py)
PAPER_VIEWS = {
    k: v
    for k, v in Config.fromfile(osp.join(
        REPO, 'configs/cacl/r3d_ucf101.py')).view_augmentations.items()
    if k != 'type'
}


def smooth_frames(t=8, h=240, w=320, seed=0) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB: colour ramps plus blurred texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    frames = []
    for i in range(t):
        texture = cv2.GaussianBlur(
            rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), 3)
        frame = np.stack([
            255 * x / w, 255 * y / h,
            np.clip(128 + 2 * (texture - 128) + 4 * i, 0, 255)
        ], -1)
        frames.append(frame.astype(np.uint8))
    return np.stack(frames)


def as_clip(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)


def as_frames(clip: torch.Tensor) -> np.ndarray:
    """(3, T, H, W) tensor -> (T, H, W, 3) int array."""
    return clip.permute(1, 2, 3, 0).numpy().astype(np.int64)


def mmaction_jitter(frames, factors, order):
    """MMAction2's ColorJitter on uint8 frames with given draws."""
    jitter = ColorJitter(0.4, 0.4, 0.4, 0.1)
    jitter.fn_idx = np.asarray(order)
    draws = iter(factors)
    real_uniform = np.random.uniform
    np.random.uniform = lambda low, high: next(draws)
    try:
        out = jitter.transform(dict(imgs=list(frames)))['imgs']
    finally:
        np.random.uniform = real_uniform
    return np.stack(out).astype(np.int64)


# ------------------------------------------------------------- arithmetic
def test_rgb_to_hsv_is_opencvs_exactly():
    frames = smooth_frames(t=2, h=64, w=64)
    frames[0, :8] = frames[0, :8, :, :1]  # grays: zero saturation
    frames[1, :4] = 0  # black: zero value
    for frame in frames:
        reference = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV).astype(np.int64)
        ours = view_augment.rgb_to_hsv_u8(
            torch.from_numpy(frame).permute(2, 0, 1)[None].float())
        np.testing.assert_array_equal(ours[0].permute(1, 2, 0).numpy(),
                                      reference)


def test_hsv_to_rgb_is_within_one_level_of_opencv():
    rng = np.random.default_rng(0)
    hsv = np.stack([
        rng.integers(0, 180, (64, 64)),
        rng.integers(0, 256, (64, 64)),
        rng.integers(0, 256, (64, 64))
    ], -1).astype(np.uint8)
    reference = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.int64)
    ours = view_augment.hsv_u8_to_rgb(
        torch.from_numpy(hsv.astype(np.int32)).permute(2, 0, 1)[None])
    diff = np.abs(ours[0].permute(1, 2, 0).numpy() - reference)
    assert diff.max() <= 1
    assert (diff > 0).mean() < 0.05


def test_hue_on_any_device_is_within_one_level_of_the_cpu_path():
    """The torch conversions (GPU path) against OpenCV's (CPU path)."""
    clips = as_clip(smooth_frames(t=4, h=48, w=64))[None].float()
    for factor in (-0.1, -0.037, 0.004, 0.06, 0.1):
        offsets = torch.tensor([int(factor * 255)])
        cpu = view_augment.adjust_hue(clips, torch.tensor([factor]))
        any_device = view_augment.adjust_hue_torch(clips, offsets)
        diff = (cpu - any_device).abs()
        assert diff.max() <= 1 and (diff > 0).float().mean() < 0.05, factor


def test_crop_views_are_mmactions_resize_crop_resize_flip():
    frames = smooth_frames()
    rows = torch.tensor([
        [171, 128, 17, 2, 123, 113, 112, 112, 0, 0, 1, 1, 1, 0, 0, 1, 2, 3, 0],
        [171, 128, 32, 7, 140, 95, 112, 112, 1, 0, 1, 1, 1, 0, 0, 1, 2, 3, 0],
        [171, 128, 0, 0, 171, 128, 112, 112, 1, 0, 1, 1, 1, 0, 0, 1, 2, 3, 0],
    ],
                        dtype=torch.float32)
    views = view_augment.crop_views(as_clip(frames), rows)
    assert views.dtype == torch.uint8 and views.shape == (3, 3, 8, 112, 112)
    for view, row in zip(views, rows.tolist()):
        rw, rh, x1, y1, x2, y2, ow, oh = (int(v) for v in row[:8])
        reference = [
            mmcv.imresize(
                mmcv.imresize(f, (rw, rh), interpolation='bilinear')[y1:y2,
                                                                     x1:x2],
                (ow, oh),
                interpolation='bilinear') for f in frames
        ]
        if row[COL['flip']]:
            reference = [mmcv.imflip(f) for f in reference]
        diff = np.abs(as_frames(view) - np.stack(reference))
        # torch's and OpenCV's bilinear kernels round differently
        assert diff.max() <= 2 and diff.mean() < 0.5


@pytest.mark.parametrize('order', list(itertools.permutations(range(4))))
def test_jitter_is_mmactions_color_jitter_in_every_order(order):
    frames = smooth_frames(t=3, h=24, w=32, seed=sum(order))
    rng = np.random.default_rng(list(order))
    factors = [*rng.uniform(0.6, 1.4, 3), rng.uniform(-0.1, 0.1)]
    reference = mmaction_jitter(frames, factors, order)
    ours = view_augment.jitter_clip(
        as_clip(frames).float(), factors, list(order))
    diff = np.abs(as_frames(ours) - reference)
    # the per-frame contrast mean is summed in another order: a rare +-1
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_identity_steps_are_skipped_as_mmaction_does():
    """A hue of 0 is not applied: the 8-bit HSV round trip would change
    pixels (MMAction2 skips it, so must we)."""
    frames = smooth_frames(t=2, h=24, w=32)
    ours = view_augment.jitter_clip(
        as_clip(frames).float(), [1., 1., 1., 0.], [3, 2, 1, 0])
    np.testing.assert_array_equal(as_frames(ours), frames)
    hue_only = view_augment.jitter_clip(
        as_clip(frames).float(), [1., 1., 1., 0.05], [3, 2, 1, 0])
    assert not np.array_equal(as_frames(hue_only), frames)


def test_grayscale_is_mmactions_zero_saturation_jitter():
    frames = smooth_frames(t=2, h=24, w=32)
    gray = ColorJitter(
        brightness=(1., 1.),
        contrast=(1., 1.),
        saturation=(0., 0.),
        hue=(0., 0.)).transform(dict(imgs=list(frames)))['imgs']
    row = torch.zeros(1, len(VIEW_AUGMENTATION_FIELDS))
    row[0, COL['grayscale']] = 1
    ours = view_augment.color_views(as_clip(frames)[None], row)[0]
    np.testing.assert_array_equal(as_frames(ours), np.stack(gray))


def test_every_frame_of_a_view_gets_the_same_augmentation():
    """A still clip stays still in every view: one draw per view."""
    still = np.repeat(smooth_frames(t=1), 8, axis=0)
    draw = DrawViewAugmentations(**PAPER_VIEWS)
    np.random.seed(3)
    random.seed(3)
    for _ in range(20):
        rows = draw.transform(dict(img_shape=(240, 320)))['view_augmentations']
        views = view_augment.color_views(
            view_augment.crop_views(as_clip(still), torch.from_numpy(rows)),
            torch.from_numpy(rows))
        assert torch.equal(views, views[:, :, :1].expand_as(views))


# ---------------------------------------------------------- the transform
def test_draw_rows_follow_mmactions_resize_and_ranges():
    draw = DrawViewAugmentations(**PAPER_VIEWS)
    assert draw.resized_shape((240, 320)) == (128, 171)  # Resize(-1, 128)
    assert draw.resized_shape((320, 240)) == (171, 128)
    assert DrawViewAugmentations(resize_scale=None).resized_shape(
        (48, 64)) == (48, 64)
    np.random.seed(0)
    random.seed(0)
    rows = np.concatenate([
        draw.transform(dict(img_shape=(240, 320)))['view_augmentations']
        for _ in range(200)
    ])
    assert rows.shape == (400, len(VIEW_AUGMENTATION_FIELDS))
    assert (rows[:, COL['resize_w']] == 171).all()
    assert (rows[:, COL['out_w']] == 112).all()
    assert (rows[:, COL['x2']] <= 171).all() and (rows[:, COL['y2']]
                                                  <= 128).all()
    jittered = rows[rows[:, COL['jitter']] == 1]
    assert ((jittered[:, COL['brightness']] >= 0.6) &
            (jittered[:, COL['brightness']] <= 1.4)).all()
    assert (np.abs(jittered[:, COL['hue']]) <= 0.1).all()
    plain = rows[rows[:, COL['jitter']] == 0]
    np.testing.assert_array_equal(plain[:, COL['brightness']:COL['hue'] + 1],
                                  np.tile([1., 1., 1., 0.], (len(plain), 1)))
    orders = rows[:, COL['order_0']:COL['order_3'] + 1]
    assert (np.sort(orders, axis=1) == np.arange(4)).all()


@pytest.mark.parametrize('bad', [
    dict(num_views=0),
    dict(flip_ratio=1.5),
    dict(grayscale_prob=-0.1),
    dict(hue=0.7),
])
def test_draw_refuses_impossible_settings(bad):
    with pytest.raises((ValueError, AssertionError)):
        DrawViewAugmentations(**bad)


def test_parameter_distributions_are_mmactions():
    """Rates by binomial tests, ranges and crops by KS tests, the order
    by a chi-square test: 4000 views."""
    draw = DrawViewAugmentations(**PAPER_VIEWS)
    np.random.seed(1)
    random.seed(1)
    rows = np.concatenate([
        draw.transform(dict(img_shape=(240, 320)))['view_augmentations']
        for _ in range(2000)
    ]).astype(np.float64)
    n = len(rows)
    for field, p in (('flip', 0.5), ('jitter', 0.8), ('grayscale', 0.2)):
        hits = int(rows[:, COL[field]].sum())
        assert stats.binomtest(hits, n, p).pvalue > 1e-3, field
    jittered = rows[rows[:, COL['jitter']] == 1]
    for field, (low,
                high) in (('brightness', (0.6, 1.4)), ('contrast', (0.6, 1.4)),
                          ('saturation', (0.6, 1.4)), ('hue', (-0.1, 0.1))):
        values = jittered[:, COL[field]]
        assert stats.kstest(values, 'uniform', (low, high - low)).pvalue > \
            1e-3, field
    orders = [tuple(r) for r in rows[:, COL['order_0']:COL['order_3'] + 1]]
    counts = [orders.count(p) for p in itertools.permutations(range(4))]
    assert stats.chisquare(counts).pvalue > 1e-3
    # crops: MMAction2's Resize + RandomResizedCrop, drawn the same number
    # of times through its own transforms
    reference = Compose([
        TRANSFORMS.build(dict(type='Resize', scale=(-1, 128))),
        TRANSFORMS.build(
            dict(type='RandomResizedCrop', area_range=(0.2, 1.0)))
    ])
    boxes = []
    for _ in range(n):
        out = reference(dict(img_shape=(240, 320), imgs=[np.zeros((1, 1, 3))]))
        boxes.append(out['crop_bbox'])
    boxes = np.asarray(boxes, dtype=np.float64)
    ours = rows[:, [COL['x1'], COL['y1'], COL['x2'], COL['y2']]]
    for name, fn in (('area', lambda b: (b[:, 2] - b[:, 0]) *
                      (b[:, 3] - b[:, 1]) /
                      (171 * 128)), ('aspect', lambda b: np.log(
                          (b[:, 2] - b[:, 0]) / (b[:, 3] - b[:, 1]))),
                     ('centre_x', lambda b:
                      (b[:, 0] + b[:, 2]) / 2), ('centre_y', lambda b:
                                                 (b[:, 1] + b[:, 3]) / 2)):
        assert stats.ks_2samp(fn(ours), fn(boxes)).pvalue > 1e-3, name


def view_statistics(views: np.ndarray) -> np.ndarray:
    """(N, 3, T, H, W) -> (N, 5): mean R, G, B, std, left-right slope."""
    views = views.astype(np.float64)
    left = views[..., :views.shape[-1] // 2].mean(axis=(1, 2, 3, 4))
    right = views[..., views.shape[-1] // 2:].mean(axis=(1, 2, 3, 4))
    return np.stack([
        views[:, 0].mean(axis=(1, 2, 3)), views[:, 1].mean(axis=(1, 2, 3)),
        views[:, 2].mean(axis=(1, 2, 3)),
        views.std(axis=(1, 2, 3, 4)), right - left
    ], 1)


def draw_views(settings: dict, frames: np.ndarray, draws: int, batched: bool,
               seed: int) -> np.ndarray:
    """``draws`` x num_views views of ``frames``, through our batched path
    or MMAction2's per-frame pipeline (rebuilt per draw, so that its colour
    jitter order is drawn per clip, as ours and torchvision's)."""
    draw = DrawViewAugmentations(**settings)
    np.random.seed(seed)
    random.seed(seed)
    shape = frames.shape[1:3]
    out = []
    for _ in range(draws):
        if batched:
            rows = torch.from_numpy(
                draw.transform(dict(img_shape=shape))['view_augmentations'])
            out.append(
                view_augment.color_views(
                    view_augment.crop_views(as_clip(frames), rows),
                    rows).numpy())
        else:
            pipeline = Compose([
                TRANSFORMS.build(copy.deepcopy(t))
                for t in draw.per_frame_pipeline()
            ])
            result = pipeline(
                dict(
                    imgs=list(frames),
                    img_shape=shape,
                    num_clips=1,
                    clip_len=len(frames),
                    modality='RGB'))
            out.append(result['imgs'])
    return np.concatenate(out)


SMALL_VIEWS = dict(PAPER_VIEWS, resize_scale=(-1, 36), out_size=24)


def test_views_have_the_same_distribution_as_mmactions():
    """600 views each way of one clip: every statistic's KS test passes;
    with grayscale at 0.5 instead of 0.2 or no flips, the tests see it."""
    frames = smooth_frames(t=4, h=48, w=64)
    ours = view_statistics(draw_views(SMALL_VIEWS, frames, 300, True, 0))
    theirs = view_statistics(draw_views(SMALL_VIEWS, frames, 300, False, 1))
    names = ('mean R', 'mean G', 'mean B', 'std', 'left-right slope')
    for i, name in enumerate(names):
        assert stats.ks_2samp(ours[:, i], theirs[:, i]).pvalue > 1e-3, name
    for planted in (dict(grayscale_prob=0.5), dict(flip_ratio=0.0)):
        changed = view_statistics(
            draw_views(dict(SMALL_VIEWS, **planted), frames, 300, True, 0))
        assert min(
            stats.ks_2samp(changed[:, i], theirs[:, i]).pvalue
            for i in range(len(names))) < 1e-3, planted


# ----------------------------------------------------- the preprocessor
def test_preprocessor_builds_views_and_leaves_other_batches_alone():
    from mmaction.models.data_preprocessors import ActionDataPreprocessor
    from mmaction.structures import ActionDataSample
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    ours = ViewAugmentDataPreprocessor(**norm)
    plain = ActionDataPreprocessor(format_shape='NCTHW', **norm)
    clips = [
        as_clip(smooth_frames(t=4, h=48, w=64, seed=s))[None] for s in range(3)
    ]
    # validation: no view_augmentations, MMAction2's result exactly
    samples = [ActionDataSample() for _ in clips]
    expected = plain(dict(inputs=clips, data_samples=samples))['inputs']
    got = ours(dict(inputs=clips, data_samples=samples))['inputs']
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # training: (B, V, C, T, h, w), normalised, each view its rows
    draw = DrawViewAugmentations(**SMALL_VIEWS)
    np.random.seed(0)
    random.seed(0)
    for sample in samples:
        sample.set_field(
            draw.transform(dict(img_shape=(48, 64)))['view_augmentations'],
            'view_augmentations')
    batch = ours(dict(inputs=clips, data_samples=samples), training=True)
    assert batch['inputs'].shape == (3, 2, 3, 4, 24, 24)
    for b, sample in enumerate(samples):
        rows = torch.as_tensor(sample.view_augmentations)
        views = view_augment.color_views(
            view_augment.crop_views(clips[b][0], rows), rows)
        mean = torch.tensor(norm['mean']).view(3, 1, 1, 1)
        std = torch.tensor(norm['std']).view(3, 1, 1, 1)
        torch.testing.assert_close(batch['inputs'][b], (views - mean) / std)
    with pytest.raises(ValueError, match=r'one \(1, C, T, H, W\) clip'):
        ours(
            dict(inputs=[c[0] for c in clips], data_samples=samples),
            training=True)
    with pytest.raises(ValueError, match="format_shape must be 'NCTHW'"):
        ViewAugmentDataPreprocessor(format_shape='NCHW')
