"""Writing frames as a UCF101-like video file."""
from __future__ import annotations

import numpy as np

from ...utils.atomic import atomic_write_path


def write_video(path: str, frames: np.ndarray, fps: int = 25) -> None:
    """BGR frames as an XVID ``.avi`` (UCF101's container), atomically."""
    import cv2
    with atomic_write_path(path, suffix='.avi') as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'XVID'), fps,
                                 (frames.shape[2], frames.shape[1]))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write {tmp} (XVID)')
        for frame in frames:
            writer.write(frame)
        writer.release()
