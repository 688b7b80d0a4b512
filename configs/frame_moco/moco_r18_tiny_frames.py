# Stage 0 for the tiny CACL (configs/cacl/cacl_tiny_r3d_synthetic.py): a
# ResNet-18 frame encoder on 32x32 frames. Defaults to the embedded motion
# benchmark (tools/data/generate_motion_benchmark.py); another collection:
#   --cfg-options train_dataloader.dataset.ann_file=LIST \
#                 train_dataloader.dataset.data_prefix.video=VIDEO_ROOT
# and hand the result to CACL with
#   --cfg-options model.transformer.frame_encoder_checkpoint=<its checkpoint>
_base_ = ['./_base_frame_moco.py']
model = dict(
    backbone=dict(depth=18),
    # 1024 keys over 400 videos x 4 passes: a frame never meets keys of its
    # own video as negatives (contrast_head.mask_same_video), so the queue
    # may exceed the
    # number of videos.
    neck=dict(in_channels=512, hidden_channels=256),
    queue=dict(length=1024))
# No Flip: on the motion benchmark a mirror turns MoveLeft into MoveRight.
# Crops keep >= 50% of the frame, so the object usually stays in view.
view_pipeline = [
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(
        type='mmcv.RandomApply',
        prob=0.8,
        transforms=[
            dict(
                type='mmaction.ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.4,
                hue=0.1)
        ]),
    dict(
        type='mmcv.RandomApply',
        prob=0.2,
        transforms=[
            dict(
                type='mmaction.ColorJitter',
                brightness=0,
                contrast=0,
                saturation=(0., 0.),
                hue=0)
        ]),
    dict(type='FormatShape', input_format='NCTHW'),
]
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='MultiViewClip', num_views=2, transforms=view_pipeline),
    dict(type='PackActionInputs', algorithm_keys=('sample_idx', )),
]
# Clips are decoded in the training process (num_workers=0): on the
# 2-core CPU this config is for, loader processes take the cores the
# model needs (docs/benchmark.md has the measurement).
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    drop_last=True,
    # 4 passes over the videos per epoch (RepeatDataset's indices, with the
    # dataset's keys left flat for --cfg-options).
    sampler=dict(type='RepeatSampler', times=4, shuffle=True),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file='data/motion10/motion10_train_split_1_videos.txt',
        data_prefix=dict(video='data/motion10/videos'),
        pipeline=train_pipeline))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.06, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=4,
        eta_min=0.,
        by_epoch=True,
        begin=0,
        end=4)
]
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
randomness = dict(seed=0)
