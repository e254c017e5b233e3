"""Where a dataset's images live: split folders under `data.root`, and what to say when they
are missing."""

from __future__ import annotations

from pathlib import Path

from gan_style.config import DataConfig
from gan_style.errors import DataError
from gan_style.image_io import IMAGE_EXTENSIONS, find_images


def fetch_hint(root: Path, dataset: str = "", kind: str = "cyclegan") -> str:
    """The command that puts data at `root`, for error messages."""
    name = dataset or root.name
    if name == "demo":
        return "build it with `gan-style data demo` (or `make demo`)"
    if name == "painters":
        return "download the four <painter>2photo sets, then run `gan-style data painters`"
    flag, make_flag = (" --kind pix2pix", " KIND=pix2pix") if kind == "pix2pix" else ("", "")
    return (
        f"fetch it with `gan-style data download {name}{flag}` "
        f"(or `make data DATASET={name}{make_flag}`), or put the folders there by hand"
    )


def domain_images(root: str | Path, folder: str, dataset: str = "") -> list[Path]:
    """The images of one domain folder (`trainA`, `testB/monet`, ...); missing or empty is an
    error that says how to get the data."""
    path = Path(root) / folder
    if not path.is_dir():
        raise DataError(f"dataset folder {path} not found; {fetch_hint(Path(root), dataset)}")
    paths = find_images(path)
    if not paths:
        raise DataError(
            f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {path}; add some or fix data.root"
        )
    return paths


def split_folder(root: Path, phase: str) -> str:
    """Aligned datasets ship train/ and test/ or val/ (facades has both, maps only val/)."""
    if phase == "test" and not (root / "test").is_dir() and (root / "val").is_dir():
        return "val"
    return phase


def images_folder(root: Path, phase: str) -> str:
    """The images of a split for data made from one folder (colorization, sketch): `train/`
    (and `test/`, or `val/`), or the A side of a CycleGAN dataset (`trainA/`), so that any
    photo collection trains them."""
    folder = split_folder(root, phase)
    return folder if (root / folder).is_dir() or not (root / f"{phase}A").is_dir() else f"{phase}A"


def style_names(cfg: DataConfig, phase: str = "train") -> list[str]:
    """`data.styles`, checked against the trainB/<style>/ folders; [] means every folder."""
    folder = Path(cfg.root) / f"{phase}B"
    found = sorted(d.name for d in folder.iterdir() if d.is_dir()) if folder.is_dir() else []
    if not found:
        raise DataError(
            f"multistyle data needs one folder per style in {folder} (e.g. {folder}/monet/)"
        )
    unknown = [s for s in cfg.styles if s not in found]
    if unknown:
        raise DataError(
            f"no style folder {', '.join(unknown)} in {folder}; styles there: {', '.join(found)}"
        )
    return list(cfg.styles) or found
