"""The output convolution rewritten by pixel phases (`output_phases.py`): the same numbers, and
only where it fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_style.inference.onnx_export import write_onnx
from gan_style.inference.output_phases import phase_kernel, split_output_convolution
from gan_style.networks import build_generator


@pytest.mark.parametrize("phases", [2, 4])
@pytest.mark.parametrize("padding", [0, 3])
def test_a_phased_kernel_computes_the_convolution_it_came_from(phases: int, padding: int) -> None:
    """A stride-`phases` convolution with the phased kernel, its channels put back as pixels
    (PyTorch's pixel shuffle is ONNX's DepthToSpace in CRD order), is the original."""
    generator = torch.Generator().manual_seed(0)
    # Outputs of 24x28 pixels: multiples of the phases, as a network's multiple makes them.
    x = torch.randn(2, 5, 30 - 2 * padding, 34 - 2 * padding, generator=generator)
    kernel = torch.randn(3, 5, 7, 7, generator=generator)
    bias = torch.randn(3, generator=generator)
    expected = F.conv2d(x, kernel, bias, padding=padding)
    phased = torch.from_numpy(phase_kernel(kernel.numpy(), phases))
    assert phased.shape == (3 * phases**2, 5, 6 + phases, 6 + phases)
    got = F.pixel_shuffle(
        F.conv2d(x, phased, bias.repeat_interleave(phases**2), stride=phases, padding=padding),
        phases,
    )
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)


def exported(network: nn.Module, path: Path) -> Path:
    axes = {0: "batch", 2: "height", 3: "width"}
    write_onnx(network.eval(), (torch.rand(1, 3, 32, 32),), path, ["image"],
               {"image": axes, "translated": axes})  # fmt: skip
    return path


def run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": x})[0]


def test_a_generators_output_convolution_is_rewritten_and_computes_the_same(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", 3, 3, 8, "instance", False)
    path = exported(net, tmp_path / "g.onnx")
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 36, 44)).astype(np.float32)
    before = run(path, x)

    assert split_output_convolution(path, multiple=4)
    nodes = onnx.load(str(path)).graph.node
    last = [n for n in nodes if n.op_type == "Conv"][-1]
    attributes = {a.name: list(a.ints) for a in last.attribute if a.ints}
    assert attributes["strides"] == [4, 4] and attributes["kernel_shape"] == [10, 10]
    assert [n.op_type for n in nodes].count("DepthToSpace") == 1
    np.testing.assert_allclose(run(path, x), before, atol=1e-5)
    assert not split_output_convolution(path, multiple=4)  # rewritten once only


class WideOutput(nn.Module):
    """Writes 16 channels: OpenVINO fills its vectors already."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class ResizedOutput(nn.Module):
    """Its last convolution works at half the output's size."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.out = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(torch.tanh(self.out(self.down(x))), scale_factor=2.0)


class SharedWeights(nn.Module):
    """Its last convolution's weights are also its first's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(torch.relu(self.conv(x))))


@pytest.mark.parametrize(
    ("network", "multiple"),
    [
        (lambda: build_generator("resnet_6blocks", 3, 3, 8, "instance", False), 1),
        (WideOutput, 4),
        (ResizedOutput, 4),
        (SharedWeights, 4),
    ],
    ids=["odd-multiple", "wide-output", "resized-output", "shared-weights"],
)
def test_networks_it_does_not_fit_are_left_as_they_are(
    tmp_path: Path, network, multiple: int
) -> None:
    path = exported(network(), tmp_path / "g.onnx")
    written = path.read_bytes()
    assert not split_output_convolution(path, multiple)
    assert path.read_bytes() == written
