"""Fetching the official CycleGAN and pix2pix datasets: download, check, extract safely."""

from __future__ import annotations

import difflib
import tarfile
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
PIX2PIX_URL = "https://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
PIX2PIX_DATASETS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day")
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
                raise DataError(
                    f"{archive} is corrupt (bad member {bad}); delete it and download again"
                )
            for member in zf.infolist():
                dest = (target / member.filename).resolve()
                if not dest.is_relative_to(target):
                    raise DataError(
                        f"{archive}: member '{member.filename}' would land outside {target}; "
                        f"refusing to extract"
                    )
            zf.extractall(target)
    except zipfile.BadZipFile:
        raise DataError(
            f"{archive} is not a valid zip file; delete it and download again"
        ) from None


def safe_extract_tar(archive: Path, target: Path) -> None:
    """Untar `archive` into `target`: no member may land outside it or link out of it."""
    target = target.resolve()
    try:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                dest = (target / member.name).resolve()
                if not dest.is_relative_to(target) or member.issym() or member.islnk():
                    raise DataError(
                        f"{archive}: member '{member.name}' would land outside {target}; "
                        f"refusing to extract"
                    )
            tf.extractall(target, filter="data")  # the stdlib's own guard, on top of ours
    except (tarfile.TarError, EOFError, OSError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(
            f"{archive} is not a valid tar.gz file ({e}); delete it and download again"
        ) from None


KINDS = {
    # kind: (archive suffix, extractor, folders that must arrive)
    "cyclegan": (".zip", safe_extract, SPLITS),
    "pix2pix": (".tar.gz", safe_extract_tar, ("train",)),
}


def dataset_kind(name: str, kind: str | None = None) -> str:
    """cyclegan or pix2pix; names in both collections (facades, maps, cityscapes) default to
    the CycleGAN (unaligned) version unless `kind` says otherwise."""
    known = {"cyclegan": CYCLEGAN_DATASETS, "pix2pix": PIX2PIX_DATASETS}
    if kind is not None and kind not in known:
        raise DataError(f"unknown dataset kind '{kind}'; choose cyclegan or pix2pix")
    candidates = known[kind] if kind else CYCLEGAN_DATASETS + PIX2PIX_DATASETS
    if name not in candidates:
        close = difflib.get_close_matches(name, candidates, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(candidates)}"
        raise DataError(f"unknown {kind + ' ' if kind else ''}dataset '{name}'; {hint}")
    return kind or ("cyclegan" if name in CYCLEGAN_DATASETS else "pix2pix")


def download_dataset(name: str, root: str | Path = "data", kind: str | None = None) -> Path:
    """Fetch an official dataset into root/NAME; a complete folder is kept as it is.

    CycleGAN datasets arrive as trainA/ trainB/ testA/ testB/; pix2pix ones as train/ and
    val/ and/or test/, each image holding A and B side by side.
    """
    kind = dataset_kind(name, kind)
    suffix, extract, required = KINDS[kind]
    url_template = CYCLEGAN_URL if kind == "cyclegan" else PIX2PIX_URL
    root = Path(root)
    folder = root / name
    if all((folder / s).is_dir() for s in required):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    archive = root / f"{name}{suffix}"
    url = url_template.format(name=name)
    try:
        if not archive.exists():
            fetch(url, archive)
        extract(archive, root)
    except DataError as e:
        raise DataError(
            f"{e}. Without network: get {url} elsewhere and unpack it so that "
            f"{folder}/{', '.join(required)} exist"
        ) from None
    missing = [s for s in required if not (folder / s).is_dir()]
    if missing:
        raise DataError(
            f"{archive} did not contain {name}/{', '.join(missing)}; delete it and retry"
        )
    archive.unlink()
    return folder
