# CACL pretraining of C3D (with BatchNorm) on UCF101 split 1. C3D ends in
# fc6/fc7: its 4096-d fc7 output is the clip feature.
_base_ = ['./r3d_ucf101.py']
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
    cnn_neck=dict(in_channels=2 * 4096),
    sdp_head=dict(in_channels=2 * 4096))
