"""Galleries: a fixed set of held-out images through several checkpoints or runs, side by side.

Writes a static `index.html` (relative links, works offline) and one contact-sheet PNG.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid
from tqdm import tqdm

from gan_style.data.held_out import held_out_images
from gan_style.disk import write_atomic
from gan_style.errors import CheckpointError, DataError
from gan_style.evaluation.compare import training_scores
from gan_style.evaluation.metrics import luminance, psnr, ssim
from gan_style.evaluation.report import fmt_number
from gan_style.image_io import find_images, load_readable, save_image, save_pil, to_pil
from gan_style.inference import Generators, load_generators
from gan_style.inference.engines import translate_arrays
from gan_style.networks import set_strength
from gan_style.runtime import checkpoint as ckpt

# The first and last columns' headings where the data names them better than input | target.
EDGE_LABELS = {"restoration": ("degraded", "clean")}


@dataclass
class Column:
    label: str  # shown as the column heading
    path: Path  # checkpoint file
    strength: float = 1.0  # global-skip models: the share of the learned change


def run_checkpoints(run_dir: Path, spec: str = "all") -> list[Column]:
    """Checkpoints of one run by `spec`: all | latest | best | every:K | a comma list of names.

    `all` is every kept step_*.pt in order plus best.pt; `every:K` every K-th of the step files.
    """
    steps = ckpt.step_files(run_dir)
    named = {"latest": run_dir / ckpt.LATEST, "best": run_dir / ckpt.BEST}
    if spec == "all":
        paths = [*steps, *([named["best"]] if named["best"].is_file() else [])]
        paths = paths or [named["latest"]]
    elif spec.startswith("every:"):
        k = int(spec.split(":", 1)[1] or 0)
        if k <= 0:
            raise DataError(f"--checkpoints every:K needs K > 0, got '{spec}'")
        paths = steps[k - 1 :: k] or steps[-1:]
    else:
        paths = []
        for name in spec.split(","):
            path = named.get(name, run_dir / (name if name.endswith(".pt") else f"{name}.pt"))
            if not path.is_file():
                kept = ", ".join(p.stem for p in steps) or "none"
                raise CheckpointError(
                    f"{run_dir} has no checkpoint '{name}' (step files kept: {kept})"
                )
            paths.append(path)
    return [Column(p.stem, p) for p in paths if p.is_file()]


def gallery_columns(sources: list[Path], spec: str) -> list[Column]:
    """One run folder: its checkpoints by `spec`. Several sources: one column each."""
    if len(sources) == 1 and sources[0].is_dir():
        columns = run_checkpoints(sources[0], spec)
        if not columns:
            raise CheckpointError(f"{sources[0]} holds no checkpoints; train it first")
        return columns
    return [
        Column(f"{s.parent.name}/{s.name}" if s.is_dir() else s.stem, ckpt.resolve(s))
        for s in sources
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "column"


def _href(path: str) -> str:
    return html.escape(urllib.parse.quote(path), quote=True)


@dataclass
class Cell:
    image: str  # path relative to the gallery folder
    caption: str = ""


def _caption(kind: str, a: np.ndarray, b: np.ndarray) -> str:
    s, p = ssim(a, b), psnr(a, b)
    return f"{kind} SSIM {s:.3f} · PSNR {'inf' if p == float('inf') else f'{p:.2f}'} dB"


def build_gallery(
    sources: list[Path],
    out: Path,
    images: Path | None = None,
    n: int = 16,
    spec: str = "all",
    direction: str = "AtoB",
    device: str = "cpu",
    style: str | None = None,
    style_image: np.ndarray | None = None,
    eval_mode: bool = False,
    strengths: tuple[float, ...] = (1.0,),
) -> Path:
    """Render the gallery into `out`; returns the index.html path.

    A multistyle model without `style`/`style_image` gets one column per style; several
    `strengths` (global-skip models, `networks.set_strength`) one column per strength.
    """
    columns = gallery_columns(sources, spec)
    loaded: list[Generators] = [
        load_generators(c.path, device, eval_mode=eval_mode) for c in columns
    ]
    given = style is not None or style_image is not None
    codes = [g.style_code(style, style_image) if g.styles and given else None for g in loaded]
    if loaded[-1].styles and not given:  # one column per style, from the last checkpoint
        last, label = loaded[-1], columns[-1].label
        columns = [Column(f"{label} · {name}", columns[-1].path) for name in last.styles]
        loaded = [last] * len(columns)
        codes = [last.style_code(name) for name in last.styles]
    if tuple(strengths) != (1.0,):
        columns, loaded, codes = _per_strength(columns, loaded, codes, strengths)
    first = loaded[0].config
    side = "A" if direction == "AtoB" else "B"
    truths: list[np.ndarray] = []
    if images is None:  # the held-out split, with its ground truth where there is one
        held = held_out_images(first, "test", limit=n)
        if side not in held.inputs:
            raise DataError(f"{first.data.root} has no held-out {side} images; pass --images DIR")
        inputs = held.inputs[side]
        names = [f"{name}.png" for name in held.names[side]]
        truths = held.truths.get(side, [])
    else:
        paths = find_images(images)[:n] if images.is_dir() else []
        if not paths:
            raise DataError(f"no images in {images}; pass a folder of images to --images")
        paths, inputs = load_readable(paths, first.data.channels)
        if not paths:
            raise DataError(f"no readable images in {images} (each is named above)")
        names = [p.relative_to(images).with_suffix(".png").as_posix() for p in paths]

    rows: list[list[Cell]] = [[Cell(f"images/input/{name}")] for name in names]
    for name, image in zip(names, inputs, strict=True):
        save_image(image, out / "images" / "input" / name)
    outputs: list[list[np.ndarray]] = []
    entries = list(zip(columns, loaded, codes, strict=True))
    for i, (column, gens, code) in enumerate(tqdm(entries, desc="gallery")):
        generator = gens.pick(direction)
        set_strength(generator, column.strength)
        fakes = translate_arrays(generator, inputs, gens.multiple, style=code, engine=gens.engine)
        outputs.append(fakes)
        sub = f"{i:02d}_{_slug(column.label)}"
        for j, (row, name, image, fake) in enumerate(zip(rows, names, inputs, fakes, strict=True)):
            save_image(fake, out / "images" / sub / name)
            if j < len(truths) and truths[j].shape == fake.shape:
                caption = _caption("paired", fake, truths[j])
            else:
                caption = _caption("content", luminance(image), luminance(fake))
            row.append(Cell(f"images/{sub}/{name}", caption))
    input_label, truth_label = EDGE_LABELS.get(first.data.dataset_mode, ("input", "target"))
    headers = [input_label, *(c.label for c in columns)]
    last = loaded[-1]
    if last.cycle:
        back = last.G_AB if direction == "BtoA" else last.G_BA  # as trained, at strength 1
        recs = translate_arrays(
            back, outputs[-1], last.multiple, style=codes[-1], engine=last.engine
        )
        for row, name, image, rec in zip(rows, names, inputs, recs, strict=True):
            save_image(rec, out / "images" / "cycle" / name)
            row.append(Cell(f"images/cycle/{name}", _caption("cycle", image, rec)))
        headers.append(f"cycle ({columns[-1].label})")
        outputs.append(recs)
    if truths and len(truths) == len(names):  # what the translation should look like
        for row, name, truth in zip(rows, names, truths, strict=True):
            save_image(truth, out / "images" / "target" / name)
            row.append(Cell(f"images/target/{name}"))
        headers.append(truth_label)
        outputs.append(truths)

    index = out / "index.html"
    scores = score_table([s for s in sources if s.is_dir()])
    title = f"{first.name} · {direction}"
    page = render_html(headers, names, rows, title=title, scores=scores)
    write_atomic(index, lambda f: f.write(page.encode()))
    contact_sheet([inputs, *outputs], out / "contact_sheet.png")
    return index


def _per_strength(
    columns: list[Column],
    loaded: list[Generators],
    codes: list[torch.Tensor | None],
    strengths: tuple[float, ...],
) -> tuple[list[Column], list[Generators], list[torch.Tensor | None]]:
    """Each column once per strength, labelled with it; checked before any image is made."""
    for gens in loaded:
        set_strength(gens.pick("AtoB"), strengths[0])  # an error for a model without the dial
    found = [
        (Column(f"{column.label} · strength {s:g}", column.path, s), gens, code)
        for column, gens, code in zip(columns, loaded, codes, strict=True)
        for s in strengths
    ]
    return [f[0] for f in found], [f[1] for f in found], [f[2] for f in found]


def score_table(run_dirs: list[Path]) -> str:
    """Each run's held-out scores from training, the last checkpoint's and best.pt's, labelled."""
    rows = [(run, row) for run in run_dirs for row in training_scores(run)]
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for _, row in rows for k in row.scores))
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in ["run", "checkpoint", "step", *keys])
    body = []
    for run, row in rows:
        scores = row.scores
        values = [fmt_number(float(scores[k])) if scores.get(k) is not None else "" for k in keys]
        cells = [f"{run.parent.name}/{run.name}", row.title, str(row.step), *values]
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    return (
        "<h2>Held-out scores during training</h2>\n<table class=scores><tr>"
        f"{head}</tr>\n{chr(10).join(body)}\n</table>\n"
    )


