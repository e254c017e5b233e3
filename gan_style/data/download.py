"""Fetching the official CycleGAN datasets: download with progress, check, extract safely."""

from __future__ import annotations

import difflib
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from gan_style.errors import DataError

CYCLEGAN_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
CYCLEGAN_DATASETS = (
    "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
    "ukiyoe2photo", "vangogh2photo", "maps", "cityscapes", "facades", "iphone2dslr_flower",
    "ae_photos", "mini", "mini_pix2pix", "mini_colorization", "grumpifycat",
)  # fmt: skip
SPLITS = ("trainA", "trainB", "testA", "testB")
TIMEOUT_S = 30


def fetch(url: str, dest: Path) -> None:
    """Stream `url` to `dest` with a progress bar; a partial file never keeps the final name."""
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, part.open("wb") as f:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as e:
        part.unlink(missing_ok=True)
        reason = getattr(e, "reason", e)
        raise DataError(f"could not download {url} ({reason})") from None
    part.replace(dest)


def safe_extract(archive: Path, target: Path) -> None:
    """Unzip `archive` into `target`, refusing any member that would land outside it."""
    target = target.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise DataError(f"{archive} is corrupt (bad member {bad}); delete it and download again")
            for member in zf.infolist():
                dest = (target / member.filename).resolve()
                if not dest.is_relative_to(target):
                    raise DataError(f"{archive}: member '{member.filename}' would land outside {target}; refusing to extract")
            zf.extractall(target)
    except zipfile.BadZipFile:
        raise DataError(f"{archive} is not a valid zip file; delete it and download again") from None


def download_cyclegan_dataset(name: str, root: str | Path = "data") -> Path:
    """Fetch `name` into root/name/{trainA,trainB,testA,testB}; a complete folder is kept."""
    if name not in CYCLEGAN_DATASETS:
        close = difflib.get_close_matches(name, CYCLEGAN_DATASETS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(CYCLEGAN_DATASETS)}"
        raise DataError(f"unknown CycleGAN dataset '{name}'; {hint}")
    root = Path(root)
    folder = root / name
    if all((folder / s).is_dir() for s in SPLITS):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    archive = root / f"{name}.zip"
    url = CYCLEGAN_URL.format(name=name)
    try:
        if not archive.exists():
            fetch(url, archive)
        safe_extract(archive, root)
    except DataError as e:
        raise DataError(
            f"{e}. Without network: get {url} elsewhere and unzip it so that "
            f"{folder}/trainA, trainB, testA and testB exist"
        ) from None
    missing = [s for s in SPLITS if not (folder / s).is_dir()]
    if missing:
        raise DataError(f"{archive} did not contain {name}/{', '.join(missing)}; delete it and retry")
    archive.unlink()
    return folder

