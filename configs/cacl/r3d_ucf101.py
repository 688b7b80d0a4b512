# CACL pretraining of R3D-18 on UCF101 split-1 train videos (no labels),
# the paper's main setting.
#   mim train mmaction configs/cacl/r3d_ucf101.py
_base_ = [
    './_base_/cacl_pretrain_runtime.py', './_base_/cacl_r3d18.py',
    './_base_/ucf101_pretrain_data.py', './_base_/sgd_cosine_300e.py'
]
# Own folder: fine-tuning and linear configs of the same name write elsewhere.
work_dir = './work_dirs/cacl_r3d_ucf101'
