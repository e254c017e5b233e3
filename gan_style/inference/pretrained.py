"""The published CycleGAN generators: their names, official URL and download."""

from __future__ import annotations

import difflib
from pathlib import Path

from gan_style.data.download import fetch
from gan_style.errors import DataError

PRETRAINED_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
PRETRAINED_MODELS = (
    "apple2orange", "orange2apple", "summer2winter_yosemite", "winter2summer_yosemite",
    "horse2zebra", "zebra2horse", "monet2photo", "style_monet", "style_cezanne", "style_ukiyoe",
    "style_vangogh", "sat2map", "map2sat", "cityscapes_photo2label", "cityscapes_label2photo",
    "facades_photo2label", "facades_label2photo", "iphone2dslr_flower",
)  # fmt: skip


def download_pretrained(name: str, root: str | Path = "pretrained") -> Path:
    """Fetch a published CycleGAN generator to root/NAME.pth (kept if already there)."""
    if name not in PRETRAINED_MODELS:
        close = difflib.get_close_matches(name, PRETRAINED_MODELS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(PRETRAINED_MODELS)}"
        raise DataError(f"unknown pretrained model '{name}'; {hint}")
    root = Path(root)
    path = root / f"{name}.pth"
    if path.is_file():
        return path
    root.mkdir(parents=True, exist_ok=True)
    url = PRETRAINED_URL.format(name=name)
    try:
        fetch(url, path)
    except DataError as e:
        raise DataError(
            f"{e}. Without network: get {url} elsewhere and save it as {path}"
        ) from None
    return path
