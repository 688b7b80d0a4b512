import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from helpers import CONFIG_TINY


def frames(num=6, value=None, seed=0):
    rng = np.random.default_rng(seed)
    if value is not None:
        return [np.full((24, 32, 3), value, np.uint8) for _ in range(num)]
    return [
        rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(num)
    ]


VIEW = [
    dict(type='RandomResizedCrop', area_range=(0.1, 0.5)),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
]


def results_of(imgs):
    return dict(
        imgs=imgs,
        img_shape=imgs[0].shape[:2],
        original_shape=imgs[0].shape[:2],
        num_clips=1,
        clip_len=len(imgs),
        modality='RGB')


def test_views_share_augmentation_over_time_and_differ_from_each_other():
    np.random.seed(0)
    # Every frame identical: a clip-level augmentation keeps them identical.
    base = frames(1, seed=3)[0]
    imgs = [base.copy() for _ in range(6)]
    out = TRANSFORMS.build(
        dict(type='MultiViewClip', num_views=2, transforms=VIEW))(
            results_of(imgs))
    clips = out['imgs']
    assert clips.shape == (2, 3, 6, 16, 16)
    for view in clips:
        for t in range(1, 6):
            np.testing.assert_array_equal(view[:, t], view[:, 0])
    assert not np.array_equal(clips[0], clips[1])


def test_earlier_views_do_not_modify_the_decoded_frames():
    np.random.seed(1)
    imgs = frames(4, seed=5)
    kept = [img.copy() for img in imgs]
    flip_first = [
        dict(type='Flip', flip_ratio=1.0),
        dict(type='FormatShape', input_format='NCTHW')
    ]
    out = TRANSFORMS.build(
        dict(type='MultiViewClip', num_views=2, transforms=flip_first))(
            results_of(imgs))
    # Both views are flipped once (Flip works in place on its own frames).
    expected = np.stack([img[:, ::-1] for img in kept])  # T H W C
    for view in out['imgs']:
        np.testing.assert_array_equal(view.transpose(1, 2, 3, 0), expected)


def test_one_clip_per_view_from_two_time_windows():
    # SampleFrames(num_clips=2) decodes two windows; view i reads clip i.
    imgs = frames(3, value=10) + frames(3, value=200)
    results = results_of(imgs)
    results.update(num_clips=2, clip_len=3)
    out = TRANSFORMS.build(
        dict(
            type='MultiViewClip',
            num_views=2,
            transforms=[dict(type='FormatShape', input_format='NCTHW')]))(
                results)
    assert out['imgs'].shape == (2, 3, 3, 24, 32)
    assert (out['imgs'][0] == 10).all() and (out['imgs'][1] == 200).all()
    results = results_of(frames(6))
    results['num_clips'] = 3
    with pytest.raises(ValueError, match='num_clips=2'):
        TRANSFORMS.build(
            dict(type='MultiViewClip', num_views=2, transforms=VIEW))(
                results)


def test_batched_views_read_one_clip_per_view_when_given_two():
    # SampleFrames(num_clips=2) in the batched path: the preprocessor crops
    # and colours view v from clip v (views from two time windows).
    draw = TRANSFORMS.build(
        dict(
            type='DrawViewAugmentations',
            out_size=16,
            jitter_prob=0.,
            grayscale_prob=0.))
    rows = draw(dict(img_shape=(24, 32)))['view_augmentations']
    clips = torch.stack([
        torch.full((3, 4, 24, 32), 10, dtype=torch.uint8),
        torch.full((3, 4, 24, 32), 200, dtype=torch.uint8)
    ])
    sample = ActionDataSample()
    sample.set_field(rows, 'view_augmentations')
    preprocessor = MODELS.build(
        dict(
            type='ViewAugmentDataPreprocessor',
            mean=[0., 0., 0.],
            std=[1., 1., 1.]))
    views = preprocessor(
        dict(inputs=[clips], data_samples=[sample]), training=True)['inputs']
    assert tuple(views.shape) == (1, 2, 3, 4, 16, 16)
    assert (views[0, 0] == 10).all() and (views[0, 1] == 200).all()
    with pytest.raises(ValueError, match='num_clips=1 or 2'):
        preprocessor(
            dict(
                inputs=[torch.cat([clips, clips[:1]])], data_samples=[sample]),
            training=True)


def test_mismatched_views_fail_clearly():
    transform = TRANSFORMS.build(
        dict(
            type='MultiViewClip',
            num_views=2,
            transforms=[dict(type='FormatShape', input_format='NCHW')]))
    with pytest.raises(ValueError, match='NCTHW'):
        transform(results_of(frames(4)))


def test_tiny_config_pipeline_on_a_real_video(tiny_dataset):
    init_default_scope('mmaction')
    cfg = copy.deepcopy(Config.fromfile(CONFIG_TINY).train_dataloader.dataset)
    cfg.ann_file = tiny_dataset['ann_file']
    cfg.data_prefix = dict(video=tiny_dataset['video_root'])
    dataset = DATASETS.build(cfg)
    np.random.seed(0)
    sample = dataset[0]
    # the workers ship the decoded clip once, as uint8, and each view's draws
    assert tuple(sample['inputs'].shape) == (1, 3, 8, 48, 64)
    assert sample['inputs'].dtype == torch.uint8
    assert tuple(sample['data_samples'].view_augmentations.shape) == (2, 19)
    # the model's data preprocessor builds the two views
    preprocessor = MODELS.build(
        Config.fromfile(CONFIG_TINY).model.data_preprocessor)
    batch = preprocessor(
        dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]),
        training=True)
    assert tuple(batch['inputs'].shape) == (1, 2, 3, 8, 32, 32)
    data_sample = sample['data_samples']
    order = np.asarray(data_sample.shuffle_order)
    assert sorted(order.tolist()) == list(range(8))
    assert 0 <= int(data_sample.med_label) < 8


