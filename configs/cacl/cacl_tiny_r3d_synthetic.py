# A CACL small enough for a 2-core CPU: 8-frame 32x32 clips, an 8-channel
# R3D-18, a ResNet-18 frame encoder and a 2-layer Transformer. Used by the
# tests and by `make demo` on the embedded benchmark (tools/data).
#   mim train mmaction configs/cacl/cacl_tiny_r3d_synthetic.py
# Every choice below that differs from the paper's configs says why; the
# measurements behind them are in docs/recipe_study.md.
_base_ = [
    './_base_/cacl_pretrain_runtime.py', './_base_/cacl_r3d18.py',
    './_base_/ucf101_pretrain_data.py', './_base_/sgd_cosine_300e.py'
]
clip_len = 8
frame_interval = 2
clip_span = (clip_len - 1) * frame_interval + 1  # 15: see the data base
data_root = 'data/motion10/videos'
ann_file_train = 'data/motion10/motion10_train_split_1_videos.txt'
ann_file_val = 'data/motion10/motion10_val_split_1_videos.txt'

model = dict(
    clip_len=clip_len,
    # 0.99 rising to 1 with a cosine (MoCoQueueHook below): with the
    # paper's constant 0.999, after the 1000 steps of this schedule the key
    # encoders would still hold 0.999^1000 = 37% of their initial weights.
    momentum=0.99,
    # No pooling after conv1 or layer1 (as the paper's R3D-18) and time
    # halved only in layer4 (8 -> 4 frames), so that frame order stays
    # visible: with the old pooling the clip was one frame by layer4.
    backbone=dict(
        base_channels=8,
        with_pool1=False,
        with_pool2=False,
        temporal_strides=(1, 1, 1, 2)),
    transformer=dict(
        frame_encoder=dict(type='ResNet', depth=18, norm_eval=True),
        # Random on purpose when this config runs alone (tests); the demo
        # hands it its stage-0 checkpoint with
        # model.transformer.frame_encoder_checkpoint=PATH.
        frame_encoder_checkpoint='random',
        frame_feat_dims=512,
        embed_dims=64,
        num_frames=clip_len,
        num_layers=2,
        num_heads=2),
    cnn_neck=dict(in_channels=2 * 64, hidden_channels=128),
    transformer_neck=dict(in_channels=2 * 64, hidden_channels=128),
    # 256 keys, fewer than the collection's videos or more: a clip never
    # meets its own video's keys (contrast_head.mask_same_video).
    queue=dict(length=256),
    # 0.4, twice MoCo v2's 0.2 (the paper's 0.07 left the 3D embeddings
    # crowded at this scale). With the background swap below, half of the
    # positive pairs stand on different scenes; at 0.2 the network then
    # softened its logits itself by growing an offset that every
    # embedding shares (mean cosine 0.44-0.53 on the tune members), which
    # InfoNCE cannot see. At 0.4 that offset halves (0.21-0.31)
    # (docs/recipe_rules.md, "The swap's crowding").
    contrast_head=dict(temperature=0.4),
    sdp_head=dict(
        in_channels=2 * 64, num_classes=clip_len, hidden_channels=64),
    # The 3D CNNs on channels-last clips: about a tenth less time per
    # step on the CPU (docs/benchmark.md).
    channels_last=True,
    # Half of the key views keep what moves (the 15% of pixels that change
    # most, grown by a pixel) on another clip's still frame, so that a
    # positive pair shares the motion and not always the scene: where a
    # group of videos shares a scene, the scene alone otherwise tells a
    # clip from most of its negatives (docs/recipe_rules.md, "Background
    # swap"). Not in the paper: its configs leave this unset.
    data_preprocessor=dict(
        background_swap=dict(views=[1], prob=0.5, foreground_fraction=0.15)))

custom_hooks = [
    dict(type='MoCoQueueHook', momentum_schedule='cosine', end_momentum=1.0),
    dict(type='EpochSeedHook'),
    dict(type='SkippedVideosHook'),
    dict(type='FiniteGradientHook'),
]

# Views: a crop, colour jitter (p 0.8) and grayscale (p 0.2) as the
# released code; both views from the same decoded frames, as the released
# code. No Flip: on the motion benchmark a mirror turns MoveLeft into
# MoveRight. The crop keeps >= 70% of the frame: the object can be anywhere
# on the scene, and smaller crops often left it out of one view, the two
# views then sharing only the background.
view_augmentations = dict(
    type='DrawViewAugmentations',
    num_views=2,
    resize_scale=None,
    area_range=(0.7, 1.0),
    out_size=32,
    flip_ratio=0.0,
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
    dict(
        type='PackActionInputs',
        algorithm_keys=('shuffle_order', 'med_label', 'sample_idx',
                        'view_augmentations')),
]
# Clips are decoded in the training process (num_workers=0): on the
# 2-core CPU this config is for, loader processes take the cores the
# model needs (docs/benchmark.md has the measurement).
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=10,
        min_frames=clip_span,
        pipeline=train_pipeline))

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
    dict(type='Resize', scale=(-1, 36)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(
        type='PackActionInputs',
        algorithm_keys=('shuffle_order', 'med_label', 'retrieval_role')),
]
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(
        gallery_ann_file=ann_file_train,
        query_ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        min_frames=clip_span,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='VideoRetrievalMetric'),
    dict(type='EmbeddingSpreadMetric'),
    dict(type='ShuffleDegreeMetric', num_classes=clip_len),
]
test_evaluator = val_evaluator

# 40 epochs (1000 steps): the held-out edit-distance accuracy still rises
# late. tools/demo.py sizes this in steps for other collections
# (cacl_mm.apis.recipe).
max_epochs = 40
# The representation check every 10 epochs: four per run.
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
# lr 0.05 at batch 16 (docs/recipe_study.md has the runs behind it).
optim_wrapper = dict(optimizer=dict(lr=0.05))
auto_scale_lr = dict(enable=False)  # lr 0.05 is for this batch of 16
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0.,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
default_hooks = dict(
    # Validation metrics at their iteration, on the training curves' axis.
    logger=dict(interval=5, log_metric_by_epoch=False),
    checkpoint=dict(interval=10, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# CPU multi-process runs: torch's DDP refuses device_ids for CPU modules
# (mmengine's default passes [LOCAL_RANK]); None also suits one GPU per
# process.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
randomness = dict(seed=0)
