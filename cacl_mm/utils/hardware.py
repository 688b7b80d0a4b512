"""What the machine offers: dense peak FLOP/s of the GPUs the MFU figures
know (vendor data sheets, dense, no sparsity), and the CPUs a process may
use."""
from __future__ import annotations
import os
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


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the platform
    says, else the machine's count)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
