"""Analysis and benchmarking: the top layer of the package, above apis,
evaluation and visualization, which none of them imports (the order is
tested by tests/test_layers.py). ``benchmarking`` (``tools/benchmark.py``),
``med_bounds`` and ``sdp_readout`` are imported by their tools, not here:
they pull in torch-heavy code that a verdict does not need."""
from .verdict import Finding, Verdict, curve_signals, judge, verdict_markdown

__all__ = ['Finding', 'Verdict', 'curve_signals', 'judge', 'verdict_markdown']
