"""The checkpoint format, in one place: what a file holds, its names, saving and loading.

A training checkpoint is one file with every state resume needs, declared once in a
`CheckpointIO` (after edm2's) so that saving and loading read the same declaration. The
generator-only file holds the inference networks and the config. Files are written atomically
and loaded with `weights_only=True`.
"""

from __future__ import annotations

import ast
import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from gan_style.disk import write_atomic
from gan_style.errors import CheckpointError
from gan_style.runtime.checkpoint_names import BEST, GENERATOR, LATEST, resolve  # noqa: F401  (re-exported: the names belong to the format)

FORMAT = 1  # the layout version written into every file
STEP_GLOB = "step_*.pt"


def step_name(step: int) -> str:
    return f"step_{step:07d}.pt"


def step_files(run_dir: Path) -> list[Path]:
    """The kept step checkpoints of a run, oldest first."""
    return sorted(Path(run_dir).glob(STEP_GLOB))


def prune(folder: Path, keep: int) -> None:
    """Keep the newest `keep` step checkpoints (latest.pt is separate and always kept)."""
    steps = step_files(folder)
    for old in steps[: max(0, len(steps) - keep)]:
        old.unlink(missing_ok=True)


# --- Files ---------------------------------------------------------------------------------


def save_atomic(obj: Any, path: str | Path) -> None:
    """`torch.save` whole or not at all (`files.write_atomic`): a crash mid-write leaves the
    previous checkpoint intact."""
    write_atomic(Path(path), lambda f: torch.save(obj, f))


def load(path: str | Path, map_location: str | torch.device = "cpu", mmap: bool = False) -> dict:
    """`mmap`: tensors stay in the file's pages until touched (inference reads the generators
    of a training checkpoint, not its optimizer states and discriminators); files in the old
    non-zip format are read whole."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    try:
        if mmap and zipfile.is_zipfile(path):
            return torch.load(path, map_location=map_location, weights_only=True, mmap=True)
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises many kinds (RuntimeError, UnpicklingError, IndexError...)
        reason = first_line(e)
        if "Weights only load failed" in reason:
            reason = "it holds pickled Python objects, which are not loaded, for safety"
        raise CheckpointError(f"{path} is not a readable checkpoint ({reason})") from None


def first_line(error: Exception) -> str:
    """An exception's first line for a one-line message: without the terminal colour codes
    some libraries add, and cut to a readable length."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(error)).strip()
    line = text.splitlines()[0].strip() if text else type(error).__name__
    return line if len(line) <= 200 else line[:197] + "..."


# --- Random number generators --------------------------------------------------------------


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


# --- The declared training state -----------------------------------------------------------


class Stateful(Protocol):
    def state_dict(self) -> Any: ...
    def load_state_dict(self, state: Any) -> Any: ...


@dataclass
class Entry:
    """A piece of state that is not an object with state_dict/load_state_dict of its own."""

    get: Callable[[], Any]
    set: Callable[[Any], Any]
    optional: bool = False  # an empty saved value (a disabled GradScaler's) is left unloaded

    def state_dict(self) -> Any:
        return self.get()

    def load_state_dict(self, state: Any) -> None:
        if state or not self.optional:
            self.set(state)


RNG = Entry(rng_state, set_rng_state)


class CheckpointIO:
    """The training state, declared once: `state_dict()` saves and `load_state_dict()` restores
    exactly what was declared, so the two can never drift apart.

    Positional objects contribute their keys to the top level of the file (the loop's progress:
    step, epoch, ...); keyword objects are stored under their name.
    """

    def __init__(self, *top_level: Stateful, **named: Stateful) -> None:
        self.top_level, self.named = top_level, named

    def state_dict(self) -> dict:
        state: dict = {"format": FORMAT}
        for obj in self.top_level:
            state |= obj.state_dict()
        return state | {name: obj.state_dict() for name, obj in self.named.items()}

    def load_state_dict(self, state: dict, source: Path | str = "the checkpoint") -> None:
        for obj in self.top_level:
            obj.load_state_dict(state)
        for name, obj in self.named.items():
            if name not in state:
                raise CheckpointError(f"{source} lacks '{name}'; it is not a full checkpoint")
            try:
                obj.load_state_dict(state[name])
            except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as e:
                raise CheckpointError(
                    f"{source}: its '{name}' does not fit this run ({first_line(e)}); the file is "
                    f"damaged or from another version"
                ) from None


# --- The generator-only file ---------------------------------------------------------------


def save_generators(path: Path, config: dict, step: int, networks: dict[str, nn.Module]) -> None:
    """generator.pt: the inference networks by name (G_AB, ...), the config and the step."""
    weights = {name: net.state_dict() for name, net in networks.items()}
    save_atomic({"format": FORMAT, "config": config, "step": step, **weights}, path)


def network_weights(state: dict, names: list[str]) -> dict[str, dict]:
    """The state dicts of the networks `names` from either layout: a generator file (one entry
    per network) or a training checkpoint (one `model` dict with `NAME.` prefixes). Networks
    that the file lacks are left out."""
    if "model" not in state:
        return {n: state[n] for n in names if isinstance(state.get(n), dict) and state[n]}
    averaged = ema_weights(state)  # train.ema_decay > 0: the averaged networks are the ones used
    if averaged:
        return {n: averaged[n] for n in names if n in averaged}
    model = state["model"]
    if not isinstance(model, dict):
        raise CheckpointError("its 'model' entry is not a set of weights; the file is damaged")
    out = {}
    for name in names:
        prefix = f"{name}."
        weights = {k.removeprefix(prefix): v for k, v in model.items() if k.startswith(prefix)}
        if weights:
            out[name] = weights
    return out


def ema_weights(state: dict) -> dict[str, dict]:
    """The averaged generators of a training checkpoint (its `ema` entry: AveragedModel state
    dicts by network name), as plain state dicts; {} for a run trained without EMA."""
    ema = state.get("ema")
    if not isinstance(ema, dict):
        return {}
    return {
        name: {k.removeprefix("module."): v for k, v in weights.items() if k != "n_averaged"}
        for name, weights in ema.items()
        if isinstance(weights, dict)
    }
