"""Data-parallel training on CPU with gloo: the CPU twin of multi-GPU NCCL runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_style.config import dump
from gan_style.runtime import checkpoint as ckpt
from gan_style.training.loop import train
from tests.conftest import REPO, tiny_config

pytestmark = pytest.mark.slow


def test_two_ranks_stay_identical_and_match_one_process(tiny_dataset: Path, tmp_path: Path) -> None:
    """2 ranks x batch 1 == 1 process x batch 2: same samples per step (the sampler shards each
    epoch), gradients averaged. No image pool: each rank's pool would draw its own history."""
    settings = {"train": {"max_steps": 4, "pool_size": 0, "save_every": 2}}
    config = tmp_path / "ddp.yaml"
    config.write_text(dump(tiny_config(tiny_dataset, tmp_path / "runs", **settings)))
    env = os.environ | {"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "gan_style.cli", "--", "train", str(config), "--run", "ddp"]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    ddp = ckpt.load(tmp_path / "runs" / "tiny" / "ddp" / "latest.pt")
    assert ddp["step"] == 4
    digests = ddp["rank_weight_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]  # the ranks hold the same weights

    single_settings = {"train": {**settings["train"], "batch_size": 2}}
    single = ckpt.load(
        train(tiny_config(tiny_dataset, tmp_path / "runs", **single_settings), run="one")
        / "latest.pt"
    )
    # Mean of two rank means vs one mean over the batch: float rounding, which Adam's early
    # normalised steps turn into changes of at most a few learning rates (2e-4).
    for key, value in single["model"].items():
        assert torch.allclose(value, ddp["model"][key], atol=2e-3), key
