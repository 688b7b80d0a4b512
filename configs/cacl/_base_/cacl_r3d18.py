# CACL with R3D-18 (VCOP's / the released code's 3D ResNet-18) as the 3D CNN
# and a frozen ResNet-50 frame encoder feeding a 6-layer 6-head Transformer.
model = dict(
    type='CACL',
    clip_len=16,  # paper: 16-frame clips (SampleFrames.clip_len must match)
    momentum=0.999,  # paper / released code: m = 0.999 (MoCo convention)
    shuffle_bn_splits=2,  # one process: BatchNorm groups of the key encoder
    backbone=dict(
        type='ResNet3d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        # VCOP's R3D-18, which CACL uses: no pooling after conv1 or layer1,
        # so 16x112x112 clips end as 512 x 2 x 7 x 7 at conv5.
        with_pool1=False,
        with_pool2=False,
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 2, 2, 2),
        zero_init_residual=False,
        norm_eval=False),
    transformer=dict(
        type='TransformerClipEncoder',
        # Paper: ResNet-50 pretrained with MoCo on UCF101 frames, frozen.
        # Stage 0 (configs/frame_moco) writes it; hand it (or an MMAction2,
        # mmpretrain or torchvision ResNet-50 file) over with
        #   --cfg-options model.transformer.frame_encoder_checkpoint=PATH
        # Without it training stops before the first iteration ('random'
        # trains with a random frozen encoder on purpose).
        frame_encoder=dict(type='ResNet', depth=50, norm_eval=True),
        frame_encoder_checkpoint=None,
        frame_feat_dims=2048,
        embed_dims=768,  # paper: 768-d frame tokens
        num_frames=16,
        num_layers=6,  # paper: 6 layers, 6 heads
        num_heads=6,
        mlp_ratio=4.0),
    # Projections of the [original | shuffled] features (twice the encoder's
    # feature size) to the 128-d embeddings of the released code.
    cnn_neck=dict(
        type='ProjectionNeck',
        in_channels=2 * 512,
        hidden_channels=2048,
        out_channels=128),
    transformer_neck=dict(
        type='ProjectionNeck',
        in_channels=2 * 768,
        hidden_channels=2048,
        out_channels=128),
    # released code: 6400 keys; must stay below the train videos unless
    # contrast_head.mask_same_video (default) keeps a video's own keys out
    queue=dict(type='KeyQueue', length=6400),
    contrast_head=dict(
        type='CrossArchContrastiveHead',
        # released code: (3D q, 3D k), (3D q, T q), (3D q, T k), (T q, T k)
        pairs=[('cnn_q', 'cnn_k'), ('cnn_q', 'trans_q'), ('cnn_q', 'trans_k'),
               ('trans_q', 'trans_k')],
        temperature=0.07,  # released code
        loss_weight=1.0),
    # The paper trains both losses (the released code weights this one 0).
    sdp_head=dict(
        type='ShuffleDegreeHead',
        in_channels=2 * 512,
        num_classes=16,  # T classes for T frames
        hidden_channels=512,
        loss_weight=1.0),
    # builds the two views of every clip (DrawViewAugmentations' draws)
    data_preprocessor=dict(
        type='ViewAugmentDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
