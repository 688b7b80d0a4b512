# CACL pretraining data: UCF101 split-1 train videos, labels unused.
# Layout and list format as mmaction2's tools/data/ucf101 produce them.
# RobustVideoDataset: VideoDataset + list validation + bad-video policy
# (skip and list broken files, see SkippedVideosHook).
dataset_type = 'RobustVideoDataset'
data_root = 'data/ucf101/videos'
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'

clip_len = 16  # paper: 16-frame clips
# One decode per sample; ShuffleByMED only chooses the order, the model
# builds the shuffled twin by indexing the augmented clip.
view_pipeline = [
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
    dict(type='Resize', scale=(112, 112), keep_ratio=False),  # paper: 112x112
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
]
train_pipeline = [
    dict(type='DecordInit'),
    # paper / released code: 16 frames with a temporal stride of 2
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='ShuffleByMED'),
    dict(type='MultiViewClip', num_views=2, transforms=view_pipeline),
    dict(type='PackActionInputs',
         algorithm_keys=('shuffle_order', 'med_label')),
]
train_dataloader = dict(
    batch_size=8,  # per GPU; x 8 GPUs = 64, the paper's batch
    num_workers=8,
    # False: EpochSeedHook reseeds the workers per epoch, so --resume
    # reproduces the uninterrupted run exactly.
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=101,  # a label outside 0..100 is refused before training
        # fewer frames than a clip: MMAction2 would loop them, and a clip with
        # repeated frames has no well-defined edit distance
        min_frames=clip_len,
        bad_video_policy='skip',
        pipeline=train_pipeline))
