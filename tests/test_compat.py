import os
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from cacl_mm import compat
import helpers
from helpers import REPO


def test_mmaction_models_imports_and_drn_fails_clearly():
    import mmaction.models  # noqa: F401  (fails without the placeholder)
    from mmaction.models.localizers import DRN
    with pytest.raises(ImportError, match='DRN is not available'):
        DRN()


def test_drn_patch_is_a_no_op_when_upstream_ships_it(tmp_path, monkeypatch):
    (tmp_path / 'models' / 'localizers' / 'drn').mkdir(parents=True)
    monkeypatch.setattr(compat, '_mmaction_dir', lambda: str(tmp_path))
    monkeypatch.delitem(sys.modules, compat._DRN_MODULE)
    assert compat.patch_missing_drn() is False
    assert compat._DRN_MODULE not in sys.modules


def test_importlib_metadata_alias_only_when_missing(monkeypatch):
    assert compat.patch_importlib_metadata() is False  # backport installed
    import importlib.util
    monkeypatch.delitem(sys.modules, 'importlib_metadata', raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec', lambda name, *a: None
        if name == 'importlib_metadata' else real_find_spec(name, *a))
    assert compat.patch_importlib_metadata() is True
    import importlib.metadata
    assert sys.modules['importlib_metadata'] is importlib.metadata
    from mmaction.utils.dependency import distribution  # noqa: F401


def mmengine_like_checkpoint(path):
    hub = MessageHub('compat-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float64(2.5))
    hub.update_info('epoch', 3)
    torch.save(
        dict(
            meta=dict(epoch=3, iter=np.int64(9), seed=np.int64(0)),
            state_dict={'w': torch.ones(2)},
            message_hub=hub.state_dict()), path)


def test_mmengine_checkpoints_load_with_weights_only(tmp_path):
    path = tmp_path / 'ckpt.pth'
    mmengine_like_checkpoint(path)
    loaded = torch.load(path, weights_only=True)
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(2.0)
    assert int(loaded['meta']['iter']) == 9


class Exploit:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_code_in_a_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({
        'state_dict': {
            'w': torch.ones(1)
        },
        'payload': Exploit(marker)
    }, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path)  # torch's default, which mmengine relies on
    assert not marker.exists()


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):

    class Sneaky:
        # getattr on an allowed function would reach its module's globals.
        def __reduce__(self):
            return (getattr, (torch._utils._rebuild_tensor_v2, '__globals__'))

    path = tmp_path / 'sneaky.pth'
    torch.save({'payload': Sneaky()}, path)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer'):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer'):
        compat.history_buffer_getattr(HistoryBuffer, '__init__')
    assert compat.history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean


def write_fake_transformers(root, version: str, modeling_utils: str):
    """A ``transformers`` package that mmaction's version check accepts,
    whose ``modeling_utils`` holds ``modeling_utils`` (its source)."""
    package = root / 'transformers'
    (package / 'models' / 'beit').mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'modeling_utils.py').write_text(modeling_utils)
    (package / 'models' / '__init__.py').write_text('')
    (package / 'models' / 'beit' /
     '__init__.py').write_text('from .configuration_beit import *\n')
    (package / 'models' / 'beit' /
     'configuration_beit.py').write_text('class BeitConfig: pass\n')
    info = root / f'transformers-{version}.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        f'Metadata-Version: 2.1\nName: transformers\nVersion: {version}\n')


def test_vindlu_unmet_imports_reads_names_and_packages(tmp_path, monkeypatch):
    vindlu = tmp_path / 'mmaction' / 'models' / 'multimodal' / 'vindlu'
    vindlu.mkdir(parents=True)
    (vindlu / 'a.py').write_text(
        'import os\n'
        'from mmaction.registry import MODELS\n'
        'from transformers.modeling_utils import (PreTrainedModel,\n'
        '    apply_chunking_to_forward, prune_linear_layer)\n'
        'from transformers.models.beit import BeitConfig\n'
        'def load():\n'
        '    import not_installed_inside_a_function\n')
    (vindlu / 'b.py').write_text('from not_installed_at_all import x\n'
                                 'from transformers import BertTokenizer\n')
    site = tmp_path / 'site'
    site.mkdir()
    # PreTrainedModel defined, prune_linear_layer re-exported, the chunking
    # helper gone (as in transformers >= 4.57); BeitConfig lives in a
    # submodule of a lazily exporting package.
    write_fake_transformers(
        site, '5.0.0', 'from .pytorch_utils import prune_linear_layer\n'
        'class PreTrainedModel: pass\n')
    monkeypatch.syspath_prepend(str(site))
    assert compat.vindlu_unmet_imports(str(tmp_path / 'mmaction')) == [
        'not_installed_at_all (not installed)',
        'transformers.modeling_utils.apply_chunking_to_forward'
    ]
    assert compat.vindlu_unmet_imports(str(tmp_path / 'no_mmaction')) == []


