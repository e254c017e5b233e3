"""Typed experiment configuration: nested dataclasses from YAML plus `key=value` overrides."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from gan_style.errors import ConfigError

EXPERIMENTS_DIR = Path("experiments")  # the local folder, relative to where the command runs
# The experiments that come with gan-style, as package data (a link to the top-level
# experiments/ in a checkout).
SHIPPED_EXPERIMENTS = (Path(__file__).parent / "experiments").resolve()

Generator = Literal[
    "resnet_9blocks", "resnet_6blocks", "resnet_4blocks", "unet_128", "unet_256", "edsr_8blocks"
]
RESNETS = ", ".join(g for g in typing.get_args(Generator) if g.startswith("resnet"))
Discriminator = Literal["basic", "n_layers", "pixel"]
Norm = Literal["instance", "batch", "none"]
Upsample = Literal["transpose", "resize"]
UpscaleHead = Literal["pixel_shuffle", "resize"]
Init = Literal["normal", "xavier", "kaiming", "orthogonal"]
GanMode = Literal["lsgan", "vanilla", "hinge", "wgangp"]
Preprocess = Literal["resize_and_crop", "scale_width_and_crop", "crop", "none"]
Shrink = Literal["random", "area", "bilinear", "bicubic"]
DatasetMode = Literal["unaligned", "aligned", "paired", "colorization", "sketch", "restoration"]
Direction = Literal["AtoB", "BtoA"]
LrPolicy = Literal["linear", "step", "cosine"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
ConvBackend = Literal["auto", "native", "nnpack"]
EvalMetric = Literal[
    "ssim_AB", "psnr_AB", "ssim_BA", "psnr_BA",
    "cycle_ssim_A", "cycle_psnr_A", "cycle_ssim_B", "cycle_psnr_B",
    "fid_AB", "kid_AB", "fid_BA", "kid_BA",
    "deception_AB", "deception_BA", "content_ssim_AB", "content_ssim_BA",
]  # fmt: skip


@dataclass
class DataConfig:
    root: str = "data/demo"  # folder holding trainA/ trainB/ testA/ testB/
    dataset: str = ""  # official dataset name, used to say which download command fetches it
    dataset_mode: DatasetMode = (
        "unaligned"  # unaligned | aligned | paired | colorization | sketch | restoration
    )
    direction: Direction = "AtoB"  # aligned/paired data: BtoA swaps the sides
    styles: list[str] = field(default_factory=list)  # multistyle: trainB/<style>/; [] = all
    load_size: int = 286  # px; images are resized to this before cropping
    crop_size: int = 256  # px; the square size the networks train on
    preprocess: Preprocess = "resize_and_crop"
    flip: bool = True  # random horizontal flip while training
    channels: int = 3  # 3 = RGB, 1 = grayscale; every image is converted to this
    sketch_thickness: float = 1.0  # sketch data: line width, the XDoG sigma in px
    sketch_threshold: float = -0.005  # sketch data: lower keeps only stronger edges
    sketch_hints: int = 0  # sketch data, colour filling: up to N colour hints on each drawing
    # restoration data: each image paired with a damaged copy (data/degradation.py); 0 = off
    degrade_blur: float = 2.0  # Gaussian blur, sigma up to this many px
    degrade_downscale: float = 2.0  # shrunk by up to this factor and enlarged back; 1 = off
    degrade_noise: float = 10.0  # Gaussian noise, std up to this many grey levels
    degrade_jpeg: int = 40  # JPEG at a quality from this up to 95; 100 = off
    degrade_shrink: Shrink = "random"  # an enlarger's input shrunk by: one of the three, or random
    degrade_second_order: float = 0.0  # chance of blur, noise and JPEG a second time
    degrade_fade: float = 0.3  # contrast and saturation lowered by up to this share
    degrade_yellow: float = 0.3  # turned towards old paper's yellow by up to this share
    degrade_cast: float = 12.0  # a colour cast: each channel shifted by up to +-this many levels
    degrade_scratches: int = 6  # up to this many dust specks and thin scratches
    num_workers: int = -1  # data loader processes; 0 = in the main process; -1 = cores - 2, max 4
    prefetch: int = 2  # batches each worker loads ahead


@dataclass
class ModelConfig:
    name: Literal["cycle_gan", "pix2pix", "multistyle", "cut", "fastcut", "colorization"] = (
        "cycle_gan"
    )
    generator: Generator = "resnet_9blocks"
    discriminator: Discriminator = "basic"  # basic = 70x70 PatchGAN (3 layers)
    n_layers_d: int = 3  # layers of the `n_layers` discriminator
    ngf: int = 64  # generator filters in the first conv layer
    ndf: int = 64  # discriminator filters in the first conv layer
    norm: Norm = "instance"
    dropout: bool = False  # dropout in the generator's residual blocks / U-Net inner layers
    init: Init = "normal"
    init_gain: float = 0.02  # scale of the normal/xavier/orthogonal initialisation
    style_dim: int = 64  # multistyle: size of the style code that modulates the generators
    antialias: bool = False  # ResNet generators: blurred down/upsampling (CUT's option)
    upsample: Upsample = "transpose"  # ResNet generators: resize = nearest doubling, then conv
    spectral_norm: bool = False  # every discriminator convolution spectrally normalised
    diffaugment: str = ""  # discriminators see augmented images: color,translation,cutout
    global_skip: bool = False  # ResNet generators predict a change to their input (docs/quality.md)
    skip_filter: bool = False  # global skip through a learned colour matrix and 5x5 filter
    long_skip: bool = False  # ResNet generators: first layer's features join the last layer's
    upscale: int = 1  # super-resolution: ResNet generators enlarge their input 2 or 4 times
    upscale_head: UpscaleHead = "pixel_shuffle"  # how: sub-pixel convolution, or resize-conv
    spread_hints: bool = False  # colour filling: the drawing's colour hints spread, as input
    nce_layers: list[int] = field(default_factory=lambda: [0, 4, 8, 12, 16])  # CUT: G's modules
    nce_patches: int = 256  # CUT: patch locations sampled per layer and image
    nce_mlp: int = 256  # CUT: width (and output size) of each layer's two-layer MLP head


# model.diffaugment's operations (networks/diffaugment.py)
DIFFAUGMENT = ("color", "translation", "cutout")


@dataclass
class LossConfig:
    gan_mode: GanMode = "lsgan"
    lambda_cycle: float = 10.0  # weight of the cycle-consistency L1 loss
    lambda_identity: float = 0.5  # identity L1 weight, relative to lambda_cycle (as in the paper)
    cycle_blur: float = 0.0  # px: Gaussian blur of both sides of the cycle L1 (0 = the paper's)
    lambda_gp: float = 10.0  # gradient penalty weight for wgangp
    lambda_r1: float = 0.0  # R1 penalty on real images (gamma; Mescheder et al. 2018); 0 = off
    lambda_l1: float = 100.0  # pix2pix: weight of the L1 loss to the target image
    lambda_gan: float = 1.0  # pix2pix: weight of the generator's adversarial term; 0 = none
    lambda_l2: float = 0.0  # pix2pix: weight of the squared error to the target (PSNR's measure)
    lambda_style_encoder: float = 1.0  # multistyle: weight of the style encoder's code regression
    lambda_perceptual: float = 0.0  # VGG-19 conv4_2 loss: to the input (CycleGAN), target (pix2pix)
    lambda_gan: float = 1.0  # CUT: weight of the adversarial loss
    lambda_nce: float = 1.0  # CUT: weight of the PatchNCE loss (fastcut: 10)
    nce_identity: bool = True  # CUT: also PatchNCE between real_B and G(real_B) (fastcut: off)
    nce_temperature: float = 0.07  # CUT: InfoNCE temperature
    flip_equivariance: bool = (
        False  # CUT: flip G's input at random, its features back (fastcut: on)
    )
    vgg_weights: str = ""  # VGG-19 weights file for lambda_perceptual; "" = torchvision's


@dataclass
class TrainConfig:
    epochs: int = 100  # epochs at the initial learning rate
    epochs_decay: int = 100  # epochs over which the learning rate decays (linear/cosine)
    batch_size: int = 1
    lr: float = 2e-4  # Adam learning rate
    beta1: float = 0.5  # Adam beta1
    beta2: float = 0.999  # Adam beta2
    lr_policy: LrPolicy = "linear"
    lr_decay_every: int = 50  # epochs between x lr_gamma steps (lr_policy=step)
    lr_gamma: float = 0.1  # factor of each step (lr_policy=step)
    pool_size: int = 50  # image history pool of fakes shown to the discriminators; 0 = off
    max_steps: int = 0  # stop after this many iterations; 0 = no limit
    seed: int = 0  # seeds data order, augmentation, initialisation and the image pool
    device: Device = "auto"
    precision: Precision = "auto"  # autocast dtype; auto = fp32 on CPU, bf16 on CUDA
    channels_last: bool = False  # NHWC memory layout for the networks and batches
    compile: bool = False  # torch.compile the networks (slow first iterations)
    ema_decay: float = 0.0  # > 0: keep an EMA of the generators (e.g. 0.999), used for inference
    conv_backend: ConvBackend = "auto"  # training: auto = native (NNPACK measured no gain)
    save_every: int = 1000  # iterations between checkpoints (one is also written each epoch)
    keep_checkpoints: int = 3  # step checkpoints kept besides latest.pt
    # When the run finishes, convert generator.pt and best.pt for this machine's CPU engine, so
    # that translate's first run of them starts without PyTorch (a no-op where it is PyTorch).
    prepare_cpu_engine: bool = True


@dataclass
class LogConfig:
    runs_dir: str = "runs"  # runs live in runs_dir/<experiment>/<run>/
    every: int = 50  # iterations between scalar logs and progress-bar loss updates
    sample_every: int = 500  # iterations between sample grids
    num_samples: int = 4  # fixed held-out images in each sample grid


@dataclass
class EvalConfig:
    every: int = 0  # iterations between held-out evaluations during training; 0 = off
    num_images: int = 16  # held-out images per domain scored during training
    metric: EvalMetric = "cycle_ssim_A"  # picks best.pt; *_AB need testB_paired/; fid/kid: lower
    inception_weights: str = ""  # fid_*/kid_* metrics: FID Inception file; "" = torch.hub cache
    style_score: bool = True  # unpaired data: deception_* by a domain classifier (style_score.py)


@dataclass
class Config:
    name: str = "experiment"  # the experiment name; set from the YAML file name
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


# --- Typed construction -------------------------------------------------------------------------


def run_dir_for(cfg: Config, run: str) -> Path:
    """Where a run of `cfg` lives: runs/<experiment>/<run>/."""
    return Path(cfg.log.runs_dir) / cfg.name / run


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def all_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every dotted key of the schema, used for suggestions on a typo."""
    keys = []
    for name, tp in _field_types(cls).items():
        key = f"{prefix}{name}"
        if dataclasses.is_dataclass(tp):
            keys += all_keys(tp, f"{key}.")
        else:
            keys.append(key)
    return keys


