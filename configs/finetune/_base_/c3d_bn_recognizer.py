# Recognizer3D over the C3D-BN of configs/cacl/c3d_ucf101.py (fc7 features).
_base_ = ['./r3d18_recognizer.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='C3D',
        pretrained=None,
        style='pytorch',
        conv_cfg=dict(type='Conv3d'),
        norm_cfg=dict(type='BN3d'),
        act_cfg=dict(type='ReLU'),
        dropout_ratio=0.5,
        init_std=0.005),
    cls_head=dict(in_channels=4096, spatial_type=None))