def test_mmaction_models_import_beside_an_incompatible_transformers(tmp_path):
    """mmaction2 1.2.0 imports VindLU for any transformers >= 4.28; with
    one that lacks VindLU's names (or without timm, as here), cacl_mm and
    mmaction.models still import and VindLU is mmaction's placeholder."""
    write_fake_transformers(tmp_path, '5.0.0', 'class PreTrainedModel: pass\n')
    env = dict(
        helpers.SUBPROCESS_ENV,
        PYTHONPATH=os.pathsep.join(
            [str(tmp_path), helpers.SUBPROCESS_ENV['PYTHONPATH']]))
    probe = ('import mmaction.models\n'
             'from mmaction.registry import MODELS\n'
             'from mmaction.utils import dependency\n'
             'try:\n'
             '    MODELS.build(dict(type="VindLURetrieval"))\n'
             'except ImportError as err:\n'
             '    print(dependency.WITH_MULTIMODAL, err)\n')
    done = helpers.run([sys.executable, '-c', 'import cacl_mm\n' + probe],
                       env=env)
    assert done.stdout.startswith('False VindLURetrieval requires extra')
    # Without workaround 12 (the others applied) the import fails.
    # compat.py loaded as a file: importing cacl_mm would apply them all.
    others = ('import importlib.util\n'
              f'spec = importlib.util.spec_from_file_location("compat", '
              f'{compat.__file__!r})\n'
              'compat = importlib.util.module_from_spec(spec)\n'
              'spec.loader.exec_module(compat)\n'
              'compat.patch_importlib_metadata()\n'
              'compat.patch_missing_drn()\n')
    failed = helpers.run([sys.executable, '-c', others + probe],
                         env=env,
                         check=False)
    assert failed.returncode == 1 and 'vindlu' in failed.stderr
    assert 'ImportError' in failed.stderr or 'ModuleNotFound' in failed.stderr


def test_apply_all_is_idempotent():
    import torch.serialization as serialization
    compat.apply_all()
    count = len(serialization.get_safe_globals())
    compat.apply_all()
    assert len(serialization.get_safe_globals()) == count


def test_color_jitter_hue_works_under_numpy_2():
    from mmaction.datasets.transforms.processing import ColorJitter
    img = np.zeros((2, 2, 3), np.float32)
    img[..., 0] = 255  # pure red: hue 0 in OpenCV's 0..179 range
    out = ColorJitter.adjust_hue(img, -0.05)  # offset int(-12.75) = -12
    import cv2
    hue = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_RGB2HSV)[..., 0]
    assert (hue == 168).all()  # (0 - 12) % 180, numpy 1's result
    np.random.seed(0)
    jitter = ColorJitter(hue=0.1)
    frames = [
        np.random.randint(0, 255, (8, 8, 3)).astype(np.uint8) for _ in range(3)
    ]
    assert len(jitter(dict(imgs=frames))['imgs']) == 3


