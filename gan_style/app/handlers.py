"""What the web page does, as plain functions: the page (`page.py`) only wires widgets to them.

Each handler takes uploaded file paths and choices, and returns images, files to download and
one message line per problem, so that a bad upload costs that upload only and the server keeps
serving. Inference is the package's own: `load_generators`, `translate_images`,
`translate_tiled`, the evaluation metrics and `neural_style.stylize`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_style.app.outputs import OutputFolders
from gan_style.disk import free_space
from gan_style.errors import DiskFullError, GanStyleError
from gan_style.evaluation.baselines import enlarged
from gan_style.evaluation.metrics import luminance, psnr, ssim
from gan_style.image_io import MAX_PIXELS, load_image
from gan_style.inference import Generators, load_generators
from gan_style.inference.engines import translate_arrays
from gan_style.inference.files import Report, planned_outputs, save_translation
from gan_style.inference.options import TranslateOptions
from gan_style.inference.translate_files import translate_paths
from gan_style.networks.generators import upscale_of
from gan_style.runtime import checkpoint as ckpt

NAMED_CHECKPOINTS = ("generator", "latest", "best")


@dataclass
class Source:
    """One run folder or checkpoint given to `serve`, with the checkpoints it offers."""

    label: str
    checkpoints: dict[str, Path]  # name shown -> file; the first is the default

    @classmethod
    def from_path(cls, path: Path) -> Source:
        path = Path(path)
        if path.is_dir():
            named = {n: path / f"{n}.pt" for n in NAMED_CHECKPOINTS}
            files = {n: p for n, p in named.items() if p.is_file()}
            files |= {p.stem: p for p in reversed(ckpt.step_files(path))}
            if not files:
                raise GanStyleError(f"{path} holds no checkpoints; train it first")
            return cls(f"{path.parent.name}/{path.name}", files)
        if not path.is_file():
            raise GanStyleError(f"{path} not found: pass run folders or checkpoint files")
        label = f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem
        return cls(label, {path.stem: path})


class ModelCache:
    """The served models: each checkpoint is loaded once, on first use, and kept."""

    def __init__(self, paths: list[Path], device: str | torch.device = "cpu") -> None:
        self.sources = {s.label: s for s in (Source.from_path(p) for p in paths)}
        self.device = torch.device(device)
        self._loaded: dict[Path, Generators] = {}
        self._lock = threading.Lock()

    def get(self, label: str, checkpoint: str | None = None) -> Generators:
        source = self.sources.get(label)
        if source is None:
            raise GanStyleError(f"unknown model '{label}'; choose one of {', '.join(self.sources)}")
        name = checkpoint or next(iter(source.checkpoints))
        if name not in source.checkpoints:
            raise GanStyleError(
                f"{label} has no checkpoint '{name}'; choose {', '.join(source.checkpoints)}"
            )
        path = source.checkpoints[name]
        with self._lock:  # two requests for one checkpoint load it once
            if path not in self._loaded:
                self._loaded[path] = load_generators(path, self.device)
            return self._loaded[path]

    def describe(self, label: str, checkpoint: str | None = None) -> str:
        """Experiment, step, directions and styles of a model's checkpoint (default: its first)."""
        gens = self.get(label, checkpoint)
        directions = "AtoB and BtoA" if gens.G_BA is not None else "AtoB"
        styles = f"; styles: {', '.join(gens.styles)}" if gens.styles else ""
        return (
            f"{label}: experiment {gens.config.name}, model {gens.config.model.name}, "
            f"step {gens.step}; translates {directions}{styles}"
        )


