from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.config import DataConfig
from gan_style.data import EpochSampler, UnalignedDataset, build_transforms, find_images, load_image
from gan_style.data.demo import build_demo_dataset, painterly
from gan_style.errors import DataError
from tests.conftest import write_images


class TestLoadImage:
    def test_exif_orientation_is_applied(self, tmp_path: Path) -> None:
        img = Image.new("RGB", (30, 20), "red")
        exif = img.getexif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise on display
        img.save(tmp_path / "rot.jpg", exif=exif)
        assert load_image(tmp_path / "rot.jpg").shape == (30, 20, 3)

    @pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "LA"])
    def test_modes_become_rgb(self, tmp_path: Path, mode: str) -> None:
        path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
        Image.new(mode, (8, 6)).save(path)
        arr = load_image(path)
        assert arr.shape == (6, 8, 3) and arr.dtype == np.uint8

    def test_rgba_is_composited_on_white(self, tmp_path: Path) -> None:
        Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "clear.png")
        assert (load_image(tmp_path / "clear.png") == 255).all()

    def test_16bit_is_scaled_not_clipped(self, tmp_path: Path) -> None:
        arr16 = np.full((4, 4), 65535 // 2, dtype=np.uint16)
        Image.fromarray(arr16).save(tmp_path / "deep.png")
        assert load_image(tmp_path / "deep.png")[0, 0, 0] == 127  # 32767 / 65535 * 255 = 127.5

    def test_grayscale_channels(self, tmp_path: Path) -> None:
        Image.new("RGB", (5, 5), (255, 0, 0)).save(tmp_path / "red.png")
        gray = load_image(tmp_path / "red.png", channels=1)
        assert gray.shape == (5, 5, 1) and gray[0, 0, 0] == 76  # ITU-R 601 luma of pure red

    @pytest.mark.parametrize("content", [b"", b"not an image", None])
    def test_unreadable_is_named(self, tmp_path: Path, content: bytes | None) -> None:
        path = tmp_path / "bad.jpg"
        if content is None:  # a truncated JPEG
            Image.new("RGB", (64, 64), "blue").save(path, quality=95)
            path.write_bytes(path.read_bytes()[:200])
        else:
            path.write_bytes(content)
        with pytest.raises(DataError, match=r"cannot read image .*bad\.jpg"):
            load_image(path)


def test_find_images_is_recursive_and_sorted(tmp_path: Path) -> None:
    for rel in ["b.PNG", "sub/a.webp", "c.bmp", "d.tif", "notes.txt", "e.jpeg"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).touch()
    names = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)]
    assert names == ["b.PNG", "c.bmp", "d.tif", "e.jpeg", "sub/a.webp"]


class TestTransforms:
    @pytest.mark.parametrize(
        ("preprocess", "train", "shape"),
        [
            ("resize_and_crop", True, (3, 32, 32)),
            ("resize_and_crop", False, (3, 32, 32)),
            ("scale_width_and_crop", True, (3, 32, 32)),
            ("scale_width_and_crop", False, (3, 32, 32)),
            ("crop", True, (3, 32, 32)),
            ("crop", False, (3, 32, 32)),
            ("none", True, (3, 40, 48)),  # 41x50 rounded to multiples of 4 (4x4 padding)
        ],
    )
    def test_shapes_and_range(self, preprocess: str, train: bool, shape: tuple) -> None:
        cfg = DataConfig(load_size=36, crop_size=32, preprocess=preprocess)
        image = np.random.default_rng(0).integers(0, 256, (41, 50, 3), dtype=np.uint8)
        out = build_transforms(cfg, train)(image=image)["image"]
        assert out.shape == shape and out.dtype == torch.float32
        assert out.min() >= -1.0 and out.max() <= 1.0

    def test_values_map_to_minus_one_one(self) -> None:
        cfg = DataConfig(load_size=4, crop_size=4, preprocess="none")
        image = np.zeros((4, 4, 3), np.uint8)
        image[0, 0] = 255
        out = build_transforms(cfg, train=False)(image=image)["image"]
        assert out[0, 0, 0] == 1.0 and out[0, 1, 1] == -1.0

    def test_small_image_is_scaled_up_for_crop(self) -> None:
        cfg = DataConfig(load_size=32, crop_size=32, preprocess="crop")
        tiny = np.zeros((10, 20, 3), np.uint8)
        assert build_transforms(cfg, True)(image=tiny)["image"].shape == (3, 32, 32)


