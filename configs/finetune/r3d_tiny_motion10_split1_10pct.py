# Few-label fine-tuning for the CPU demo: the recipe of
# r3d_tiny_motion10_split1.py on the class-balanced 10% of the train list
# that tools/data/generate_motion_benchmark.py writes, each video repeated 5
# times per epoch (half the steps of the full-label run).
_base_ = ['./r3d_tiny_motion10_split1.py']
train_dataloader = dict(
    # The 10% list 5 times per epoch: RepeatDataset's indices, with the
    # dataset's keys left as the full-label config's.
    sampler=dict(type='RepeatSampler', times=5, shuffle=True),
    dataset=dict(
        ann_file='data/motion10/motion10_train_split_1_10pct_videos.txt'))
