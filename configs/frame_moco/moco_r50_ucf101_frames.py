# Stage 0 on UCF101 split-1 train videos: the ResNet-50 frame encoder that
# configs/cacl/*_ucf101.py load with
#   --cfg-options \
#   model.transformer.frame_encoder_checkpoint=<this run's checkpoint>
_base_ = ['./_base_frame_moco.py']
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    # False: EpochSeedHook reseeds the workers per epoch (exact --resume).
    persistent_workers=False,
    drop_last=True,  # MoCo: shuffle-BN needs equal batches
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        # Each pass draws one random frame per video; repeat to see more.
        type='RepeatDataset',
        times=10,
        dataset=dict(
            type='RobustVideoDataset',
            ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
            data_prefix=dict(video='data/ucf101/videos'),
            pipeline={{_base_.train_pipeline}})))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=200,
        eta_min=0.,
        by_epoch=True,
        begin=0,
        end=200)
]
auto_scale_lr = dict(enable=False, base_batch_size=256)
