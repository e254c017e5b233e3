"""Atomic writes: the whole file or the previous one, with a plain write's permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gan_style.runtime.files import write_atomic


def test_writes_whole_file_with_the_umasks_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "sub" / "a.json", lambda f: f.write(b"{}"))
    finally:
        os.umask(old)
    path = tmp_path / "sub" / "a.json"
    assert path.read_bytes() == b"{}"
    assert path.stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600


def test_a_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_atomic(path, lambda f: f.write(b"old"))

    def half(f) -> None:
        f.write(b"ne")
        raise KeyboardInterrupt  # a kill mid-write

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, half)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
