# HMDB51: the UCF101 pipelines, HMDB51's videos and lists. The split is one
# override: SPLIT=2 mim train mmaction CONFIG  (default 1).
_base_ = ['./ucf101_data.py']
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_{{$SPLIT:1}}_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_{{$SPLIT:1}}_videos.txt'
num_classes = 51
train_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=num_classes))
val_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        num_classes=num_classes))
test_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        num_classes=num_classes))
