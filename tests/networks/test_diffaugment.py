"""DiffAugment: each operation by hand, gradients through it, pairs kept aligned, the hook."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_style.config import DIFFAUGMENT, ConfigError
from gan_style.networks import diffaugment
from gan_style.networks.diffaugment import OPERATIONS, attach, augment, cutout, translation


def test_the_config_knows_every_operation(make_config) -> None:
    assert set(DIFFAUGMENT) == set(OPERATIONS)
    make_config(model={"diffaugment": "color,translation,cutout"})
    with pytest.raises(ConfigError, match="unknown operation colour; choose from color"):
        make_config(model={"diffaugment": "colour,cutout"})


def test_translation_shifts_whole_images_and_fills_zeros() -> None:
    """Each output is its input moved by one (dy, dx) within 1/8 of the side, zero-filled."""
    torch.manual_seed(0)
    x = torch.arange(1, 2 * 3 * 16 * 16 + 1, dtype=torch.float32).reshape(2, 3, 16, 16)
    y = translation(x)
    for image, moved in zip(x, y, strict=True):
        found = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                padded = nn.functional.pad(image, (2, 2, 2, 2))
                expected = padded[:, 2 + dy : 18 + dy, 2 + dx : 18 + dx]
                found.append(torch.equal(moved, expected))
        assert sum(found) == 1


def test_cutout_zeroes_one_square_of_half_the_side() -> None:
    torch.manual_seed(1)
    y = cutout(torch.ones(4, 3, 16, 16))
    for image in y:
        zero = image[0] == 0
        assert torch.equal(zero, (image == 0).all(0))  # every channel alike
        rows, cols = zero.any(1).nonzero(), zero.any(0).nonzero()
        assert 1 <= len(rows) <= 9 and 1 <= len(cols) <= 9
        assert zero.sum() == len(rows) * len(cols)  # a rectangle, clipped at the border


def test_colour_transforms_a_pair_alike_and_lets_gradients_through() -> None:
    torch.manual_seed(2)
    image = torch.rand(3, 3, 8, 8) * 2 - 1
    pair = torch.cat([image, image], 1).requires_grad_(True)  # pix2pix's stacked input
    out = augment(pair, ["color", "translation", "cutout"])
    assert torch.equal(out[:, :3], out[:, 3:])
    assert not torch.allclose(out, pair)
    out.square().sum().backward()
    assert pair.grad.abs().sum() > 0


class Recorder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        self.seen.append(x)
        return self.conv(x)


def test_the_hook_augments_while_training_only_and_keeps_the_weights_names() -> None:
    d = Recorder()
    names = set(d.state_dict())
    attach(d, "cutout")
    x = torch.ones(2, 3, 8, 8)
    d(x, torch.zeros(2, 4))
    assert (d.seen[-1] == 0).any()
    d.eval()
    d(x)
    assert torch.equal(d.seen[-1], x)
    assert set(d.state_dict()) == names
    plain = Recorder()
    attach(plain, "")
    plain(x)
    assert torch.equal(plain.seen[-1], x)


def test_an_unknown_operation_names_the_choices() -> None:
    with pytest.raises(ValueError, match="choose from color, translation, cutout"):
        diffaugment.parse_policy("color,zoom")
