"""Files written whole or not at all, a full disk said in one line, output folders checked
before any work, and the cache folder. Needs no PyTorch."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from gan_style.errors import DiskFullError, GanStyleError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """`write` into a temporary file in `path`'s folder, flushed to disk, then renamed over
    `path`: a run killed or a disk filled mid-write leaves the previous file intact and no
    temporary file. The file gets the umask's permissions, as a plain write would. A full disk
    raises `DiskFullError`, naming `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)  # first: the space it held counts as free below
        if isinstance(e, (OSError, RuntimeError)) and disk_full(e):
            raise no_space(path) from None
        raise


def disk_full(error: BaseException | None) -> bool:
    """Whether `error`, or one it came from, is the disk being full (PyTorch's writer turns
    the OSError into a RuntimeError of its own)."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in NO_SPACE:
            return True
        error = error.__cause__ or error.__context__
    return False


def nearest_existing(path: Path) -> Path:
    """`path`, or the nearest of its parents that exists (absolute)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_space(path: Path) -> str:
    """Free space on the disk that holds `path` (or its nearest existing folder), for people:
    "12 KiB", "4.8 MiB", "1.2 GiB"."""
    free = float(shutil.disk_usage(nearest_existing(path)).free)
    for unit in ("bytes", "KiB", "MiB"):
        if free < 1024:
            return f"{free:.0f} {unit}" if unit != "MiB" else f"{free:.1f} {unit}"
        free /= 1024
    return f"{free:.1f} GiB"


def no_space(path: Path) -> DiskFullError:
    """The one line for a full disk: which file could not be written, and the space left."""
    return DiskFullError(
        f"no space left on the disk to write {path} ({free_space(path)} free there)",
        path=Path(path),
    )


@contextmanager
def no_space_is_one_line(path: Path) -> Iterator[None]:
    """A full disk while writing `path` (not atomically: an append-only log, a folder of
    files) becomes `no_space(path)`; every other error passes unchanged."""
    try:
        yield
    except (OSError, RuntimeError) as e:
        if not disk_full(e):
            raise
        raise no_space(path) from None


def check_writable(folder: Path, what: str = "output folder") -> None:
    """Refuse, before any work, a folder that cannot be written: a file in its place, no
    permission, a read-only disk. A missing folder is fine where it can be created; it is
    tried by writing a probe file in its nearest existing folder."""
    folder = Path(folder)
    existing = nearest_existing(folder)
    if not existing.is_dir():
        raise GanStyleError(f"cannot write the {what} {folder}: {existing} is a file")
    probe = existing / f".gan_style_probe.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as e:
        why = {errno.EROFS: "the disk is read-only", errno.EACCES: "permission denied",
               errno.EPERM: "permission denied"}.get(e.errno, e.strerror)  # fmt: skip
        full = " (the disk is full)" if e.errno in NO_SPACE else ""
        raise GanStyleError(
            f"cannot write the {what} {folder}: {why}{full} in {existing}; choose another "
            f"folder or fix its permissions"
        ) from None
    os.unlink(probe)


def cache_dir() -> Path:
    """GAN_STYLE_CACHE, else $XDG_CACHE_HOME/gan_style, else ~/.cache/gan_style."""
    if os.environ.get("GAN_STYLE_CACHE"):
        return Path(os.environ["GAN_STYLE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan_style"
