"""Narrow workarounds: the PyPI ``mmaction2==1.2.0`` on today's stack.

Each workaround checks whether upstream is already fixed and is then a no-op;
:func:`apply_all` is idempotent and runs when :mod:`cacl_mm` is imported,
before anything imports :mod:`mmaction.models`.

1. ``mmaction/models/localizers/drn`` is missing from the 1.2.0 wheel while
   ``mmaction/models/localizers/__init__.py`` imports it, so
   ``import mmaction.models`` fails. We register an importable placeholder
   package whose ``DRN`` raises a clear error when built (the DRN localizer is
   simply unavailable; nothing else changes).
2. ``mmaction.utils.dependency`` imports ``importlib_metadata`` without
   declaring it. Where the backport is not installed, the standard library's
   :mod:`importlib.metadata` (same API for what mmaction uses) stands in.
3. torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine
   0.10.7's checkpoints (``message_hub`` holds ``HistoryBuffer`` objects and
   numpy arrays/scalars) then fail to load, which breaks ``--resume`` and
   ``load_from``. We keep ``weights_only=True`` and allow-list exactly the
   types those checkpoints contain; arbitrary pickled code is still refused.
   ``HistoryBuffer`` pickles its statistics methods as
   ``getattr(HistoryBuffer, 'min')``: instead of allow-listing the builtin
   ``getattr`` (which would reach any attribute), the name resolves to
   :func:`history_buffer_getattr`, which only returns those methods.
4. mmengine 0.10.7's ``pytorch`` and ``slurm`` launchers call
   ``torch.cuda.set_device`` unconditionally, which fails on a machine (or a
   torch build) without CUDA, so CPU (gloo) multi-process runs cannot start.
   While those two functions run on such a machine, ``set_device`` is a
   no-op; with CUDA nothing changes.
5. mmaction's ``ColorJitter.adjust_hue`` adds a negative Python int to a
   uint8 array; numpy >= 2 (NEP 50) raises ``OverflowError`` where numpy 1
   promoted to int16. The replacement promotes explicitly and gives numpy
   1's result; with numpy < 2 nothing changes.
6. mmengine 0.10.7's ``Config`` finds an ``mmaction::`` base config through
   ``is_installed`` / ``get_installed_path``, which import and *reload*
   ``pkg_resources``: about a second per config and a deprecation warning
   (twice) under setuptools >= 81, an ``ImportError`` once setuptools drops
   the module. The replacements give the same paths through
   :mod:`importlib.metadata`; ``Config`` is the only caller in mmengine's
   training path.
7. mmcv-lite, the pinned build without compiled ops, warns on every import
   of ``mmcv.cnn.bricks.transformer`` (which ``mmaction.models`` imports)
   that ``MultiScaleDeformableAttention`` is unavailable; no model here
   uses it. That one message is filtered; every other warning shows.
8. mmengine 0.10.7's ``CheckpointHook`` writes ``epoch_N.pth`` and the
   ``last_checkpoint`` pointer in place and deletes the oldest kept
   checkpoint before saving the new one, so a kill can leave a torn file
   or a pointer to nothing. :func:`save_checkpoint_atomically` replaces its
   private ``_save_checkpoint_with_step`` in ``AtomicCheckpointHook``; it
   keeps mmengine's bookkeeping (``keep_ckpt_ids``, ``last_ckpt``), so it
   is tied to that method's source, whose hash is
   :data:`CHECKPOINT_SAVE_SHA256`. :func:`checkpoint_save_is_known` tells
   the hook (which otherwise keeps mmengine's save, with a warning) and the
   tests whether mmengine still has that method.
9. mmaction2's ``ResNet2Plus1d.forward`` max-pools after conv1 whatever
   ``with_pool1`` says, so R(2+1)D-18 without that pooling (the released
   CACL code's, as R3D-18) ends at 2x4x4 instead of 2x7x7 for 16x112x112
   clips. The replacement skips the pooling when ``with_pool1=False``; with
   the default ``True`` it is upstream's computation. Where upstream's
   ``forward`` reads ``with_pool1`` itself nothing changes.
10. mmengine 0.10.7 formats the whole config with yapf every time it needs
    its text (``Config.pretty_text``): the start-up log, ``dump_config``,
    the local visualizer backend and every checkpoint's meta, so one run
    formats the same text five or more times, each taking a noticeable
    fraction of a second. yapf's
    ``FormatCode`` is a function of the text and the style, so
    :func:`format_config_code` remembers its last results: the same text
    gives the same formatted text, formatted once per process.
11. yapf 0.43.0 (which mmengine imports for ``Config``) caches its two
    grammars as pickles in the user cache directory, and its
    ``Grammar.dump`` renames the temporary file into place *before* closing
    it: a yapf starting at that moment (pre-commit runs several in
    parallel; so do pytest workers and DDP ranks, through mmengine) reads
    an empty pickle and dies at import with ``EOFError: Ran out of input``,
    and a writer killed in that window leaves the empty file for good.
    :func:`prepare_yapf_grammar_cache` checks both pickles and rewrites a
    missing, stale or unreadable one atomically (closed, then
    ``os.replace``), without importing yapf. ``make lint`` and ``make
    test`` run it (``python cacl_mm/compat.py --prepare-yapf-cache``)
    before starting processes in parallel; a valid cache is left as it is.
12. mmaction2 1.2.0 imports its VindLU models whenever ``transformers >=
    4.28`` is installed (``WITH_MULTIMODAL`` checks the version only), and
    they import names that later transformers releases dropped
    (``apply_chunking_to_forward`` and others from
    ``transformers.modeling_utils``), so ``import mmaction.models`` and with
    it ``import cacl_mm`` fail on a machine that has a recent transformers
    for other work; so do they where transformers is installed without
    VindLU's other needs (timm, einops). :func:`vindlu_unmet_imports` reads
    VindLU's import lines, the installed packages and transformers'
    sources (nothing is imported); where anything is unmet,
    ``WITH_MULTIMODAL`` is set to False, so mmaction registers its own
    placeholders for the three VindLU models, as without transformers.
"""
from __future__ import annotations
import ast
import functools
import importlib
import importlib.util
import os
import os.path as osp
import pickle
import sys
import tempfile
import types
from typing import Dict, List, Set, Tuple

