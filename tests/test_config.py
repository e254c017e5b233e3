from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from gan_style import config
from gan_style.config import ConfigError, load_config, parse_overrides
from gan_style.networks import DISCRIMINATORS, GENERATORS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


class TestShippedExperiments:
    @pytest.mark.parametrize(
        "name", ["demo", "monet", "vangogh", "cezanne", "ukiyoe", "horse2zebra", "summer2winter"]
    )
    def test_loads(self, name: str) -> None:
        cfg = load_config(name)
        assert cfg.name == name

    def test_monet_has_the_paper_settings(self) -> None:
        cfg = load_config("monet")
        assert (cfg.model.generator, cfg.model.discriminator) == ("resnet_9blocks", "basic")
        assert (cfg.loss.gan_mode, cfg.loss.lambda_cycle, cfg.loss.lambda_identity) == (
            "lsgan",
            10.0,
            0.5,
        )
        assert (cfg.train.pool_size, cfg.train.batch_size) == (50, 1)
        assert (cfg.data.load_size, cfg.data.crop_size) == (286, 256)
        assert (cfg.train.lr, cfg.train.beta1) == (2e-4, 0.5)
        assert (cfg.train.epochs, cfg.train.epochs_decay, cfg.train.lr_policy) == (
            100,
            100,
            "linear",
        )
        assert cfg.data.root == "data/monet2photo"

    def test_path_to_yaml(self, tmp_path: Path) -> None:
        (tmp_path / "base.yaml").write_text("model:\n  ngf: 12\n")
        (tmp_path / "mine.yaml").write_text("extends: base.yaml\nmodel:\n  ndf: 5\n")
        cfg = load_config(str(tmp_path / "mine.yaml"))
        assert (cfg.name, cfg.model.ngf, cfg.model.ndf) == ("mine", 12, 5)


class TestOverrides:
    def test_typed_values(self) -> None:
        cfg = load_config(
            "demo", ["train.lr=1e-4", "data.flip=false", "model.ngf=4", "train.lr_gamma=1"]
        )
        assert cfg.train.lr == 1e-4 and cfg.data.flip is False and cfg.model.ngf == 4
        assert isinstance(cfg.train.lr_gamma, float)

    def test_parse(self) -> None:
        assert parse_overrides(["a.b=1", "a.c=x"]) == {"a": {"b": 1, "c": "x"}}

    @pytest.mark.parametrize(
        ("override", "message"),
        [
            ("train.lrr=1", "unknown config key 'train.lrr'; did you mean 'train.lr'?"),
            ("trian.lr=1", "did you mean 'train.lr'?"),
            ("model.ngf=abc", "model.ngf: expected int, got 'abc'"),
            ("model.ngf=1.5", "model.ngf: expected int"),
            ("data.flip=3", "data.flip: expected bool"),
            ("model.norm=group", "model.norm: 'group' is not one of instance, batch, none"),
            ("train.lr", "not of the form key=value"),
            ("train.batch_size=0", "train.batch_size must be positive"),
            ("data.load_size=10", "data.load_size (10) is smaller than data.crop_size"),
        ],
    )
    def test_errors(self, override: str, message: str) -> None:
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config("demo", [override])


class TestErrors:
    def test_unknown_experiment(self) -> None:
        with pytest.raises(ConfigError, match="did you mean 'demo'"):
            load_config("demoo")

    def test_bad_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text("model: [unclosed\n")
        with pytest.raises(ConfigError, match="not valid YAML at line"):
            load_config(str(path))

    def test_unknown_key_in_file(self, tmp_path: Path) -> None:
        path = tmp_path / "typo.yaml"
        path.write_text("model:\n  generatr: unet_256\n")
        with pytest.raises(
            ConfigError, match=r"'model\.generatr'; did you mean 'model\.generator'"
        ):
            load_config(str(path))

    def test_extends_loop(self, tmp_path: Path) -> None:
        (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
        (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
        with pytest.raises(ConfigError, match="loops back"):
            load_config(str(tmp_path / "a.yaml"))

    def test_unet_needs_divisible_crop(self) -> None:
        with pytest.raises(ConfigError, match="divisible by 256"):
            load_config("monet", ["model.generator=unet_256", "data.crop_size=200"])
        # The demo's generators have a global skip, which a U-Net lacks: the error says so.
        with pytest.raises(ConfigError, match=r"set model\.global_skip=false model\.skip_filter"):
            load_config("demo", ["model.generator=unet_256"])


def test_schema_choices_match_registries() -> None:
    """The config's allowed names are exactly the networks that can be built."""
    assert set(typing.get_args(config.Generator)) == set(GENERATORS)
    assert set(typing.get_args(config.Discriminator)) == set(DISCRIMINATORS)


def test_dump_round_trips() -> None:
    import yaml

    cfg = load_config("monet", ["train.lr=3e-4"])
    assert config.from_dict(yaml.safe_load(config.dump(cfg))) == cfg
