# CACL pretraining of C3D (with BatchNorm) on UCF101 split 1.
# The clip feature is the released code's: conv5b average-pooled (512-d),
# so C3DConv5 is MMAction2's C3D without pool5, fc6 and fc7 (27.7 M
# parameters instead of 78.0 M; the 4096-d fc7 is not what the paper
# pretrains or retrieves with). 16x112x112 clips end as 512 x 2 x 7 x 7.
_base_ = ['./r3d_ucf101.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='C3DConv5',
        pretrained=None,
        style='pytorch',
        conv_cfg=dict(type='Conv3d'),
        norm_cfg=dict(type='BN3d'),
        act_cfg=dict(type='ReLU')))
# Own folder: fine-tuning and linear configs of the same name write elsewhere.
work_dir = './work_dirs/cacl_c3d_ucf101'
