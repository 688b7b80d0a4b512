# Fine-tune a CACL-pretrained r3d18 on HMDB51 (split 1; SPLIT=2 or 3 selects
# another). Random-init baseline: leave model.backbone.pretrained unset.
#   mim train mmaction configs/finetune/r3d_hmdb51.py \
#       --cfg-options \
#       model.backbone.pretrained=work_dirs/cacl_r3d_ucf101/backbone.pth
#   mim test mmaction configs/finetune/r3d_hmdb51.py --checkpoint CKPT
_base_ = [
    './_base_/finetune_runtime.py', './_base_/r3d18_recognizer.py',
    './_base_/hmdb51_data.py'
]
model = dict(cls_head=dict(num_classes=51))
# Own folder per split: pretraining and other splits write elsewhere.
work_dir = './work_dirs/finetune_r3d_hmdb51_split{{$SPLIT:1}}'
