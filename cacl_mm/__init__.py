"""cacl-mm: CACL video self-supervised pretraining for MMAction2.

Importing this package applies the compatibility workarounds
(:mod:`cacl_mm.compat`) and registers every component in MMAction2's
registries (scope ``mmaction``): use
``custom_imports=dict(imports=['cacl_mm'])``.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__version__ = '0.1.0'
__all__ = [
    "compat", "datasets", "engine", "evaluation", "models", "__version__"
]
