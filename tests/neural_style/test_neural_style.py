from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2yiq

from gan_style.cli import main
from gan_style.errors import CheckpointError, ConfigError
from gan_style.evaluation import ssim
from gan_style.losses import content_loss, gram_matrix, style_loss, total_variation
from gan_style.neural_style import StyleOptions, VGGFeatures, stylize
from gan_style.neural_style.vgg import layer_names

LAYERS = ["conv4_2", "conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]


@pytest.fixture(scope="module")
def vgg() -> VGGFeatures:
    torch.manual_seed(0)
    return VGGFeatures(LAYERS, weights="random")


def picture(seed: int, h: int = 32, w: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / 8.0
    channels = [np.sin(xx * (c + 1) + seed) * np.cos(yy + c) for c in range(3)]
    image = 0.5 + 0.35 * np.stack(channels, -1) + rng.normal(0, 0.05, (h, w, 3))
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def quick(**kw) -> StyleOptions:
    defaults = {"size": 32, "iterations": 6, "optimizer": "adam", "lr": 0.05}
    return StyleOptions(**(defaults | kw))


class TestLosses:
    def test_gram_by_hand(self) -> None:
        features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # 1 x 2 channels x 1 x 2
        expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4  # / (C * H * W)
        assert torch.allclose(gram_matrix(features), expected)

    def test_content_style_tv_by_hand(self) -> None:
        a, b = torch.zeros(1, 2, 1, 2), torch.ones(1, 2, 1, 2)
        assert content_loss(a, b).item() == 1.0
        assert style_loss(b, torch.zeros(1, 2, 2)).item() == pytest.approx(0.25)  # gram(b) = 1/2
        image = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])
        assert total_variation(image).item() == 1.0  # dx = 1 everywhere, dy = 0

    def test_style_loss_has_gradients(self) -> None:
        x = torch.rand(1, 3, 4, 4, requires_grad=True)
        style_loss(x, torch.rand(1, 3, 3)).backward()
        assert x.grad is not None and x.grad.abs().sum() > 0


