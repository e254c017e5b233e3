"""The multistyle painters dataset, assembled from the four official CycleGAN painter sets.

Each <style>2photo set holds the painter's works in trainA/ and the same Flickr landscape photos
in trainB/; the assembled folder links them as photos in trainA/ and paintings in
trainB/<style>/, without copying a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from gan_style.errors import DataError

PAINTERS = ("monet", "cezanne", "ukiyoe", "vangogh")


def build_painters_dataset(root: str | Path = "data", styles: tuple[str, ...] = PAINTERS) -> Path:
    """Write root/painters/{trainA,testA} and {trainB,testB}/<style>/ as relative symlinks."""
    root = Path(root)
    sources = {style: root / f"{style}2photo" for style in styles}
    missing = [name for name, path in sources.items() if not (path / "trainA").is_dir()]
    if missing:
        commands = "; ".join(f"gan-style data download {m}2photo" for m in missing)
        raise DataError(
            f"the painters dataset needs {', '.join(f'{m}2photo' for m in missing)}: {commands}"
        )
    out = root / "painters"

    def link(target: Path, name: Path) -> None:
        name.parent.mkdir(parents=True, exist_ok=True)
        if name.is_symlink() or name.exists():
            name.unlink()
        name.symlink_to(os.path.relpath(target, name.parent), target_is_directory=True)

    photos = sources[styles[0]]
    for split in ("train", "test"):
        link(photos / f"{split}B", out / f"{split}A")
        for style, source in sources.items():
            link(source / f"{split}A", out / f"{split}B" / style)
    return out