def _unknown_key_error(key: str) -> ConfigError:
    close = difflib.get_close_matches(key, all_keys(), n=1, cutoff=0.5)
    if not close:  # a typo in the leaf name alone: compare leaf names
        leaf = key.rsplit(".", 1)[-1]
        by_leaf = {k.rsplit(".", 1)[-1]: k for k in all_keys()}
        close = [by_leaf[m] for m in difflib.get_close_matches(leaf, list(by_leaf), n=1)]
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"unknown config key '{key}'{hint}")


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Check a YAML value against a field's type; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{key}: '{value}' is not one of {', '.join(map(str, choices))}")
        return value
    if origin in (typing.Union, types.UnionType):
        return value  # no unions in the schema today
    if origin is list:
        (item,) = typing.get_args(tp)
        if isinstance(value, str):  # `data.styles=monet,ukiyoe` on the command line
            value = [v.strip() for v in value.split(",") if v.strip()]
            if item is int:  # `model.nce_layers=0,4,8`
                value = [int(v) if v.lstrip("-").isdigit() else v for v in value]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [_coerce(f"{key}[{i}]", v, item) for i, v in enumerate(value)]
    if tp is float and isinstance(value, str):
        try:  # PyYAML (YAML 1.1) reads `1e-4` as a string; people write it anyway
            return float(value)
        except ValueError:
            pass
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, (str, int, float)) and not isinstance(value, bool),
    }.get(tp, True)
    if not ok:
        raise ConfigError(f"{key}: expected {tp.__name__}, got {value!r}")
    return tp(value) if tp in (float, str) else value


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {values!r}")
    types_ = _field_types(cls)
    kwargs = {}
    for name, value in values.items():
        key = f"{prefix}{name}"
        if name not in types_:
            raise _unknown_key_error(key)
        tp = types_[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, value or {}, f"{key}.")
        else:
            kwargs[name] = _coerce(key, value, tp)
    return cls(**kwargs)


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for k, v in update.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """Read a YAML file, following `extends: other.yaml` (relative to the file)."""
    path = path.resolve()
    if path in seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}; fix the file") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (data:, model:, ...)")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ConfigError(f"{path}: extends '{parent}', which does not exist at {parent_path}")
    return _merge(_read_yaml(parent_path, (*seen, path)), raw)