@dataclass
class Result:
    """What a handler gives the page: (input, output) image files, files to download, and one
    line per problem."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "\n".join(self.messages)


@dataclass
class StyleChoice:
    """A multistyle model's style: a name, a blend (one weight per style of the model, in its
    order) or an example image."""

    name: str | None = None
    blend: list[float] | None = None
    image: str | None = None

    def code(self, gens: Generators) -> torch.Tensor | None:
        if self.image:  # refused by a model without styles
            return gens.style_code(image=load_image(self.image))
        if not gens.styles:
            return None
        if self.blend is not None:
            weights = {k: v for k, v in zip(gens.styles, self.blend, strict=False) if v > 0}
            if not weights:
                raise GanStyleError("set at least one style weight above 0")
            return gens.style_code(",".join(f"{k}:{v}" for k, v in weights.items()))
        return gens.style_code(self.name or gens.styles[0])


def _unique_name_groups(files: list[str]) -> list[list[str]]:
    """Uploads split so that no two in a group share an output name (two `photo.jpg` from
    different folders); usually one group."""
    groups: list[tuple[set[str], list[str]]] = []
    for upload in files:
        stem = Path(upload).stem.lower()
        group = next((g for g in groups if stem not in g[0]), None)
        if group is None:
            group = (set(), [])
            groups.append(group)
        group[0].add(stem)
        group[1].append(upload)
    return [members for _, members in groups]


def translate_uploads(
    models: ModelCache,
    files: list[str],
    label: str,
    checkpoint: str | None = None,
    direction: str = "AtoB",
    style: StyleChoice | None = None,
    tile: int = 0,
    max_pixels: int | None = MAX_PIXELS,
    outputs: OutputFolders | None = None,
    strength: float = 1.0,
) -> Result:
    """Translate the uploads as `gan-style translate` does (the same function, so the same
    pixels), each at its own size into a PNG; a bad upload is named and skipped. `strength`:
    `translate --strength`, for models with a global skip (others take only 1)."""
    result = Result()
    if not files:
        result.messages.append("upload one or more images first")
        return result
    options = TranslateOptions(direction=direction, tile=tile, progress=False, strength=strength,
                               max_megapixels=max_pixels and max_pixels / 1e6)  # fmt: skip
    problems: list[str] = []
    try:
        gens = models.get(label, checkpoint)
        gens.pick(direction)
        code = (style or StyleChoice()).code(gens)
        with (outputs or OutputFolders()).job() as out:
            for i, group in enumerate(_unique_name_groups(files)):
                pairs = planned_outputs([Path(f) for f in group], out / str(i), options.format)
                collect_report(result, group, translate_paths(gens, pairs, options, code), problems)
    except DiskFullError as e:
        problems.append(server_disk_full(e))
    except GanStyleError as e:
        result.messages.append(str(e))
        return result
    result.messages = [f"translated {len(result.pairs)} of {len(files)} image(s)", *problems]
    return result


def server_disk_full(error: DiskFullError) -> str:
    """A full disk, as the page's user can act on it: the server's owner must free space."""
    free = free_space(error.path) if error.path else "no space"
    return f"the server's disk is full ({free} free): ask its owner to free some, then try again"


def collect_report(result: Result, group: list[str], report: Report, problems: list[str]) -> None:
    """A group's written files into `result`, in upload order, and its skipped ones as lines."""
    written = {str(w.source): str(w.path) for w in report.written}
    for upload in group:
        if upload in written:
            result.pairs.append((upload, written[upload]))
            result.downloads.append(written[upload])
    for path, why in report.skipped:
        problems.append(f"{path.name}: {why.replace(str(path), path.name)}")


def compare_checkpoints(
    models: ModelCache,
    upload: str | None,
    choices: list[str],
    truth: str | None = None,
    direction: str = "AtoB",
    max_pixels: int | None = MAX_PIXELS,
    outputs: OutputFolders | None = None,
) -> Result:
    """One input through several `label · checkpoint` choices; each caption scores the output:
    paired SSIM/PSNR against `truth`, else content SSIM against the input."""
    result = Result()
    if not upload or not choices:
        result.messages.append("upload an image and pick at least one model")
        return result
    try:
        image = load_image(upload, 3, max_pixels)
        target = load_image(truth, 3, max_pixels) if truth else None
        with (outputs or OutputFolders()).job() as out:
            for i, choice in enumerate(choices):
                _compare_one(models, choice, image, target, direction, out / f"{i:02d}.png", result)
    except DiskFullError as e:
        result.messages.append(server_disk_full(e))
    except GanStyleError as e:  # an unreadable upload, or the server is stopping
        result.messages.append(str(e))
    return result


def _compare_one(
    models: ModelCache,
    choice: str,
    image: np.ndarray,
    target: np.ndarray | None,
    direction: str,
    path: Path,
    result: Result,
) -> None:
    """One `label · checkpoint` choice's output into `path` and `result`, or a line why not."""
    label, _, checkpoint = choice.partition(" · ")
    try:
        gens = models.get(label, checkpoint or None)
        source = image[..., :1] if gens.config.data.channels == 1 else image
        fake = translate_arrays(
            gens.pick(direction), [source], gens.multiple, 1, StyleChoice().code(gens),
            gens.engine,
        )[0]  # fmt: skip
    except GanStyleError as e:
        result.messages.append(f"{choice}: {e}")
        return
    caption = _score_caption(image, fake, target)
    if target is not None and not caption.startswith("paired"):
        result.messages.append(f"{choice}: ground truth differs in size; content SSIM shown")
    save_translation(fake, path)
    result.pairs.append((str(path), f"{choice} · {caption}"))
    result.downloads.append(str(path))


def _score_caption(image: np.ndarray, fake: np.ndarray, target: np.ndarray | None) -> str:
    """Paired SSIM/PSNR against `target` where it has the output's size, else content SSIM."""
    fake_rgb = np.repeat(fake, 3, axis=2) if fake.shape[2] == 1 else fake
    if target is not None and target.shape == fake_rgb.shape:
        return f"paired SSIM {ssim(fake_rgb, target):.3f} · PSNR {psnr(fake_rgb, target):.2f} dB"
    return f"content SSIM {ssim(luminance(image), luminance(fake_rgb)):.3f}"