_DRN_MODULE = 'mmaction.models.localizers.drn'


def _mmaction_dir() -> str | None:
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def patch_missing_drn() -> bool:
    """Provide ``mmaction.models.localizers.drn`` when the wheel lacks it.

    Returns:
        bool: True if the placeholder was installed, False if not needed.
    """
    root = _mmaction_dir()
    if root is None or _DRN_MODULE in sys.modules:
        return False
    if osp.isdir(osp.join(root, 'models', 'localizers', 'drn')):
        return False  # upstream ships it: nothing to do

    class DRN:  # noqa: D401 - placeholder mirroring the missing class name
        """Placeholder for the DRN localizer missing from mmaction2 1.2.0."""

        def __init__(self, *args, **kwargs) -> None:
            raise ImportError(
                'DRN is not available: the installed mmaction2 wheel lacks '
                f'{_DRN_MODULE!r} (cacl_mm.compat installed a placeholder so '
                'that the rest of mmaction.models imports).')

    package = types.ModuleType(_DRN_MODULE)
    package.__path__ = []  # mark as a package
    package.__doc__ = 'cacl_mm.compat placeholder (missing from the wheel).'
    module = types.ModuleType(_DRN_MODULE + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[_DRN_MODULE] = package
    sys.modules[_DRN_MODULE + '.drn'] = module
    return True


def patch_importlib_metadata() -> bool:
    """Alias the stdlib ``importlib.metadata`` when the backport is missing.

    Returns:
        bool: True if the alias was installed, False if not needed.
    """
    if 'importlib_metadata' in sys.modules or importlib.util.find_spec(
            'importlib_metadata') is not None:
        return False
    import importlib.metadata as stdlib_metadata
    sys.modules['importlib_metadata'] = stdlib_metadata
    return True


def history_buffer_getattr(owner: object, name: str) -> object:
    """The only ``getattr`` a checkpoint may call: HistoryBuffer statistics.

    Args:
        owner (object): Must be :class:`mmengine.logging.HistoryBuffer`.
        name (str): A registered statistics method (min, max, mean, ...).

    Returns:
        The unbound statistics method.
    """
    import pickle

    from mmengine.logging import HistoryBuffer
    allowed = set(
        HistoryBuffer._statistics_methods) | {'min', 'max', 'mean', 'current'}
    if not (isinstance(owner, type) and issubclass(owner, HistoryBuffer)
            and isinstance(name, str) and name in allowed):
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({owner!r}, {name!r}); only '
            'HistoryBuffer statistics methods are allowed')
    return getattr(owner, name)


