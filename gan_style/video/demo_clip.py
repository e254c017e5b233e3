"""A clip made from one photo: a slow pan and zoom across it with a sine tone as its sound, for
the tests, the benchmark and trying `translate` on a clip without footage of one's own."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from gan_style.video.clips import BITEXACT, _av, x264_instructions

SAMPLE_RATE = 44100


def pan_and_zoom(photo: np.ndarray, frames: int, width: int, height: int) -> list[np.ndarray]:
    """`frames` views of `photo` (8-bit RGB): a window two thirds of the photo wide that
    drifts from the top left to the bottom right while it narrows by a fifth (a zoom in)."""
    h, w = photo.shape[:2]
    aspect = width / height
    views = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        crop_h = min(h, w / aspect) * (2 / 3) * (1 - 0.2 * t)
        crop_w = crop_h * aspect
        x0, y0 = (w - crop_w) * (0.1 + 0.8 * t), (h - crop_h) * (0.1 + 0.8 * t)
        # An affine map from the window to the frame: sub-pixel motion, as a camera gives.
        scale = width / crop_w
        matrix = np.float32([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
        size = (width, height)
        views.append(cv2.warpAffine(photo, matrix, size, borderMode=cv2.BORDER_REFLECT))
    return views


def write_demo_clip(
    path: Path,
    photo: np.ndarray,
    frames: int = 24,
    width: int = 96,
    height: int = 72,
    fps: int = 12,
    tone_hz: float = 440.0,
    audio: bool = True,
) -> None:
    """Write the pan and zoom over `photo` as H.264 in `path`'s container (4:2:0 where both
    sides are even), with a sine tone (AAC) as long as the pictures."""
    av = _av()
    with av.open(str(path), mode="w", options=BITEXACT) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        video.options = {"crf": "18", "preset": "veryfast", **x264_instructions()}
        sound = out.add_stream("aac", rate=SAMPLE_RATE) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for view in pan_and_zoom(photo, frames, width, height):
            for packet in video.encode(av.VideoFrame.from_ndarray(view, format="rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            t = np.arange(int(SAMPLE_RATE * frames / fps)) / SAMPLE_RATE
            tone = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)[None]
            for start in range(0, tone.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp",
                    layout="mono",
                )  # fmt: skip
                chunk.sample_rate = SAMPLE_RATE
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