def test_repeat_sampler_gives_repeat_datasets_indices():
    """Same indices as RepeatDataset(times) under DefaultSampler, epoch by
    epoch, with the dataset itself left flat."""
    from mmengine.dataset import DefaultSampler

    from cacl_mm.datasets import RepeatSampler

    class Videos:

        def __len__(self):
            return 13

    class Repeated:  # what RepeatDataset(times=4) exposes to the sampler

        def __len__(self):
            return 52

    for epoch in range(3):
        reference = DefaultSampler(Repeated(), seed=7)
        ours = RepeatSampler(Videos(), times=4, seed=7)
        reference.set_epoch(epoch)
        ours.set_epoch(epoch)
        assert list(ours) == [i % 13 for i in reference]
        assert len(ours) == len(reference) == 52
    ordered = list(RepeatSampler(Videos(), times=2, shuffle=False))
    assert ordered == list(range(13)) * 2
    with pytest.raises(ValueError, match='sampler.times must be >= 1'):
        RepeatSampler(Videos(), times=0)


def nearby_clips(**kwargs):
    """SampleNearbyClips over 4-frame clips, every second frame."""
    return TRANSFORMS.build(
        dict(type='SampleNearbyClips', clip_len=4, frame_interval=2, **kwargs))


def test_nearby_clips_start_within_the_gap_and_inside_the_video():
    # 20 frames, clip_len 4, interval 2: a train clip spans 8 frames, so
    # starts lie in 0..12; the second start is within 3 of the first.
    sample = nearby_clips(max_gap=3)
    np.random.seed(0)
    gaps = set()
    for _ in range(300):
        out = sample(dict(total_frames=20, start_index=0))
        inds = out['frame_inds'].reshape(2, 4)
        assert out['num_clips'] == 2 and out['clip_len'] == 4
        np.testing.assert_array_equal(np.diff(inds, axis=1), 2)
        first, second = inds[:, 0]
        assert 0 <= first <= 12 and 0 <= second <= 12
        assert abs(int(second) - int(first)) <= 3
        gaps.add(int(second) - int(first))
    # Every gap from -3 to 3 is drawn (clipped at the ends only).
    assert gaps == set(range(-3, 4))


def test_nearby_clips_without_shift_repeat_the_first_clip():
    sample = nearby_clips(max_gap=3, shift_prob=0.)
    np.random.seed(1)
    for _ in range(20):
        inds = sample(dict(total_frames=20,
                           start_index=0))['frame_inds'].reshape(2, 4)
        np.testing.assert_array_equal(inds[0], inds[1])
    # Test mode samples as SampleFrames: two clips spread evenly,
    # offsets 0 and 20 - 7 = 13.
    test = nearby_clips(test_mode=True)
    inds = test(dict(total_frames=20, start_index=0))['frame_inds']
    np.testing.assert_array_equal(inds, [0, 2, 4, 6, 13, 15, 17, 19])
    with pytest.raises(ValueError, match='max_gap'):
        nearby_clips(max_gap=-1)
    with pytest.raises(ValueError, match='shift_prob'):
        nearby_clips(shift_prob=1.5)


def test_circular_shift_moves_every_frame_by_one_wrapped_offset():
    # 3x4 frames whose pixel value is its row * 10 + column, one frame per
    # value offset, so a wrapped shift is readable by hand.
    base = (np.arange(3)[:, None] * 10 + np.arange(4)[None, :]).astype(
        np.uint8)
    clip = [np.stack([base + 100 * t] * 3, axis=-1) for t in range(2)]
    shift = TRANSFORMS.build(dict(type='RandomCircularShift'))
    np.random.seed(0)
    dy, dx = np.random.randint(3), np.random.randint(4)  # (0, 3)
    np.random.seed(0)
    out = shift.transform(results_of([f.copy() for f in clip]))['imgs']
    assert (dy, dx) == (0, 3)
    # A shift of 3 columns right on 4 columns: column c comes from c + 1.
    assert out[0][:, :, 0].tolist() == [[1, 2, 3, 0], [11, 12, 13, 10],
                                        [21, 22, 23, 20]]
    # The same offset on the next frame: the motion between frames stays.
    assert np.array_equal(out[1].astype(int) - out[0].astype(int),
                          np.full((3, 4, 3), 100))


def test_circular_shift_turned_off_draws_nothing():
    # prob=0 (tools/demo.py's fine-tune from random init) leaves the
    # frames and the global generator exactly as without the transform.
    clip = frames(num=2)
    shift = TRANSFORMS.build(dict(type='RandomCircularShift', prob=0.0))
    np.random.seed(3)
    out = shift.transform(results_of([f.copy() for f in clip]))['imgs']
    after = np.random.rand()
    np.random.seed(3)
    assert after == np.random.rand()
    assert all(np.array_equal(a, b) for a, b in zip(out, clip))


def test_circular_shift_rejects_an_out_of_range_setting():
    with pytest.raises(ValueError, match='max_ratio'):
        TRANSFORMS.build(dict(type='RandomCircularShift', max_ratio=0))
    with pytest.raises(ValueError, match='prob'):
        TRANSFORMS.build(dict(type='RandomCircularShift', prob=1.5))