class TestVGG:
    def test_layer_names(self) -> None:
        names = layer_names()
        assert (
            names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"] and len(names) == 37
        )

    def test_named_features(self, vgg: VGGFeatures) -> None:
        feats = vgg(torch.rand(1, 3, 32, 32))
        assert feats["conv1_1"].shape == (1, 64, 32, 32) and feats["conv4_2"].shape == (
            1,
            512,
            4,
            4,
        )
        assert (feats["conv3_1"] >= 0).all()  # rectified responses

    def test_unknown_layer(self) -> None:
        with pytest.raises(ConfigError, match="unknown VGG-19 layer"):
            VGGFeatures(["conv6_1"], weights="random")

    def test_offline_without_weights(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from torchvision.models import VGG19_Weights

        def offline(*_a, **_k):
            raise OSError("no network")

        monkeypatch.setattr(type(VGG19_Weights.IMAGENET1K_V1), "get_state_dict", offline)
        with pytest.raises(CheckpointError, match=r"no VGG-19 weights.*--vgg-weights PATH"):
            VGGFeatures(["conv4_2"])


class TestStylize:
    def test_loss_falls(self, vgg: VGGFeatures) -> None:
        for optimizer in ("adam", "lbfgs"):
            result = stylize(
                picture(0), [picture(1)], options=quick(optimizer=optimizer, lr=None), vgg=vgg
            )
            totals = [h["total"] for h in result.history]
            assert totals[-1] < totals[0], optimizer
            assert result.image.shape == (26, 32, 3) and result.image.dtype == np.uint8

    def test_style_weight_zero_keeps_content(self, vgg: VGGFeatures) -> None:
        content = picture(0)  # tv_weight 0 too: this checks the style term alone
        options = quick(style_weight=0, tv_weight=0, size=40)
        out = stylize(content, [picture(1)], options=options, vgg=vgg).image
        assert ssim(out, content) > 0.97

    def test_luminance_transfer_keeps_chroma(self, vgg: VGGFeatures) -> None:
        content = picture(0, 40, 40)
        out = stylize(
            content, [picture(1)], options=quick(preserve_colors="luminance", size=40), vgg=vgg
        ).image
        chroma = rgb2yiq(out / 255.0)[..., 1:]
        expected = rgb2yiq(content / 255.0)[..., 1:]
        assert np.abs(chroma - expected).mean() < 0.01
        assert (
            np.abs(rgb2yiq(out / 255.0)[..., 0] - rgb2yiq(content / 255.0)[..., 0]).mean() > 0.001
        )

    def test_nnpack_convolutions_give_the_native_result(self, vgg: VGGFeatures) -> None:
        """At 64 px the first VGG block runs through NNPACK (forward and image gradient)."""
        content, style = picture(0, 64, 64), picture(1, 64, 64)
        images = {
            backend: stylize(
                content, [style], options=quick(size=64, conv_backend=backend), vgg=vgg
            )
            for backend in ("native", "nnpack")
        }
        assert any(type(m).__name__ == "NnpackConv2d" for m in vgg.modules())
        native, fast = (images[k].image.astype(float) for k in ("native", "nnpack"))
        change = np.abs(native - content).mean()  # what stylising did
        assert np.abs(native - fast).mean() < 0.02 * change

    def test_blend_weight_one_equals_single_style(self, vgg: VGGFeatures) -> None:
        content, a, b = picture(0), picture(1), picture(2)
        single = stylize(content, [a], options=quick(), vgg=vgg).image
        blended = stylize(content, [a, b], blend=[1.0, 0.0], options=quick(), vgg=vgg).image
        other = stylize(content, [a, b], blend=[0.5, 0.5], options=quick(), vgg=vgg).image
        assert np.array_equal(single, blended) and not np.array_equal(single, other)

    def test_multi_scale_histogram_and_snapshots(self, vgg: VGGFeatures) -> None:
        shots = []
        options = quick(
            scales=2, size=48, preserve_colors="histogram", snapshot_every=3, init="noise"
        )

        def snapshot(image: np.ndarray, scale: int, iteration: int) -> None:
            shots.append((scale, iteration, image.shape))

        result = stylize(picture(0), [picture(1)], options=options, vgg=vgg, snapshot=snapshot)
        assert len(result.history) == 12 and max(result.image.shape[:2]) == 48
        assert [(s, i) for s, i, _ in shots] == [(0, 3), (0, 6), (1, 3), (1, 6)]
        assert shots[0][2][1] == 24  # the coarse scale is half the size

    def test_bad_blend(self, vgg: VGGFeatures) -> None:
        with pytest.raises(ConfigError, match="2 non-negative weights"):
            stylize(picture(0), [picture(1), picture(2)], blend=[1.0], options=quick(), vgg=vgg)


@pytest.mark.slow
def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from torchvision.models import vgg19

    torch.manual_seed(0)
    weights = tmp_path / "vgg19.pth"
    torch.save(
        {f"features.{k}": v for k, v in vgg19(weights=None).features.state_dict().items()}, weights
    )
    Image.fromarray(picture(0)).save(tmp_path / "content.png")
    Image.fromarray(picture(1)).save(tmp_path / "style.jpg")
    Image.fromarray(picture(2)).save(tmp_path / "style2.png")
    images = [str(tmp_path / name) for name in ("content.png", "style.jpg", "style2.png")]
    argv = ["stylize", *images, "--out", str(tmp_path / "out.png"), "--size", "32"]
    argv += ["--iterations", "3", "--vgg-weights", str(weights), "--style-blend", "0.7,0.3"]
    argv += ["--optimizer", "adam", "--device", "cpu"]
    assert main(argv) == 0
    assert "against the content image: SSIM" in capsys.readouterr().out
    assert Image.open(tmp_path / "out.png").size == (32, 26)

    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    argv[1] = str(tmp_path / "broken.jpg")
    assert main(argv) == 2
    assert "cannot read image" in capsys.readouterr().err
