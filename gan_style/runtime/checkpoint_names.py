"""The names of a run folder's checkpoint files, and which one a folder means: without PyTorch,
so that `translate` can find a converted model in the cache before deciding to start it."""

from __future__ import annotations

from pathlib import Path

from gan_style.errors import CheckpointError

LATEST = "latest.pt"  # the newest full checkpoint: resume from here
BEST = "best.pt"  # the full checkpoint with the best eval.metric
GENERATOR = "generator.pt"  # the inference networks and the config only


def resolve(path: str | Path) -> Path:
    """A run folder means its generator.pt (or latest.pt); a file is taken as is."""
    path = Path(path)
    if path.is_dir():
        for name in (GENERATOR, LATEST):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path} holds no {GENERATOR} or {LATEST}; train it first")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    return path
