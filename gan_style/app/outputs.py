"""Where the web page writes: a folder per request under one folder per server, which the server
removes when it stops, after the jobs in flight have finished writing."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gan_style.errors import GanStyleError

KEEP_S = 3600  # a request's outputs stay downloadable this long


class OutputFolders:
    """A fresh folder per request (one user's outputs never overwrite another's); folders older
    than `keep_s` are removed as new requests come, so a long-running server does not fill its
    disk, and `close` removes them all."""

    def __init__(self, base: Path | None = None, keep_s: float = KEEP_S) -> None:
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="gan_style_page_"))
        self.base.mkdir(parents=True, exist_ok=True)
        self.keep_s = keep_s
        self._active = 0
        self._closing = False
        self._idle = threading.Condition()

    @contextmanager
    def job(self) -> Iterator[Path]:
        """A new folder for one request's outputs, counted as in flight until the block ends."""
        with self._idle:
            if self._closing:
                raise GanStyleError("the server is stopping; try again once it is back")
            self._active += 1
        try:
            self._prune()
            yield Path(tempfile.mkdtemp(dir=self.base))
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _prune(self) -> None:
        cutoff = time.time() - self.keep_s
        for folder in self.base.iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:  # another request pruned it first
                continue

    def close(self, wait_s: float = 120) -> bool:
        """Refuse new jobs, wait up to `wait_s` for those in flight, then remove every folder;
        False if a job was still writing (its folder is then left, whole files only)."""
        with self._idle:
            self._closing = True
            finished = self._idle.wait_for(lambda: self._active == 0, timeout=wait_s)
        if finished:
            shutil.rmtree(self.base, ignore_errors=True)
        return finished