def r2plus1d_18(with_pool1: bool):
    """The R(2+1)D-18 of configs/cacl/r21d_ucf101.py, pool1 as asked."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    init_default_scope('mmaction')  # Conv2plus1d is built through mmcv
    torch.manual_seed(0)
    backbone = Config.fromfile(
        os.path.join(REPO, 'configs', 'cacl', 'r21d_ucf101.py')).model.backbone
    model = MODELS.build(dict(backbone, with_pool1=with_pool1))
    model.eval()  # ResNet3d.train returns None
    return model


def test_r2plus1d_honours_with_pool1():
    """Without pool1 a 16x112x112 clip ends at 2x7x7 (the released code's
    R(2+1)D-18); with it (the default) the output is upstream's."""
    from mmaction.models.backbones.resnet2plus1d import ResNet2Plus1d
    assert ResNet2Plus1d.forward is compat._resnet2plus1d_forward
    clip = torch.randn(1, 3, 16, 112, 112)
    with torch.no_grad():
        assert r2plus1d_18(False)(clip).shape == (1, 512, 2, 7, 7)
        pooled = r2plus1d_18(True)
        # upstream's forward, written out: conv1, max-pool, the four layers
        x = pooled.maxpool(pooled.conv1(clip))
        for name in pooled.res_layers:
            x = getattr(pooled, name)(x)
        out = pooled(clip)
    assert out.shape == (1, 512, 2, 4, 4)
    torch.testing.assert_close(out, x, rtol=0, atol=0)
    assert not compat.patch_r2plus1d_pool1()  # idempotent


@pytest.mark.parametrize(
    'package', ['mmaction2', 'mmaction', 'mmengine', 'mmcv', 'torch'])
def test_package_lookup_matches_mmengine_without_pkg_resources(package):
    import warnings

    from mmengine.utils import package_utils  # the originals
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # pkg_resources' deprecation
        expected = (package_utils.is_installed(package),
                    package_utils.get_installed_path(package))
    assert (compat.is_installed(package),
            compat.get_installed_path(package)) == expected
    assert not compat.is_installed('no_such_package_cacl')


