# CACL pretraining on HMDB51 split-1 train videos (3570 of them).
_base_ = ['./c3d_ucf101.py']
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
# The queue must stay below the number of training videos (3570).
model = dict(contrast_head=dict(queue_len=3200))
