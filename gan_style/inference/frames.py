"""Camera frames through a generator one at a time, at a chosen size: the web page's Live tab,
and its row in the benchmark."""

from __future__ import annotations

import cv2
import numpy as np

from gan_style.inference.engines import translate_arrays
from gan_style.inference.generators import Generators


def translate_frame(gens: Generators, frame: np.ndarray, size: int) -> np.ndarray:
    """An 8-bit RGB(A) frame with its shorter side brought to `size` px, translated AtoB (a
    multistyle model in its first style) on the engine `translate` would pick; RGB out."""
    frame = np.asarray(frame)[..., :3]
    h, w = frame.shape[:2]
    scale = size / min(h, w)
    shape = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(frame, shape, interpolation=cv2.INTER_AREA)
    if gens.config.data.channels == 1:
        small = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)[..., None]
    style = gens.style_code(gens.styles[0]) if gens.styles else None
    output = translate_arrays(gens.G_AB, [small], gens.multiple, 1, style, gens.engine)[0]
    return np.repeat(output, 3, axis=2) if output.shape[2] == 1 else output
