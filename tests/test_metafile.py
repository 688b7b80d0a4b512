"""configs/cacl/metafile.yml lists every config, with the config's own
epochs and batch size (OpenMMLab's model-zoo schema)."""
import glob
import os.path as osp

import yaml
from mmengine import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
METAFILE = osp.join(REPO, 'configs', 'cacl', 'metafile.yml')


def listed_configs():
    with open(METAFILE) as f:
        return yaml.safe_load(f)


def test_every_training_config_is_listed_once():
    on_disk = {
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
        if not osp.basename(p).startswith('_')
        and 'configs/retrieval/' not in p  # built by tools/retrieval.py
    }
    listed = [m['Config'] for m in listed_configs()['Models']]
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    assert set(listed) == on_disk


def test_entries_follow_the_schema_and_match_their_config():
    meta = listed_configs()
    (collection, ) = meta['Collections']
    assert osp.isfile(osp.join(REPO, collection['README']))
    names = [m['Name'] for m in meta['Models']]
    assert len(names) == len(set(names))
    import cacl_mm  # noqa: F401  (registers the configs' custom types)
    for model in meta['Models']:
        assert model['In Collection'] == collection['Name']
        cfg = Config.fromfile(osp.join(REPO, model['Config']))
        meta_data = model['Metadata']
        assert meta_data['Epochs'] == cfg.train_cfg.max_epochs, model['Name']
        assert meta_data['Batch Size'] == cfg.train_dataloader.batch_size, \
            model['Name']
        for result in model.get('Results', []):
            assert set(result) == {'Task', 'Dataset', 'Metrics'}
            assert all(0 <= v <= 100 for v in result['Metrics'].values())
