"""One-file checkpoints, written atomically, loaded with `weights_only=True`."""

from __future__ import annotations

import ast
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_style.errors import CheckpointError

LATEST = "latest.pt"
GENERATOR = "generator.pt"
BEST = "best.pt"


def save_atomic(obj: Any, path: str | Path) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over `path`:
    a crash mid-write leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises many kinds (RuntimeError, UnpicklingError, IndexError...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint ({first})") from None


def rng_state() -> dict:
    # numpy's legacy state is a tuple holding an ndarray; stored as plain parts for weights_only.
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": repr(random.getstate()),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                  "has_gauss": has_gauss, "gauss": gauss},
    }  # fmt: skip
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(ast.literal_eval(state["python"]))
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_state_dict_checked(
    module: torch.nn.Module, state: dict, what: str, saved_arch: str, current_arch: str
) -> None:
    """`load_state_dict`, with a mismatch reported as one line naming both architectures."""
    try:
        module.load_state_dict(state)
    except RuntimeError:
        raise CheckpointError(
            f"{what} in the checkpoint is {saved_arch}, but this run builds {current_arch}; "
            f"use the checkpoint's config or start a new run (--run NAME)"
        ) from None


def prune(folder: Path, keep: int) -> None:
    """Keep the newest `keep` step checkpoints (latest.pt is separate and always kept)."""
    steps = sorted(folder.glob("step_*.pt"))
    for old in steps[: max(0, len(steps) - keep)]:
        old.unlink(missing_ok=True)
