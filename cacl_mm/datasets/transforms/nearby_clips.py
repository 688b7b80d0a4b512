import numpy as np

from mmaction.datasets.transforms import SampleFrames
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SampleNearbyClips(SampleFrames):
    """Sample one clip per view, the views' starts at most ``max_gap`` apart.

    ``SampleFrames(num_clips=V)`` puts the V clips in V equal segments of
    the video, so on a short video two views barely overlap. Here the first
    clip starts anywhere in the video and every other clip starts within
    ``max_gap`` frames of it (clipped to the video), so a positive pair
    shares most of its frames and differs by a small shift in time. With
    probability ``1 - shift_prob`` all clips are the first one (both views
    from the same frames, as the paper's released code).

    Outside training (``test_mode=True``) it samples as ``SampleFrames``.
    ``ViewAugmentDataPreprocessor`` builds view v from clip v.

    Added keys: those of ``SampleFrames``; ``frame_inds`` holds
    ``num_clips * clip_len`` indices, clip by clip.

    Args:
        clip_len (int): Frames per clip.
        frame_interval (int): Step between sampled frames. Defaults to 1.
        num_clips (int): Clips (views) per sample. Defaults to 2.
        max_gap (int): Largest distance, in frames, between the first
            clip's start and another's. Defaults to 4.
        shift_prob (float): Probability that the clips are shifted at all.
            Defaults to 1.
        **kwargs: Other ``SampleFrames`` arguments.
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 num_clips: int = 2,
                 max_gap: int = 4,
                 shift_prob: float = 1.0,
                 **kwargs) -> None:
        if max_gap < 0:
            raise ValueError(
                f'SampleNearbyClips: max_gap must be >= 0, got {max_gap}')
        if not 0.0 <= shift_prob <= 1.0:
            raise ValueError('SampleNearbyClips: shift_prob must be in [0, '
                             f'1], got {shift_prob}')
        super().__init__(
            clip_len=clip_len,
            frame_interval=frame_interval,
            num_clips=num_clips,
            **kwargs)
        self.max_gap = max_gap
        self.shift_prob = shift_prob

    def _get_train_clips(self, num_frames: int,
                         ori_clip_len: float) -> np.ndarray:
        """Draw the clips' start frames.

        Args:
            num_frames (int): Frames in the video.
            ori_clip_len (float): Frames one clip spans.

        Returns:
            np.ndarray: (num_clips,) int start frames; out-of-range frames
            of a video shorter than a clip are handled by
            ``out_of_bound_opt`` as in ``SampleFrames``.
        """
        last_start = max(int(num_frames - ori_clip_len), 0)
        first = np.random.randint(last_start + 1)
        starts = np.full(self.num_clips, first, dtype=np.int64)
        if self.num_clips > 1 and np.random.rand() < self.shift_prob:
            gaps = np.random.randint(
                -self.max_gap, self.max_gap + 1, size=self.num_clips - 1)
            starts[1:] = np.clip(first + gaps, 0, last_start)
        return starts

    def __repr__(self) -> str:
        parent = super().__repr__()
        return (f'{parent[:-1]}, max_gap={self.max_gap}, '
                f'shift_prob={self.shift_prob})')
