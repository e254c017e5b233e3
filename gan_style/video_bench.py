"""Video on this machine, as `make bench` reports it: `gan-style translate` on a clip made from a
photo (a slow pan and zoom with a sine tone, `video/demo_clip.py`), whole processes, without
and with `--temporal`: frames per second (start-up included) and peak resident memory at each
size; the warping error of both outputs beside the input clip's own, each steadied frame's
SSIM against its unsteadied version (the least of them), and whether the audio came through
sample for sample. And the Live tab's frames per second at 128 and 256 px, in-process, as the
page runs them.

The network is the paper generator with random weights unless a checkpoint is given: speed
does not depend on the weights, steadiness does (measure a trained model for that)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import skimage.data

from gan_style.evaluation.flicker import clip_flicker
from gan_style.evaluation.metrics import ssim
from gan_style.image_io import load_image
from gan_style.networks.reference import reference_generator
from gan_style.runtime.timing import measure_process, own_cache
from gan_style.video.clips import probe, read_frames
from gan_style.video.demo_clip import pan_and_zoom, write_demo_clip


def _translate(checkpoint: Path, clip: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "gan_style.cli", "translate", str(checkpoint), str(clip),
            "--out", str(out), "--overwrite", "--device", "cpu", *options]  # fmt: skip


def _audio(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def clip_row(
    checkpoint: Path, photo: np.ndarray, height: int, seconds: float = 4.0, fps: int = 24
) -> dict:
    """One clip of `height` px (4:3) through `translate`, plain and steadied."""
    width = height * 4 // 3 // 2 * 2  # even: 4:2:0 chroma, what players expect
    frames = int(seconds * fps)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = root / "pan.mp4"
        write_demo_clip(clip, photo, frames, width, height, fps)
        with own_cache(root / "cache"):
            measure_process(_translate(checkpoint, clip, root / "warm"))  # converts, if it does
            plain = measure_process(_translate(checkpoint, clip, root / "plain"))
            steady = measure_process(_translate(checkpoint, clip, root / "steady", "--temporal"))
        outputs = {name: root / name / "pan.mp4" for name in ("plain", "steady")}
        flicker = {name: clip_flicker(path, clip) for name, path in outputs.items()}
        agreement = [
            ssim(a.image, b.image)
            for a, b in zip(read_frames(outputs["plain"]), read_frames(outputs["steady"]),
                            strict=True)
        ]  # fmt: skip
        kept = probe(outputs["steady"]) == probe(clip)
        same_audio = bool(np.array_equal(_audio(outputs["steady"]), _audio(clip)))
    return {
        "kind": "video_translate", "size": f"{width}x{height}", "frames": frames,
        "plain_fps": frames / plain["sec"], "plain_peak_mib": plain["peak_mib"],
        "temporal_fps": frames / steady["sec"], "temporal_peak_mib": steady["peak_mib"],
        "warping_error_input": flicker["plain"].input,
        "warping_error_plain": flicker["plain"].output,
        "warping_error_temporal": flicker["steady"].output,
        "warping_error_cut": 1 - flicker["steady"].output / flicker["plain"].output,
        "least_ssim_temporal_vs_plain": min(agreement),
        "rate_size_frames_duration_kept": kept, "audio_samples_equal": same_audio,
    }  # fmt: skip


def live_row(checkpoint: Path, photo: np.ndarray, size: int, frames: int = 30) -> dict:
    """The Live tab's translation of 640x480 camera frames at `size` px, in-process."""
    from gan_style.inference import load_generators
    from gan_style.inference.frames import at_size, translate_frame

    gens = load_generators(checkpoint, "cpu")
    camera = pan_and_zoom(photo, frames + 3, 640, 480)
    for frame in camera[:3]:  # the first frames convert or warm the kernels
        translate_frame(gens, at_size(frame, size))
    seconds = []
    for frame in camera[3:]:
        start = time.perf_counter()
        translate_frame(gens, at_size(frame, size))
        seconds.append(time.perf_counter() - start)
    return {"kind": "video_live", "size": size, "frames": frames,
            "fps": 1 / statistics.median(seconds)}  # fmt: skip


def video_rows(checkpoint: Path | None, photo: Path | None, quick: bool = False) -> list[dict]:
    """The video rows of `make bench`: clips at 256 and 480 px (256 with --quick), the Live tab
    at 128 and 256 px."""
    given = checkpoint is not None
    with tempfile.TemporaryDirectory() as tmp:
        if checkpoint is None:
            checkpoint = reference_generator(Path(tmp) / "reference_G.pth")
        image = load_image(photo) if photo else skimage.data.chelsea()  # a photo of a cat
        heights = (256,) if quick else (256, 480)
        rows = [clip_row(checkpoint, image, h, 1.0 if quick else 4.0) for h in heights]
        rows += [live_row(checkpoint, image, size) for size in (128, 256)]
    for row in rows:
        row["checkpoint"] = str(checkpoint) if given else "paper generator, random weights"
    return rows
