from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_style.config import ConfigError, dump
from gan_style.errors import CheckpointError
from gan_style.models import build_model
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.loop import train
from tests.conftest import MONET_MINI, REPO, tiny_config

pytestmark = pytest.mark.slow


def tensors_of(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor in a checkpoint's networks, optimizers and EMA, flattened by key."""
    state = ckpt.load(path)
    out = {f"model.{k}": v for k, v in state["model"].items()}
    for name in ("optimizer_G", "optimizer_D"):
        for pid, s in state[name]["state"].items():
            out |= {f"{name}.{pid}.{k}": v for k, v in s.items() if isinstance(v, torch.Tensor)}
    for name, averaged in state.get("ema", {}).items():  # train.ema_decay > 0
        out |= {f"ema.{name}.{k}": v for k, v in averaged.items()}
    return out


def test_short_run_writes_everything(make_config) -> None:
    cfg = make_config()
    run_dir = train(cfg, run="a")
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.yaml", "latest.pt", "generator.pt", "samples"} <= names
    assert sorted(p.name for p in run_dir.glob("step_*.pt")) == [
        "step_0000004.pt",
        "step_0000006.pt",
    ]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "step_0000002.png", "step_0000004.png", "step_0000006.png",
    ]  # fmt: skip

    events = EventAccumulator(str(run_dir)).Reload()
    tags = set(events.Tags()["scalars"])
    assert {
        "Loss/G/cycle_A",
        "Loss/G/idt_B",
        "Loss/D_A/real",
        "Loss/D_B/fake",
        "LR/G",
        "Time/sec_per_iter",
    } <= tags
    assert events.Tags()["images"]
    cycle = [e.value for e in events.Scalars("Loss/G/cycle_A")]
    assert len(cycle) == 6 and len(set(cycle)) > 1  # logged every step, and it moves
    lr = [e.value for e in events.Scalars("LR/G")]
    assert lr[0] == pytest.approx(2e-4) and lr[-1] < lr[0]  # linear decay after epoch 1

    state = ckpt.load(run_dir / "latest.pt")
    assert (state["step"], state["epoch"], state["epoch_step"]) == (6, 1, 2)
    torch.manual_seed(cfg.train.seed)  # the same seed builds the networks as they started
    untrained = build_model(cfg).state_dict()
    assert not torch.equal(untrained["G_AB.model.1.weight"], state["model"]["G_AB.model.1.weight"])
    generator = ckpt.load(run_dir / "generator.pt")
    assert torch.equal(generator["G_AB"]["model.1.weight"], state["model"]["G_AB.model.1.weight"])


def test_resume_equals_uninterrupted_run(make_config) -> None:
    """3 steps, stop, 3 more (across an epoch end and an lr change) == 6 steps straight."""
    straight = train(make_config(train={"max_steps": 6}), run="straight")
    train(make_config(train={"max_steps": 3}), run="resumed")
    resumed = train(make_config(train={"max_steps": 6}), run="resumed")
    a, b = tensors_of(straight / "latest.pt"), tensors_of(resumed / "latest.pt")
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
    pools_a = ckpt.load(straight / "latest.pt")["pools"]
    pools_b = ckpt.load(resumed / "latest.pt")["pools"]
    assert torch.equal(pools_a["A"]["images"], pools_b["A"]["images"])


