"""Class names for the figures, one per line in label order."""
from __future__ import annotations
from typing import List, Optional


def read_class_names(path: Optional[str]) -> Optional[List[str]]:
    """Class names, one per line in label order; None without a file."""
    if not path:
        return None
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]
