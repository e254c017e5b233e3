"""model.global_skip and model.skip_filter: a new generator returns its input; training moves it
away from it."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch

from gan_style.config import ConfigError
from gan_style.data.demo import WARM
from gan_style.inference import load_generators, translate_images
from gan_style.models import build_model
from gan_style.networks import build_generator, init_weights
from gan_style.networks.blocks import ResnetBlock, SkipFilter
from gan_style.training.loop import train


def test_a_new_generator_is_the_identity() -> None:
    torch.manual_seed(0)
    skip = init_weights(build_generator("resnet_6blocks", ngf=8, global_skip=True), "normal", 0.02)
    plain = init_weights(build_generator("resnet_6blocks", ngf=8), "normal", 0.02)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(skip(x), x, atol=2e-3)  # the clamp at 0.999 only
        assert (plain(x) - x).abs().mean() > 0.1
    assert set(skip.state_dict()) - set(plain.state_dict()) == {"skip_gain"}
    last = skip.model[-2]
    assert skip.skip_gain.item() == 1 and not last.weight.any() and not last.bias.any()


@pytest.mark.slow
def test_training_learns_the_gain_and_inference_rebuilds_it(make_config, tmp_path) -> None:
    run_dir = train(make_config(model={"global_skip": True}, train={"max_steps": 2}), run="skip")
    gens = load_generators(run_dir)
    # The zeroed last layer got gradients at once, and the gain once that layer was non-zero.
    assert gens.G_AB.model[-2].weight.abs().sum() > 0 and gens.G_AB.skip_gain.item() != 1
    image = (np.random.default_rng(0).random((20, 28, 3)) * 255).astype(np.uint8)
    out = translate_images(gens.G_AB, [image], gens.multiple)[0]
    assert out.shape == image.shape and np.abs(out.astype(int) - image.astype(int)).mean() < 30


def test_needs_a_resnet_with_matching_channels(make_config) -> None:
    with pytest.raises(ConfigError, match=r"model\.global_skip needs a ResNet generator"):
        make_config(model={"global_skip": True, "generator": "unet_128"})
    assert build_model(make_config(model={"global_skip": True})).G_AB.skip_gain is not None


@pytest.mark.parametrize("name", ["cycle_gan", "pix2pix"])
def test_antialiased_sampling_reaches_every_model(make_config, name: str) -> None:
    """model.antialias builds blurred down/upsampling (no transposed convolutions) for the
    CycleGAN and pix2pix generators too, not only CUT's."""
    overrides = {"antialias": True, "generator": "resnet_6blocks"}
    if name == "pix2pix":
        overrides |= {"name": "pix2pix", "discriminator": "basic"}
    G = build_model(make_config(model=overrides)).G_AB
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules())


def test_a_new_skip_filter_is_the_identity_and_gets_gradients() -> None:
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", ngf=8, global_skip=True, skip_filter=True)
    net = init_weights(net, "normal", 0.02)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = net(x)
    assert torch.allclose(y, x, atol=2e-3)
    (y - x.flip(-1)).abs().mean().backward()
    assert net.skip_filter.filter.grad.abs().sum() > 0 and net.skip_filter.colour.grad.any()
    plain = build_generator("resnet_6blocks", ngf=8, global_skip=True)
    assert set(net.state_dict()) - set(plain.state_dict()) == {
        "skip_filter.colour", "skip_filter.filter",
    }  # fmt: skip


def test_skip_filter_computes_a_colour_matrix_then_a_normalised_filter() -> None:
    """By hand: the demo's warm palette as the matrix (in [-1, 1] images an affine map), then
    a 3x3 box blur inside the 5x5 window (raw weights 1 + 8 ones, normalised to 1/9 each)."""
    f = SkipFilter(3)
    matrix = torch.tensor(WARM, dtype=torch.float32)
    offset = matrix.sum(1) - 1  # [0, 1] -> [-1, 1]: M(x+1)/2*2-1 = Mx + (M1 - 1)
    with torch.no_grad():
        f.colour[:, :3] = (matrix - torch.eye(3)) / f.LR_SCALE
        f.colour[:, 3] = offset / f.LR_SCALE
        f.filter[:, :, 1:4, 1:4] = 1 / f.LR_SCALE
        f.filter[:, :, 2, 2] = 0  # the identity's 1 is already there
    x = torch.rand(1, 3, 12, 12) * 2 - 1
    tinted = torch.einsum("ij,bjhw->bihw", matrix, x) + offset[None, :, None, None]
    padded = torch.nn.functional.pad(tinted, (1, 1, 1, 1), mode="reflect")
    expected = padded.unfold(2, 3, 1).unfold(3, 3, 1).mean(dim=(-1, -2))
    assert torch.allclose(f(x), expected, atol=1e-5)


@pytest.mark.slow
def test_training_moves_the_skip_filter(make_config) -> None:
    cfg = make_config(model={"global_skip": True, "skip_filter": True}, train={"max_steps": 2})
    gens = load_generators(train(cfg, run="filter"))
    assert gens.G_AB.skip_filter.filter.abs().sum() > 0  # read back from the checkpoint


def test_skip_filter_needs_the_global_skip(make_config) -> None:
    with pytest.raises(ConfigError, match=r"set model\.global_skip=true"):
        make_config(model={"skip_filter": True})


