# A CACL small enough for a 2-core CPU: 8-frame 32x32 clips, an 8-channel
# R3D-18, a ResNet-18 frame encoder and a 2-layer Transformer. Used by the
# tests and by `make demo` on the embedded benchmark (tools/data).
#   mim train mmaction configs/cacl/cacl_tiny_r3d_synthetic.py
_base_ = [
    './_base_/cacl_pretrain_runtime.py', './_base_/cacl_r3d18.py',
    './_base_/ucf101_pretrain_data.py', './_base_/sgd_cosine_300e.py'
]
clip_len = 8
data_root = 'data/motion10/videos'
ann_file_train = 'data/motion10/motion10_train_split_1_videos.txt'

model = dict(
    clip_len=clip_len,
    backbone=dict(base_channels=8, temporal_strides=(1, 1, 2, 2),
                  with_pool1=True, with_pool2=True),
    transformer=dict(
        frame_encoder=dict(type='ResNet', depth=18, norm_eval=True),
        frame_feat_dims=512,
        embed_dims=64,
        num_frames=clip_len,
        num_layers=2,
        num_heads=2),
    contrast_head=dict(
        in_channels=dict(cnn=2 * 64, trans=2 * 64),
        hidden_channels=128,
        queue_len=256),  # < 320 train videos of the benchmark
    sdp_head=dict(in_channels=2 * 64, num_classes=clip_len,
                  hidden_channels=64))

# No Flip: on the motion benchmark a mirror turns MoveLeft into MoveRight.
view_pipeline = [
    dict(type='RandomResizedCrop', area_range=(0.3, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
]
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=2,
         num_clips=1),
    dict(type='DecordDecode'),
    dict(type='ShuffleByMED'),
    dict(type='MultiViewClip', num_views=2, transforms=view_pipeline),
    dict(type='PackActionInputs',
         algorithm_keys=('shuffle_order', 'med_label')),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        min_frames=clip_len,
        pipeline=train_pipeline))

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.,
         by_epoch=True, begin=0, end=max_epochs)
]
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# CPU multi-process runs: torch's DDP refuses device_ids for CPU modules
# (mmengine's default passes [LOCAL_RANK]); None also suits one-GPU-per-process.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
randomness = dict(seed=0)
