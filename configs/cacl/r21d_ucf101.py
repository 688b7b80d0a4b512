# CACL pretraining of R(2+1)D-18 on UCF101 split 1.
_base_ = ['./r3d_ucf101.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet2Plus1d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        norm_eval=False,
        conv_cfg=dict(type='Conv2plus1d'),
        norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3),
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        with_pool1=False,  # as R3D-18: no pooling after conv1
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 2, 2, 2),
        zero_init_residual=False))
# Own folder: fine-tuning and linear configs of the same name write elsewhere.
work_dir = './work_dirs/cacl_r21d_ucf101'
