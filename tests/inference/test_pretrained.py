"""Published CycleGAN generators: download and loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_style.cli import main
from gan_style.inference import load_generators


def test_pretrained_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from gan_style.inference import pretrained
    from tests.reference_cyclegan import ResnetGenerator, instance_norm

    server = tmp_path / "server"
    server.mkdir()
    torch.save(
        ResnetGenerator(3, 3, ngf=4, norm_layer=instance_norm(), n_blocks=9).state_dict(),
        server / "style_monet.pth",
    )
    monkeypatch.setattr(pretrained, "PRETRAINED_URL", server.as_uri() + "/{name}.pth")
    assert main(["pretrained", "download", "style_monet", "--root", str(tmp_path / "w")]) == 0
    assert (
        load_generators(tmp_path / "w" / "style_monet.pth").config.model.generator
        == "resnet_9blocks"
    )
    assert main(["pretrained", "download", "style_cezanne", "--root", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "could not download" in err and "Without network" in err and "style_cezanne.pth" in err
    assert main(["pretrained", "download", "style_monnet"]) == 2
    assert "did you mean 'style_monet'" in capsys.readouterr().err


def test_downloads_from_the_official_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `pretrained download` asks the network for, and where it puts the file."""
    from gan_style.inference import pretrained

    requested: list[tuple[str, Path]] = []

    def fake_fetch(url: str, dest: Path) -> None:
        requested.append((url, dest))
        dest.write_bytes(b"weights")

    monkeypatch.setattr(pretrained, "fetch", fake_fetch)
    path = pretrained.download_pretrained("style_ukiyoe", tmp_path / "w")
    assert requested == [
        (
            "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/style_ukiyoe.pth",
            tmp_path / "w" / "style_ukiyoe.pth",
        )
    ]
    assert path == tmp_path / "w" / "style_ukiyoe.pth"
    pretrained.download_pretrained("style_ukiyoe", tmp_path / "w")  # already there: no request
    assert len(requested) == 1


def test_old_format_files_load_without_memory_mapping(tmp_path: Path) -> None:
    """Inference maps zip-format checkpoints into memory; files in torch's older format (some
    published weights) are read whole, with the same weights either way."""
    from gan_style.networks import build_generator

    torch.manual_seed(0)
    state = build_generator("resnet_6blocks", ngf=8).state_dict()
    new, old = tmp_path / "new.pth", tmp_path / "old.pth"
    torch.save(state, new)
    torch.save(state, old, _use_new_zipfile_serialization=False)
    nets = [load_generators(path).G_AB.state_dict() for path in (new, old)]
    for name, tensor in state.items():
        assert torch.equal(nets[0][name], tensor) and torch.equal(nets[1][name], tensor), name
