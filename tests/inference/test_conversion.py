"""Every generator the package trains exports to ONNX and runs on the CPU engine, matching
PyTorch: the engine really runs it (asked for by name, a refusal would be an error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_style.export import export_generator
from gan_style.inference import engines, int8
from gan_style.inference.generators import Generators
from gan_style.inference.openvino_engine import OpenVinoGenerator
from gan_style.inference.probes import smooth_probe
from gan_style.inference.translation import translate_batch
from gan_style.models import model_class
from tests.conftest import tiny_config, write_images

VARIANTS = {
    "paper": {},
    "global_skip": {"model": {"global_skip": True}},
    "skip_filter": {"model": {"global_skip": True, "skip_filter": True}},
    "long_skip": {"model": {"long_skip": True, "global_skip": True}},
    "antialias": {"model": {"antialias": True}},
    "resize_upsampling": {"model": {"upsample": "resize"}},
    "unet_128": {
        "model": {"generator": "unet_128", "norm": "batch"},
        "data": {"crop_size": 128, "load_size": 128},
    },
    "cut": {"model": {"name": "cut", "antialias": True}},
    "colorization": {"model": {"name": "colorization"}, "data": {"dataset_mode": "colorization"}},
    "multistyle": {"model": {"name": "multistyle"}},
    "upscale_x2": {
        "model": {
            "name": "pix2pix",
            "upscale": 2,
            "global_skip": True,
            "skip_filter": True,
            "long_skip": True,
        },
        "data": {"dataset_mode": "restoration"},
    },
    "edsr_x2": {
        "model": {
            "name": "pix2pix",
            "generator": "edsr_8blocks",
            "upscale": 2,
            "global_skip": True,
        },
        "data": {"dataset_mode": "restoration"},
    },
    "spread_hints": {
        "model": {"name": "pix2pix", "spread_hints": True},
        "data": {"dataset_mode": "sketch", "direction": "BtoA", "sketch_hints": 4},
    },
}


def generators(name: str, tmp_path: Path) -> tuple[Generators, torch.Tensor | None]:
    """A freshly initialised model of the variant, as inference loads it, in eval mode."""
    root = tmp_path / "data"
    write_images(root / "trainA", 2, seed=1)
    for style in ("monet", "ukiyoe"):
        write_images(root / "trainB" / style, 2, seed=2)
    cfg = tiny_config(root, tmp_path / "runs", **VARIANTS[name])
    spec = model_class(cfg.model.name)
    cfg = spec.prepare_config(cfg)
    torch.manual_seed(0)
    nets = spec.inference_networks(cfg)
    for net in nets.values():
        net.eval()
        with torch.no_grad():  # away from the initialisation, so that every layer matters
            for p in net.parameters():
                p.add_(torch.randn_like(p) * 0.05)
    gens = Generators.from_networks(nets, cfg, 0, tmp_path / "generator.pt")
    gens.G_AB.eval()  # with any wrapper `image_network` put around it
    style = gens.style_code("monet") if gens.styles else None
    return gens, style


def grey_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_generator_exports_and_runs_on_the_engine(name: str, tmp_path: Path) -> None:
    gens, style = generators(name, tmp_path)
    generator = gens.pick("AtoB")
    channels = gens.config.data.channels
    side = max(64, gens.multiple)
    image = smooth_probe(np.random.default_rng(2), side, side + gens.multiple, channels)
    expected = translate_batch(generator, image[None], gens.multiple, style)[0]

    engines._MADE.clear()
    converted = engines.converted_engine(generator, gens.multiple, style, engine="openvino")
    assert isinstance(converted, OpenVinoGenerator)  # not a silent fallback to PyTorch
    outputs = [converted.translate(image)]
    engines._MADE.clear()

    exported = export_generator(gens, "AtoB", "onnx", tmp_path / "g.onnx", style)
    network = getattr(generator, "network", None)
    if network is None:
        outputs.append(OpenVinoGenerator(exported, 1).translate(image))
    else:  # colorization's file is its L -> ab network, without the colour conversions
        x = torch.rand(1, 1, side, side) * 2 - 1
        with torch.no_grad():
            want = network(x).numpy()
        got = OpenVinoGenerator(exported, 1).forward(x.numpy())
        assert np.abs(got - want).max() < 1e-3
    for got in outputs:
        assert got.shape == expected.shape
        assert grey_difference(got, expected).max() <= 2, name


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_generator_runs_in_bf16(name: str, tmp_path: Path) -> None:
    """The engine `auto` picks on CPUs with AMX takes every kind (elsewhere OpenVINO computes
    the same file in fp32): within its bar of PyTorch, asked for by name so a refusal fails."""
    gens, style = generators(name, tmp_path)
    generator = gens.pick("AtoB")
    side = max(64, gens.multiple)
    image = smooth_probe(np.random.default_rng(2), side, side, gens.config.data.channels)
    expected = translate_batch(generator, image[None], gens.multiple, style)[0]
    engines._MADE.clear()
    converted = engines.converted_engine(generator, gens.multiple, style, engine="bf16")
    assert isinstance(converted, OpenVinoGenerator) and converted.bf16
    got = converted.translate(image)
    engines._MADE.clear()
    assert got.shape == expected.shape
    assert grey_difference(got, expected).mean() <= int8.MEAN_GREY, name