def checkpoint_safe_globals() -> List[object]:
    """The types an mmengine 0.10.7 checkpoint pickles besides tensors.

    ``message_hub`` stores :class:`mmengine.logging.HistoryBuffer` objects
    whose state holds numpy arrays; ``meta`` may hold numpy scalars. Numpy's
    reconstruction helpers live in ``numpy.core`` (numpy 1) or
    ``numpy._core`` (numpy 2).

    Returns:
        list: Classes and functions to allow-list for ``weights_only`` loads,
        and ``(object, 'qualified.name')`` substitutions.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = {
        type(np.dtype(name))
        for name in ('float64', 'float32', 'float16', 'int64', 'int32',
                     'int16', 'int8', 'uint8', 'bool')
    }
    return [
        HistoryBuffer, _reconstruct, scalar, np.ndarray, np.dtype,
        *sorted(dtype_classes, key=lambda cls: cls.__name__),
        (history_buffer_getattr, 'builtins.getattr')
    ]


def allow_checkpoint_types() -> bool:
    """Allow-list mmengine's checkpoint types for ``torch.load(weights_only)``.

    Returns:
        bool: True if the allow-list was extended, False if this torch has no
        ``weights_only`` allow-list (torch < 2.4, which needs nothing).
    """
    import torch.serialization as serialization
    add_safe_globals = getattr(serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    wanted = checkpoint_safe_globals()
    present = serialization.get_safe_globals()
    missing = [obj for obj in wanted if obj not in present]
    if missing:
        add_safe_globals(missing)
    return True


def _skip_cuda_device_without_cuda(init_fn):
    import torch

    @functools.wraps(init_fn)
    def wrapper(*args, **kwargs):
        if torch.cuda.is_available():
            return init_fn(*args, **kwargs)
        set_device = torch.cuda.set_device
        torch.cuda.set_device = lambda *a, **k: None
        try:
            return init_fn(*args, **kwargs)
        finally:
            torch.cuda.set_device = set_device

    wrapper._cacl_mm_patched = True
    return wrapper


def patch_cpu_distributed_init() -> bool:
    """Let mmengine's pytorch/slurm launchers start without CUDA.

    Returns:
        bool: True if the launchers were wrapped now.
    """
    from mmengine.dist import utils as dist_utils
    patched = False
    for name in ('_init_dist_pytorch', '_init_dist_slurm'):
        init_fn = getattr(dist_utils, name, None)
        if init_fn is None or getattr(init_fn, '_cacl_mm_patched', False):
            continue
        setattr(dist_utils, name, _skip_cuda_device_without_cuda(init_fn))
        patched = True
    return patched


def _adjust_hue(img, factor):
    """mmaction's ``ColorJitter.adjust_hue`` with numpy 1's int16 promotion."""
    import cv2
    import numpy as np
    img = np.clip(img, 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    offset = int(factor * 255)
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + offset) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)


def patch_color_jitter_hue() -> bool:
    """Make ``ColorJitter`` hue jitter work under numpy >= 2.

    Returns:
        bool: True if the method was replaced now.
    """
    import numpy as np
    if int(np.__version__.split('.')[0]) < 2:
        return False
    from mmaction.datasets.transforms.processing import ColorJitter
    if ColorJitter.__dict__['adjust_hue'].__func__ is _adjust_hue:
        return False
    ColorJitter.adjust_hue = staticmethod(_adjust_hue)
    return True


def _resnet2plus1d_forward(self, x):
    """``ResNet2Plus1d.forward`` honouring ``with_pool1`` (no pool2, as
    upstream)."""
    x = self.conv1(x)
    if self.with_pool1:
        x = self.maxpool(x)
    for layer_name in self.res_layers:
        x = getattr(self, layer_name)(x)
    return x


def patch_r2plus1d_pool1() -> bool:
    """Make ``ResNet2Plus1d`` honour ``with_pool1=False``.

    Returns:
        bool: True if the method was replaced now.
    """
    import inspect

    from mmaction.models.backbones.resnet2plus1d import ResNet2Plus1d
    forward = ResNet2Plus1d.forward
    if forward is _resnet2plus1d_forward or 'with_pool1' in inspect.getsource(
            forward):
        return False
    ResNet2Plus1d.forward = _resnet2plus1d_forward
    return True


def is_installed(package: str) -> bool:
    """mmengine's ``is_installed`` without ``pkg_resources``."""
    from importlib import metadata
    try:
        metadata.distribution(package)
        return True
    except metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """mmengine's ``get_installed_path`` without ``pkg_resources``.

    The distribution's folder of that name, else its first top-level module
    (``mmcv-full`` -> ``mmcv``); a package that is no distribution (on
    ``PYTHONPATH``) is found by its spec.
    """
    from importlib import metadata
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise
        if spec.origin is None:
            raise RuntimeError(f'{package} is a namespace package, which is '
                               'invalid for `get_install_path`')
        return osp.dirname(spec.origin)
    location = str(dist.locate_file(''))
    path = osp.join(location, package)
    if osp.exists(path):
        return path
    top_level = (dist.read_text('top_level.txt') or '').split()
    if not top_level:
        raise ValueError(f'can not infer the module name of {package}')
    return osp.join(location, top_level[0])


