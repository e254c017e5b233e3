"""Where the engine's conversions of a generator are kept, and which one a checkpoint file gave
`translate`: found without PyTorch, so a checkpoint's later runs start without it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gan_style import disk as files
from gan_style.runtime.checkpoint_names import resolve

ENGINE_VERSION = 5  # raised when what is converted, or how, changes: old conversions are redone
# A conversion's file, by kind, and the file that records why a network was not converted.
SUFFIXES = {"int8": ".int8.onnx", "fp32": ".fp32.onnx", "bf16": ".bf16.onnx"}
REFUSED = ".unsupported"


def cache_dir() -> Path:
    """Converted models (a few tens of MB each); delete the folder to convert them again."""
    return files.cache_dir() / "engine"


def conversion_paths(key: str, kind: str) -> tuple[Path, Path]:
    """The `kind` conversion of the weights hashed as `key`, and where a refusal is recorded."""
    folder = cache_dir()
    return folder / f"{key}{SUFFIXES[kind]}", folder / f"{key}.{kind}{REFUSED}"


class FileIndex:
    """Which conversion a checkpoint file gave `translate` with given options, by a hash of the
    file's bytes and the options.

    An entry is only a shortcut: a missing, stale or damaged one means PyTorch loads the
    checkpoint as it would without the cache.
    """

    def __init__(self, checkpoint: Path, options: dict[str, object]) -> None:
        source = resolve(checkpoint)
        digest = hashlib.sha256(json.dumps([ENGINE_VERSION, options], sort_keys=True).encode())
        with open(source, "rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
        self.path = cache_dir() / "files" / f"{digest.hexdigest()[:32]}.json"

    def lookup(self) -> Path | None:
        """The converted model recorded for this file, if it is still there."""
        try:
            model = cache_dir() / json.loads(self.path.read_text())["model"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return model if model.is_file() else None

    def record(self, model: Path) -> None:
        entry = json.dumps({"model": model.name}).encode()
        files.write_atomic(self.path, lambda f: f.write(entry))
