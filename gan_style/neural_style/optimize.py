"""Gatys et al. 2016: optimise an image so its VGG features keep the content and its Gram
matrices match the style; coarse-to-fine over scales for large outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gan_style.errors import ConfigError
from gan_style.losses import content_loss, gram_matrix, style_loss, total_variation
from gan_style.networks import nnpack
from gan_style.neural_style import colour
from gan_style.neural_style.options import StyleOptions
from gan_style.neural_style.vgg import VGGFeatures


@dataclass
class StyleResult:
    image: np.ndarray  # HxWx3 uint8
    history: list[dict[str, float]] = field(default_factory=list)  # loss terms per iteration


def _tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).float().permute(2, 0, 1)[None].to(device)


def _resize(image: np.ndarray, long_side: int) -> np.ndarray:
    """float HxWx3 in [0, 1] resized so its long side is `long_side` (antialiased)."""
    h, w = image.shape[:2]
    s = long_side / max(h, w)
    size = (max(8, round(h * s)), max(8, round(w * s)))
    t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    return (
        F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)[0]
        .permute(1, 2, 0)
        .numpy()
    )


def _blend(weights: list[float] | None, n: int) -> list[float]:
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != n or (w < 0).any() or w.sum() == 0:
        raise ConfigError(f"style blend needs {n} non-negative weights, not all 0; got {weights}")
    return (w / w.sum()).tolist()


def stylize(
    content: np.ndarray,
    styles: list[np.ndarray],
    blend: list[float] | None = None,
    options: StyleOptions | None = None,
    vgg: VGGFeatures | None = None,
    device: str | torch.device = "cpu",
    snapshot: Callable[[np.ndarray, int, int], None] | None = None,
) -> StyleResult:
    """Stylise `content` (HxWx3 uint8) with `styles` blended by `blend` (weights, normalised).

    `vgg` defaults to ImageNet VGG-19 (download or torchvision's cache).
    """
    opt = options or StyleOptions()
    weights = _blend(blend, len(styles))
    layer_weights = opt.style_layer_weights or (1.0,) * len(opt.style_layers)
    if len(layer_weights) != len(opt.style_layers):
        raise ConfigError(
            f"{len(opt.style_layers)} style layers but {len(layer_weights)} layer weights"
        )
    if opt.optimizer not in ("lbfgs", "adam") or opt.init not in ("content", "style", "noise"):
        raise ConfigError("optimizer must be lbfgs or adam; init content, style or noise")
    if opt.preserve_colors not in colour.COLOUR_MODES:
        raise ConfigError(f"preserve_colors must be one of {', '.join(colour.COLOUR_MODES)}")
    device = torch.device(device)
    vgg = (vgg or VGGFeatures([*opt.content_layers, *opt.style_layers], pooling=opt.pooling)).to(
        device
    )
    nnpack.apply_backend([vgg], opt.conv_backend, device)
    torch.manual_seed(opt.seed)

    content_f = content.astype(np.float64) / 255
    styles_f = [s.astype(np.float64) / 255 for s in styles]
    if opt.preserve_colors == "histogram":
        styles_f = [colour.match_colours(s, content_f) for s in styles_f]
    target_size = opt.size or max(content.shape[:2])
    sizes = [max(16, target_size // 2 ** (opt.scales - 1 - i)) for i in range(opt.scales)]
    history: list[dict[str, float]] = []
    image: torch.Tensor | None = None

    for scale, size in enumerate(sizes):
        c = _resize(content_f, size)
        s_list = [_resize(s, size) for s in styles_f]
        if opt.preserve_colors == "luminance":
            pairs = [colour.luminance_inputs(c, s) for s in s_list]
            c, s_list = pairs[0][0], [p[1] for p in pairs]
        c_t = _tensor(c, device)
        with torch.no_grad():
            content_targets = {k: v for k, v in vgg(c_t).items() if k in opt.content_layers}
            grams: dict[str, torch.Tensor] = {}
            for w, s in zip(weights, s_list, strict=True):
                feats = vgg(_tensor(s, device))
                for layer in opt.style_layers:
                    grams[layer] = grams.get(layer, 0) + w * gram_matrix(feats[layer])

        # Initialise: the previous scale's result, upsampled; else content, style or noise.
        if image is not None:
            init = F.interpolate(
                image.detach(), size=c_t.shape[-2:], mode="bilinear", align_corners=False
            )
        elif opt.init == "content":
            init = c_t.clone()
        elif opt.init == "style":
            init = F.interpolate(_tensor(s_list[0], device), size=c_t.shape[-2:], mode="bilinear")
        else:
            init = torch.rand_like(c_t)

        desc = f"stylize {size}px" + (f" ({scale + 1}/{len(sizes)})" if len(sizes) > 1 else "")
        targets = Targets(content_targets, grams, layer_weights)
        done = _optimise(init, vgg, targets, opt, desc, history)
        if snapshot:
            for iteration, shot in done.snapshots:
                snapshot(_finish(shot, content_f, opt), scale, iteration)
        image = done.result
    assert image is not None
    return StyleResult(_finish(image, content_f, opt), history)


@dataclass
class Targets:
    content: dict[str, torch.Tensor]  # content layer -> target features
    grams: dict[str, torch.Tensor]  # style layer -> blended target Gram matrix
    layer_weights: tuple[float, ...]


@dataclass
class Optimised:
    result: torch.Tensor
    snapshots: list[tuple[int, torch.Tensor]]


def _optimise(
    init: torch.Tensor,
    vgg: VGGFeatures,
    targets: Targets,
    opt: StyleOptions,
    desc: str,
    history: list[dict[str, float]],
) -> Optimised:
    """Run `opt.iterations` steps at one scale; the image stays clamped to [0, 1]."""
    image = init.clamp(0, 1).contiguous().requires_grad_(True)  # L-BFGS views it flat
    if opt.optimizer == "lbfgs":
        optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
            [image], lr=opt.lr or 1.0, max_iter=1, history_size=50
        )
        scheduler = None
    else:
        optimizer = torch.optim.Adam([image], lr=opt.lr or 0.02)
        gamma = opt.lr_decay ** (1 / max(1, opt.iterations))
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
    terms: dict[str, torch.Tensor] = {}

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        feats = vgg(image)
        terms["content"] = opt.content_weight * sum(
            content_loss(feats[k], t) for k, t in targets.content.items()
        )
        terms["style"] = opt.style_weight * sum(
            w * style_loss(feats[layer], targets.grams[layer])
            for layer, w in zip(opt.style_layers, targets.layer_weights, strict=True)
        )
        terms["tv"] = opt.tv_weight * total_variation(image)
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        terms["total"].backward()
        return terms["total"]

    snapshots = []
    bar = tqdm(range(opt.iterations), desc=desc, unit="it")
    for i in bar:
        optimizer.step(closure)
        if scheduler:
            scheduler.step()
        with torch.no_grad():
            image.clamp_(0, 1)
        values = {k: float(v.detach()) for k, v in terms.items()}
        history.append(values)
        bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()})
        if opt.snapshot_every and (i + 1) % opt.snapshot_every == 0:
            snapshots.append((i + 1, image.detach().clone()))
    return Optimised(image.detach(), snapshots)


def _finish(image: torch.Tensor, content: np.ndarray, opt: StyleOptions) -> np.ndarray:
    out = image.detach()[0].permute(1, 2, 0).cpu().double().numpy()
    if opt.preserve_colors == "luminance":
        out = colour.recombine(out, _resize(content, max(out.shape[:2])))
    return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)


def save_snapshot(out: Path) -> Callable[[np.ndarray, int, int], None]:
    """A snapshot callback writing <out stem>_s<scale>_i<iteration>.png beside `out`."""

    def write(image: np.ndarray, scale: int, iteration: int) -> None:
        from gan_style.image_io import save_image

        save_image(image, out.with_name(f"{out.stem}_s{scale}_i{iteration:05d}.png"))

    return write
