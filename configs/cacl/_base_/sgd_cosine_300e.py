# Paper's optimisation: SGD lr 0.01, momentum 0.9, weight decay 1e-4,
# cosine schedule, 300 epochs, batch 64.
# The representation check (MonitorValLoop of the data base) every 20 epochs.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=20)
# clip_grad=dict(max_norm=...) clips gradients (FiniteGradientHook stops the
# run on a non-finite one). fp32 by default; bf16 on a GPU:
#   --cfg-options optim_wrapper.type=AmpOptimWrapper \
#       optim_wrapper.dtype=bfloat16
# (`--amp` is fp16 with loss scaling; tools/gpu_first_run.py measures
# either before a long run).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=None)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=300,
        eta_min=0.,
        by_epoch=True,
        begin=0,
        end=300)
]
# The lr above is for the paper's total batch of 64 (8 GPUs x 8). On
# another total (GPUs x train_dataloader.batch_size) mmengine scales it
# linearly, lr = 0.01 x total / 64, and logs it; 1 GPU x 64 or 4 x 16
# reproduce the paper's batch and lr exactly.
auto_scale_lr = dict(enable=True, base_batch_size=64)
