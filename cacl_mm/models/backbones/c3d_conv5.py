"""``C3DConv5``: MMAction2's C3D up to conv5b, the released code's C3D."""
from __future__ import annotations

import torch

from mmaction.models.backbones import C3D
from mmaction.registry import MODELS


@MODELS.register_module()
class C3DConv5(C3D):
    """MMAction2's ``C3D`` without pool5, fc6 and fc7.

    The released CACL code (like VCOP's) takes its C3D's conv5b map and
    average-pools it to a 512-d clip feature; MMAction2's ``C3D`` instead
    max-pools conv5b and ends in fc6/fc7 (4096-d, 50 M of its 78 M
    parameters, 27.7 M left here). The layers and their names are
    MMAction2's (``conv1a`` ... ``conv5b``), so an exported backbone loads
    into MMAction2's ``C3D`` too (its ``pretrained`` loading is not strict:
    fc6/fc7 keep their own initialisation there).

    Pair it with ``I3DHead(in_channels=512, spatial_type='avg')``; CACL
    pools it as every 3D backbone (global average of the last stage).

    Args:
        **kwargs: ``C3D`` arguments (``norm_cfg``, ``pretrained``, ...);
            ``out_dim`` and ``dropout_ratio`` configure the removed layers
            and are ignored.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        del self.pool5, self.fc6, self.fc7, self.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The conv5b map.

        Args:
            x (torch.Tensor): Clips of shape (N, 3, T, H, W).

        Returns:
            torch.Tensor: (N, 512, T / 8, H / 16, W / 16): 512 x 2 x 7 x 7
            for 16 x 112 x 112 clips, as the released code.
        """
        x = self.pool1(self.conv1a(x))
        x = self.pool2(self.conv2a(x))
        x = self.pool3(self.conv3b(self.conv3a(x)))
        x = self.pool4(self.conv4b(self.conv4a(x)))
        return self.conv5b(self.conv5a(x))
