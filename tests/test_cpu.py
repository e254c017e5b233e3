"""The CPU's flags as Linux lists them, or none where they cannot be read."""

from __future__ import annotations

from pathlib import Path

from gan_style.cpu import cpu_flags


def test_the_first_processors_flags_are_read(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: X\nflags\t\t: fpu sse2 avx2 avx512f\n\n"
        "processor\t: 1\nflags\t\t: fpu\n"
    )
    assert cpu_flags(str(cpuinfo)) == {"fpu", "sse2", "avx2", "avx512f"}


def test_no_file_means_no_flags(tmp_path: Path) -> None:
    assert cpu_flags(str(tmp_path / "missing")) == frozenset()