def patch_config_package_lookup() -> bool:
    """Point mmengine's ``Config`` at the ``importlib.metadata`` lookups.

    Returns:
        bool: True if the functions were replaced now.
    """
    from mmengine.config import config as config_module
    if config_module.is_installed is is_installed:
        return False
    config_module.is_installed = is_installed
    config_module.get_installed_path = get_installed_path
    return True


MMCV_LITE_OPS_WARNING = 'Fail to import ``MultiScaleDeformableAttention``'


def silence_mmcv_lite_ops_warning() -> bool:
    """Filter mmcv-lite's missing-op warning (workaround 7).

    Returns:
        bool: True if the filter was added now.
    """
    import re
    import warnings
    pattern = re.escape(MMCV_LITE_OPS_WARNING)
    if any(f[1] is not None and f[1].pattern == pattern
           for f in warnings.filters):
        return False
    warnings.filterwarnings('ignore', message=pattern, category=UserWarning)
    return True


#: sha256 of the source of mmengine 0.10.7's
#: ``CheckpointHook._save_checkpoint_with_step`` (workaround 8).
CHECKPOINT_SAVE_SHA256 = (
    'cdbc1b54c7c88d9525ab025a9d51a3d3be6e6e36396c0f1151ecf51281fd3482')


@functools.lru_cache(maxsize=None)
def checkpoint_save_source_sha256() -> str:
    """sha256 of the installed ``CheckpointHook`` save method's source."""
    import hashlib
    import inspect

    from mmengine.hooks import CheckpointHook
    method = getattr(CheckpointHook, '_save_checkpoint_with_step', None)
    if method is None:
        return ''
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()


def checkpoint_save_is_known() -> bool:
    """Whether mmengine's checkpoint save is the one workaround 8 replaces."""
    return checkpoint_save_source_sha256() == CHECKPOINT_SAVE_SHA256


def save_checkpoint_atomically(hook, runner, step: int, meta: dict) -> None:
    """``CheckpointHook._save_checkpoint_with_step``, never tearing a file.

    On a local work dir: the checkpoint is written as ``NAME.tmp``, flushed
    and renamed; then ``last_checkpoint`` is replaced atomically; only then
    are outdated checkpoints deleted. mmengine's bookkeeping (the kept ids
    in the hook and the message hub, ``last_ckpt``) is kept as 0.10.7 does.
    """
    import os

    from mmengine.dist import is_main_process

    from .utils.atomic import publish, write_text_atomic
    outdated = []
    if hook.max_keep_ckpts > 0 and not (hook.keep_ckpt_ids
                                        and hook.keep_ckpt_ids[-1] == step):
        if len(hook.keep_ckpt_ids) == hook.max_keep_ckpts:
            outdated.append(hook.keep_ckpt_ids[0])
        hook.keep_ckpt_ids.append(step)  # the deque drops the oldest id
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(hook.keep_ckpt_ids))
    ckpt_filename = hook.filename_tmpl.format(step)
    path = hook.file_backend.join_path(hook.out_dir, ckpt_filename)
    runner.message_hub.update_info('last_ckpt', path)
    runner.save_checkpoint(
        hook.out_dir,
        ckpt_filename + '.tmp',
        hook.file_client_args,
        save_optimizer=hook.save_optimizer,
        save_param_scheduler=hook.save_param_scheduler,
        meta=meta,
        by_epoch=hook.by_epoch,
        backend_args=hook.backend_args,
        **hook.args)
    hook.last_ckpt = path
    if not is_main_process():
        return
    publish(path + '.tmp', path, durable=True)
    write_text_atomic(
        osp.join(runner.work_dir, 'last_checkpoint'), path, durable=True)
    for old_step in outdated:
        old = hook.file_backend.join_path(hook.out_dir,
                                          hook.filename_tmpl.format(old_step))
        if osp.isfile(old):
            os.remove(old)


