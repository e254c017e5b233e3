"""What `translate` was asked for, as values: the one table of its options, and which of them
an exported file or a recorded conversion can honour. Needs no PyTorch."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

from gan_style.errors import ConfigError
from gan_style.inference.engine_policy import conversion_kind, cpu_only_machine, whole_images_only


@dataclass(frozen=True)
class TranslateOptions:
    direction: str | None = None  # AtoB or BtoA; None: AtoB, or an exported file's own
    engine: str | None = None  # engine_policy.ENGINES; None: the default
    device: str = "auto"  # auto, cpu, cuda, mps
    precision: str = "fp32"  # autocast dtype: auto, fp32, bf16, fp16
    conv_backend: str = "auto"  # auto, native, nnpack (networks/nnpack)
    eval_mode: bool = False  # batch norm and dropout in eval mode, not the pix2pix paper's
    style: str | None = None  # multistyle: a style name or blend
    style_image: Path | None = None  # multistyle: the style of this painting
    strength: float = 1.0  # global-skip models: the share of the learned change (0: the input)
    batch_size: int | None = None  # images of one size per pass; None: 1 on CPU, 4 on GPUs
    lanes: int | None = None  # images in flight on the CPU; None: runtime/lanes decides
    tile: int = 0  # px; 0: whole images
    tile_overlap: int | None = None  # px; None: a quarter of the tile
    tile_norm: str = "whole"  # whole: norms use the whole image's statistics; tile: each tile's
    format: str = "png"  # png, jpg, webp, same
    quality: int | None = None  # jpg/webp quality
    overwrite: bool = False  # replace existing outputs
    skip_existing: bool = False  # keep existing outputs and translate only the missing ones
    max_megapixels: float | None = 64.0  # larger inputs are skipped; None: no limit
    progress: bool = True  # a progress bar on stderr
    temporal: bool = False  # video: steady each frame along the optical flow (video/steadying)
    temporal_weight: float = 0.6  # share of the warped previous frame kept where flow is reliable
    even_sides: bool = False  # video: odd sides grow by a pixel, for 4:2:0 (what browsers play)

    # Options only a PyTorch generator has, with the values that leave them unused: an exported
    # file runs as exported.
    NEEDS_CHECKPOINT: ClassVar[dict[str, tuple]] = {
        "batch_size": (None,), "tile": (0,), "tile_overlap": (None,), "tile_norm": ("whole",),
        "precision": ("fp32",), "conv_backend": ("auto",), "device": ("auto", "cpu"),
        "style": (None,), "style_image": (None,), "eval_mode": (False,), "engine": (None,),
        "strength": (1.0,),
    }  # fmt: skip

    def __post_init__(self) -> None:
        if self.tile_overlap is not None and not (self.tile and self.tile_overlap < self.tile // 2):
            raise ConfigError("--tile-overlap needs --tile N and must be under N/2")
        if self.overwrite and self.skip_existing:
            raise ConfigError("give --overwrite or --skip-existing, not both")
        if not 0.0 < self.temporal_weight < 1.0:
            raise ConfigError("--temporal-weight must be above 0 and below 1 (0.6 by default)")

    @property
    def steadying(self) -> float | None:
        """The steadying weight for video clips, or None: each frame on its own."""
        return self.temporal_weight if self.temporal else None

    @classmethod
    def from_values(cls, values: object) -> TranslateOptions:
        """From an object with some of these fields as attributes (the command's parsed
        options); the others keep their defaults."""
        return cls(
            **{f.name: getattr(values, f.name) for f in fields(cls) if hasattr(values, f.name)}
        )

    @property
    def max_pixels(self) -> int | None:
        return None if self.max_megapixels is None else int(self.max_megapixels * 1e6)

    def not_for_exported_files(self) -> list[str]:
        """The options given that only a checkpoint can honour, as `--name`s."""
        return [
            "--" + name.replace("_", "-")
            for name, unused in self.NEEDS_CHECKPOINT.items()
            if getattr(self, name) not in unused
        ]

    def engine_allowed(self) -> bool:
        """Whether these options leave the converted engine usable (an error where the engine
        was asked for by name with options it cannot honour)."""
        return (
            whole_images_only(
                self.engine, tile=self.tile, batch_size=self.batch_size, lanes=self.lanes
            )
            and self.conv_backend == "auto"
        )

    def recorded_conversion_kind(self) -> str | None:
        """The conversion a checkpoint's earlier run may have recorded for these options, to run
        without loading PyTorch: None where they need PyTorch (another device or precision, a
        style taken from an image) or the engine is PyTorch."""
        on_cpu = self.device == "cpu" or (self.device == "auto" and cpu_only_machine())
        if not (on_cpu and self.precision in ("fp32", "auto") and self.style_image is None):
            return None
        return conversion_kind(self.engine) if self.engine_allowed() else None

    def record_key(self, kind: str) -> dict[str, object]:
        """What a recorded conversion depends on besides the checkpoint's bytes."""
        direction = self.direction or "AtoB"
        key = {"direction": direction, "style": self.style, "eval_mode": self.eval_mode,
               "kind": kind}  # fmt: skip
        if self.strength != 1.0:  # (keys of earlier records stay as they were)
            key["strength"] = self.strength
        return key
