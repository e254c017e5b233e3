from __future__ import annotations

import pytest
import torch

from gan_style.networks import build_discriminator, build_generator, init_weights, size_multiple
from gan_style.networks.blocks import InstanceNorm2d


class TestGenerators:
    @pytest.mark.parametrize(
        ("name", "size"),
        [("resnet_9blocks", 32), ("resnet_6blocks", 36), ("unet_128", 128), ("unet_256", 256)],
    )
    @pytest.mark.parametrize("norm", ["instance", "batch", "none"])
    def test_shape_range_and_gradients(self, name: str, size: int, norm: str) -> None:
        torch.manual_seed(0)
        net = build_generator(name, ngf=4, norm=norm)
        x = torch.randn(2, 3, size, size)
        y = net(x)
        assert y.shape == x.shape
        assert y.abs().max() <= 1.0  # tanh output, images in [-1, 1]
        y.mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())

    def test_grayscale_channels(self) -> None:
        net = build_generator("resnet_6blocks", in_channels=1, out_channels=1, ngf=4)
        assert net(torch.randn(1, 1, 16, 16)).shape == (1, 1, 16, 16)

    def test_reference_parameter_layout(self) -> None:
        """Same keys and shapes as the reference CycleGAN's published resnet_9blocks files."""
        sd = build_generator("resnet_9blocks", ngf=64).state_dict()
        assert sd["model.1.weight"].shape == (64, 3, 7, 7)
        assert sd["model.4.weight"].shape == (128, 64, 3, 3)
        assert sd["model.7.weight"].shape == (256, 128, 3, 3)
        for block in range(10, 19):
            assert sd[f"model.{block}.conv_block.1.weight"].shape == (256, 256, 3, 3)
            assert sd[f"model.{block}.conv_block.5.weight"].shape == (256, 256, 3, 3)
        assert sd["model.19.weight"].shape == (256, 128, 3, 3)  # ConvTranspose2d: (in, out, k, k)
        assert sd["model.22.weight"].shape == (128, 64, 3, 3)
        assert sd["model.26.weight"].shape == (3, 64, 7, 7)
        assert len(sd) == 2 * (3 + 9 * 2 + 2 + 1)  # weight + bias of every conv; no norm params

    def test_dropout_is_active_only_in_training(self) -> None:
        torch.manual_seed(0)
        net = build_generator("resnet_6blocks", ngf=4, dropout=True)
        x = torch.randn(1, 3, 16, 16)
        assert not torch.equal(net(x), net(x))
        net.eval()
        assert torch.equal(net(x), net(x))

    def test_unknown_name_lists_choices(self) -> None:
        choices = "resnet_9blocks, resnet_6blocks, resnet_4blocks, unet_128, unet_256"
        with pytest.raises(ValueError, match=choices):
            build_generator("resnet_12blocks")

    def test_size_multiple(self) -> None:
        assert size_multiple("resnet_9blocks") == 4 and size_multiple("unet_256") == 256


class TestDiscriminators:
    def test_basic_is_a_70px_patchgan(self) -> None:
        net = build_discriminator("basic", ndf=4)
        assert net(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)

    @pytest.mark.parametrize(("n_layers", "side"), [(1, 30), (2, 14), (4, 2)])
    def test_n_layers(self, n_layers: int, side: int) -> None:
        net = build_discriminator("n_layers", ndf=4, n_layers=n_layers)
        assert net(torch.randn(1, 3, 64, 64)).shape == (1, 1, side, side)

    def test_pixel_keeps_resolution(self) -> None:
        net = build_discriminator("pixel", ndf=4, norm="batch")
        assert net(torch.randn(2, 3, 20, 24)).shape == (2, 1, 20, 24)

    def test_unknown_name(self) -> None:
        with pytest.raises(ValueError, match="basic, n_layers, pixel"):
            build_discriminator("stylegan")


class TestInit:
    @pytest.mark.parametrize("scheme", ["normal", "xavier", "kaiming", "orthogonal"])
    def test_schemes_zero_biases(self, scheme: str) -> None:
        net = init_weights(build_discriminator("basic", ndf=8), scheme, 0.02)
        biases = [
            m.bias for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.bias is not None
        ]
        assert all(torch.count_nonzero(b) == 0 for b in biases)

    def test_normal_uses_gain_as_std(self) -> None:
        torch.manual_seed(0)
        net = init_weights(build_generator("resnet_6blocks", ngf=16), "normal", 0.02)
        std = net.model[1].weight.std().item()
        assert 0.018 < std < 0.022

    def test_unknown(self) -> None:
        with pytest.raises(ValueError, match="normal, xavier"):
            init_weights(torch.nn.Conv2d(1, 1, 1), "uniform")


class TestInstanceNorm:
    """Ours runs on CPU as group norm (one channel per group): PyTorch's own results, faster."""

    @pytest.mark.parametrize("affine", [False, True])
    def test_matches_pytorch_in_inference_and_is_pytorchs_in_training(
        self, affine: bool, monkeypatch
    ) -> None:
        torch.manual_seed(0)
        ours, theirs = InstanceNorm2d(6, affine=affine), torch.nn.InstanceNorm2d(6, affine=affine)
        if affine:
            with torch.no_grad():
                ours.weight.normal_(), ours.bias.normal_()
            theirs.load_state_dict(ours.state_dict())
        x = torch.randn(3, 6, 9, 11) * 3 + 1
        calls = []
        group_norm = torch.nn.functional.group_norm
        monkeypatch.setattr(
            torch.nn.functional,
            "group_norm",
            lambda *a, **k: calls.append(a[1]) or group_norm(*a, **k),
        )
        with torch.inference_mode():
            assert torch.allclose(ours(x), theirs(x), atol=1e-5)
        assert calls == [6]  # ours took the group-norm path, one group per channel
        x.requires_grad_(True)
        assert torch.equal(ours(x), theirs(x))  # training: PyTorch's own kernel, bit for bit
        assert calls == [6]

    def test_graph_capture_keeps_instance_norm(self, monkeypatch) -> None:
        """ONNX export, tracing and compiling see PyTorch's instance norm."""
        monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
        monkeypatch.setattr(torch.nn.functional, "group_norm", None)  # would fail if called
        x = torch.randn(1, 4, 5, 5)
        assert torch.allclose(InstanceNorm2d(4)(x), torch.nn.InstanceNorm2d(4)(x))

    def test_generators_and_discriminators_use_it(self) -> None:
        for net in (build_generator("resnet_6blocks", ngf=8), build_discriminator("basic", ndf=8)):
            norms = [m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
            assert norms and all(type(m) is InstanceNorm2d for m in norms)
