"""FID/KID on the FID Inception architecture, the hash check, the reference cache, LPIPS, MAE."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.errors import EvaluationError
from gan_style.evaluation import distribution, inception, perceptual
from gan_style.evaluation.metrics import mae
from gan_style.evaluation.protocols import score_folders
from gan_style.evaluation.weights import sha256_of


def images(seed: int, n: int = 4, shift: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        base = rng.integers(0, 200, (48, 48, 3)).astype(np.int16)
        out.append(np.clip(base + shift, 0, 255).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def extractor(fid_weights: Path) -> inception.FidExtractor:
    return inception.load_fid_extractor(fid_weights, verify=False)


def test_identical_sets_give_zero_and_a_shifted_set_more(extractor) -> None:
    reals = extractor.features(images(0))
    shifted = extractor.features(images(0, shift=50))
    assert reals.shape == (4, 2048) and np.isfinite(reals).all()
    assert abs(distribution.fid(reals, reals)) < 1e-6
    assert distribution.fid(shifted, reals) > 1.0
    assert distribution.kid(shifted, reals)["mean"] > 100 * abs(
        distribution.kid(reals, reals)["mean"]
    )


def test_mixed_sizes_and_grey_images_are_featured_in_order(extractor) -> None:
    colour, grey = images(1, n=1)[0], images(2, n=1)[0][..., :1]
    both = extractor.features([colour, grey[:40], colour])
    assert np.allclose(both[0], both[2])
    assert np.allclose(both[1], extractor.features([np.repeat(grey[:40], 3, axis=2)])[0])


def test_kid_is_the_unbiased_mmd_by_hand() -> None:
    """d = 1, k(x, y) = (x y + 1)^3. X = {0, 1}, Y = {1, 2}:
    k_XX off the diagonal: k(0,1) = 1; k_YY: k(1,2) = 27; k_XY: (1 + 1 + 8 + 27) / 4 = 9.25.
    Unbiased MMD^2 = 1 + 27 - 2 * 9.25 = 9.5 (the biased one, with the diagonal, would differ)."""
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    result = distribution.kid(x, y, subsets=5)
    assert result["mean"] == pytest.approx(9.5) and result["std"] == pytest.approx(0)
    assert result["subset_size"] == 2


def test_kid_needs_two_images() -> None:
    with pytest.raises(EvaluationError, match="at least 2 images on each side"):
        distribution.kid(np.zeros((1, 3)), np.zeros((4, 3)))


def test_the_hash_check(fid_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EvaluationError) as error:
        inception.load_fid_extractor(fid_weights)
    message = str(error.value)
    assert "not the official FID Inception weights" in message and "--unverified-weights" in message
    assert inception.FID_WEIGHTS.name in message and inception.FID_WEIGHTS.url in message
    assert not inception.load_fid_extractor(fid_weights, verify=False).describe()[
        "standard_weights"
    ]
    # A file whose hash matches the official prefix is accepted and recorded as standard.
    monkeypatch.setattr(inception.FID_WEIGHTS, "sha256_prefix", sha256_of(fid_weights)[:8])
    described = inception.load_fid_extractor(fid_weights).describe()
    assert described["standard_weights"] and described["weights_sha256"].startswith(
        inception.FID_WEIGHTS.sha256_prefix
    )
    assert described["resize"].startswith("bilinear to 299x299")


def test_offline_without_weights_names_the_official_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*_a, **_k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(EvaluationError) as error:
        inception.load_fid_extractor()
    message = str(error.value)
    assert "download failed (URLError)" in message and "--inception-weights PATH" in message
    assert inception.FID_WEIGHTS.url in message
    with pytest.raises(EvaluationError, match=r"alexnet-owt-7be5be79.pth.*--lpips-weights PATH"):
        perceptual.load_lpips()
    with pytest.raises(EvaluationError, match=r"nothing\.pth not found"):
        inception.load_fid_extractor(tmp_path / "nothing.pth")


def test_wrong_files_are_refused(tmp_path: Path) -> None:
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(EvaluationError, match="does not fit the FID Inception network"):
        inception.load_fid_extractor(tmp_path / "other.pth", verify=False)
    (tmp_path / "text.pth").write_text("not weights")
    with pytest.raises(EvaluationError, match="not a readable weights file"):
        inception.load_fid_extractor(tmp_path / "text.pth", verify=False)
    with pytest.raises(EvaluationError, match="not an AlexNet weights file"):
        perceptual.load_lpips(tmp_path / "other.pth", verify=False)


def write(folder: Path, arrays: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, array in enumerate(arrays):
        Image.fromarray(array).save(folder / f"{i}.png")
    return folder


def test_reference_is_cached_and_invalidated_by_a_changed_file(
    extractor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAN_STYLE_CACHE", str(tmp_path / "cache"))
    folder = write(tmp_path / "reals", images(3))
    first = distribution.folder_reference(folder, extractor)
    assert first.source["cached"] is False and first.source["images"] == 4
    computed = []
    original = extractor.features
    monkeypatch.setattr(
        extractor, "features", lambda imgs, **k: computed.append(len(imgs)) or original(imgs)
    )
    again = distribution.folder_reference(folder, extractor)
    assert again.source["cached"] is True and computed == []
    assert np.array_equal(again.features, first.features)
    Image.fromarray(images(9, n=1)[0]).save(folder / "2.png")  # same name, other contents
    changed = distribution.folder_reference(folder, extractor)
    assert changed.source["cached"] is False and computed == [4]
    assert changed.source["contents_sha256"] != first.source["contents_sha256"]
    assert not np.allclose(changed.features, first.features)
    # A statistics file is a reference too, refused when made with other weights.
    stats = next((tmp_path / "cache" / "fid").glob("*.pt"))
    assert np.array_equal(distribution.load_reference(stats, extractor).features, first.features)
    other = inception.FidExtractor(extractor.net, extractor.weights, "0" * 64, extractor.device)
    with pytest.raises(EvaluationError, match="computed with other FID settings"):
        distribution.load_reference(stats, other)
    with pytest.raises(EvaluationError, match="has no images"):
        distribution.folder_reference(tmp_path / "cache", extractor)


def test_lpips_of_identical_images_is_zero(alexnet_weights: Path, tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="not the official LPIPS backbone weights"):
        perceptual.load_lpips(alexnet_weights)
    lpips = perceptual.load_lpips(alexnet_weights, verify=False)
    a, b = images(4, n=2)
    assert lpips(a, a) == 0 and lpips(a, b) > 0
    assert lpips(a[..., :1], a[..., :1]) == 0  # grey images go in as three equal channels
    scores = score_folders(
        "paired", "AtoB", write(tmp_path / "x", [a, a]), write(tmp_path / "y", [a, b]), lpips
    )
    assert scores[0].lpips == 0 and scores[1].lpips == pytest.approx(lpips(a, b))


def test_mae_by_hand() -> None:
    a = np.array([[[0, 10, 20]], [[250, 255, 0]]], dtype=np.uint8)
    b = np.array([[[5, 10, 10]], [[255, 250, 3]]], dtype=np.uint8)
    assert mae(a, b) == pytest.approx((5 + 0 + 10 + 5 + 5 + 3) / 6)