def resolve_experiment(name: str) -> Path:
    """`monet` means experiments/monet.yaml; a path to a YAML file is taken as is."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"experiment file {path} does not exist")
        return path
    folders = [EXPERIMENTS_DIR]  # local ones first, then the shipped ones
    if EXPERIMENTS_DIR.resolve() != SHIPPED_EXPERIMENTS:
        folders.append(SHIPPED_EXPERIMENTS)
    for folder in folders:
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted(
        {p.stem for f in folders for p in f.glob("*.yaml") if not p.stem.startswith("_")}
    )
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known) or 'none'}"
    where = " or ".join(f"{f}/" for f in folders if f.is_dir()) or f"{EXPERIMENTS_DIR}/"
    raise ConfigError(f"no experiment '{name}' in {where}; {hint}")


def parse_overrides(overrides: list[str]) -> dict:
    """Turn ['train.lr=1e-4', 'data.flip=false'] into a nested dict with YAML-typed values."""
    nested: dict = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"override '{item}' is not of the form key=value (e.g. train.lr=1e-4)"
            )
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            value = text
        *parents, leaf = key.strip().split(".")
        node = nested
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{item}' conflicts with another override")
        node[leaf] = value
    return nested


def load_config(experiment: str, overrides: list[str] | None = None) -> Config:
    path = resolve_experiment(experiment)
    raw = _merge(_read_yaml(path), parse_overrides(overrides or []))
    raw.setdefault("name", path.stem)
    return from_dict(raw)


def from_dict(raw: dict) -> Config:
    cfg = _build(Config, raw)
    validate(cfg)
    return cfg


def to_dict(cfg: Config) -> dict:
    return dataclasses.asdict(cfg)


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def dump(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def validate_restoration(cfg: Config) -> None:
    """Restoration data, its damage keys and super-resolution's `model.upscale`."""
    d, m = cfg.data, cfg.model
    if d.dataset_mode == "restoration" and m.name != "pix2pix":
        raise ConfigError(
            "data.dataset_mode=restoration pairs each image with a damaged copy: use "
            "model.name=pix2pix (experiments/restore.yaml)"
        )
    for key in ("blur", "noise", "second_order", "fade", "yellow", "cast", "scratches"):
        if getattr(d, f"degrade_{key}") < 0:
            raise ConfigError(f"data.degrade_{key} must be 0 (off) or more")
    for key in ("second_order", "fade", "yellow"):
        if getattr(d, f"degrade_{key}") > 1:
            raise ConfigError(f"data.degrade_{key} is a share: between 0 and 1")
    if d.degrade_downscale < 1:
        raise ConfigError("data.degrade_downscale is a factor: 1 (off) or more, e.g. 2")
    if not 1 <= d.degrade_jpeg <= 100:
        raise ConfigError("data.degrade_jpeg is the lowest JPEG quality: 1 to 100 (100 = off)")
    if m.upscale not in (1, 2, 4):
        raise ConfigError(f"model.upscale enlarges 2 or 4 times (1 = off), got {m.upscale}")
    if m.upscale > 1:
        if d.dataset_mode != "restoration" or m.generator.startswith("unet"):
            raise ConfigError(
                "model.upscale trains on clean images and their shrunk copies: use "
                f"data.dataset_mode=restoration and a ResNet generator ({RESNETS}) or "
                "edsr_8blocks; experiments/upscale_x2.yaml has both"
            )
        if m.antialias:
            raise ConfigError("model.upscale works without model.antialias")
        if d.crop_size % (4 * m.upscale):
            raise ConfigError(
                f"model.upscale={m.upscale} needs data.crop_size divisible by {4 * m.upscale} "
                f"(4 for the ResNet, times the enlargement), got {d.crop_size}"
            )


