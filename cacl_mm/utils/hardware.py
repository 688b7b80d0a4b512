"""Dense peak FLOP/s of the GPUs the MFU figures know (vendor data sheets,
dense, no sparsity)."""
from __future__ import annotations
from typing import Optional

GPU_PEAK_FLOPS = {
    'H100': dict(bf16=989e12, fp16=989e12, fp32=67e12),
    'H200': dict(bf16=989e12, fp16=989e12, fp32=67e12),
    'A100': dict(bf16=312e12, fp16=312e12, fp32=19.5e12),
}


def gpu_peak_flops(device_name: str, precision: str) -> Optional[float]:
    """Peak FLOP/s of the GPU called ``device_name`` in ``precision``
    (``'bf16'``, ``'fp16'`` or ``'fp32'``); None for a GPU not listed."""
    for key, peaks in GPU_PEAK_FLOPS.items():
        if key in device_name:
            return peaks[precision]
    return None
