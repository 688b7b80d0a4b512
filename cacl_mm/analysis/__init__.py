"""Analysis of finished runs: the layer above apis, evaluation and
visualization, which none of them imports."""
from .verdict import Finding, Verdict, curve_signals, judge, verdict_markdown

__all__ = ['Finding', 'Verdict', 'curve_signals', 'judge', 'verdict_markdown']
