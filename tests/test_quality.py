"""`make quality`: every variant trains, is scored over seeds, with an interval and timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from gan_style.cli import main
from gan_style.data.demo import build_demo_dataset
from gan_style.models import build_model
from gan_style.quality import VARIANTS, interval
from gan_style.style_quality import SETTINGS, config
from tests.conftest import write_images

pytestmark = pytest.mark.slow


def test_interval_by_hand() -> None:
    """Values 1, 2, 3: mean 2, sample std 1, t(0.975, 2 dof) = 4.303, half-width 4.303/sqrt 3."""
    result = interval([1.0, 2.0, 3.0])
    half = 4.303 / 3**0.5
    assert result["mean"] == 2 and result["std"] == 1
    assert result["ci95"] == pytest.approx([2 - half, 2 + half])
    assert interval([0.5]) == {"mean": 0.5, "std": None, "ci95": None}


def test_two_variants_two_seeds(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # the demo data is built in a temporary folder
    write_images(tmp_path / "photos", 2, size=(36, 44))
    argv = ["quality", "--steps", "2", "--seeds", "2", "--variants", "paper,global_skip+ema",
            "--photos", str(tmp_path / "photos")]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["variants"]) == {"paper", "global_skip+ema"} and result["photos"] == 2
    assert 0 < result["identity_ssim_AB"] < 1
    for row in result["variants"].values():
        assert [r["seed"] for r in row["runs"]] == [0, 1] and row["seconds_mean"] > 0
        assert [r["steps"] for r in row["runs"]] == [2, 2]
        assert row["ssim_AB"]["ci95"][0] <= row["ssim_AB"]["mean"] <= row["ssim_AB"]["ci95"][1]
        assert 0 < row["content_ssim_photos"]["mean"] <= 1
    assert result["variants"]["global_skip+ema"]["overrides"] == VARIANTS["global_skip+ema"]
    skip, paper = (result["variants"][v]["ssim_AB"]["mean"] for v in ("global_skip+ema", "paper"))
    assert skip != paper
    with pytest.raises(SystemExit, match="unknown variant"):
        main(["quality", "--variants", "nope"])
    with pytest.raises(SystemExit, match="--steps must be 0"):
        main(["quality", "--steps", "-1"])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_is_a_valid_demo_config(name: str) -> None:
    """A variant's keys are checked when its first run starts, ten minutes into `make quality`;
    here a misspelt or conflicting key fails at once."""
    from gan_style.config import load_config
    from gan_style.models import build_model

    cfg = load_config("demo", VARIANTS[name])
    assert build_model(cfg).G_AB is not None


def test_reference_variants_keep_their_schedule_whatever_the_demo_defaults() -> None:
    """`paper` and the earlier defaults are comparisons measured at one image per iteration and
    a fixed schedule; a change of the demo's batch or epochs must not change them silently."""
    from gan_style.config import load_config

    def schedule(name: str) -> tuple[int, int, int]:
        t = load_config("demo", VARIANTS[name]).train
        return t.batch_size, t.epochs, t.epochs_decay

    demo = load_config("demo", []).train
    assert (demo.batch_size, demo.epochs, demo.epochs_decay) == (4, 12, 11)
    assert schedule("paper") == schedule("skip_filter_defaults") == (1, 6, 6)
    assert schedule("batch1") == schedule("batch1+resize") == (1, 7, 6)
    assert schedule("batch1+identity") == (1, 6, 6)


