"""Loading trained generators from any checkpoint kind, and translating 8-bit images with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_style.config import Config, from_dict
from gan_style.errors import CheckpointError, ConfigError
from gan_style.networks import build_generator, nnpack, size_multiple
from gan_style.networks.generators import StyleEncoder
from gan_style.reference_weights import is_reference_state, load_reference_generator
from gan_style.training import checkpoint as ckpt
from gan_style.training import speed


@dataclass
class Generators:
    G_AB: nn.Module
    G_BA: nn.Module | None  # None for a reference file holding one generator
    config: Config
    step: int  # training iterations behind these weights
    source: Path  # the file they came from
    multiple: int  # input sides are padded to a multiple of this
    styles: list[str] = field(default_factory=list)  # multistyle models: the style names
    style_embedding: nn.Module | None = None
    style_encoder: nn.Module | None = None
    precision: str = "fp32"  # autocast dtype for translation: fp32, bf16 or fp16 (CUDA)

    def style_code(
        self, spec: str | None = None, image: np.ndarray | None = None
    ) -> torch.Tensor | None:
        """The style code for `spec` ("monet" or a blend "monet:0.7,ukiyoe:0.3", weights
        normalised) or for an example painting; None for models without styles."""
        if not self.styles:
            if spec or image is not None:
                raise ConfigError(
                    f"{self.source} is not a multistyle model; drop --style/--style-image"
                )
            return None
        if (spec is None) == (image is None):
            raise ConfigError(
                f"this model needs --style NAME[:weight,...] or --style-image PATH "
                f"(styles: {', '.join(self.styles)})"
            )
        device = next(self.G_AB.parameters()).device
        with torch.inference_mode():
            if image is not None:
                x = (
                    torch.from_numpy(np.array(image)).to(device).permute(2, 0, 1)[None].float()
                    / 127.5
                    - 1
                )
                return self.style_encoder(x)
            weights = parse_blend(spec, self.styles)
            index = torch.tensor([self.styles.index(n) for n in weights], device=device)
            w = torch.tensor(list(weights.values()), device=device, dtype=torch.float32)
            return (self.style_embedding(index) * w[:, None]).sum(0, keepdim=True) / w.sum()


def parse_blend(spec: str, styles: list[str]) -> dict[str, float]:
    """ "monet:0.7,ukiyoe:0.3" -> {"monet": 0.7, "ukiyoe": 0.3}; a bare name weighs 1."""
    weights: dict[str, float] = {}
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in styles:
            raise ConfigError(f"unknown style '{name}'; this model knows {', '.join(styles)}")
        try:
            weights[name] = weights.get(name, 0.0) + (float(weight) if weight else 1.0)
        except ValueError:
            raise ConfigError(f"style weight '{weight}' of '{name}' is not a number") from None
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ConfigError(f"style weights must be non-negative and not all 0: '{spec}'")
    return weights


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder means its generator.pt (or latest.pt); a file is taken as is."""
    path = Path(path)
    if path.is_dir():
        for name in (ckpt.GENERATOR, ckpt.LATEST):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path} holds no {ckpt.GENERATOR} or {ckpt.LATEST}; train it first")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    return path


def load_generators(
    path: str | Path, device: str | torch.device = "cpu", conv_backend: str = "auto"
) -> Generators:
    """Both generators of a training checkpoint or a generator-only file, in eval mode, with
    their convolutions on `conv_backend` (auto: NNPACK for fp32 on CPU; see networks/nnpack)."""
    gens = _read_generators(path, device)
    nets = [gens.G_AB, gens.G_BA, gens.style_encoder]
    nnpack.apply_backend([net for net in nets if net is not None], conv_backend, device)
    return gens


def _read_generators(path: str | Path, device: str | torch.device) -> Generators:
    source = resolve_checkpoint(path)
    state = ckpt.load(source)
    if is_reference_state(state):
        net, arch = load_reference_generator(state, source)
        cfg = Config(name=source.stem)
        cfg.model.generator, cfg.model.ngf, cfg.model.norm = (
            arch["generator"],
            arch["ngf"],
            arch["norm"],
        )
        cfg.data.channels = arch["in_channels"]
        multiple = size_multiple(arch["generator"])
        return Generators(net.to(device).eval(), None, cfg, 0, source, multiple)
    if "config" not in state:
        raise CheckpointError(f"{source} has no config: it is not a gan-style checkpoint")
    try:
        cfg = from_dict(state["config"])
    except ConfigError as e:
        raise CheckpointError(f"{source} holds a config this version cannot read ({e})") from None
    if "G_AB" in state:
        weights = {k: state[k] for k in ("G_AB", "G_BA") if state.get(k) is not None}
    else:
        model = state.get("model", {})
        weights = {
            name: {
                k.removeprefix(f"{name}."): v for k, v in model.items() if k.startswith(f"{name}.")
            }
            for name in ("G_AB", "G_BA")
        }
        weights = {name: sd for name, sd in weights.items() if sd}
    m, ch = cfg.model, cfg.data.channels
    style_dim = m.style_dim if m.name == "multistyle" else 0
    nets: dict[str, nn.Module] = {}
    for name, sd in weights.items():
        net = build_generator(m.generator, ch, ch, m.ngf, m.norm, m.dropout, style_dim)
        try:
            net.load_state_dict(sd)
        except RuntimeError:
            raise CheckpointError(
                f"{source}: the {name} weights do not fit the {m.generator} ngf={m.ngf} "
                f"norm={m.norm} generator its config describes; the file is damaged or edited"
            ) from None
        nets[name] = net.to(device).eval()
    gens = Generators(
        nets["G_AB"],
        nets.get("G_BA"),
        cfg,
        int(state.get("step", 0)),
        source,
        size_multiple(m.generator),
    )
    if style_dim:
        gens.styles = list(cfg.data.styles)
        gens.style_embedding = nn.Embedding(len(gens.styles), style_dim)
        gens.style_encoder = StyleEncoder(ch, style_dim)
        for name in ("style_embedding", "style_encoder"):
            module = getattr(gens, name)
            sd = state[name] if name in state else _prefixed(state.get("model", {}), name)
            module.load_state_dict(sd)
            module.to(device).eval()
    return gens


