# Recognizer3D over the C3D-BN of configs/cacl/c3d_ucf101.py: conv5b,
# average-pooled by the head (512-d), as the released code fine-tunes it.
_base_ = ['./r3d18_recognizer.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='C3DConv5',
        pretrained=None,
        style='pytorch',
        conv_cfg=dict(type='Conv3d'),
        norm_cfg=dict(type='BN3d'),
        act_cfg=dict(type='ReLU')),
    cls_head=dict(in_channels=512))
