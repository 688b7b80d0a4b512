# CACL pretraining on HMDB51 split-1 train videos (3570 of them).
_base_ = ['./c3d_ucf101.py']
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'
train_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=51))
val_dataloader = dict(
    dataset=dict(
        gallery_ann_file=ann_file_train,
        query_ann_file=ann_file_val,
        data_prefix=dict(video=data_root)))
test_dataloader = val_dataloader
# 3200 keys, below the 3570 training videos (a video never meets its own
# keys anyway: contrast_head.mask_same_video).
model = dict(queue=dict(length=3200))
# Own folder: fine-tuning and linear configs of the same name write elsewhere.
work_dir = './work_dirs/cacl_c3d_hmdb51'
