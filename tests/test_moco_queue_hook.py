import os
from types import SimpleNamespace

import pytest
import torch
import torch.multiprocessing as mp

from cacl_mm.engine import MoCoQueueHook
from cacl_mm.models import Arch
from helpers import batch, build, capture_keys, free_port


def fake_runner(model, iteration=0, max_iters=10, batch_size=4, videos=100):
    loader = SimpleNamespace(batch_size=batch_size, dataset=range(videos))
    return SimpleNamespace(
        model=model,
        iter=iteration,
        max_iters=max_iters,
        train_dataloader=loader)


def test_hook_updates_momentum_encoders_and_enqueues_without_a_runner():
    model = build()
    hook = MoCoQueueHook()
    keys = capture_keys(model)
    model.loss(*batch())
    key_trans = model.momentum_encoder(Arch.TRANSFORMER)
    before = {k: v.clone() for k, v in key_trans.named_parameters()}
    with torch.no_grad():
        for p in model.transformer.clip_transformer.parameters():
            p.add_(0.5)
    online = dict(model.online_encoder(Arch.TRANSFORMER).named_parameters())
    hook.after_train_iter(fake_runner(model), batch_idx=0)
    m = model.momentum
    for name, p in key_trans.named_parameters():
        torch.testing.assert_close(p,
                                   m * before[name] + (1 - m) * online[name])
    for arch in ('cnn', 'trans'):
        queue = model.queues[arch]
        torch.testing.assert_close(queue.keys[:4], keys[arch])
        assert int(queue.ptr) == 4
        # Each key keeps the dataset index of its video (sample_idx).
        assert queue.ids[:5].tolist() == [0, 1, 2, 3, -1]
    # The keys are handed over once.
    hook.after_train_iter(fake_runner(model), batch_idx=1)
    assert int(model.queues['cnn'].ptr) == 4


def test_cosine_momentum_schedule():
    hook = MoCoQueueHook(momentum_schedule='cosine', end_momentum=1.0)
    assert hook.momentum_at(0.99, 0, 11) == pytest.approx(0.99)
    assert hook.momentum_at(0.99, 5, 11) == pytest.approx(0.995)
    assert hook.momentum_at(0.99, 10, 11) == pytest.approx(1.0)
    assert MoCoQueueHook().momentum_at(0.99, 5, 11) == 0.99
    with pytest.raises(ValueError, match='momentum_schedule'):
        MoCoQueueHook(momentum_schedule='linear')


def test_queue_checks_before_training():
    model = build()  # queue length 256 in the tiny config
    hook = MoCoQueueHook()
    hook.before_train(fake_runner(model, batch_size=8, videos=320))
    with pytest.raises(ValueError, match='queue.length=256 is smaller'):
        hook.before_train(fake_runner(model, batch_size=512, videos=1000))
    # A queue longer than the collection is safe when a clip never meets
    # its own video's keys ...
    assert model.contrast_head.mask_same_video
    hook.before_train(fake_runner(model, batch_size=8, videos=200))
    # ... and refused without that, naming the overrides that fix it.
    model.contrast_head.mask_same_video = False
    with pytest.raises(
            ValueError,
            match=r'below the number of training '
            r'videos \(200\).*queue.length=100 or '
            r'model.contrast_head.mask_same_video=True'):
        hook.before_train(fake_runner(model, batch_size=8, videos=200))
    # RepeatDataset shows each video `times` times; videos are what count.
    repeated = SimpleNamespace(times=4, dataset=range(200))
    with pytest.raises(ValueError, match=r'\(200\)'):
        hook.before_train(
            SimpleNamespace(
                model=model,
                train_dataloader=SimpleNamespace(
                    batch_size=8, dataset=repeated)))


def _ddp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    import torch.distributed as torch_dist

    import cacl_mm  # noqa: F401
    from cacl_mm.models.utils import batch_shuffle
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        model = build()  # same seed: same weights on both ranks
        model.train()
        hook = MoCoQueueHook()
        torch.manual_seed(100 + rank)  # ranks draw different shuffles ...
        keys, latest = [], capture_keys(model)
        for step in range(3):
            model.loss(*batch(seed=10 * rank +
                              step))  # ... and see different data
            keys.append(dict(latest))
            hook.after_train_iter(fake_runner(model, iteration=step), step)
        ids = model.queues['cnn'].ids.clone()
        # Shuffle-BN: the key batch of each rank mixes samples of both ranks.
        tagged = torch.full((8, 1), float(rank))
        mixed = [batch_shuffle(tagged)[0].flatten() for _ in range(5)]
        torch.save(
            dict(
                queue_cnn=model.queues['cnn'].keys,
                queue_trans=model.queues['trans'].keys,
                ptr=int(model.queues['cnn'].ptr),
                keys=keys,
                mixed=torch.stack(mixed),
                ids=ids,
                ema=model.momentum_encoder(Arch.CNN).state_dict()),
            os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        torch_dist.destroy_process_group()


def test_two_process_gloo_ends_with_identical_queues(tmp_path):
    mp.spawn(_ddp_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1))
    for arch in ('cnn', 'trans'):
        torch.testing.assert_close(r0[f'queue_{arch}'], r1[f'queue_{arch}'])
        # Each step wrote rank 0's 4 keys, then rank 1's: 3 steps, 24 rows.
        for step in range(3):
            start = 8 * step
            torch.testing.assert_close(r0[f'queue_{arch}'][start:start + 4],
                                       r0['keys'][step][arch])
            torch.testing.assert_close(
                r0[f'queue_{arch}'][start + 4:start + 8],
                r1['keys'][step][arch])
    assert r0['ptr'] == r1['ptr'] == 24
    # The video index of every key travels with it: rank 0's batch of step
    # s holds samples 100 * (s) + 0..3, rank 1's 100 * (10 + s) + 0..3.
    expected = [
        100 * (10 * rank + step) + i for step in range(3) for rank in range(2)
        for i in range(4)
    ]
    assert r0['ids'][:24].tolist() == r1['ids'][:24].tolist() == expected
    for key, value in r0['ema'].items():
        if 'running_' not in key:  # BN statistics are per rank's data
            torch.testing.assert_close(value, r1['ema'][key], msg=key)
    # Ranks saw different data, so keys differ; the queues still agree.
    assert not torch.allclose(r0['keys'][0]['cnn'], r1['keys'][0]['cnn'])
    # Shuffle-BN moved samples across ranks, and both ranks agree on it.
    assert (r0['mixed'] == 1).any() and (r1['mixed'] == 0).any()
    assert ((r0['mixed'] == 0).sum() + (r1['mixed'] == 0).sum()).item() == 40
