"""model.global_skip: a new generator returns its input; training moves it away from it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_style.config import ConfigError
from gan_style.inference import load_generators, translate_images
from gan_style.models import build_model
from gan_style.networks import build_generator, init_weights
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
