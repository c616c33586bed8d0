"""Shapes, conditioning, MAD-GAN routing and initialisation of the GAN networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gda_core.synthesizers.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    MADGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    base_size,
    count_parameters,
    weights_init,
)

SIZES = [8, 28, 32, 64, 128]


@pytest.fixture(autouse=True)
def _seeded():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        yield


def test_base_size():
    assert [base_size(s, s) for s in (2, 5, 8, 9, 28, 32, 33, 64, 100, 128)] == \
        [8, 8, 8, 16, 32, 32, 64, 64, 128, 128]
    assert base_size(6, 20) == 32


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_dcgan_shapes(size, channels):
    G = DCGANGenerator(8, channels, size, width=4)
    D = DCGANDiscriminator(channels, size, width=4)
    with torch.no_grad():
        x = G(torch.randn(2, 8))
        assert x.shape == (2, channels, size, size)
        assert x.min() >= -1 and x.max() <= 1  # Tanh
        assert D(x).shape == (2,)


@pytest.mark.parametrize("size", [8, 64])
def test_dcgan_layer_counts_follow_radford(size):
    # the PyTorch DCGAN example (64x64) has 5 (transposed) convolutions in each network
    G, D = DCGANGenerator(100, 3, size), DCGANDiscriminator(3, size)
    n_up = sum(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
    n_down = sum(isinstance(m, nn.Conv2d) for m in D.modules())
    expected = {8: 2, 64: 5}[size]
    assert n_up == n_down == expected
    # no batch norm after the discriminator's first layer nor the generator's output
    assert isinstance(D.features[1], nn.LeakyReLU)
    assert isinstance(G.head[-1], nn.Tanh)


def test_dcgan_64_matches_the_pytorch_example_size():
    # ngf = ndf = 64, nz = 100, 3 channels: 3,576,704 and 2,765,568 parameters
    assert count_parameters(DCGANGenerator(100, 3, 64)) == 3_576_704
    assert count_parameters(DCGANDiscriminator(3, 64)) == 2_765_568


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [*SIZES[:3], (6, 5)])
def test_mlp_shapes(size, channels):
    G = MLPGenerator(8, channels, size, hidden=16)
    D = MLPDiscriminator(channels, size, hidden=16)
    h, w = (size, size) if isinstance(size, int) else size
    with torch.no_grad():
        x = G(torch.randn(3, 8))
        assert x.shape == (3, channels, h, w)
        assert D(x).shape == (3,)


def test_odd_sizes_are_cropped_and_padded():
    G, D = DCGANGenerator(8, 1, (6, 5), width=4), DCGANDiscriminator(1, (6, 5), width=4)
    assert G.side == D.side == 8
    with torch.no_grad():
        assert G(torch.randn(2, 8)).shape == (2, 1, 6, 5)
        assert D(torch.zeros(2, 1, 6, 5)).shape == (2,)


@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_conditional_networks(arch):
    if arch == "dcgan":
        G, D = DCGANGenerator(8, 1, 28, width=4, n_classes=3), \
            DCGANDiscriminator(1, 28, width=4, n_classes=3)
    else:
        G, D = MLPGenerator(8, 1, 28, hidden=16, n_classes=3), \
            MLPDiscriminator(1, 28, hidden=16, n_classes=3)
    G.eval()
    z = torch.randn(1, 8).repeat(3, 1)
    labels = torch.tensor([0, 1, 2])
    with torch.no_grad():
        x = G(z, labels)
        assert x.shape == (3, 1, 28, 28) and D(x, labels).shape == (3,)
        # same noise, different labels -> different images and scores
        assert not torch.allclose(x[0], x[1])
        assert not torch.allclose(D(x[:1], labels[:1]), D(x[:1], labels[1:2]))
    with pytest.raises(ValueError, match="conditional"):
        G(z)
    with pytest.raises(ValueError, match="conditional"):
        D(x)


@pytest.mark.parametrize("share", [True, False])
def test_madgan_generators_and_head(share):
    k = 3
    G = MADGANGenerator(k, 8, 1, 16, share=share, width=4).eval()
    D = DCGANDiscriminator(1, 16, width=4, n_out=k + 1)
    z = torch.randn(7, 8)
    index = torch.tensor([2, 0, 1, 0, 2, 1, 1])
    with torch.no_grad():
        x = G(z, index)
        assert x.shape == (7, 1, 16, 16)
        assert D(x).shape == (7, k + 1)
        # routing: row j is generator index[j]'s image of z[j], whatever the batch holds
        for j in range(7):
            torch.testing.assert_close(G(z[j:j + 1], index[j:j + 1]), x[j:j + 1])
        # the generators differ: same z through generators 0 and 1
        a = G(z[:1], torch.tensor([0]))
        b = G(z[:1], torch.tensor([1]))
        assert not torch.allclose(a, b)


def test_madgan_sharing_saves_parameters():
    shared = MADGANGenerator(3, 8, 1, 32, share=True, width=4)
    separate = MADGANGenerator(3, 8, 1, 32, share=False, width=4)
    single = DCGANGenerator(8, 1, 32, width=4)
    head = count_parameters(single.head)
    assert count_parameters(separate) == 3 * count_parameters(single)
    assert count_parameters(shared) == count_parameters(single) + 2 * head
    # one trunk module, k heads
    assert len(shared.heads) == 3 and shared.heads[0] is shared.base.head


def test_weights_init_statistics():
    G = DCGANGenerator(100, 3, 64).requires_grad_(False)
    G.apply(weights_init)
    conv = torch.cat([m.weight.flatten() for m in G.modules()
                      if isinstance(m, nn.ConvTranspose2d)])
    bn_w = torch.cat([m.weight for m in G.modules() if isinstance(m, nn.BatchNorm2d)])
    bn_b = torch.cat([m.bias for m in G.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(float(conv.mean())) < 1e-3
    assert float(conv.std()) == pytest.approx(0.02, rel=0.02)  # 3.5M samples
    assert float(bn_w.mean()) == pytest.approx(1.0, abs=0.005)
    assert float(bn_w.std()) == pytest.approx(0.02, rel=0.2)   # 960 samples
    assert torch.count_nonzero(bn_b) == 0
    lin = nn.Linear(500, 400).requires_grad_(False)
    weights_init(lin)
    assert float(lin.weight.std()) == pytest.approx(0.02, rel=0.02)
    assert torch.count_nonzero(lin.bias) == 0
