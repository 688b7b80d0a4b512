# A config from MMAction2's own zoo taking a CACL-pretrained R(2+1)D-18: the
# R(2+1)D Kinetics-400 recipe shipped inside mmaction2, with the backbone
# swapped for the one configs/cacl/r21d_ucf101.py pretrains.
#   python tools/export_backbone.py work_dirs/cacl_r21d_ucf101/epoch_300.pth \
#       r21d_cacl.pth
#   mim train mmaction configs/finetune/zoo_r2plus1d_kinetics400_cacl.py
_base_ = [
    'mmaction::recognition/r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py'  # noqa: E501
]
custom_imports = dict(imports=['cacl_mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        pretrained='r21d_cacl.pth',  # ResNet3d family: `pretrained` loads it
        depth=18,  # CACL's R(2+1)D-18 instead of the zoo's R34
        with_pool1=False,  # as pretrained (VCOP's layout)
        norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3)))