@functools.lru_cache(maxsize=8)
def _format_with_yapf(
        text: str, style: Tuple[Tuple[str, object], ...]) -> Tuple[str, bool]:
    from yapf.yapflib.yapf_api import FormatCode
    return FormatCode(text, style_config=dict(style))


def format_config_code(text: str, style_config=None, **kwargs):
    """yapf's ``FormatCode`` as mmengine's ``Config`` calls it, memoized.

    Only the call ``pretty_text`` makes (a text and a style dict) is
    remembered; any other call goes to yapf unchanged. The result, a
    ``(str, bool)`` tuple, is immutable, so sharing it is safe.
    """
    if isinstance(style_config, dict) and not kwargs:
        style = tuple(sorted(style_config.items()))
        try:
            return _format_with_yapf(text, style)
        except TypeError:  # a style value that cannot be a cache key
            pass
    from yapf.yapflib.yapf_api import FormatCode
    return FormatCode(text, style_config=style_config, **kwargs)


def memoize_config_formatting() -> bool:
    """Make mmengine's ``Config`` format each config text once (10).

    Returns:
        bool: True if ``FormatCode`` was replaced now.
    """
    from mmengine.config import config as config_module
    if getattr(config_module, 'FormatCode',
               None) in (None, format_config_code):
        return False
    config_module.FormatCode = format_config_code
    return True


#: yapf's grammar sources, in ``yapf_third_party/_ylib2to3``.
YAPF_GRAMMAR_FILES = ('Grammar.txt', 'PatternGrammar.txt')


def yapf_grammar_cache_paths() -> List[Tuple[str, str]]:
    """yapf's grammar sources and the pickle paths yapf caches them at.

    The paths are computed as yapf 0.43's ``driver._generate_pickle_name``
    does, without importing yapf (whose import loads those very pickles).

    Returns:
        list[tuple[str, str]]: ``(grammar_txt, pickle_path)`` per grammar;
        empty when yapf is not installed.
    """
    from importlib import metadata
    spec = importlib.util.find_spec('yapf_third_party._ylib2to3')
    if spec is None or not spec.submodule_search_locations:
        return []
    from platformdirs import user_cache_dir
    source_dir = list(spec.submodule_search_locations)[0]
    cache_dir = user_cache_dir(
        appname='YAPF', appauthor='Google', version=metadata.version('yapf'))
    python = '.'.join(map(str, sys.version_info))
    return [(osp.join(source_dir, name),
             osp.join(cache_dir,
                      osp.splitext(name)[0] + '-py' + python + '.pickle'))
            for name in YAPF_GRAMMAR_FILES]


def _grammar_pickle_is_usable(grammar_txt: str, pickle_path: str) -> bool:
    # yapf regenerates (racily) a pickle older than its source; so do we
    if not osp.isfile(pickle_path) or (osp.getmtime(pickle_path)
                                       < osp.getmtime(grammar_txt)):
        return False
    try:
        with open(pickle_path, 'rb') as f:
            return isinstance(pickle.load(f), dict)
    except Exception:  # truncated or foreign: any failure means rewrite
        return False