def validate(cfg: Config) -> None:
    """Cross-field checks that the types alone cannot express."""
    d, t = cfg.data, cfg.train
    positive = {
        "data.crop_size": d.crop_size,
        "data.load_size": d.load_size,
        "model.ngf": cfg.model.ngf,
        "model.ndf": cfg.model.ndf,
        "train.batch_size": t.batch_size,
        "train.save_every": t.save_every,
        "log.every": cfg.log.every,
        "log.sample_every": cfg.log.sample_every,
        "eval.num_images": cfg.eval.num_images,
        "model.nce_patches": cfg.model.nce_patches,
        "model.nce_mlp": cfg.model.nce_mlp,
        "loss.nce_temperature": cfg.loss.nce_temperature,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{key} must be positive, got {value}")
    non_negative = {
        "train.epochs": t.epochs,
        "train.epochs_decay": t.epochs_decay,
        "train.max_steps": t.max_steps,
        "train.pool_size": t.pool_size,
        "train.keep_checkpoints": t.keep_checkpoints,
        "eval.every": cfg.eval.every,
        "loss.cycle_blur": cfg.loss.cycle_blur,
    }
    for key, value in non_negative.items():
        if value < 0:
            raise ConfigError(f"{key} must be 0 or more, got {value}")
    if d.num_workers < -1:
        raise ConfigError(
            f"data.num_workers must be -1 (from the core count) or more, got {d.num_workers}"
        )
    unknown = [op for op in cfg.model.diffaugment.split(",") if op.strip() not in DIFFAUGMENT]
    if cfg.model.diffaugment and unknown:
        raise ConfigError(
            f"model.diffaugment: unknown operation {', '.join(unknown)}; choose from "
            f"{', '.join(DIFFAUGMENT)}, comma-separated (e.g. color,translation,cutout), or ''"
        )
    for key in ("lambda_gan", "lambda_l2"):
        if getattr(cfg.loss, key) < 0:
            raise ConfigError(f"loss.{key} must be 0 (off) or more, got {getattr(cfg.loss, key)}")
    if cfg.loss.lambda_r1 < 0:
        raise ConfigError(f"loss.lambda_r1 must be 0 or more, got {cfg.loss.lambda_r1}")
    if not 0 <= t.ema_decay < 1:
        raise ConfigError(
            f"train.ema_decay must be in [0, 1) (0 = off, e.g. 0.999), got {t.ema_decay}"
        )
    if t.epochs + t.epochs_decay == 0:
        raise ConfigError("train.epochs + train.epochs_decay is 0: nothing to train")
    if d.channels not in (1, 3):
        raise ConfigError(f"data.channels must be 1 or 3, got {d.channels}")
    if d.preprocess in ("resize_and_crop", "scale_width_and_crop") and d.load_size < d.crop_size:
        raise ConfigError(
            f"data.load_size ({d.load_size}) is smaller than data.crop_size ({d.crop_size})"
        )
    if cfg.model.name in ("cut", "fastcut"):
        if not cfg.model.generator.startswith("resnet"):
            raise ConfigError(
                f"{cfg.model.name} takes PatchNCE features from a ResNet generator's encoder; "
                f"use model.generator=resnet_9blocks or resnet_6blocks"
            )
        if not cfg.model.nce_layers or min(cfg.model.nce_layers) < 0:
            raise ConfigError("model.nce_layers must list module indices (0 = the input)")
    if (cfg.model.name == "colorization") != (d.dataset_mode == "colorization"):
        raise ConfigError(
            "model.name=colorization and data.dataset_mode=colorization go together: the model "
            "learns colour from the photos that the colorization data splits into L and ab"
        )
    if d.sketch_thickness <= 0:
        raise ConfigError(f"data.sketch_thickness must be above 0 px, got {d.sketch_thickness}")
    if cfg.loss.lambda_perceptual > 0 and cfg.model.name not in ("cycle_gan", "pix2pix"):
        raise ConfigError(
            f"loss.lambda_perceptual is a term of cycle_gan and pix2pix; {cfg.model.name} has "
            "none: set it to 0"
        )
    if cfg.model.spread_hints and not d.sketch_hints:
        raise ConfigError(
            "model.spread_hints spreads the colour hints of data.sketch_hints: set both "
            "(experiments/sketch_colour.yaml), or model.spread_hints=false"
        )
    if cfg.model.spread_hints and (cfg.model.global_skip or d.channels != 3):
        raise ConfigError("model.spread_hints needs RGB drawings and model.global_skip=false")
    if d.sketch_hints < 0:
        raise ConfigError(f"data.sketch_hints counts colour hints: 0 or more, got {d.sketch_hints}")
    if d.sketch_hints and (d.dataset_mode != "sketch" or d.direction != "BtoA"):
        raise ConfigError(
            "data.sketch_hints colours the drawings that colour filling starts from: use it with "
            "data.dataset_mode=sketch and data.direction=BtoA (experiments/sketch_colour.yaml)"
        )
    if d.dataset_mode == "sketch" and cfg.model.name != "pix2pix":
        raise ConfigError(
            "data.dataset_mode=sketch pairs each image with its drawing: use model.name=pix2pix "
            "(a folder of real drawings as trainB/ trains CycleGAN or CUT, unaligned)"
        )
    validate_restoration(cfg)
    if d.dataset_mode == "colorization" and d.channels != 3:
        raise ConfigError("colorization learns colour: data.channels must be 3")
    if cfg.model.generator.startswith("edsr") and not (
        cfg.model.global_skip and not cfg.model.dropout
    ):
        raise ConfigError(
            f"{cfg.model.generator} changes its input through a global skip, without dropout: "
            f"set model.global_skip=true model.dropout=false"
        )
    if cfg.model.global_skip and (
        cfg.model.generator.startswith("unet") or cfg.model.name == "colorization"
    ):
        raise ConfigError(
            "model.global_skip needs a ResNet generator whose output is its input's kind "
            "(not colorization); with another, set model.global_skip=false "
            "model.skip_filter=false"
        )
    if cfg.model.skip_filter and not cfg.model.global_skip:
        raise ConfigError(
            "model.skip_filter filters the global skip: set model.global_skip=true, or "
            "model.skip_filter=false"
        )
    resnet_only = {
        "model.antialias": (cfg.model.antialias, ""),
        "model.long_skip": (
            cfg.model.long_skip,
            "; U-Nets have long skips at every level already: set model.long_skip=false",
        ),
        "model.upsample": (cfg.model.upsample != "transpose", "; set model.upsample=transpose"),
    }
    for key, (used, fix) in resnet_only.items():
        if used and not cfg.model.generator.startswith("resnet"):
            raise ConfigError(f"{key} needs a ResNet generator ({RESNETS}){fix}")
    if cfg.model.upsample != "transpose" and cfg.model.antialias:
        raise ConfigError(
            "model.antialias already upsamples by blurred doubling and a convolution: "
            "set model.upsample=transpose, or model.antialias=false"
        )
    if cfg.model.generator.startswith("unet"):
        depth = 7 if cfg.model.generator == "unet_128" else 8
        if d.crop_size % 2**depth:
            raise ConfigError(
                f"{cfg.model.generator} needs data.crop_size divisible by {2**depth}, "
                f"got {d.crop_size}"
            )
