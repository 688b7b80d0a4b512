# Recognizer3D over the R3D-18 of configs/cacl/_base_/cacl_r3d18.py.
# Initialise from CACL with the exported backbone (tools/export_backbone.py):
#   --cfg-options \
#   model.backbone.pretrained=work_dirs/cacl_r3d_ucf101/backbone.pth
# (MMAction2's ResNet3d ignores init_cfg; `pretrained` is how it loads.)
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        with_pool1=False,
        with_pool2=False,  # VCOP's R3D-18, as pretrained
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 2, 2, 2),
        zero_init_residual=False,
        norm_eval=False),
    cls_head=dict(
        type='I3DHead',
        num_classes=101,
        in_channels=512,
        spatial_type='avg',
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
