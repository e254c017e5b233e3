from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from gan_style.data import download
from gan_style.errors import DataError
from tests.conftest import write_images


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder standing in for the dataset server, reached through file:// URLs."""
    server = tmp_path / "server"
    server.mkdir()
    monkeypatch.setattr(download, "CYCLEGAN_URL", server.as_uri() + "/{name}.zip")
    return server


def make_zip(path: Path, name: str, tmp_path: Path, extra: dict[str, bytes] | None = None) -> None:
    src = tmp_path / "src"
    for split in download.SPLITS:
        write_images(src / name / split, 1)
    with zipfile.ZipFile(path, "w") as zf:
        for f in src.rglob("*.png"):
            zf.write(f, f.relative_to(src).as_posix())
        for member, data in (extra or {}).items():
            zf.writestr(member, data)


def test_download_extracts_and_checks(served: Path, tmp_path: Path) -> None:
    make_zip(served / "mini.zip", "mini", tmp_path)
    folder = download.download_dataset("mini", tmp_path / "data")
    assert all((folder / s / "img_000.png").is_file() for s in download.SPLITS)
    assert not (tmp_path / "data" / "mini.zip").exists()  # archive removed after extraction
    assert download.download_dataset("mini", tmp_path / "data") == folder  # kept


def test_member_outside_target_is_refused(served: Path, tmp_path: Path) -> None:
    make_zip(served / "mini.zip", "mini", tmp_path, {"../escaped.txt": b"x"})
    with pytest.raises(DataError, match="would land outside"):
        download.download_dataset("mini", tmp_path / "data")
    assert not (tmp_path / "escaped.txt").exists()


def test_corrupt_archive(served: Path, tmp_path: Path) -> None:
    (served / "mini.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="not a valid zip file"):
        download.download_dataset("mini", tmp_path / "data")


def test_archive_without_splits(served: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(served / "mini.zip", "w") as zf:
        zf.writestr("mini/readme.txt", "nothing")
    with pytest.raises(DataError, match="did not contain mini/trainA"):
        download.download_dataset("mini", tmp_path / "data")


def test_offline_says_where_to_put_folders(served: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        download.download_dataset("horse2zebra", tmp_path / "data")
    message = str(err.value)
    assert "could not download" in message and "Without network" in message
    assert "horse2zebra/trainA, trainB, testA, testB exist" in message and "\n" not in message
    assert not list((tmp_path / "data").glob("*.part"))


def test_unknown_name_suggests() -> None:
    with pytest.raises(DataError, match="did you mean 'monet2photo'"):
        download.download_dataset("monet2foto")


def test_official_url() -> None:
    assert download.CYCLEGAN_URL.format(name="monet2photo") == (
        "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/monet2photo.zip"
    )


def make_tar(path: Path, name: str, tmp_path: Path, evil: str | None = None) -> None:
    import tarfile

    src = tmp_path / "tsrc"
    write_images(src / name / "train", 2, size=(8, 16))
    write_images(src / name / "val", 1, size=(8, 16))
    with tarfile.open(path, "w:gz") as tf:
        tf.add(src / name, arcname=name)
        if evil:
            tf.add(src / name / "train" / "img_000.png", arcname=evil)


@pytest.fixture
def served_pix2pix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    server = tmp_path / "p2p"
    server.mkdir()
    monkeypatch.setattr(download, "PIX2PIX_URL", server.as_uri() + "/{name}.tar.gz")
    return server


def test_pix2pix_download(served_pix2pix: Path, tmp_path: Path) -> None:
    make_tar(served_pix2pix / "facades.tar.gz", "facades", tmp_path)
    folder = download.download_dataset("facades", tmp_path / "data", kind="pix2pix")
    assert sorted(p.name for p in (folder / "train").iterdir()) == ["img_000.png", "img_001.png"]


def test_pix2pix_member_outside_is_refused(served_pix2pix: Path, tmp_path: Path) -> None:
    make_tar(served_pix2pix / "facades.tar.gz", "facades", tmp_path, evil="../../evil.png")
    with pytest.raises(DataError, match="would land outside"):
        download.download_dataset("facades", tmp_path / "data", kind="pix2pix")


def test_names_in_both_collections_default_to_cyclegan() -> None:
    assert download.dataset_kind("facades") == "cyclegan"
    assert download.dataset_kind("edges2shoes") == "pix2pix"
    assert download.dataset_kind("facades", "pix2pix") == "pix2pix"
    with pytest.raises(DataError, match="unknown pix2pix dataset 'monet2photo'"):
        download.dataset_kind("monet2photo", "pix2pix")


def test_official_pix2pix_url() -> None:
    assert download.PIX2PIX_URL.format(name="facades") == (
        "https://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
    )
