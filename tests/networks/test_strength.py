"""The strength dial of global-skip generators: 0 gives the input, 1 the model as trained, more
a stronger change; `translate --strength`, `gallery --strengths` and the web page use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.app.handlers import ModelCache, translate_uploads
from gan_style.cli import main
from gan_style.errors import ConfigError
from gan_style.networks import build_generator, init_weights, set_strength
from gan_style.networks.generators import dialled, has_strength_dial, strength_of
from gan_style.training.loop import train
from tests.conftest import tiny_config, write_images


def trained_looking(skip_filter: bool) -> torch.nn.Module:
    """A global-skip generator moved away from the identity it starts as."""
    torch.manual_seed(0)
    net = build_generator("resnet_6blocks", ngf=8, global_skip=True, skip_filter=skip_filter)
    net = init_weights(net, "normal", 0.02).eval()
    with torch.no_grad():
        net.model[-2].weight.normal_(0, 0.05)
        if skip_filter:
            net.skip_filter.colour.normal_(0, 0.02)
            net.skip_filter.filter.normal_(0, 0.02)
    return net


@pytest.mark.parametrize("skip_filter", [False, True])
def test_zero_is_the_input_one_the_model_and_more_a_stronger_change(skip_filter: bool) -> None:
    net = trained_looking(skip_filter)
    x = torch.rand(1, 3, 32, 32) * 1.8 - 0.9
    with torch.no_grad():
        trained = net(x)
        changes = {}
        for strength in (0.0, 0.5, 1.0, 2.0):
            set_strength(net, strength)
            changes[strength] = (net(x) - x).abs().mean().item()
            if strength == 1.0:
                assert torch.equal(net(x), trained)  # the graph trained, unchanged
    assert changes[0.0] < 1e-5
    assert 0 < changes[0.5] < changes[1.0] < changes[2.0]


def test_the_strength_is_part_of_what_a_conversion_is_keyed_by() -> None:
    net = trained_looking(False)
    trained = repr(net)
    set_strength(net, 0.5)
    assert repr(net) != trained and strength_of(net) == 0.5
    set_strength(net, 1.0)
    assert repr(net) == trained  # conversions cached before the dial existed still match


def test_dialled_restores_the_strength_before_it() -> None:
    net = trained_looking(False)
    set_strength(net, 0.25)
    with dialled(net, 1.5):
        assert strength_of(net) == 1.5
    assert strength_of(net) == 0.25


def test_a_model_without_a_global_skip_has_no_dial() -> None:
    plain = build_generator("resnet_6blocks", ngf=8)
    assert not has_strength_dial(plain) and has_strength_dial(trained_looking(False))
    set_strength(plain, 1.0)  # as trained: nothing to do
    with pytest.raises(ConfigError, match=r"model\.global_skip=true"):
        set_strength(plain, 0.5)


@pytest.fixture(scope="module")
def skip_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A global-skip CycleGAN trained 2 steps (its last layer has left zero)."""
    root = tmp_path_factory.mktemp("strength")
    for name, seed in (("trainA", 1), ("trainB", 2), ("testA", 3), ("testB", 4)):
        write_images(root / "data" / name, 3, seed=seed)
    cfg = tiny_config(
        root / "data", root / "runs", model={"global_skip": True}, train={"max_steps": 2}
    )
    return train(cfg, run="skip")


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


@pytest.mark.slow
def test_translate_strength_zero_returns_the_photo(skip_run: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write_images(photos, 1, seed=9)
    change = {}
    for strength in ("0", "1", "3"):
        out = tmp_path / f"s{strength}"
        assert main(["translate", str(skip_run), str(photos), "--out", str(out),
                     "--strength", strength]) == 0  # fmt: skip
        change[strength] = np.abs(pixels(out / "img_000.png") - pixels(photos / "img_000.png"))
    assert change["0"].max() == 0
    assert 0 < change["1"].mean() < change["3"].mean()
    default = tmp_path / "default"
    main(["translate", str(skip_run), str(photos), "--out", str(default)])
    assert (default / "img_000.png").read_bytes() == (tmp_path / "s1" / "img_000.png").read_bytes()

    # The web page's slider runs the same function: the same pixels; and the model it shares
    # between requests keeps no request's strength.
    models = ModelCache([skip_run])
    label = next(iter(models.sources))
    result = translate_uploads(models, [str(photos / "img_000.png")], label, strength=3.0)
    made = pixels(Path(result.downloads[0]))
    assert np.array_equal(made, pixels(tmp_path / "s3" / "img_000.png"))
    assert strength_of(models.get(label).G_AB) == 1.0


@pytest.mark.slow
def test_gallery_shows_a_column_per_strength(skip_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "gallery"
    assert main(["gallery", str(skip_run), "--checkpoints", "latest", "--n", "2",
                 "--strengths", "0,1.5", "--out", str(out)]) == 0  # fmt: skip
    page = (out / "index.html").read_text()
    assert "latest · strength 0" in page and "latest · strength 1.5" in page
    inputs = sorted((out / "images" / "input").glob("*.png"))
    untouched = sorted((out / "images").glob("*strength_0/*.png"))
    assert len(untouched) == 2
    for source, made in zip(inputs, untouched, strict=True):
        assert np.array_equal(pixels(source), pixels(made))


def test_bad_strengths_get_one_line(run_dir: Path, tmp_path: Path, capsys) -> None:
    """Out of range: the parser says the range; on a model without a global skip: the fix."""
    photos = tmp_path / "photos"
    write_images(photos, 1)
    for bad in ("-1", "9", "much"):
        with pytest.raises(SystemExit):
            main(["translate", str(run_dir), str(photos), "--out", str(tmp_path / "o"),
                  "--strength", bad])  # fmt: skip
        assert "--strength" in capsys.readouterr().err
    out = tmp_path / "plain"
    argv = ["translate", str(run_dir), str(photos), "--out", str(out), "--strength", "0.5"]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model.global_skip=true" in err[0] and "Traceback" not in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_the_cpu_engine_converts_each_strength_and_matches_pytorch() -> None:
    """The converted engine (asked for by name: a refusal is an error, not a fallback) runs the
    dial's setting, one conversion per strength."""
    from gan_style.inference import engines
    from gan_style.inference.probes import smooth_probe
    from gan_style.inference.translation import translate_batch

    net = trained_looking(True)
    image = smooth_probe(np.random.default_rng(0), 32, 36, 3)
    engines._MADE.clear()
    made = {}
    for strength in (0.5, 1.0):
        with dialled(net, strength):
            want = translate_batch(net, image[None], 4)[0].astype(np.int16)
            made[strength] = engines.converted_engine(net, 4, engine="openvino")
            got = made[strength].translate(image).astype(np.int16)
        assert np.abs(got - want).max() <= 2
    assert made[0.5].path != made[1.0].path
    engines._MADE.clear()
