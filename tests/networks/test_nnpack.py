"""NNPACK convolutions: same results as PyTorch's, gradients included, and used only where
they pay."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from gan_style.config import ConfigError
from gan_style.networks import build_discriminator, build_generator, nnpack
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.loop import train

pytestmark = pytest.mark.skipif(not nnpack.available(), reason="this torch build has no NNPACK")


@pytest.fixture
def nnpack_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The input shapes NNPACK convolved, to tell which path ran."""
    calls: list[tuple[int, ...]] = []
    original = torch._nnpack_spatial_convolution

    def counting(x, *args, **kwargs):
        calls.append(tuple(x.shape))
        return original(x, *args, **kwargs)

    monkeypatch.setattr(torch, "_nnpack_spatial_convolution", counting)
    return calls


def pair(conv: nn.Conv2d) -> tuple[nn.Conv2d, nn.Conv2d]:
    fast = copy.deepcopy(conv)
    assert nnpack.use_nnpack(fast) == 1
    return conv, fast


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


class TestNnpackConv2d:
    @pytest.mark.parametrize(
        ("channels", "kernel", "padding", "bias"),
        [(16, 3, 1, True), (8, 7, 0, False), (6, 3, 0, True), (5, 4, (1, 2), True)],
    )
    def test_forward_and_gradients_match_native(
        self, nnpack_calls, channels, kernel, padding, bias
    ) -> None:
        torch.manual_seed(0)
        native, fast = pair(nn.Conv2d(channels, 12, kernel, padding=padding, bias=bias))
        x = torch.randn(2, channels, 60, 64, requires_grad=True)
        target = torch.randn_like(native(x))
        results = []
        for conv in (native, fast):
            y = conv(x)
            grads = torch.autograd.grad((y - target).square().sum(), [x, *conv.parameters()])
            results.append((y, *grads))
        # Forward per image, then the input gradient per image: 2 + 2 calls.
        assert len(nnpack_calls) == 4 and nnpack_calls[0] == (1, channels, 60, 64)
        for got, want in zip(results[1], results[0], strict=True):
            assert rel(got, want) < 1e-4

    def test_second_order_gradients_match_native(self) -> None:
        """The gradient penalty (wgangp) differentiates through a gradient."""
        torch.manual_seed(0)
        native, fast = pair(nn.Conv2d(4, 5, 3, padding=1))
        z = torch.randn(1, 4, 64, 64, requires_grad=True)
        grads = []
        for conv in (native, fast):
            (gz,) = torch.autograd.grad(conv(z).square().sum(), z, create_graph=True)
            grads.append(torch.autograd.grad(gz.square().sum(), conv.weight)[0])
        assert rel(grads[1], grads[0]) < 1e-4

    def test_falls_back_where_nnpack_does_not_pay(self, nnpack_calls) -> None:
        torch.manual_seed(0)
        native, fast = pair(nn.Conv2d(4, 4, 3, padding=1))
        small = torch.randn(1, 4, 32, 32)  # 32x32 outputs: oneDNN measured as fast or faster
        assert torch.equal(fast(small), native(small))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert fast(torch.randn(1, 4, 64, 64)).dtype == torch.bfloat16
        assert fast.double()(torch.randn(1, 4, 64, 64, dtype=torch.float64)).dtype == torch.float64
        assert nnpack_calls == []

    def test_only_stride_1_dense_convolutions_switch(self) -> None:
        assert nnpack.eligible(nn.Conv2d(4, 4, 3))
        assert not nnpack.eligible(nn.Conv2d(3, 4, 3))  # an image in: oneDNN was faster
        assert not nnpack.eligible(nn.Conv2d(4, 4, 3, stride=2))
        assert not nnpack.eligible(nn.Conv2d(4, 4, 3, groups=2))
        assert not nnpack.eligible(nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"))
        assert not nnpack.eligible(nn.Conv2d(4, 4, 3, padding=3))  # gradient padding < 0
        assert not nnpack.eligible(nn.Conv2d(4, 4, 1))
        assert not nnpack.eligible(nn.ConvTranspose2d(4, 4, 3))


def test_switching_keeps_parameters_and_checkpoint_keys() -> None:
    net = build_generator("resnet_6blocks", ngf=8)
    params, keys = list(net.parameters()), list(net.state_dict())
    # Per block two 3x3 convs, plus the last 7x7; the stride-2 ones and the first (RGB in) stay.
    assert nnpack.use_nnpack(net) == 2 * 6 + 1
    assert list(net.parameters()) == params and list(net.state_dict()) == keys
    nnpack.use_native(net)
    assert not any(isinstance(m, nnpack.NnpackConv2d) for m in net.modules())
    # PatchGAN: the last two 4x4 convs have stride 1.
    assert nnpack.use_nnpack(build_discriminator("basic", 3, 8, 3, "instance")) == 2


@pytest.mark.parametrize(("kernel", "limit"), [(7, "FFT_BAND_PIXELS"), (3, "BAND_PIXELS")])
def test_large_outputs_go_in_bands_of_rows(monkeypatch, nnpack_calls, kernel, limit) -> None:
    """Bands bound NNPACK's buffers; the result is the whole convolution's, padding included.
    FFT kernels (above 3x3) have their own, smaller limit."""
    monkeypatch.setattr(nnpack, "BAND_PIXELS", 10**9)
    monkeypatch.setattr(nnpack, "FFT_BAND_PIXELS", 10**9)
    monkeypatch.setattr(nnpack, limit, 40 * 16)
    conv, fast = pair(nn.Conv2d(4, 5, kernel, padding=kernel // 2))
    x = torch.randn(2, 4, 70, 40)
    with torch.no_grad():
        assert rel(fast(x), conv(x)) < 1e-5
    assert len(nnpack_calls) == 2 * 5  # 70 rows in bands of 16, each image alone
    assert max(shape[-2] for shape in nnpack_calls) == 16 + kernel - 1


def test_backend_resolution() -> None:
    assert nnpack.resolve_backend("auto", "cpu") == "nnpack"
    assert nnpack.resolve_backend("auto", "cuda") == "native"
    assert nnpack.resolve_backend("native", "cpu") == "native"
    with pytest.raises(ConfigError, match="choose one of auto, native, nnpack"):
        nnpack.resolve_backend("winograd", "cpu")


def test_generator_outputs_match_native(nnpack_calls) -> None:
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", ngf=8).eval()
    fast = copy.deepcopy(net)
    nnpack.use_nnpack(fast)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        assert torch.allclose(fast(x), net(x), atol=1e-5)
    assert nnpack_calls  # the 7x7 convs at 64x64 took the NNPACK path


@pytest.mark.slow
def test_training_with_nnpack_tracks_native(make_config, nnpack_calls) -> None:
    """At 64 px the 7x7 convs run through NNPACK; a few steps stay within float-rounding drift
    of the native run, and a repeated run is bit-identical (NNPACK is deterministic)."""

    def run(name: str, backend: str) -> dict[str, torch.Tensor]:
        cfg = make_config(
            data={"load_size": 64, "crop_size": 64},
            train={"max_steps": 2, "conv_backend": backend},
        )
        return ckpt.load(train(cfg, run=name) / "latest.pt")["model"]

    native = run("native", "native")
    assert nnpack_calls == []
    fast, again = run("nnpack", "nnpack"), run("again", "nnpack")
    assert nnpack_calls
    assert all(torch.equal(fast[k], again[k]) for k in fast)
    # Adam's normalised first steps turn rounding into changes of up to a few lr (2e-4).
    assert all(torch.allclose(native[k], fast[k], atol=2e-3) for k in native)


@pytest.mark.slow
def test_auto_trains_natively_and_translates_with_nnpack(make_config, nnpack_calls) -> None:
    """Paired runs showed no training gain from NNPACK, and a clear one in translation."""
    from gan_style.inference import load_generators, translate_images

    cfg = make_config(data={"load_size": 64, "crop_size": 64}, train={"max_steps": 1})
    run_dir = train(cfg, run="auto")
    assert nnpack_calls == []
    gens = load_generators(run_dir)  # conv_backend="auto"
    translate_images(gens.G_AB, [np.zeros((64, 64, 3), np.uint8)], gens.multiple)
    assert nnpack_calls


def test_workers_follow_the_core_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from gan_style.training.loop import default_workers

    for cores, workers in ((1, 0), (2, 0), (4, 2), (5, 3), (16, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert default_workers() == workers
