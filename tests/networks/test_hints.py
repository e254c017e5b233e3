"""Colour hints spread before the generator: what the extra channels hold."""

from __future__ import annotations

import pytest
import torch

from gan_style.networks import build_generator
from gan_style.networks.hints import EXTRA_CHANNELS, HintedGenerator, HintSpread, underlay


def drawing_with_two_hints() -> torch.Tensor:
    """White paper, a grey line, a red hint top left and a blue one bottom right ([-1, 1])."""
    x = torch.ones(1, 3, 32, 32)
    x[:, :, 16, :] = -0.5  # grey ink: not a hint
    x[:, :, 2:6, 2:6] = torch.tensor([0.8, -0.8, -0.8]).view(3, 1, 1)
    x[:, :, 26:30, 26:30] = torch.tensor([-0.8, -0.8, 0.8]).view(3, 1, 1)
    return x


def test_hints_are_spread_locally_and_over_the_whole_image() -> None:
    x = drawing_with_two_hints()
    out = HintSpread()(x)
    assert out.shape == (1, 3 + EXTRA_CHANNELS, 32, 32) and torch.equal(out[:, :3], x)
    fine, coarse, whole = out[:, 3:7], out[:, 7:11], out[:, 11:15]
    assert torch.allclose(fine[0, :3, 4, 4], torch.tensor([0.8, -0.8, -0.8]))  # the hint itself
    assert fine[0, 3, 16, 16] == -1  # far from both: no confidence at 4 px
    assert coarse[0, 0, 3, 3] > 0.5 and coarse[0, 2, 28, 28] > 0.5  # red and blue areas
    assert torch.allclose(whole[0, :3, 0, 0], torch.tensor([0.0, -0.8, 0.0]))  # their mean
    assert torch.allclose(whole[0, :3, 0, 0], whole[0, :3, 31, 31])
    blank = HintSpread()(torch.ones(1, 3, 20, 20))  # no hints: no colour, no confidence
    assert (blank[:, 3:].reshape(3, 4, -1)[:, :3] == 0).all()
    assert (blank[:, 3:].reshape(3, 4, -1)[:, 3] == -1).all()


def test_a_hinted_generator_takes_any_size_and_trains() -> None:
    torch.manual_seed(0)
    net = build_generator("resnet_4blocks", 3, 3, 8, "instance", False, spread_hints=True)
    assert isinstance(net, HintedGenerator) and not list(net.spread.parameters())
    x = drawing_with_two_hints()
    y = net(x)
    assert y.shape == x.shape
    y.mean().backward()
    assert net.generator.model[1].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="RGB drawings and no global skip"):
        build_generator("resnet_4blocks", 1, 1, 8, "instance", False, spread_hints=True)


def test_the_output_is_a_change_to_the_nearest_hint_colour() -> None:
    """A generator that adds nothing returns each pixel's nearest spread hint colour: the
    hint's own near it, a mix between them; mid grey without hints."""

    class Nothing(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros_like(x[:, :3])

    x = drawing_with_two_hints()
    out = HintedGenerator(Nothing())(x)
    assert torch.allclose(out[0, :, 3, 3], torch.tensor([0.8, -0.8, -0.8]))
    assert torch.allclose(out[0, :, 28, 28], torch.tensor([-0.8, -0.8, 0.8]))
    between = out[0, :, 16, 16]  # as far from both: a mix of the two
    assert between[1] == pytest.approx(-0.8) and between[0].abs() < 0.5 > between[2].abs()
    assert torch.equal(out, underlay(HintSpread()(x)))
    assert (HintedGenerator(Nothing())(torch.ones(1, 3, 8, 8)) == 0).all()
