# Nearest-neighbour video retrieval: test-split videos query the train-split
# gallery, each video the average of `num_clips` uniformly spaced centre-
# cropped clips, cosine similarity of L2-normalised features.
#
# tools/retrieval.py fills the source model's backbone and data
# preprocessor, its training clips' length, stride and crop, the data lists
# and the seed (cacl_mm.apis.build_retrieval_cfg), then applies its flags
# and --cfg-options as overrides of this file's keys, e.g.
#   --cfg-options test_dataloader.dataset.pipeline.1.num_clips=4
default_scope = 'mmaction'
custom_imports = dict(imports=['cacl_mm'], allow_failed_imports=False)

model = dict(
    type='VideoFeatureExtractor',
    backbone=None,  # the source config's model.backbone (or .transformer)
    # 'avg': global average pool; 'conv5_maxpool': the released code's
    feature='avg',
    data_preprocessor=None)

test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=16,
        frame_interval=2,
        num_clips=10,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=('retrieval_role', )),
]
test_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    # test_mode (RetrievalVideoDataset's default): a broken video raises, as
    # a skipped one would bias the recall.
    dataset=dict(
        type='RetrievalVideoDataset',
        gallery_ann_file=None,  # the train split
        query_ann_file=None,  # the test split
        data_prefix=dict(video=''),
        pipeline=test_pipeline))
test_evaluator = dict(
    type='VideoRetrievalMetric',
    save_topk=0,  # > 0: each query's top-k in <work_dir>/retrieval_topk.json
    out_file=None,
    features_file=None)  # an .npz of the features (tools/embedding_map.py)
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
launcher = 'none'
log_level = 'INFO'
randomness = dict(seed=0)
