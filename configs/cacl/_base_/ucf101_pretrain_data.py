# CACL pretraining data: UCF101 split-1 train videos, labels unused.
# Layout and list format as mmaction2's tools/data/ucf101 produce them.
# RobustVideoDataset: VideoDataset + list validation + bad-video policy
# (skip and list broken files, see SkippedVideosHook).
dataset_type = 'RobustVideoDataset'
data_root = 'data/ucf101/videos'
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_videos.txt'

clip_len = 16  # paper: 16-frame clips
frame_interval = 2  # paper / released code: a temporal stride of 2
# Frames a clip spans: a shorter video would loop frames, and a clip with
# repeated frames has no well-defined edit distance (the dataset refuses a
# min_frames below this span when its pipeline shuffles).
clip_span = (clip_len - 1) * frame_interval + 1
# One decode per sample; ShuffleByMED only chooses the order, the model
# builds the shuffled twin by indexing the augmented clip. Each view: one
# crop, flip, colour jitter (p 0.8) and grayscale (p 0.2) for all its frames,
# the released code's augmentation. The workers only decode and draw each
# view's parameters (DrawViewAugmentations, with MMAction2's own crop and
# jitter draws); the model's ViewAugmentDataPreprocessor applies them to the
# whole batch on its device. Same distributions as MMAction2's per-view
# Resize / RandomResizedCrop / Flip / ColorJitter pipeline, at a fraction of
# the worker's CPU time (docs/pipeline.md).
view_augmentations = dict(
    type='DrawViewAugmentations',
    num_views=2,
    resize_scale=(-1, 128),
    area_range=(0.2, 1.0),
    out_size=112,  # paper: 112x112
    flip_ratio=0.5,
    jitter_prob=0.8,
    brightness=0.4,
    contrast=0.4,
    saturation=0.4,
    hue=0.1,
    grayscale_prob=0.2)
train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1),
    dict(type='DecordDecode'),
    dict(type='ShuffleByMED'),
    view_augmentations,
    dict(type='FormatShape', input_format='NCTHW'),
    # sample_idx: the queue never offers a clip its own video's keys
    dict(
        type='PackActionInputs',
        algorithm_keys=('shuffle_order', 'med_label', 'sample_idx',
                        'view_augmentations')),
]
train_dataloader = dict(
    # per GPU: 8 x 8 GPUs = 64, the paper's batch; on 1 or 4 GPUs set 64 or
    # 16 (auto_scale_lr keeps lr = 0.01 x total batch / 64 for any other)
    batch_size=8,
    num_workers=8,
    pin_memory=True,
    # False: EpochSeedHook reseeds the workers per epoch, so --resume
    # reproduces the uninterrupted run exactly. The cost is one wait for
    # fresh workers per epoch, small against an epoch of UCF101 steps;
    # tools/gpu_first_run.py's worker_startup_seconds measures it on your
    # machine (docs/reliability.md).
    persistent_workers=False,
    # MoCo drops the last incomplete batch: shuffle-BN needs equal batches
    # and a one-clip batch cannot be batch-normalised.
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=101,  # a label outside 0..100 is refused before training
        min_frames=clip_span,  # 31 frames for 16 at stride 2
        bad_video_policy='skip',
        pipeline=train_pipeline))

# Representation check while pretraining (every train_cfg.val_interval
# epochs, logged to scalars.json / TensorBoard as retrieval/R@k,
# embedding/mean_cosine, sdp/accuracy): one centre clip per video, test-split
# queries against the train-split gallery, the clips' shuffled twins drawn
# once for all evaluations (ShuffleByMED seed). It is a monitor and never
# stops training: videos that do not open are left out before the first
# iteration (and listed in skipped_videos.json), and MonitorValLoop abandons
# a check in which a video breaks while decoding.
# `tools/test.py CONFIG CHECKPOINT` runs the same checks on a checkpoint,
# where a broken video is an error (test_dataloader below).
val_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=frame_interval,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='ShuffleByMED', seed=0),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(
        type='PackActionInputs',
        algorithm_keys=('shuffle_order', 'med_label', 'retrieval_role')),
]
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    pin_memory=True,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RetrievalVideoDataset',
        gallery_ann_file=ann_file_train,
        query_ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        min_frames=clip_span,
        leave_out_bad_videos=True,
        pipeline=val_pipeline))
val_evaluator = [
    dict(type='VideoRetrievalMetric'),
    dict(type='EmbeddingSpreadMetric'),
    dict(type='ShuffleDegreeMetric', num_classes=clip_len),
]
val_cfg = dict(type='MonitorValLoop')
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], leave_out_bad_videos=False))
test_evaluator = val_evaluator
test_cfg = dict(type='TestLoop')
