# Stage 0: MoCo v2 on single frames of the unlabelled training videos, to
# produce the frozen frame encoder of CACL's Transformer (the paper used a
# ResNet-50 trained this way on UCF101 frames and never released it).
_base_ = ['../cacl/_base_/cacl_pretrain_runtime.py']

model = dict(
    type='FrameMoCo',
    momentum=0.999,
    shuffle_bn_splits=2,
    backbone=dict(type='ResNet', depth=50, pretrained=None, norm_eval=False),
    neck=dict(
        type='ProjectionNeck',
        in_channels=2048,
        hidden_channels=2048,
        out_channels=128),
    queue=dict(type='KeyQueue', length=6400),
    contrast_head=dict(
        type='CrossArchContrastiveHead',
        pairs=[('cnn_q', 'cnn_k')],
        temperature=0.2),  # MoCo v2
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

# MoCo v2 frame augmentation, one frame per video per pass.
view_pipeline = [
    dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
    dict(type='Resize', scale=(112, 112), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
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
    # sample_idx: the queue never offers a frame its own video's keys
    dict(type='PackActionInputs', algorithm_keys=('sample_idx', )),
]