def test_workers_give_the_same_run(make_config) -> None:
    in_process = train(make_config(train={"max_steps": 2}), run="w0")
    workers = train(make_config(data={"num_workers": 2}, train={"max_steps": 2}), run="w2")
    a, b = tensors_of(in_process / "latest.pt"), tensors_of(workers / "latest.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finished_run_says_so(make_config, capsys: pytest.CaptureFixture) -> None:
    train(make_config(train={"max_steps": 1}), run="done")
    train(make_config(train={"max_steps": 1}), run="done")
    assert "already finished at step 1" in capsys.readouterr().err


def test_resume_refuses_another_architecture(make_config) -> None:
    train(make_config(train={"max_steps": 1}), run="arch")
    with pytest.raises(
        ConfigError, match=r"trained with model\.ngf=8, this command says 16; start a new run"
    ):
        train(make_config(model={"ngf": 16}), run="arch")


@pytest.mark.parametrize(
    "settings",
    [
        {"model": {"discriminator": "pixel", "norm": "batch"}, "loss": {"gan_mode": "wgangp"}},
        {
            "model": {"discriminator": "n_layers", "n_layers_d": 2, "dropout": True},
            "loss": {"gan_mode": "hinge"},
        },
        {"train": {"batch_size": 2, "lr_policy": "cosine"}, "loss": {"gan_mode": "vanilla"}},
        {"data": {"channels": 1, "preprocess": "scale_width_and_crop"}},
    ],
)
def test_variants_train(make_config, settings: dict) -> None:
    settings.setdefault("train", {})["max_steps"] = 2
    run_dir = train(make_config(**settings), run="variant")
    assert ckpt.load(run_dir / "latest.pt")["step"] == 2


def cli(*args: str, cwd: Path) -> subprocess.Popen:
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gan_style.cli", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_sigterm_saves_and_the_same_command_resumes(tiny_dataset: Path, tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    cfg = tiny_config(
        tiny_dataset, tmp_path / "runs", train={"max_steps": 0, "epochs": 500, "save_every": 100000}
    )
    config.write_text(dump(cfg))
    proc = cli("train", str(config), cwd=REPO)
    run_dir = tmp_path / "runs" / "tiny" / "default"
    deadline = time.time() + 120
    while not (run_dir / "samples" / "step_0000004.png").exists():  # it is training
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err  # not finished: `train && ...` stops
    assert "run the same command again to resume" in err
    stopped = ckpt.load(run_dir / "latest.pt")["step"]
    assert stopped >= 4

    data = yaml.safe_load(config.read_text())
    data["train"]["max_steps"] = stopped + 2
    config.write_text(yaml.safe_dump(data))
    proc = cli("train", str(config), cwd=REPO)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"resuming {run_dir} at step {stopped}" in err
    assert ckpt.load(run_dir / "latest.pt")["step"] == stopped + 2


def test_a_damaged_latest_resumes_from_the_newest_readable_checkpoint(
    make_config, capsys: pytest.CaptureFixture
) -> None:
    cfg = make_config(train={"max_steps": 4, "save_every": 2, "keep_checkpoints": 3})
    run_dir = train(cfg, run="d")
    latest = run_dir / "latest.pt"
    latest.write_bytes(latest.read_bytes()[:1000])  # cut short, as a full disk or a copy leaves it
    newest_step = run_dir / "step_0000004.pt"
    newest_step.write_bytes(b"")  # damaged too: the next older one resumes
    capsys.readouterr()
    cfg.train.max_steps = 6
    train(cfg, run="d")
    err = capsys.readouterr().err
    assert "latest.pt is not a readable checkpoint; kept as latest.pt.damaged; resuming from " \
        "step_0000002.pt (step 2)" in err  # fmt: skip
    assert (run_dir / "latest.pt.damaged").stat().st_size == 1000  # kept, never deleted
    assert (run_dir / "step_0000004.pt.damaged").is_file()
    assert ckpt.load(latest)["step"] == 6

    for path in [latest, *ckpt.step_files(run_dir)]:
        path.write_bytes(b"garbage")
    cfg.train.max_steps = 8
    with pytest.raises(CheckpointError, match=r"no checkpoint in .* is readable"):
        train(cfg, run="d")


