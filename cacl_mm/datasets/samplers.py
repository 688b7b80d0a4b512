"""``RepeatSampler``: several passes over the dataset per epoch."""
from __future__ import annotations
from typing import Iterator, Optional, Sized

from mmengine.dataset import DefaultSampler

from mmaction.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class RepeatSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` over ``times`` passes of the dataset.

    Yields exactly the indices of ``RepeatDataset(times=times)`` under a
    ``DefaultSampler`` (one shuffle of ``times x len(dataset)`` slots per
    epoch, slot ``i`` -> video ``i % len(dataset)``), but the repeat lives in
    the sampler, so the dataset config stays flat: a user points the config
    at a collection with ``train_dataloader.dataset.ann_file`` and
    ``...dataset.data_prefix.video``, not ``...dataset.dataset...``, and
    ``len(dataloader.dataset)`` counts videos. Short epochs of a small
    collection otherwise cost a worker start and a checkpoint each.

    Args:
        dataset (Sized): The dataset.
        times (int): Passes per epoch. Defaults to 1.
        shuffle (bool): Shuffle the slots. Defaults to True.
        seed (int, optional): Shuffle seed (synchronised across ranks when
            None). Defaults to None.
        round_up (bool): As ``DefaultSampler``. Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 times: int = 1,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        if times < 1:
            raise ValueError(f'train_dataloader.sampler.times must be >= 1, '
                             f'got {times}')
        self.times = times
        self.num_videos = len(dataset)
        if self.num_videos == 0:
            raise ValueError('RepeatSampler: the dataset is empty')
        # DefaultSampler only counts its dataset: a range of the slots.
        super().__init__(
            range(self.num_videos * times),
            shuffle=shuffle,
            seed=seed,
            round_up=round_up)

    def __iter__(self) -> Iterator[int]:
        """Dataset indices: the slots of ``DefaultSampler``, modulo videos."""
        return (slot % self.num_videos for slot in super().__iter__())
