# Runtime shared by every CACL pretraining config: mmaction2's default
# runtime plus the CACL package and its hooks. The data bases add the
# representation check (a ValLoop); stage 0 (frame_moco) has none.
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['cacl_mm'], allow_failed_imports=False)
default_scope = 'mmaction'
# Every clip has one shape (16x112x112 in the paper configs): let cuDNN pick
# its fastest kernels once. No effect on a CPU.
env_cfg = dict(cudnn_benchmark=True)

# EMA update of the momentum encoders and queue writes after every step;
# per-epoch reseeding (exact --resume); the list of skipped bad videos; no
# optimizer step on a non-finite gradient. The paper's momentum is constant
# (model.momentum=0.999); on a short schedule use
# dict(type='MoCoQueueHook', momentum_schedule='cosine', end_momentum=1.0)
# with model.momentum=0.99: after N steps a key encoder still holds m^N of
# its initial weights (0.999^400 = 67%).
custom_hooks = [
    dict(type='MoCoQueueHook', momentum_schedule='constant'),
    dict(type='EpochSeedHook'),
    dict(type='SkippedVideosHook'),
    dict(type='FiniteGradientHook'),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    checkpoint=dict(
        # mmengine's CheckpointHook with atomic writes (tmp file + rename)
        type='AtomicCheckpointHook',
        interval=10,
        max_keep_ckpts=3,
        save_best=None,
        save_last=True))

# TensorBoard in one line: `TENSORBOARD=1 mim train mmaction CONFIG` (or, in a
# config: visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
# dict(type='TensorboardVisBackend')])). LocalVisBackend's scalars.json is
# always written; the TensorBoard events go to <work_dir>/<time>/vis_data.
_tensorboard = bool({{'$TENSORBOARD:0'}})
vis_backends = [dict(type='LocalVisBackend')] + (
    [dict(type='TensorboardVisBackend')] if _tensorboard else [])
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
