"""One generator for many painters: style codes, blends, the style encoder and the commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.cli import main
from gan_style.config import ConfigError, from_dict, load_config
from gan_style.data import StyledDataset
from gan_style.data.painters import build_painters_dataset
from gan_style.errors import DataError
from gan_style.inference import load_generators, translate_images
from gan_style.training.loop import train
from tests.conftest import REPO, STYLES, write_images


def styled_config(root: Path, runs: Path, **sections: dict):
    raw = {
        "name": "styles",
        "data": {"root": str(root), "load_size": 36, "crop_size": 32, "num_workers": 0},
        "model": {"name": "multistyle", "generator": "resnet_6blocks", "ngf": 8, "ndf": 8,
                  "style_dim": 8},
        "train": {"epochs": 1, "epochs_decay": 1, "max_steps": 3, "device": "cpu",
                  "save_every": 1000},
        "log": {"runs_dir": str(runs), "every": 1, "sample_every": 3, "num_samples": 1},
    }  # fmt: skip
    for section, values in sections.items():
        raw[section] = raw.get(section, {}) | values
    return from_dict(raw)


@pytest.fixture
def run_dir(styled_root: Path, tmp_path: Path) -> Path:
    return train(styled_config(styled_root, tmp_path / "runs"), run="s")


def test_dataset_draws_styles(styled_root: Path) -> None:
    cfg = styled_config(styled_root, styled_root).data
    ds = StyledDataset(cfg)
    draws = {ds[(e, 0)]["style"] for e in range(12)}
    assert ds.styles == STYLES and draws == {0, 1}
    item = ds[(0, 1)]
    assert Path(item["B_paths"]).parent.name == STYLES[item["style"]]


def test_unknown_style_folder(styled_root: Path) -> None:
    cfg = styled_config(styled_root, styled_root, data={"styles": ["monet", "picasso"]}).data
    with pytest.raises(
        DataError, match=r"no style folder picasso in .*styles there: monet, ukiyoe"
    ):
        StyledDataset(cfg)


def test_styles_override_parses_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert load_config("painters", ["data.styles=monet,ukiyoe"]).data.styles == ["monet", "ukiyoe"]
    with pytest.raises(ConfigError, match=r"data\.styles: expected a list, got 5"):
        load_config("painters", ["data.styles=5"])


@pytest.mark.slow
def test_condition_blends_and_encoder(run_dir: Path) -> None:
    gens = load_generators(run_dir)
    assert gens.styles == STYLES and "styles" in (run_dir / "config.yaml").read_text()
    image = [np.asarray(Image.open(next((run_dir.parents[2] / "styled" / "testA").iterdir())))]

    def render(code: torch.Tensor) -> np.ndarray:
        return translate_images(gens.G_AB, image, gens.multiple, style=code)[0]

    monet, ukiyoe = gens.style_code("monet"), gens.style_code("ukiyoe")
    assert not np.array_equal(render(monet), render(ukiyoe))  # the condition changes the output
    assert torch.equal(gens.style_code("monet:1"), monet)
    assert torch.allclose(gens.style_code("monet:1,ukiyoe:0"), monet)  # weight 1 = the pure style
    half = gens.style_code("monet:0.5,ukiyoe:0.5")
    assert torch.allclose(half, (monet + ukiyoe) / 2)
    assert gens.style_code(image=image[0]).shape == monet.shape  # the style encoder
    with pytest.raises(
        ConfigError, match="unknown style 'picasso'; this model knows monet, ukiyoe"
    ):
        gens.style_code("picasso")
    with pytest.raises(ConfigError, match="needs --style"):
        gens.style_code()


@pytest.mark.slow
def test_commands_take_style_options(
    run_dir: Path, styled_root: Path, tmp_path: Path, capsys
) -> None:
    photo = str(next((styled_root / "testA").iterdir()))
    painting = str(next((styled_root / "testB" / "monet").iterdir()))
    for i, option in enumerate((["--style", "monet:0.7,ukiyoe:0.3"], ["--style-image", painting])):
        out = str(tmp_path / f"t{i}")
        assert main(["translate", str(run_dir), photo, "--out", out, *option]) == 0
    assert (
        main(["translate", str(run_dir), photo, "--out", str(tmp_path / "t"), "--style", "picasso"])
        == 2
    )
    assert "unknown style 'picasso'" in capsys.readouterr().err

    assert main(["gallery", str(run_dir), "--out", str(tmp_path / "g"), "--device", "cpu"]) == 0
    page = (tmp_path / "g" / "index.html").read_text()
    assert "step_0000003 · monet" in page and "step_0000003 · ukiyoe" in page  # one per style

    out = tmp_path / "e"
    assert main(["evaluate", str(run_dir), "--out", str(out), "--no-fid", "--device", "cpu"]) == 0
    cycle = json.loads((out / "summary.json").read_text())["metrics"]["cycle"]
    assert {"ABA:monet", "ABA:ukiyoe", "BAB:monet", "BAB:ukiyoe"} <= set(cycle)


def test_painters_dataset_links_the_four_sets(tmp_path: Path) -> None:
    for style in ("monet", "cezanne", "ukiyoe", "vangogh"):
        for split in ("trainA", "trainB", "testA", "testB"):
            write_images(tmp_path / f"{style}2photo" / split, 1, seed=len(style))
    out = build_painters_dataset(tmp_path)
    assert (out / "trainB" / "ukiyoe").is_symlink() and list((out / "trainB" / "ukiyoe").iterdir())
    assert (out / "trainA").resolve() == (tmp_path / "monet2photo" / "trainB").resolve()
    assert build_painters_dataset(tmp_path) == out  # runs again without error


def test_painters_dataset_names_missing_downloads(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="gan-style data download monet2photo"):
        build_painters_dataset(tmp_path)


@pytest.mark.slow
def test_batch_norm_run_loads_for_inference(styled_root: Path, tmp_path: Path) -> None:
    """Training and inference build the generators with the same norm (here batch)."""
    cfg = styled_config(
        styled_root, tmp_path / "runs", model={"norm": "batch"}, train={"max_steps": 1}
    )
    gens = load_generators(train(cfg, run="bn"))
    assert gens.config.model.norm == "batch" and gens.style_code("ukiyoe") is not None


@pytest.mark.slow
def test_evaluate_takes_one_style_by_name(run_dir: Path, capsys) -> None:
    assert main(["evaluate", str(run_dir), "--style", "monet:0.5,ukiyoe:0.5", "--no-fid"]) == 2
    assert (
        "evaluate scores one style by name, not 'monet:0.5,ukiyoe:0.5'" in capsys.readouterr().err
    )


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_one_style_or_the_style_as_input(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    import onnxruntime

    from gan_style.export import export_generator
    from gan_style.inference import load_generators

    gens = load_generators(run_dir, conv_backend="native")
    x = torch.rand(2, 3, 36, 44) * 2 - 1
    code = gens.style_code("monet:0.7,ukiyoe:0.3")
    with torch.no_grad():
        expected = gens.G_AB(x, code.expand(2, -1)).numpy()

    def run(path: Path, *inputs: torch.Tensor) -> np.ndarray:
        if fmt == "torchscript":
            return torch.jit.load(str(path))(*inputs).detach().numpy()
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        return session.run(None, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})[0]

    baked = export_generator(gens, "AtoB", fmt, tmp_path / f"baked.{fmt}", style=code)
    assert np.abs(run(baked, x) - expected).max() < 1e-4
    as_input = export_generator(gens, "AtoB", fmt, tmp_path / f"input.{fmt}", style_input=True)
    assert np.abs(run(as_input, x, code.expand(2, -1).contiguous()) - expected).max() < 1e-4


def test_export_command_needs_a_style(run_dir: Path, capsys) -> None:
    assert main(["export", str(run_dir), "--format", "torchscript"]) == 2
    assert "is a multistyle model: export it for one style" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--format", "torchscript", "--style", "ukiyoe"]) == 0
    assert main(["export", str(run_dir), "--format", "onnx", "--style-input"]) == 0
    assert "style N x 8" in capsys.readouterr().out