def test_a_full_disk_stops_the_run_in_one_line_and_damages_nothing(
    make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As PyTorch's writer reports it: its own RuntimeError, from the OSError of the full
    disk. The checkpoint written before stays whole, no partial file is left, the run stops
    with status 1 and says from where a rerun resumes."""
    from gan_style.cli import main

    cfg = make_config(train={"max_steps": 6, "save_every": 2})
    config = tmp_path / "full.yaml"
    config.write_text(dump(cfg))
    save, calls = torch.save, []

    def full_after_one_checkpoint(obj: object, f: object) -> None:
        calls.append(1)
        if len(calls) > 3:  # latest.pt, step_0000002.pt and generator.pt fit; then the disk is full
            try:
                raise OSError(28, "No space left on device")
            except OSError:
                raise RuntimeError(
                    "[enforce fail at inline_container.cc:672] unexpected pos"
                ) from None
        save(obj, f)

    monkeypatch.setattr(torch, "save", full_after_one_checkpoint)
    assert main(["train", str(config)]) == 1
    run_dir = Path(cfg.log.runs_dir) / "tiny" / "default"
    assert ckpt.load(run_dir / "latest.pt")["step"] == 2  # the last good one, whole
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setattr(torch, "save", save)
    assert main(["train", str(config)]) == 0  # space again: the same command resumes
    assert ckpt.load(run_dir / "latest.pt")["step"] == 6


def test_the_full_disk_line(make_config, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    from gan_style.cli import main
    from gan_style.training import run_folder

    def no_space(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_folder.ckpt, "save_atomic", no_space)
    cfg = make_config(train={"max_steps": 2, "save_every": 1})
    config = Path(cfg.log.runs_dir).parent / "nospace.yaml"
    config.write_text(dump(cfg))
    assert main(["train", str(config)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    line = next(line for line in err if line.startswith("error:") or "error:" in line)
    assert line.startswith("error: no space left on the disk of") and " free) to write" in line
    assert "no checkpoint was written yet" in line and "Traceback" not in "\n".join(err)


@pytest.mark.skipif(not MONET_MINI.is_dir(), reason="needs ../shared/data/monet2photo-mini")
def test_real_monet2photo_images(tmp_path: Path) -> None:
    """End to end on real Monet paintings and photos (256 px JPEGs), at 64 px."""
    cfg = tiny_config(
        MONET_MINI, tmp_path / "runs",
        data={"load_size": 72, "crop_size": 64, "num_workers": 2},
        train={"max_steps": 3, "save_every": 3}, log={"sample_every": 3},
    )  # fmt: skip
    run_dir = train(cfg, run="monet")
    assert ckpt.load(run_dir / "latest.pt")["step"] == 3
    assert (run_dir / "samples" / "step_0000003.png").is_file()


def test_resume_at_an_epoch_end_warns_nothing(make_config) -> None:
    """A run stopped on an epoch's last batch records the finished epoch, so resuming steps no
    scheduler before an optimizer (PyTorch's warning) and the learning rate is the same."""
    import warnings

    steps_per_epoch = 4  # the tiny dataset: 4 A images, batch 1
    train(make_config(train={"max_steps": steps_per_epoch}), run="r")
    saved = ckpt.load(Path(make_config().log.runs_dir) / "tiny" / "r" / "latest.pt")
    assert (saved["epoch"], saved["epoch_step"]) == (1, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = train(make_config(train={"max_steps": 9}), run="r")
    assert [str(w.message) for w in caught if "lr_scheduler" in str(w.message)] == []
    straight = train(make_config(train={"max_steps": 9}), run="straight")
    a, b = tensors_of(straight / "latest.pt"), tensors_of(resumed / "latest.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_hparams_declare_the_same_metrics_in_every_run(make_config, tiny_dataset: Path) -> None:
    """TensorBoard's HParams view shows a metric column only if every run declares it."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    from tests.conftest import write_images

    write_images(tiny_dataset / "testB_paired", 2, seed=3)
    plain = train(make_config(train={"max_steps": 1}), run="plain")
    scored = train(
        make_config(train={"max_steps": 1}, eval={"every": 1, "metric": "ssim_AB"}), run="scored"
    )

    def declared(run_dir: Path) -> list[str]:
        events = EventAccumulator(str(run_dir)).Reload()
        content = events.PluginTagToContent("hparams")["_hparams_/experiment"]
        experiment = plugin_data_pb2.HParamsPluginData.FromString(content).experiment
        return [m.name.tag for m in experiment.metric_infos]

    assert declared(plain) == declared(scored)
    assert {"Loss/G/total", "Eval/ssim_AB", "Eval/cycle_ssim_A"} <= set(declared(plain))


def test_odd_training_files_are_named_and_left_out(make_config, tiny_dataset: Path, capsys) -> None:
    from tests.conftest import odd_files

    expected = odd_files(tiny_dataset / "trainB" / "odd")
    run_dir = train(make_config(train={"max_steps": 2}), run="odd")
    err = capsys.readouterr().err
    bad = [name for name, size in expected.items() if size is None]
    lines = [line for line in err.splitlines() if line.startswith("skipping unreadable image")]
    assert len(lines) == len(bad) and all(any(n in line for line in lines) for n in bad)
    assert (run_dir / "latest.pt").is_file() and "Traceback" not in err