def test_mmaction_base_config_loads_without_pkg_resources_or_noise():
    import subprocess
    code = ('import sys, cacl_mm\n'
            'from mmengine.config import Config\n'
            "Config.fromfile('configs/finetune/r3d_tiny_motion10_split1.py')\n"
            'import mmaction.models\n'
            "print('pkg_resources' in sys.modules)\n")
    out = subprocess.run([sys.executable, '-W', 'default', '-c', code],
                         cwd=REPO,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'False'
    assert 'pkg_resources' not in out.stderr
    assert compat.MMCV_LITE_OPS_WARNING not in out.stderr
    assert compat.patch_config_package_lookup() is False  # already applied


def test_cpu_launch_skips_set_device_only_while_the_launcher_runs():
    import torch

    from cacl_mm.compat import _skip_cuda_device_without_cuda
    calls = []

    def init(rank):
        torch.cuda.set_device(rank)  # raises on a torch without CUDA
        calls.append(rank)

    original = torch.cuda.set_device
    wrapped = _skip_cuda_device_without_cuda(init)
    if not torch.cuda.is_available():
        wrapped(0)
        assert calls == [0]
    assert torch.cuda.set_device is original


def test_checkpoint_save_is_the_one_workaround_8_replaces():
    """Fails when mmengine's CheckpointHook save changes: re-read it and
    update cacl_mm.compat.save_checkpoint_atomically and its hash."""
    from cacl_mm import compat
    assert compat.checkpoint_save_is_known(), (
        'mmengine.hooks.CheckpointHook._save_checkpoint_with_step changed '
        f'(sha256 {compat.checkpoint_save_source_sha256()}); '
        'AtomicCheckpointHook falls back to it')


def test_atomic_hook_falls_back_to_mmengine_when_its_save_changed(monkeypatch):
    from mmengine.fileio.backends import LocalBackend
    from mmengine.hooks import CheckpointHook

    from cacl_mm.engine.hooks import atomic_checkpoint_hook as module
    monkeypatch.setattr(module, 'checkpoint_save_is_known', lambda: False)
    calls = []
    monkeypatch.setattr(CheckpointHook, '_save_checkpoint_with_step',
                        lambda self, runner, step, meta: calls.append(step))
    hook = module.AtomicCheckpointHook()
    hook.file_backend = LocalBackend()
    with pytest.warns(UserWarning, match='non-atomic'):
        hook._save_checkpoint_with_step(None, 3, {})
    assert calls == [3]


def test_config_text_is_formatted_once_and_exactly_as_yapf_does(monkeypatch):
    from mmengine.config import Config
    from mmengine.config import config as config_module
    from yapf.yapflib import yapf_api

    assert config_module.FormatCode is compat.format_config_code
    calls = []
    yapf_format_code = yapf_api.FormatCode

    def counting_format_code(text, **kwargs):
        calls.append(text)
        return yapf_format_code(text, **kwargs)

    compat._format_with_yapf.cache_clear()
    monkeypatch.setattr(yapf_api, 'FormatCode', counting_format_code)
    cfg = Config.fromfile(
        os.path.join(REPO, 'configs/finetune/r3d_tiny_motion10_split1.py'))
    first = cfg.pretty_text
    assert cfg.pretty_text == first and len(calls) == 1  # remembered
    # what mmengine's own call to yapf gives, unmemoized
    monkeypatch.setattr(config_module, 'FormatCode', counting_format_code)
    assert cfg.pretty_text == first and len(calls) == 2
    monkeypatch.setattr(config_module, 'FormatCode', compat.format_config_code)
    cfg.train_cfg.max_epochs = 3  # another text is formatted anew
    changed = cfg.pretty_text
    assert len(calls) == 3 and 'max_epochs=3' in changed
    # calls pretty_text does not make go to yapf as they are
    compat.format_config_code('a=1\n', style_config='pep8', filename='a.py')
    assert len(calls) == 4
    assert compat.memoize_config_formatting() is False  # already applied


def test_yapf_cache_paths_are_yapfs_own(tmp_path, monkeypatch):
    from yapf_third_party._ylib2to3.pgen2 import driver

    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    paths = compat.yapf_grammar_cache_paths()
    assert [osp.basename(g)
            for g, _ in paths] == list(compat.YAPF_GRAMMAR_FILES)
    for grammar_txt, pickle_path in paths:
        assert osp.isfile(grammar_txt)
        assert pickle_path.startswith(str(tmp_path) + os.sep)
        assert pickle_path == driver._generate_pickle_name(grammar_txt)


def test_torn_yapf_cache_is_rewritten_by_the_make_step(tmp_path, monkeypatch):
    import subprocess

    from yapf_third_party._ylib2to3.pgen2 import pgen

    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    env = dict(os.environ)
    import_yapf = [sys.executable, '-c', 'import yapf']
    # the Makefile's command (with -X importtime, to see what it imports),
    # from a directory without cacl_mm on the path
    prepare = [
        sys.executable, '-X', 'importtime',
        osp.join(REPO, 'cacl_mm/compat.py'), '--prepare-yapf-cache'
    ]
    paths = compat.yapf_grammar_cache_paths()
    pickle_dir = osp.dirname(paths[0][1])
    os.makedirs(pickle_dir)
    for _, pickle_path in paths:  # what a rename before close leaves
        open(pickle_path, 'wb').close()
    broken = subprocess.run(
        import_yapf, env=env, capture_output=True, text=True)
    assert broken.returncode != 0 and 'EOFError' in broken.stderr

    fixed = subprocess.run(
        prepare, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.count('yapf grammar cache written') == 2
    imported = {
        line.rsplit('|', 1)[-1].strip()
        for line in fixed.stderr.splitlines() if line.startswith('import')
    }
    assert 'yapf_third_party._ylib2to3.pgen2.pgen' in imported
    assert not {'torch', 'yapf', 'cacl_mm', 'mmengine'} & imported
    for grammar_txt, pickle_path in paths:
        with open(pickle_path, 'rb') as f:
            assert pickle.load(f) == pgen.generate_grammar(
                grammar_txt).__dict__
    assert subprocess.run(import_yapf, env=env).returncode == 0
    assert sorted(os.listdir(pickle_dir)) == sorted(
        osp.basename(p) for _, p in paths)  # no temporary file left

    # a valid cache is left as it is
    mtimes = [os.stat(p).st_mtime_ns for _, p in paths]
    again = subprocess.run(prepare, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout == ''
    assert mtimes == [os.stat(p).st_mtime_ns for _, p in paths]


def test_yapf_cache_older_than_its_grammar_is_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert len(compat.prepare_yapf_grammar_cache()) == 2
    grammar_txt, pickle_path = compat.yapf_grammar_cache_paths()[0]
    os.utime(pickle_path, (0, 0))  # older than Grammar.txt: yapf regenerates
    assert compat.prepare_yapf_grammar_cache() == [pickle_path]
    assert os.path.getmtime(pickle_path) >= os.path.getmtime(grammar_txt)