def test_resize_upsampling_has_no_built_in_checkerboard() -> None:
    """A transposed 3x3 stride-2 convolution gives odd and even output pixels different numbers
    of taps, so a constant input comes out as a checkerboard; nearest doubling then a 3x3
    convolution gives every inner pixel the same sum."""
    torch.manual_seed(0)
    transposed = build_generator("resnet_6blocks", ngf=8)
    resized = build_generator("resnet_6blocks", ngf=8, upsample="resize")
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in transposed.modules())
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in resized.modules())
    ups = [m for m in resized.model if isinstance(m, torch.nn.Upsample)]
    assert len(ups) == 2 and all(m.mode == "nearest" and m.scale_factor == 2 for m in ups)
    x = torch.rand(1, 3, 40, 24) * 2 - 1
    assert resized(x).shape == x.shape

    constant = torch.ones(1, 4, 6, 6)
    for up in (
        torch.nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1, bias=False),
        torch.nn.Sequential(
            torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(4, 1, 3, padding=1, bias=False)
        ),
    ):
        torch.nn.init.constant_(up.weight if hasattr(up, "weight") else up[1].weight, 1.0)
        inner = up(constant)[0, 0, 2:-2, 2:-2]
        spread = (inner.max() - inner.min()).item()
        assert (spread > 0) == isinstance(up, torch.nn.ConvTranspose2d)


@pytest.mark.slow
def test_resize_upsampling_trains_and_reloads(make_config) -> None:
    cfg = make_config(model={"upsample": "resize", "global_skip": True}, train={"max_steps": 2})
    gens = load_generators(train(cfg, run="resize"))
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in gens.G_AB.modules())
    assert gens.G_AB.model[-2].weight.abs().sum() > 0


def test_resize_upsampling_is_refused_where_it_cannot_apply(make_config) -> None:
    with pytest.raises(ConfigError, match=r"model\.upsample needs a ResNet generator"):
        make_config(model={"upsample": "resize", "generator": "unet_128"})
    with pytest.raises(ConfigError, match=r"model\.antialias already upsamples"):
        make_config(model={"upsample": "resize", "antialias": True})
    with pytest.raises(ConfigError, match=r"model\.upsample: 'bilinear' is not one of"):
        make_config(model={"upsample": "bilinear"})


def test_long_skip_feeds_the_first_layers_features_to_the_last_layer() -> None:
    """By hand: the first four modules (pad, conv, norm, ReLU) give full-resolution features
    that are concatenated to the upsampled ones in front of the last convolution."""
    torch.manual_seed(0)
    net = init_weights(build_generator("resnet_6blocks", ngf=8, long_skip=True), "normal", 0.02)
    x = torch.rand(1, 3, 24, 20) * 2 - 1
    with torch.no_grad():
        first = net.model[:4](x)
        decoded = net.model[4:-3](first.clone())
        expected = net.model[-3:](torch.cat([decoded, first], 1))
        assert torch.allclose(net(x), expected, atol=1e-6)
    assert net.model[-2].in_channels == 16 and first.shape[-2:] == x.shape[-2:]
    plain = build_generator("resnet_6blocks", ngf=8)
    assert set(net.state_dict()) == set(plain.state_dict())  # same names, a wider last layer
    skip = build_generator("resnet_6blocks", ngf=8, long_skip=True, global_skip=True)
    assert torch.allclose(skip(x), x, atol=2e-3)  # still starts as the identity


@pytest.mark.slow
def test_long_skip_trains_and_reloads(make_config) -> None:
    cfg = make_config(model={"long_skip": True, "global_skip": True}, train={"max_steps": 2})
    gens = load_generators(train(cfg, run="long"))
    last = gens.G_AB.model[-2]
    assert last.in_channels == 2 * cfg.model.ngf and last.weight.abs().sum() > 0


def test_long_skip_and_conflicting_sampling_are_refused(make_config) -> None:
    with pytest.raises(ConfigError, match=r"model\.long_skip needs a ResNet generator"):
        make_config(model={"long_skip": True, "generator": "unet_128"})
    with pytest.raises(ValueError, match="a long skip needs a resnet generator"):
        build_generator("unet_128", long_skip=True)
    with pytest.raises(ValueError, match="antialias already upsamples"):
        build_generator("resnet_6blocks", antialias=True, upsample="resize")


def test_resnet_4blocks_is_the_resnet_with_four_residual_blocks() -> None:
    for name, blocks in (("resnet_4blocks", 4), ("resnet_6blocks", 6), ("resnet_9blocks", 9)):
        net = build_generator(name, ngf=4)
        assert sum(isinstance(m, ResnetBlock) for m in net.modules()) == blocks
        assert net(torch.zeros(1, 3, 16, 12)).shape == (1, 3, 16, 12)


@pytest.mark.parametrize("long_skip", [False, True])
def test_the_first_features_are_held_only_for_the_long_skip(long_skip: bool) -> None:
    """At 512 px the paper generator's first features are 64 MiB: without the long skip they
    must be freed as soon as the next layer has read them."""
    net = build_generator("resnet_6blocks", ngf=4, long_skip=long_skip).eval()
    first, alive = [], []
    net.model[3].register_forward_hook(lambda m, i, o: first.append(weakref.ref(o)))
    net.model[7].register_forward_hook(lambda m, i, o: alive.append(first[0]() is not None))
    with torch.no_grad():
        net(torch.zeros(1, 3, 16, 16))
    assert alive == [long_skip]


@pytest.mark.parametrize(
    ("option", "value"), [("antialias", True), ("long_skip", True), ("upsample", "resize")]
)
def test_every_resnet_only_option_names_the_resnets(make_config, option: str, value) -> None:
    with pytest.raises(ConfigError, match=rf"model\.{option} needs a ResNet generator \("
                       r"resnet_9blocks, resnet_6blocks, resnet_4blocks\)"):  # fmt: skip
        make_config(model={option: value, "generator": "unet_128"})
