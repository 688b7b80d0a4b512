# Linear probe: the CACL-pretrained backbone frozen (all stages, BatchNorm in
# eval mode), only the linear classifier trains.
#   mim train mmaction configs/linear/r3d_ucf101.py \
#       --cfg-options \
#       model.backbone.pretrained=work_dirs/cacl_r3d_ucf101/backbone.pth
_base_ = ['../finetune/r3d_ucf101.py']
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    cls_head=dict(dropout_ratio=0.0))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.),
    clip_grad=None)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0.,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
# Own folder per split: pretraining and other splits write elsewhere.
work_dir = './work_dirs/linear_r3d_ucf101_split{{$SPLIT:1}}'