def render_html(
    headers: list[str], names: list[str], rows: list[list[Cell]], title: str, scores: str = ""
) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in ["image", *headers])
    body = []
    for name, row in zip(names, rows, strict=True):
        cells = [f"<td class=name>{esc(name)}</td>"]
        for cell in row:
            link = _href(cell.image)
            img = f'<a href="{link}"><img src="{link}" alt="{esc(name)}"></a>'
            caption = f"<div class=caption>{esc(cell.caption)}</div>" if cell.caption else ""
            cells.append(f"<td>{img}{caption}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 4px; vertical-align: top; text-align: center; }}
img {{ width: 192px; image-rendering: auto; }}
.caption {{ font-size: 11px; color: #444; }}
.name {{ font-size: 12px; max-width: 10em; word-break: break-all; }}
</style></head>
<body><h1>{esc(title)}</h1>
{scores}<table><tr>{head}</tr>
{chr(10).join(body)}
</table></body></html>
"""


def contact_sheet(columns: list[list[np.ndarray]], path: Path, cell: int = 128) -> None:
    """One PNG: rows = images, columns as in the HTML, every cell resized to `cell` px."""
    tiles = []
    for row in range(len(columns[0])):
        for column in columns:
            image = to_pil(column[row]).convert("RGB").resize((cell, cell), Image.BICUBIC)
            tiles.append(torch.from_numpy(np.array(image)).permute(2, 0, 1))
    grid = make_grid(torch.stack(tiles), nrow=len(columns), padding=2, pad_value=255)
    save_pil(Image.fromarray(grid.permute(1, 2, 0).numpy()), path)
