from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_style.errors import CheckpointError
from gan_style.inference import load_generators, translate_images, translate_tiled
from gan_style.networks import build_generator
from gan_style.runtime import checkpoint as ckpt
from tests import reference_cyclegan as ref


def image(h: int, w: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 127 + 100 * np.sin(xx / 7.0 + seed)[..., None] * np.cos(yy / 5.0)[..., None]
    noise = rng.normal(0, 10, (h, w, channels))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


class TestTranslateImages:
    @pytest.mark.parametrize(("name", "multiple"), [("resnet_6blocks", 4), ("unet_128", 128)])
    def test_odd_sizes_come_back_at_the_same_size(self, name: str, multiple: int) -> None:
        torch.manual_seed(0)
        net = build_generator(name, ngf=4, norm="batch" if "unet" in name else "instance").eval()
        outs = translate_images(net, [image(37, 53), image(37, 53, 1), image(20, 31)], multiple)
        assert [o.shape for o in outs] == [(37, 53, 3), (37, 53, 3), (20, 31, 3)]
        assert all(o.dtype == np.uint8 for o in outs)

    def test_batching_does_not_change_results(self) -> None:
        torch.manual_seed(0)
        net = build_generator("resnet_6blocks", ngf=4).eval()
        images = [image(24, 28, s) for s in range(3)]
        together = translate_images(net, images, 4, batch_size=3)
        alone = [translate_images(net, [im], 4)[0] for im in images]
        assert all(
            np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(together, alone, strict=True)
        )

    def test_tiles_match_the_whole_image_away_from_borders(self) -> None:
        """Stated tolerance: with a norm-free generator (convolutions only, so results depend on
        local context alone), tiles of 64 px overlapping by 16 px give a mean absolute difference
        under 2 gray levels and 99% of pixels within 8, more than 8 px from the image border."""
        torch.manual_seed(0)
        net = build_generator("resnet_6blocks", ngf=8, norm="none").eval()
        big = image(150, 190)
        whole = translate_images(net, [big], 4)[0].astype(int)
        tiled = translate_tiled(net, big, tile=64, overlap=16).astype(int)
        diff = np.abs(whole - tiled)[8:-8, 8:-8]
        assert tiled.shape == big.shape
        assert diff.mean() < 2.0 and np.quantile(diff, 0.99) <= 8

    @pytest.mark.parametrize("norm", ["instance", "batch"])
    def test_tiles_use_the_whole_image_statistics(self, norm: str) -> None:
        """Norm layers see the whole image's statistics, not each tile's: with an overlap wider
        than most of the receptive field the tiles add up to the whole-image result within 2
        gray levels on average, with any norm (measured with instance norm: 1.1, against 3.0
        with per-tile statistics). Batch norm as pix2pix tests it normalises like instance
        norm, with the test image's statistics."""
        from gan_style.inference.generators import set_test_behaviour

        torch.manual_seed(0)
        net = build_generator("resnet_6blocks", ngf=8, norm=norm)
        set_test_behaviour(net, paper=norm == "batch")
        big = image(200, 260)
        whole = translate_images(net, [big], 4)[0].astype(int)
        tiled = translate_tiled(net, big, tile=160, overlap=96).astype(int)
        local = translate_tiled(net, big, 160, overlap=96, whole_image_statistics=False)
        assert np.abs(whole - tiled).mean() < 2.0
        assert np.abs(whole - tiled).mean() < 0.6 * np.abs(whole - local.astype(int)).mean()

    def test_small_image_skips_tiling(self) -> None:
        torch.manual_seed(0)
        net = build_generator("resnet_6blocks", ngf=4).eval()
        small = image(30, 40)
        assert np.array_equal(translate_tiled(net, small, 64), translate_images(net, [small], 4)[0])


class TestReferenceWeights:
    def save_reference(
        self, path: Path, n_blocks: int = 9, ngf: int = 8, old_running_stats: bool = False
    ) -> torch.nn.Module:
        torch.manual_seed(1)
        net = ref.ResnetGenerator(
            3, 3, ngf=ngf, norm_layer=ref.instance_norm(), n_blocks=n_blocks
        ).eval()
        for p in net.parameters():  # weights far from zero, like trained ones
            torch.nn.init.normal_(p, 0, 0.1)
        state = net.state_dict()
        if old_running_stats:  # files saved by PyTorch < 0.4 carry these for instance norms
            state["model.2.running_mean"] = torch.zeros(ngf)
            state["model.2.running_var"] = torch.ones(ngf)
        torch.save(state, path)
        return net

    @pytest.mark.parametrize(
        ("file_name", "n_blocks"), [("style_monet.pth", 9), ("latest_net_G_A.pth", 6)]
    )
    def test_published_layout_loads_and_matches(
        self, tmp_path: Path, file_name: str, n_blocks: int
    ) -> None:
        reference = self.save_reference(tmp_path / file_name, n_blocks)
        gens = load_generators(tmp_path / file_name)
        cfg = gens.config.model
        assert (cfg.generator, cfg.ngf, cfg.norm) == (f"resnet_{n_blocks}blocks", 8, "instance")
        x = torch.rand(2, 3, 40, 48) * 2 - 1
        with torch.no_grad():
            # Rounding only: our instance norm runs as group norm on CPU.
            assert torch.allclose(gens.G_AB(x), reference(x), atol=1e-5)

    def test_old_running_stats_are_ignored(self, tmp_path: Path) -> None:
        reference = self.save_reference(tmp_path / "old.pth", old_running_stats=True)
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        with torch.no_grad():
            assert torch.allclose(
                load_generators(tmp_path / "old.pth").G_AB(x), reference(x), atol=1e-5
            )

    def test_single_generator_has_one_direction(self, tmp_path: Path) -> None:
        self.save_reference(tmp_path / "style_monet.pth")
        gens = load_generators(tmp_path / "style_monet.pth")
        with pytest.raises(CheckpointError, match=r"single generator.*drop --direction BtoA"):
            gens.pick("BtoA")

    def test_damaged_reference_file(self, tmp_path: Path) -> None:
        self.save_reference(tmp_path / "g.pth")
        state = torch.load(tmp_path / "g.pth")
        state["model.4.weight"] = state["model.4.weight"][:, :3]
        torch.save(state, tmp_path / "g.pth")
        with pytest.raises(
            CheckpointError, match="look like resnet_9blocks ngf=8 norm=instance but do not fit"
        ):
            load_generators(tmp_path / "g.pth")


def test_checkpoint_from_another_architecture(tmp_path: Path, make_config) -> None:
    """A generator file whose weights do not fit its config: one line naming the architecture."""
    from gan_style.config import to_dict

    cfg = make_config()
    small = build_generator("resnet_6blocks", ngf=4).state_dict()
    ckpt.save_atomic(
        {"config": to_dict(cfg), "G_AB": small, "G_BA": small}, tmp_path / "generator.pt"
    )
    with pytest.raises(
        CheckpointError, match="do not fit the resnet_6blocks ngf=8 norm=instance generator"
    ):
        load_generators(tmp_path / "generator.pt")


def test_not_a_checkpoint(tmp_path: Path) -> None:
    torch.save({"weights": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="not a gan-style checkpoint"):
        load_generators(tmp_path / "x.pt")