def _prefixed(model: dict, name: str) -> dict:
    return {k.removeprefix(f"{name}."): v for k, v in model.items() if k.startswith(f"{name}.")}


def pick(gens: Generators, direction: str) -> nn.Module:
    """The generator for `direction` (AtoB or BtoA)."""
    if direction not in ("AtoB", "BtoA"):
        raise ConfigError(f"direction must be AtoB or BtoA, got '{direction}'")
    if direction == "BtoA":
        if gens.G_BA is None:
            raise CheckpointError(
                f"{gens.source} holds a single generator, which translates one way only; "
                f"drop --direction BtoA"
            )
        return gens.G_BA
    return gens.G_AB


def _batches(images: list[np.ndarray], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of consecutive images of one size."""
    groups: list[list[int]] = []
    for i, image in enumerate(images):
        if groups and len(groups[-1]) < batch_size and images[groups[-1][0]].shape == image.shape:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


@torch.inference_mode()
def translate_images(
    generator: nn.Module,
    images: list[np.ndarray],
    multiple: int = 4,
    batch_size: int = 8,
    style: torch.Tensor | None = None,
    precision: str = "fp32",
) -> list[np.ndarray]:
    """Translate HxWxC uint8 images; each output has its input's size.

    Sides are padded (by reflection) up to the network's multiple and cropped back, so any size
    and aspect ratio works.
    """
    device = next(generator.parameters()).device
    out: list[np.ndarray] = [np.empty(0, np.uint8)] * len(images)
    for group in _batches(images, batch_size):
        batch = np.stack([images[i] for i in group])
        x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().div(127.5).sub(1)
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % multiple, -w % multiple
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"
        code = None if style is None else style.expand(len(group), -1)
        with speed.autocast(precision, device):
            y = generator(F.pad(x, (0, pad_w, 0, pad_h), mode=mode), code)[..., :h, :w].float()
        y = y.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()
        for i, image in zip(group, y.numpy(), strict=True):
            out[i] = image
    return out


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """Blend weights along one tile side: rising over the overlap unless at the image border."""
    w = np.ones(length, np.float32)
    ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
    if not at_start:
        w[:overlap] = np.minimum(w[:overlap], ramp)
    if not at_end:
        w[length - overlap :] = np.minimum(w[length - overlap :], ramp[::-1])
    return w


def _starts(size: int, tile: int, stride: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, stride))
    return [*starts, size - tile]


def translate_tiled(
    generator: nn.Module,
    image: np.ndarray,
    tile: int,
    multiple: int = 4,
    overlap: int | None = None,
    style: torch.Tensor | None = None,
) -> np.ndarray:
    """Translate a large image through overlapping `tile` x `tile` windows blended linearly.

    Memory is bounded by one tile's activations plus two float buffers of the image. With
    instance norm each tile is normalised by its own statistics, so results differ slightly
    from whole-image translation; the blend across the overlap hides the seams.
    """
    h, w = image.shape[:2]
    if h <= tile and w <= tile:
        return translate_images(generator, [image], multiple, style=style)[0]
    overlap = overlap if overlap is not None else tile // 4
    stride = tile - overlap
    acc = np.zeros((h, w, image.shape[2]), np.float32)
    total = np.zeros((h, w, 1), np.float32)
    ys, xs = _starts(h, tile, stride), _starts(w, tile, stride)
    for y in ys:
        for x in xs:
            crop = image[y : y + tile, x : x + tile]
            out = translate_images(generator, [crop], multiple, style=style)[0].astype(np.float32)
            ch, cw = crop.shape[:2]
            wy = _ramp(ch, min(overlap, ch), y == 0, y + ch >= h)
            wx = _ramp(cw, min(overlap, cw), x == 0, x + cw >= w)
            weight = (wy[:, None] * wx[None, :])[:, :, None]
            acc[y : y + ch, x : x + cw] += out * weight
            total[y : y + ch, x : x + cw] += weight
    return np.clip(np.round(acc / total), 0, 255).astype(np.uint8)
