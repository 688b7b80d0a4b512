# Fine-tune a CACL-pretrained c3d_bn on UCF101 (split 1; SPLIT=2 or 3 selects
# another). Random-init baseline: leave model.backbone.pretrained unset.
#   mim train mmaction configs/finetune/c3d_ucf101.py \
#       --cfg-options \
#       model.backbone.pretrained=work_dirs/cacl_c3d_ucf101/backbone.pth
#   mim test mmaction configs/finetune/c3d_ucf101.py --checkpoint CKPT
_base_ = [
    './_base_/finetune_runtime.py', './_base_/c3d_bn_recognizer.py',
    './_base_/ucf101_data.py'
]
model = dict(cls_head=dict(num_classes=101))
# Own folder per split: pretraining and other splits write elsewhere.
work_dir = './work_dirs/finetune_c3d_ucf101_split{{$SPLIT:1}}'
