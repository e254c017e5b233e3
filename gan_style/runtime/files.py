"""Files written whole or not at all (checkpoints, scores, cached statistics), and the cache
folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """`write` into a temporary file in `path`'s folder, flushed to disk, then renamed over
    `path`: a run killed or a disk filled mid-write leaves the previous file intact and no
    temporary file. The file gets the umask's permissions, as a plain write would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    """GAN_STYLE_CACHE, else $XDG_CACHE_HOME/gan_style, else ~/.cache/gan_style."""
    if os.environ.get("GAN_STYLE_CACHE"):
        return Path(os.environ["GAN_STYLE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan_style"
