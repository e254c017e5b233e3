"""What the page does with moving pictures, as plain functions: an uploaded clip translated as
`gan-style translate` translates it (sound, timing and all), and the camera's frames translated
one by one for the Live tab."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_style.app.handlers import ModelCache, Result, StyleChoice, collect_report, server_disk_full
from gan_style.app.outputs import OutputFolders
from gan_style.errors import DiskFullError, GanStyleError
from gan_style.image_io import MAX_PIXELS
from gan_style.inference.files import planned_outputs
from gan_style.inference.frames import at_size, translate_frame
from gan_style.inference.options import TranslateOptions
from gan_style.inference.translate_files import translate_paths
from gan_style.video.clips import probe
from gan_style.video.steadying import Steadier

MAX_CLIP_SECONDS = 60.0  # the page takes short clips; `gan-style translate` takes any length
LIVE_SIZES = (128, 256)  # the Live tab's frame sizes (shorter side, px)


def translate_clip(
    models: ModelCache,
    clip: str | None,
    label: str,
    checkpoint: str | None = None,
    direction: str = "AtoB",
    steady: bool = False,
    max_pixels: int | None = MAX_PIXELS,
    outputs: OutputFolders | None = None,
    max_seconds: float = MAX_CLIP_SECONDS,
) -> Result:
    """The uploaded clip translated frame by frame into an MP4 (H.264, the upload's audio
    copied) that browsers play (an odd side grows by a pixel), steadied along the optical flow
    with `steady`; one line where it cannot be."""
    result = Result()
    if not clip:
        result.messages.append("upload a clip first")
        return result
    options = TranslateOptions(direction=direction, format="mp4", temporal=steady, even_sides=True,
                               max_megapixels=max_pixels and max_pixels / 1e6)  # fmt: skip
    problems: list[str] = []
    try:
        info = probe(Path(clip))
        if info.duration > max_seconds:
            raise GanStyleError(
                f"the clip is {info.duration:.0f} s long; the page takes clips up to "
                f"{max_seconds:g} s: translate longer ones with gan-style translate"
            )
        gens = models.get(label, checkpoint)
        gens.pick(direction)
        code = StyleChoice().code(gens)
        with (outputs or OutputFolders()).job() as out:
            pairs = planned_outputs([Path(clip)], out, options.format)
            collect_report(result, [clip], translate_paths(gens, pairs, options, code), problems)
    except DiskFullError as e:
        problems.append(server_disk_full(e))
    except GanStyleError as e:
        result.messages.append(str(e).replace(str(clip), Path(clip).name))
        return result
    done = f"translated {info.frames or 'every'} frame(s)" if result.pairs else "not translated"
    result.messages = [done, *problems]
    return result


def live_frame(
    models: ModelCache,
    frame: np.ndarray | None,
    label: str,
    size: int = LIVE_SIZES[0],
    steadier: Steadier | None = None,
) -> np.ndarray | None:
    """One camera frame, its shorter side brought to `size` px, through the model (on the
    CPU engine where it converts, as `translate` runs it); with a `steadier` (one per visitor),
    blended with the last frame along the camera's motion, as `translate --temporal` does.
    None while the camera gives none."""
    if frame is None:
        return None
    small = at_size(frame, size)
    output = translate_frame(models.get(label), small)
    return output if steadier is None else steadier(small, output)
