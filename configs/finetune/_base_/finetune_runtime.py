# Fine-tuning runtime: mmaction2's default runtime, the cacl_mm components,
# SGD + cosine as in the CACL/VCOP fine-tuning protocol.
_base_ = ['mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['cacl_mm'], allow_failed_imports=False)

max_epochs = 150
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='SkippedVideosHook'),
    dict(type='FiniteGradientHook'),
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 5,
        eta_min=0.,
        by_epoch=True,
        begin=5,
        end=max_epochs)
]
default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=10,
        max_keep_ckpts=3,
        save_best='auto'))
auto_scale_lr = dict(enable=False, base_batch_size=64)

# TensorBoard in one line: `TENSORBOARD=1 mim train mmaction CONFIG` (or, in a
# config: visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
# dict(type='TensorboardVisBackend')])). LocalVisBackend's scalars.json is
# always written; the TensorBoard events go to <work_dir>/<time>/vis_data.
_tensorboard = bool({{'$TENSORBOARD:0'}})
vis_backends = [dict(type='LocalVisBackend')] + (
    [dict(type='TensorboardVisBackend')] if _tensorboard else [])
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