class TestUnalignedDataset:
    def cfg(self, root: Path, **kw) -> DataConfig:
        return DataConfig(root=str(root), load_size=36, crop_size=32, **kw)

    def test_items(self, tiny_dataset: Path) -> None:
        ds = UnalignedDataset(self.cfg(tiny_dataset))
        assert len(ds) == 4  # max of the two domains
        item = ds[(0, 1)]
        assert item["A"].shape == item["B"].shape == (3, 32, 32)
        assert item["A_paths"].endswith("img_001.png") and "trainB" in item["B_paths"]

    def test_items_depend_on_seed_epoch_index_only(self, tiny_dataset: Path) -> None:
        a, b = (
            UnalignedDataset(self.cfg(tiny_dataset), seed=1),
            UnalignedDataset(self.cfg(tiny_dataset), seed=1),
        )
        torch.manual_seed(123)  # global state must not matter
        assert (
            torch.equal(a[(2, 3)]["A"], b[(2, 3)]["A"])
            and a[(2, 3)]["B_paths"] == b[(2, 3)]["B_paths"]
        )
        draws = {tuple(a[(e, 0)]["A"].flatten()[:50].tolist()) for e in range(6)}
        assert len(draws) > 1  # crops and flips change from epoch to epoch

    def test_missing_folder_says_how_to_fetch(self, tmp_path: Path) -> None:
        cfg = self.cfg(tmp_path / "horse2zebra", dataset="horse2zebra")
        with pytest.raises(DataError, match="gan-style data download horse2zebra"):
            UnalignedDataset(cfg)

    def test_empty_folder(self, tmp_path: Path) -> None:
        (tmp_path / "trainA").mkdir()
        write_images(tmp_path / "trainB", 1)
        with pytest.raises(DataError, match=r"no images .* in .*trainA"):
            UnalignedDataset(self.cfg(tmp_path))

    def test_corrupt_file_is_named_and_left_out(self, tiny_dataset: Path, capsys) -> None:
        (tiny_dataset / "trainB" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
        ds = UnalignedDataset(self.cfg(tiny_dataset))
        assert "skipping unreadable image" in capsys.readouterr().err
        assert [p.name for p in ds.unreadable] == ["broken.jpg"]
        assert all(p.name != "broken.jpg" for p in ds.paths_B) and len(ds.paths_B) == 3

    def test_a_domain_of_bad_files_is_an_error(self, tmp_path: Path) -> None:
        write_images(tmp_path / "trainA", 2)
        (tmp_path / "trainB").mkdir()
        (tmp_path / "trainB" / "broken.jpg").write_bytes(b"garbage")
        with pytest.raises(DataError, match=r"every image in .* \(B\) is unreadable"):
            UnalignedDataset(self.cfg(tmp_path))

    def test_grayscale_config(self, tiny_dataset: Path) -> None:
        ds = UnalignedDataset(self.cfg(tiny_dataset, channels=1))
        assert ds[0]["A"].shape == (1, 32, 32)


class TestEpochSampler:
    def test_shuffle_per_epoch_and_skip(self) -> None:
        s = EpochSampler(10, seed=0)
        s.set_epoch(0)
        first = list(s)
        s.set_epoch(1)
        second = list(s)
        assert sorted(i for _, i in first) == list(range(10)) and first != [
            (1, i) for _, i in second
        ]
        s.set_epoch(0, skip=4)
        assert list(s) == first[4:] and len(s) == 6

    def test_ranks_partition_the_epoch(self) -> None:
        shards = [EpochSampler(10, seed=0, rank=r, world_size=2) for r in range(2)]
        indices = [i for s in shards for _, i in s]
        assert sorted(indices) == list(range(10))


class TestDemoDataset:
    def test_layout_deterministic_and_paired(self, tmp_path: Path) -> None:
        a = build_demo_dataset(tmp_path / "a", per_source=2, test_per_source=2, size=32)
        b = build_demo_dataset(tmp_path / "b", per_source=2, test_per_source=2, size=32)
        for split in ("trainA", "trainB", "testA", "testB", "testB_paired"):
            files = sorted(p.name for p in (a / split).iterdir())
            assert files and files == sorted(p.name for p in (b / split).iterdir())
            for name in files:
                assert (a / split / name).read_bytes() == (b / split / name).read_bytes()
        for path in (a / "testA").iterdir():
            expected = painterly(np.asarray(Image.open(path)))
            assert np.array_equal(np.asarray(Image.open(a / "testB_paired" / path.name)), expected)
        train_sources = {p.name.rsplit("_", 1)[0] for p in (a / "trainA").iterdir()}
        test_sources = {p.name.rsplit("_", 1)[0] for p in (a / "testA").iterdir()}
        assert train_sources.isdisjoint(test_sources)  # the test split is held out

    def test_painterly_is_warmer_and_smoother(self) -> None:
        rng = np.random.default_rng(0)
        photo = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        out = painterly(photo).astype(float)
        assert out[..., 0].mean() > out[..., 2].mean()  # red over blue: the warm palette
        assert (
            np.abs(np.diff(out, axis=1)).mean()
            < np.abs(np.diff(photo.astype(float), axis=1)).mean()
        )