def test_out_file_resumes_and_keeps_what_it_holds(tmp_path: Path, monkeypatch, capsys) -> None:
    """`--out FILE`: written after every run; a rerun trains only the runs FILE lacks, keeps the
    variants and seeds it was not asked for, and refuses a file of other options or another kind."""
    import gan_style.quality as quality

    monkeypatch.chdir(tmp_path)
    build_demo_dataset(tmp_path / "data" / "demo")  # built once, not by every call
    trained: list[str] = []
    real_train = quality.train

    def counting_train(cfg, run):
        trained.append(run)
        return real_train(cfg, run=run)

    monkeypatch.setattr(quality, "train", counting_train)
    out = tmp_path / "q.json"
    argv = ["quality", "--steps", "2", "--photos", str(tmp_path / "none"), "--out", str(out)]
    assert main([*argv, "--seeds", "1", "--variants", "paper"]) == 0
    first = json.loads(out.read_text())
    assert trained == ["paper_seed0"] and [
        r["seed"] for r in first["variants"]["paper"]["runs"]
    ] == [0]
    capsys.readouterr()

    assert main([*argv, "--seeds", "2", "--variants", "paper"]) == 0  # seed 0 is kept
    assert trained == ["paper_seed0", "paper_seed1"]
    second = json.loads(out.read_text())
    assert second == json.loads(capsys.readouterr().out)
    assert second["variants"]["paper"]["runs"][0] == first["variants"]["paper"]["runs"][0]

    assert main([*argv, "--seeds", "1", "--variants", "ema"]) == 0  # another variant
    assert trained == ["paper_seed0", "paper_seed1", "ema_seed0"]
    third = json.loads(out.read_text())
    assert [r["seed"] for r in third["variants"]["ema"]["runs"]] == [0]
    assert third["variants"]["paper"] == second["variants"]["paper"]  # not asked for: kept
    assert main([*argv, "--seeds", "1", "--variants", "paper,ema"]) == 0  # nothing to train
    assert len(trained) == 3 and json.loads(out.read_text()) == third

    with pytest.raises(SystemExit, match="holds runs of --steps 2 with 0 photos"):
        main(["quality", "--steps", "3", "--photos", str(tmp_path / "none"), "--out", str(out)])
    other = tmp_path / "notes.json"
    other.write_text('{"mine": 1}')
    with pytest.raises(SystemExit, match=r"notes\.json is not a quality result; choose another"):
        main(["quality", "--steps", "2", "--out", str(other)])
    assert other.read_text() == '{"mine": 1}' and len(trained) == 3
    other.write_text('{"experiment": "demo", "steps": 2, "photos": 0, "variants": [1]}')
    with pytest.raises(SystemExit, match="is not a quality result"):
        main([*argv[:-1], str(other)])


def test_json_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch) -> None:
    """A write that fails at the rename (a kill, a full disk) leaves the previous file and no
    temporary file behind."""
    import os

    from gan_style.evaluation.report import write_json

    path = tmp_path / "q.json"
    write_json({"runs": 1}, path)

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_json({"runs": 2}, path)
    assert json.loads(path.read_text()) == {"runs": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["q.json"]


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_real_style_setting_is_a_valid_config(name: str, tmp_path: Path) -> None:
    cfg = config(name, tmp_path, tmp_path / "runs", ["train.max_steps=1"])
    model = build_model(cfg)
    assert cfg.data.crop_size == 128 and cfg.model.ngf == 16
    assert bool(cfg.model.diffaugment) == name.endswith("+diffaugment")
    assert all(d._forward_pre_hooks for d in model.discriminators) == bool(cfg.model.diffaugment)


def test_a_real_style_setting_is_trained_for_its_minutes_and_judged(tmp_path: Path, capsys) -> None:
    """Paintings (A) and photos (B) of a tiny dataset: the photos are painted (AtoB of the
    swapped view), judged by the dataset's classifier, and shown in a picture grid."""
    from tests.evaluation.test_style_score import write_domain

    root = tmp_path / "paintings2photos"
    for split, count in (("train", 10), ("test", 3)):
        write_domain(root / f"{split}A", count, striped=True, seed=1)  # paintings
        write_domain(root / f"{split}B", count, striped=False, seed=2)  # photos
    grid = tmp_path / "grid.png"
    out = tmp_path / "r.json"
    argv = ["quality", "--real", str(root), "--variants", "fastcut", "--seeds", "1",
            "--minutes", "0.02", "--pictures", str(grid), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == json.loads(out.read_text())
    assert result["baselines"]["held-out paintings"]["deception"] >= 2 / 3
    assert result["baselines"]["untouched photos"]["deception"] <= 1 / 3
    (run,) = result["settings"]["fastcut"]["runs"]
    assert run["steps"] >= 1 and 0 <= run["deception"] <= 1 and 0 < run["content_ssim"] < 1
    assert Image.open(grid).size == (2 * 128, 3 * 128)  # photos | fastcut, one row per photo
    with pytest.raises(SystemExit, match="--real needs a dataset folder"):
        main(["quality", "--real", str(tmp_path / "nothing")])
    for extra in (root / "trainB").glob("*.png"):
        if extra.name != "000.png":
            extra.unlink()  # one photo left
    one_photo = r"no style score .* at least 5 images in .*paintings2photos/trainB \(found 1\)"
    with pytest.raises(SystemExit, match=one_photo):
        main(["quality", "--real", str(root), "--variants", "fastcut"])
