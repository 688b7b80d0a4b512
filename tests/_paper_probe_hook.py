"""Test-only hook: what a paper-scale training run really built.

Writes ``<work_dir>/paper_probe.json`` after training: the 3D backbone's
output shapes (every call of the first iteration) and the sum of the frozen
frame encoder's first convolution (to check which weights it holds).
"""
import json
import os.path as osp

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS


@HOOKS.register_module()
class PaperProbeHook(Hook):

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.record = dict(backbone_shapes=[])
        transformer = getattr(model, 'transformer', None)
        if transformer is not None:
            self.record['frame_encoder_conv1_sum'] = float(
                transformer.frame_encoder.conv1.conv.weight.sum())
        shapes = self.record['backbone_shapes']
        self.handle = model.backbone.register_forward_hook(
            lambda module, args, out: shapes.append(list(out.shape)))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self.handle.remove()  # the first iteration's calls only

    def after_train(self, runner) -> None:
        self.record['iterations'] = runner.iter
        with open(osp.join(runner.work_dir, 'paper_probe.json'), 'w') as f:
            json.dump(self.record, f)
