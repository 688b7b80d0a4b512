# Few-label fine-tuning for the CPU demo: the recipe of
# r3d_tiny_motion10_split1.py on the class-balanced 10% of the train list
# that tools/data/generate_motion_benchmark.py writes, each video repeated 5
# times per epoch (half the steps of the full-label run).
_base_ = ['./r3d_tiny_motion10_split1.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=5,
        dataset=dict(
            type='RobustVideoDataset',
            ann_file='data/motion10/motion10_train_split_1_10pct_videos.txt',
            data_prefix=dict(video='data/motion10/videos'),
            num_classes=10,
            pipeline={{_base_.train_pipeline}})))
