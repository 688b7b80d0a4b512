import torch

from cacl_mm.models.utils import shuffle_bn_forward, split_bn_forward


def test_split_bn_forward_keeps_sample_order():
    x = torch.arange(10, dtype=torch.float32).view(10, 1)
    torch.manual_seed(0)
    out = split_bn_forward(lambda t: t * 2, x, num_splits=3)
    torch.testing.assert_close(out, x * 2)


def test_split_bn_normalises_in_sub_batches():
    # A BatchNorm in train mode: per-sample outputs depend on which other
    # samples share the sub-batch, so they differ from one full batch.
    bn = torch.nn.BatchNorm1d(1, affine=False).train()
    x = torch.arange(8, dtype=torch.float32).view(8, 1)
    full = bn(x)
    torch.manual_seed(0)
    split = split_bn_forward(bn, x, num_splits=2)
    assert not torch.allclose(full, split)
    # Each half was normalised on its own: 4 samples, zero mean, unit var.
    torch.manual_seed(0)
    idx = torch.randperm(8)
    for half in idx.chunk(2):
        values = split[half]
        assert abs(values.mean().item()) < 1e-5


def test_one_process_shuffle_bn_is_split_bn():
    x = torch.randn(6, 3)
    torch.manual_seed(1)
    a = shuffle_bn_forward(lambda t: t + 1, x, num_splits=2)
    torch.testing.assert_close(a, x + 1)
