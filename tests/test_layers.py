"""The package's layers hold: every import inside ``cacl_mm`` goes to its own
package or to a lower layer, never up and never sideways."""
import ast
import glob
import os.path as osp

PACKAGE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'cacl_mm')

# Lowest first; packages in one tuple share a layer and import neither each
# other nor anything above.
LAYERS = (('utils', ), ('compat', ), ('datasets', 'models'),
          ('engine', 'evaluation'), ('apis', 'visualization'), ('analysis', ))
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def package_of(path):
    """``cacl_mm/models/heads/x.py`` -> ``'models'``; ``compat.py`` ->
    ``'compat'``; the package's ``__init__`` (it registers everything) ->
    None."""
    parts = osp.relpath(path, PACKAGE).split(osp.sep)
    if parts == ['__init__.py']:
        return None
    return parts[0][:-3] if len(parts) == 1 else parts[0]


def imported_packages(path):
    """(line, package) of every ``cacl_mm`` import in the file, relative
    imports resolved."""
    tree = ast.parse(open(path).read(), path)
    here = osp.relpath(path, osp.dirname(PACKAGE)).split(osp.sep)[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                target = base + (node.module.split('.') if node.module else [])
                if len(target) == 1:  # from . import x (package root)
                    target += [alias.name for alias in node.names][:1]
            else:
                target = (node.module or '').split('.')
            if target[0] == 'cacl_mm' and len(target) > 1:
                yield node.lineno, target[1]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name.split('.')
                if target[0] == 'cacl_mm' and len(target) > 1:
                    yield node.lineno, target[1]


def layer_violations():
    found = []
    for path in sorted(
            glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)):
        source = package_of(path)
        if source is None:
            continue
        for line, target in imported_packages(path):
            if target == source:
                continue
            if LEVEL[target] >= LEVEL[source]:
                found.append(f'{osp.relpath(path, PACKAGE)}:{line} '
                             f'({source}) imports {target}')
    return found


def test_every_package_has_a_layer():
    packages = {
        package_of(p)
        for p in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)
    } - {None}
    assert packages == set(LEVEL)


def test_no_import_runs_up_or_sideways():
    assert layer_violations() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The check itself: a utils module importing models is reported."""
    fake = tmp_path / 'cacl_mm'
    (fake / 'utils').mkdir(parents=True)
    (fake / 'models').mkdir()
    (fake / 'utils' / 'bad.py').write_text('from ..models import CACL\n')
    (fake / 'models' / 'ok.py').write_text('from cacl_mm.utils import x\n')
    monkeypatch.setattr(__import__(__name__), 'PACKAGE', str(fake))
    assert layer_violations() == ['utils/bad.py:1 (utils) imports models']