def stylize_upload(
    content: str | None,
    styles: list[str],
    size: int = 256,
    iterations: int = 100,
    style_weight: float = 1e6,
    preserve_colors: str = "none",
    vgg_weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    max_pixels: int | None = MAX_PIXELS,
    outputs: OutputFolders | None = None,
) -> Result:
    """Gatys et al.'s optimisation from a content image and one or more style images."""
    from gan_style.neural_style import StyleOptions, VGGFeatures, stylize

    result = Result()
    if not content or not styles:
        result.messages.append("upload a content image and at least one style image")
        return result
    try:
        content_image = load_image(content, 3, max_pixels)
        style_images = [load_image(s, 3, max_pixels) for s in styles]
        options = StyleOptions(
            size=size, iterations=iterations, style_weight=style_weight,
            preserve_colors=preserve_colors,
        )  # fmt: skip
        vgg = VGGFeatures(
            [*options.content_layers, *options.style_layers], weights=vgg_weights,
            pooling=options.pooling,
        )  # fmt: skip
        image = stylize(content_image, style_images, options=options, vgg=vgg, device=device).image
    except GanStyleError as e:
        result.messages.append(str(e))
        return result
    path = _save_in_new_folder(image, f"{Path(content).stem}_stylized.png", outputs, result)
    if path is None:
        return result
    result.pairs.append((content, str(path)))
    result.downloads.append(str(path))
    return result


def enhancers(models: ModelCache) -> list[str]:
    """The served models trained on restoration data: restorers and enlargers."""
    return [
        label for label in models.sources
        if models.get(label).config.data.dataset_mode == "restoration"
    ]  # fmt: skip


def enhance_uploads(
    models: ModelCache,
    files: list[str],
    label: str,
    tile: int = 0,
    max_pixels: int | None = MAX_PIXELS,
    outputs: OutputFolders | None = None,
) -> Result:
    """The Enhance tab: each upload restored, or enlarged, as `gan-style translate` makes it.
    An enlarger's result is shown beside the upload's bicubic enlargement (written next to
    it, `<name>_bicubic.png`), so both are seen at one size; a restorer's beside the upload."""
    result = translate_uploads(models, files, label, None, "AtoB", None, tile, max_pixels, outputs)
    if not result.pairs:
        return result
    factor = upscale_of(models.get(label).G_AB)
    if factor == 1:
        return result
    shown = []
    for upload, enhanced in result.pairs:
        bicubic = Path(enhanced).with_name(f"{Path(enhanced).stem}_bicubic.png")
        image = load_image(upload)
        try:
            save_translation(enlarged(image, factor), bicubic)
        except DiskFullError as e:
            result.messages.append(server_disk_full(e))
            return result
        shown.append((str(bicubic), enhanced))
    result.pairs = shown
    return result


def canvas_image(value: dict | np.ndarray | None) -> np.ndarray | None:
    """The Draw tab's canvas (Gradio's editor value: background, layers, composite) as an RGB
    drawing on white paper: transparent pixels are paper. None where nothing was given."""
    image = value.get("composite") if isinstance(value, dict) else value
    if image is None:
        return None
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] in (2, 4):  # with alpha: flatten onto white
        alpha = image[..., -1:].astype(np.float32) / 255
        colour = image[..., :-1].astype(np.float32)
        image = np.rint(colour * alpha + 255 * (1 - alpha)).astype(np.uint8)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def paint_drawing(
    models: ModelCache,
    drawing: dict | np.ndarray | None,
    label: str,
    checkpoint: str | None = None,
    direction: str = "AtoB",
    max_pixels: int | None = MAX_PIXELS,
    outputs: OutputFolders | None = None,
) -> Result:
    """The Draw tab: the canvas, or a drawing or photo uploaded onto it, written as a PNG and
    translated as an upload is, so the result is what `gan-style translate` makes of that PNG
    (offered for download beside it)."""
    result = Result()
    image = canvas_image(drawing)
    if image is None or (image == 255).all():
        result.messages.append("draw on the canvas or upload a drawing first")
        return result
    if max_pixels and image.shape[0] * image.shape[1] > max_pixels:
        result.messages.append(
            f"the drawing is {image.shape[1]}x{image.shape[0]}, above the page's limit of "
            f"{max_pixels / 1e6:g} megapixels; draw or upload a smaller one"
        )
        return result
    outputs = outputs or OutputFolders()
    path = _save_in_new_folder(image, "drawing.png", outputs, result)
    if path is None:
        return result
    painted = translate_uploads(
        models, [str(path)], label, checkpoint, direction, None, 0, max_pixels, outputs
    )
    if painted.downloads:  # named apart from the drawing, for the download list
        result_path = Path(painted.downloads[0]).with_name("result.png")
        os.replace(painted.downloads[0], result_path)
        painted.pairs = [(str(path), str(result_path))]
        painted.downloads = [str(result_path), str(path)]
    return painted


def _save_in_new_folder(
    image: np.ndarray, name: str, outputs: OutputFolders | None, result: Result
) -> Path | None:
    """`image` as `name` in a request folder of its own; None, with the reason in `result`,
    where the disk is full or the server is stopping."""
    try:
        with (outputs or OutputFolders()).job() as out:
            save_translation(image, out / name)
    except DiskFullError as e:
        result.messages.append(server_disk_full(e))
        return None
    except GanStyleError as e:  # the server is stopping
        result.messages.append(str(e))
        return None
    return out / name
