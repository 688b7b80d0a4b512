"""The layout of a view-augmentation row, shared by the transform that
draws the rows (``datasets``) and the functions that apply them
(``models``)."""
from typing import Tuple

#: Columns of ``results['view_augmentations']``, one row per view: the size
#: the frames are first resized to, the crop box in that size (x2, y2
#: exclusive), the output size, then flip / jitter / grayscale switches
#: (0 or 1), the four jitter factors and the jitter order (MMAction2's
#: ``ColorJitter`` function ids: 0 brightness, 1 contrast, 2 saturation,
#: 3 hue).
VIEW_AUGMENTATION_FIELDS: Tuple[str,
                                ...] = ('resize_w', 'resize_h', 'x1', 'y1',
                                        'x2', 'y2', 'out_w', 'out_h', 'flip',
                                        'jitter', 'brightness', 'contrast',
                                        'saturation', 'hue', 'order_0',
                                        'order_1', 'order_2', 'order_3',
                                        'grayscale')