def prepare_yapf_grammar_cache() -> List[str]:
    """Write yapf's grammar pickles completely before yapf runs (11).

    Safe to run in several processes at once: each writes its own temporary
    file, closes it and replaces the target, so a reader sees no file or a
    whole one.

    Returns:
        list[str]: the pickle paths written now (empty when the cache was
        already valid or yapf is not installed).
    """
    written = []
    for grammar_txt, pickle_path in yapf_grammar_cache_paths():
        if _grammar_pickle_is_usable(grammar_txt, pickle_path):
            continue
        from yapf_third_party._ylib2to3.pgen2 import pgen
        grammar = pgen.generate_grammar(grammar_txt)
        os.makedirs(osp.dirname(pickle_path), exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(
            dir=osp.dirname(pickle_path), suffix='.tmp')
        try:
            with os.fdopen(fd, 'wb') as f:
                pickle.dump(grammar.__dict__, f, pickle.HIGHEST_PROTOCOL)
            os.replace(tmp_path, pickle_path)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise
        written.append(pickle_path)
    return written


def _module_source(package_dir: str, module: str) -> str | None:
    """The source of ``module`` (dotted, inside the package at
    ``package_dir``), or None if it has no ``.py`` file there.

    A package's source is that of all its ``.py`` files: transformers'
    packages export their names lazily, without naming them in
    ``__init__.py``.
    """
    base = osp.join(package_dir, *module.split('.'))
    if osp.isfile(base + '.py'):
        paths = [base + '.py']
    elif osp.isfile(osp.join(base, '__init__.py')):
        paths = [
            osp.join(base, name) for name in sorted(os.listdir(base))
            if name.endswith('.py')
        ]
    else:
        return None
    sources = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            sources.append(f.read())
    return '\n'.join(sources)


def vindlu_unmet_imports(mmaction_dir: str) -> List[str]:
    """What VindLU imports that this environment lacks (workaround 12).

    Read from the module-level ``import`` lines of
    ``mmaction/models/multimodal/vindlu`` without importing anything: a
    package that is not installed (``'timm (not installed)'``), or a name
    a transformers submodule does not define
    (``'transformers.modeling_utils.apply_chunking_to_forward'``; a name
    counts as defined when the module's source mentions it, so a re-export
    is not taken for a missing name).
    """
    vindlu = osp.join(mmaction_dir, 'models', 'multimodal', 'vindlu')
    if not osp.isdir(vindlu):
        return []
    # Every module VindLU imports, with the names it takes from it, so
    # that each package is looked up and each source read once.
    wanted: Dict[str, Set[str]] = {}
    for file_name in sorted(os.listdir(vindlu)):
        if not file_name.endswith('.py'):
            continue
        with open(osp.join(vindlu, file_name), encoding='utf-8') as f:
            tree = ast.parse(f.read())
        # Module-level imports only: those inside functions (tensorflow
        # for weight conversion) run only when called.
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    wanted.setdefault(alias.name, set())
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                wanted.setdefault(node.module,
                                  set()).update(a.name for a in node.names)
    unmet: List[str] = []
    for module, names in wanted.items():
        top, _, sub = module.partition('.')
        if top == 'mmaction':
            continue
        spec = importlib.util.find_spec(top)
        if spec is None:
            unmet.append(f'{top} (not installed)')
        elif top == 'transformers' and sub and names:
            source = _module_source(
                list(spec.submodule_search_locations)[0], sub) or ''
            unmet += [
                f'{module}.{name}' for name in names if name not in source
            ]
    return sorted(set(unmet))


def skip_incompatible_vindlu() -> bool:
    """Let mmaction register placeholders for VindLU where the installed
    environment lacks what VindLU imports (workaround 12).

    Returns:
        bool: True if ``WITH_MULTIMODAL`` was switched off.
    """
    mmaction_dir = _mmaction_dir()
    if (mmaction_dir is None
            or importlib.util.find_spec('transformers') is None
            or 'mmaction.models.multimodal' in sys.modules):
        return False  # mmaction's own check says no, or it is too late
    from mmaction.utils import dependency
    if not dependency.WITH_MULTIMODAL or not vindlu_unmet_imports(
            mmaction_dir):
        return False
    dependency.WITH_MULTIMODAL = False
    return True


def apply_all() -> None:
    """Apply every workaround; safe to call more than once."""
    silence_mmcv_lite_ops_warning()
    patch_importlib_metadata()
    patch_missing_drn()
    skip_incompatible_vindlu()
    allow_checkpoint_types()
    patch_cpu_distributed_init()
    patch_color_jitter_hue()
    patch_r2plus1d_pool1()
    patch_config_package_lookup()
    memoize_config_formatting()


if __name__ == '__main__':
    # ``python cacl_mm/compat.py --prepare-yapf-cache``: runs without
    # importing cacl_mm (and so torch), as ``make lint`` needs on a machine
    # with only the lint tools installed.
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--prepare-yapf-cache',
        action='store_true',
        help='write yapf\'s grammar cache completely (workaround 11)')
    if parser.parse_args().prepare_yapf_cache:
        for path in prepare_yapf_grammar_cache():
            print(f'yapf grammar cache written: {path}')
