# A config from MMAction2's own zoo, taking a CACL-pretrained backbone with a
# few lines of override: the C3D UCF101 recipe shipped inside mmaction2.
#   python tools/export_backbone.py work_dirs/cacl_c3d_ucf101/epoch_300.pth \
#       c3d_cacl.pth
#   mim train mmaction configs/finetune/zoo_c3d_ucf101_cacl.py
_base_ = [
    'mmaction::recognition/c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py'  # noqa: E501
]
custom_imports = dict(imports=['cacl_mm'], allow_failed_imports=False)
model = dict(
    # CACL's C3D: BatchNorm, and conv5b average-pooled (512-d) as the
    # released code, in place of the zoo's fc6/fc7 (4096-d)
    backbone=dict(
        type='C3DConv5',
        pretrained='c3d_cacl.pth',  # instead of the Sports-1M weights
        norm_cfg=dict(_delete_=True, type='BN3d')),
    cls_head=dict(in_channels=512, spatial_type='avg'),
    # the normalisation CACL was pretrained with
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))
