"""Camera frames through a generator one at a time, at a chosen size: the web page's Live tab,
and its row in the benchmark."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from gan_style.image_io import convert_image
from gan_style.inference.engines import translate_arrays
from gan_style.inference.generators import Generators


def at_size(frame: np.ndarray, size: int) -> np.ndarray:
    """An 8-bit RGB(A) frame as RGB with its shorter side brought to `size` px."""
    frame = np.asarray(frame)[..., :3]
    h, w = frame.shape[:2]
    scale = size / min(h, w)
    shape = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, shape, interpolation=cv2.INTER_AREA)


def translate_frame(gens: Generators, frame: np.ndarray) -> np.ndarray:
    """An 8-bit RGB frame translated AtoB (a multistyle model in its first style) on the
    engine `translate` would pick, read as `translate` reads a still; RGB out."""
    if gens.config.data.channels == 1:
        frame = convert_image(Image.fromarray(frame), 1)
    style = gens.style_code(gens.styles[0]) if gens.styles else None
    output = translate_arrays(gens.G_AB, [frame], gens.multiple, 1, style, gens.engine)[0]
    return np.repeat(output, 3, axis=2) if output.shape[2] == 1 else output
