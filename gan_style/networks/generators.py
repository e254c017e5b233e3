"""Generators: the ResNet of Johnson et al. 2016 and the U-Net of Isola et al. 2017.

Module trees follow the reference CycleGAN/pix2pix code (`model.N...` keys), so its published
generator weights load with `load_state_dict` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from gan_style.errors import ConfigError
from gan_style.networks.blocks import (
    BlurDownsample,
    BlurUpsample,
    ResnetBlock,
    SkipFilter,
    conv_bias,
    norm_factory,
)
from gan_style.networks.hints import EXTRA_CHANNELS, HintedGenerator

SKIP_LIMIT = 0.999  # atanh's input bound in the global skip: +-3.8 before the final tanh
FIRST_FEATURES = 3  # ResnetGenerator.model[3]: the first layer's ReLU, at full resolution


def check_upscale(upscale: int) -> None:
    if upscale not in (1, 2, 4):
        raise ValueError(f"a generator enlarges 2 or 4 times (1 = not at all), not {upscale}")


def with_global_skip(
    source: torch.Tensor,
    change: torch.Tensor,
    gain: torch.Tensor,
    strength: float = 1.0,
    skip_filter: nn.Module | None = None,
) -> torch.Tensor:
    """tanh(atanh(kept) + gain * change): the input (`source`, through `skip_filter` if any)
    changed by the network's last layer; `strength` scales the change (0: the input)."""
    kept = skip_filter(source) if skip_filter is not None else source
    if strength != 1.0:  # the dial; at 1 the graph is the one trained
        kept, change = torch.lerp(source, kept, strength), strength * change
    kept = torch.atanh(kept.clamp(-SKIP_LIMIT, SKIP_LIMIT))
    return torch.tanh(kept + gain * change)


class ResnetGenerator(nn.Module):
    """c7s1-ngf, two stride-2 downsamplings, `n_blocks` residual blocks, two upsamplings, c7s1-3.

    With `antialias` (CUT's option) each downsampling is a stride-1 convolution, norm, ReLU and
    a blurred subsampling, and each upsampling a blurred doubling, then convolution, norm, ReLU:
    a different module tree, so reference weights load only without it.

    With `upsample="resize"` each upsampling is a nearest-neighbour doubling, then a 3x3
    convolution (Odena et al. 2016): every output pixel gets the same number of kernel taps, so
    no checkerboard is built in, at 4x the arithmetic of those two layers.

    With `global_skip` the network predicts a change to its input rather than a new image:
    tanh(atanh(x) + g * r(x)), r the last convolution's output and g a learned gain. The last
    convolution starts at zero (`reset_after_init`), so a new generator returns its input (up
    to the clamp at +-SKIP_LIMIT) and keeps the input's colour and brightness from the first
    step on, while that convolution's weights get full gradients at once. (A gain starting at 0
    in front of a random layer instead held every earlier layer's gradient at zero: measured,
    it had not left the identity after 600 iterations.)
    With `skip_filter` as well, the kept input first goes through a learned colour matrix and
    5x5 filter (`SkipFilter`), which also start as the identity.
    A global skip makes the change a dial: `strength` s scales it (the residual by s, the skip
    filter's change by s), so 0 returns the input, 1 the trained translation and above 1 a
    stronger one (`translate --strength`). It is a setting, not a weight: exports and
    conversions build in the value it has when they are made.

    With `long_skip` the first layer's full-resolution features are concatenated to the last
    convolution's input (U-Net's long skip), so pixel-scale changes such as dark outlines on
    edges need not be rebuilt through the quarter-resolution blocks and the upsamplings. It
    doubles the last layer's input channels (another module tree: reference weights load only
    without it).

    With `upscale` 2 or 4 (super-resolution) the output is that many times larger: after the
    second upsampling, each doubling is a sub-pixel convolution (`upscale_head="pixel_shuffle"`,
    Shi et al. 2016: a 3x3 convolution to 4x the channels, rearranged into a 2x larger map) or a
    nearest doubling and a 3x3 convolution (`"resize"`), then a ReLU. The global skip then keeps
    the bicubic enlargement of the input, so a new enlarger starts as bicubic interpolation and
    learns what that misses; its long skip joins the first layer's features (at the input's
    size) to the first doubling's input, so the input's fine detail reaches the head directly.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        dropout: bool = False,
        style_dim: int = 0,
        antialias: bool = False,
        global_skip: bool = False,
        skip_filter: bool = False,
        upsample: str = "transpose",
        long_skip: bool = False,
        upscale: int = 1,
        upscale_head: str = "pixel_shuffle",
    ) -> None:
        super().__init__()
        check_upscale(upscale)
        if upscale > 1 and antialias:
            raise ValueError("an enlarging generator has no antialias")
        if global_skip and in_channels != out_channels:
            raise ValueError("a global skip needs as many output channels as input channels")
        if skip_filter and not global_skip:
            raise ValueError("a skip filter needs the global skip")
        make_norm, bias = norm_factory(norm), conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, ngf, kernel_size=7, bias=bias),
            make_norm(ngf),
            nn.ReLU(True),
        ]
        for i in range(2):
            ch = ngf * 2**i
            stride = 1 if antialias else 2
            layers += [
                nn.Conv2d(ch, ch * 2, kernel_size=3, stride=stride, padding=1, bias=bias),
                make_norm(ch * 2),
                nn.ReLU(True),
                *([BlurDownsample(ch * 2)] if antialias else []),
            ]
        layers += [ResnetBlock(ngf * 4, norm, dropout, style_dim) for _ in range(n_blocks)]
        for i in range(2):
            ch = ngf * 2 ** (2 - i)
            if antialias or upsample == "resize":
                doubling = BlurUpsample(ch) if antialias else nn.Upsample(scale_factor=2)
                up: list[nn.Module] = [
                    doubling,
                    nn.Conv2d(ch, ch // 2, kernel_size=3, padding=1, bias=bias),
                ]
            else:
                up = [
                    nn.ConvTranspose2d(
                        ch, ch // 2, kernel_size=3, stride=2, padding=1, output_padding=1,
                        bias=bias,
                    )
                ]  # fmt: skip
            layers += [*up, make_norm(ch // 2), nn.ReLU(True)]
        self.head_start = len(layers)  # an enlarger's first doubling: the long skip joins there
        for i in range(upscale.bit_length() - 1):
            joined = 2 * ngf if long_skip and i == 0 else ngf
            layers += [*enlarging(joined, ngf, upscale_head), nn.ReLU(True)]
        last = nn.Conv2d(2 * ngf if long_skip and upscale == 1 else ngf, out_channels, 7)
        layers += [nn.ReflectionPad2d(3), last, nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.long_skip = long_skip
        self.upscale = upscale
        self.skip_gain = nn.Parameter(torch.ones(1)) if global_skip else None
        self.skip_filter = SkipFilter(out_channels) if skip_filter else None
        self.strength = 1.0
        self.reset_after_init()

    def extra_repr(self) -> str:
        return "" if self.strength == 1.0 else f"strength={self.strength:g}"

    def reset_after_init(self) -> None:
        if self.skip_gain is not None:
            last = self.model[-2]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        source, first = x, None
        # The long skip joins in front of the last convolution's ReflectionPad2d, or, in an
        # enlarger, of the first doubling (the first features have the input's size).
        join = len(self.model) - 3 if self.upscale == 1 else self.head_start
        for i, layer in enumerate(self.model if self.skip_gain is None else self.model[:-1]):
            if i == join and self.long_skip:
                x = torch.cat([x, first], 1)
            x = layer(x, style) if isinstance(layer, ResnetBlock) else layer(x)
            if i == FIRST_FEATURES and self.long_skip:
                first = x  # held only when needed: at 512 px the paper's is 64 MiB
        if self.skip_gain is not None:
            if self.upscale > 1:
                source = F.interpolate(source, scale_factor=self.upscale, mode="bicubic")
            return with_global_skip(source, x, self.skip_gain, self.strength, self.skip_filter)
        return x

    def encode(
        self, x: torch.Tensor, layers: list[int], style: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """The features after the modules `layers` of `model` (CUT's layer numbering; 0 is the
        padded input), running only as far as the deepest one."""
        features = []
        for i, layer in enumerate(self.model[: max(layers) + 1]):
            x = layer(x, style) if isinstance(layer, ResnetBlock) else layer(x)
            if i in layers:
                features.append(x)
        return features


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: down, the inner levels, up, then concatenate with the input."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        in_channels: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: str = "batch",
        dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        make_norm, bias = norm_factory(norm), conv_bias(norm)
        in_channels = in_channels or outer_nc
        downconv = nn.Conv2d(in_channels, inner_nc, kernel_size=4, stride=2, padding=1, bias=bias)
        downrelu, uprelu = nn.LeakyReLU(0.2, True), nn.ReLU(True)

        def upconv(ch_in: int, use_bias: bool) -> nn.ConvTranspose2d:
            return nn.ConvTranspose2d(
                ch_in, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias
            )

        if outermost:
            layers = [downconv, submodule, uprelu, upconv(inner_nc * 2, True), nn.Tanh()]
        elif innermost:
            layers = [downrelu, downconv, uprelu, upconv(inner_nc, bias), make_norm(outer_nc)]
        else:
            layers = [
                downrelu, downconv, make_norm(inner_nc), submodule,
                uprelu, upconv(inner_nc * 2, bias), make_norm(outer_nc),
            ]  # fmt: skip
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net with `num_downs` halvings: 7 for 128 px inputs, 8 for 256 px."""

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: str = "batch",
        dropout: bool = False,
    ) -> None:
        super().__init__()
        self.num_downs = num_downs
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(
                ngf * 8, ngf * 8, submodule=block, norm=norm, dropout=dropout
            )
        for mult in (4, 2, 1):
            block = UnetSkipConnectionBlock(ngf * mult, ngf * mult * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(
            out_channels, ngf, in_channels=in_channels, submodule=block, outermost=True, norm=norm
        )

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(x)


class EnhancerGenerator(nn.Module):
    """EDSR (Lim et al. 2017) in small, for restoration and super-resolution: a 3x3
    convolution, `n_blocks` residual blocks without normalisation at the input's own size (EDSR
    found batch norm costs restoration accuracy, and the CycleGAN ResNet's two stride-2
    downsamplings leave an 8x8 body for a 32 px input), a convolution, a sub-pixel doubling per
    factor of 2 (`enlarging`), and a 3x3 convolution to the image. The result is a change to
    the input, or to its bicubic enlargement, through the global skip (`with_global_skip`, as
    the ResNet's), whose last convolution starts at zero: a new enhancer returns the input
    (enlarged bicubically), and `strength` dials the change."""

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 64,
        n_blocks: int = 8,
        upscale: int = 1,
        upscale_head: str = "pixel_shuffle",
        skip_filter: bool = False,
    ) -> None:
        super().__init__()
        check_upscale(upscale)
        if in_channels != out_channels:
            raise ValueError("an enhancer needs as many output channels as input channels")
        self.head = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(in_channels, ngf, 3))
        blocks = [ResnetBlock(ngf, "none", False) for _ in range(n_blocks)]
        self.body = nn.Sequential(*blocks, nn.ReflectionPad2d(1), nn.Conv2d(ngf, ngf, 3))
        tail: list[nn.Module] = []
        for _ in range(upscale.bit_length() - 1):
            tail += [*enlarging(ngf, ngf, upscale_head), nn.ReLU(True)]
        self.tail = nn.Sequential(*tail, nn.ReflectionPad2d(1), nn.Conv2d(ngf, out_channels, 3))
        self.upscale = upscale
        self.skip_gain = nn.Parameter(torch.ones(1))
        self.skip_filter = SkipFilter(out_channels) if skip_filter else None
        self.strength = 1.0
        self.reset_after_init()

    def extra_repr(self) -> str:
        return "" if self.strength == 1.0 else f"strength={self.strength:g}"

    def reset_after_init(self) -> None:
        nn.init.zeros_(self.tail[-1].weight)
        nn.init.zeros_(self.tail[-1].bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        features = self.head(x)
        change = self.tail(features + self.body(features))
        source = x
        if self.upscale > 1:
            source = F.interpolate(x, scale_factor=self.upscale, mode="bicubic")
        return with_global_skip(source, change, self.skip_gain, self.strength, self.skip_filter)


GENERATORS = {
    "resnet_9blocks": lambda **kw: ResnetGenerator(n_blocks=9, **kw),
    "resnet_6blocks": lambda **kw: ResnetGenerator(n_blocks=6, **kw),
    "resnet_4blocks": lambda **kw: ResnetGenerator(n_blocks=4, **kw),
    "unet_128": lambda **kw: UnetGenerator(num_downs=7, **kw),
    "unet_256": lambda **kw: UnetGenerator(num_downs=8, **kw),
    "edsr_8blocks": lambda **kw: EnhancerGenerator(n_blocks=8, **kw),
}
# What each kind of generator takes besides channels, width, norm and dropout.
ENHANCER_KEYS = ("global_skip", "skip_filter", "upscale", "upscale_head")


def enlarging(channels: int, out_channels: int, head: str) -> list[nn.Module]:
    """One doubling of an enlarging generator's features (see `ResnetGenerator`)."""
    if head == "pixel_shuffle":
        return [nn.Conv2d(channels, 4 * out_channels, 3, padding=1), nn.PixelShuffle(2)]
    if head == "resize":
        return [nn.Upsample(scale_factor=2), nn.Conv2d(channels, out_channels, 3, padding=1)]
    raise ValueError(f"unknown upscale head '{head}'; choose pixel_shuffle or resize")


def upscale_of(generator: nn.Module) -> int:
    """How many times larger than its input a generator's output is."""
    inner = getattr(generator, "generator", generator)  # HintedGenerator wraps one
    return getattr(inner, "upscale", 1)


def build_generator(
    name: str,
    in_channels: int = 3,
    out_channels: int = 3,
    ngf: int = 64,
    norm: str = "instance",
    dropout: bool = False,
    style_dim: int = 0,
    antialias: bool = False,
    global_skip: bool = False,
    skip_filter: bool = False,
    upsample: str = "transpose",
    long_skip: bool = False,
    spread_hints: bool = False,
    upscale: int = 1,
    upscale_head: str = "pixel_shuffle",
) -> nn.Module:
    """`style_dim` > 0 builds a style-conditioned ResNet (AdaIN residual blocks); `antialias`
    a ResNet with blurred down- and upsampling; `upsample="resize"` one with resize-convolution
    upsampling; `long_skip` one whose last layer also sees the first layer's features;
    `spread_hints` any generator, given a drawing's colour hints spread (`hints.py`)."""
    if name not in GENERATORS:
        raise ValueError(f"unknown generator '{name}'; choose one of {', '.join(GENERATORS)}")
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"unknown upsampling '{upsample}'; choose transpose or resize")
    if antialias and upsample == "resize":
        raise ValueError("antialias already upsamples by blurred doubling and a convolution")
    resnet_only = {
        "style_dim": (style_dim, "style conditioning"),
        "antialias": (antialias, "anti-aliased sampling"),
        "upsample": (upsample if upsample != "transpose" else "", "resize-convolution upsampling"),
        "long_skip": (long_skip, "a long skip"),
        "global_skip": (global_skip, "a global skip"),
        "upscale": (upscale if upscale != 1 else 0, "enlarging (model.upscale)"),
    }
    kwargs = {"in_channels": in_channels, "out_channels": out_channels, "ngf": ngf, "norm": norm,
              "dropout": dropout}  # fmt: skip
    enhancer = name.startswith("edsr")
    for key, (value, what) in resnet_only.items():
        if value:
            if not (name.startswith("resnet") or (enhancer and key in ENHANCER_KEYS)):
                raise ValueError(f"{what} needs a resnet generator, not {name}")
            kwargs[key] = value
    if skip_filter:
        kwargs["skip_filter"] = True
    if upscale != 1:
        kwargs["upscale_head"] = upscale_head
    if enhancer:  # no norm layers, whatever `norm` (the discriminator's too) says
        if not global_skip or dropout:
            raise ValueError(f"{name} has a global skip and no dropout")
        kwargs = {k: v for k, v in kwargs.items() if k not in ("norm", "dropout", "global_skip")}
    if spread_hints:  # the colour hints of a drawing, spread, as extra input channels
        if in_channels != 3 or global_skip:
            raise ValueError("spread hints need RGB drawings and no global skip")
        kwargs["in_channels"] = in_channels + EXTRA_CHANNELS
        return HintedGenerator(GENERATORS[name](**kwargs))
    return GENERATORS[name](**kwargs)


class StyleEncoder(nn.Module):
    """Maps an example painting to a style code: strided convs, global average pool, linear."""

    def __init__(self, in_channels: int = 3, style_dim: int = 64, nf: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, nf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for i in range(3):
            layers += [nn.Conv2d(nf * 2**i, nf * 2 ** (i + 1), 4, 2, 1), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(nf * 8, style_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(image))


def _dials(generator: nn.Module) -> list[nn.Module]:
    return [m for m in generator.modules() if getattr(m, "skip_gain", None) is not None]


def has_strength_dial(generator: nn.Module) -> bool:
    """Whether the generator has a global skip, whose change `set_strength` scales."""
    return bool(_dials(generator))


def set_strength(generator: nn.Module, strength: float) -> None:
    """Scale the change a global-skip generator makes to its input by `strength` (ResNet's
    docstring); an error naming the fix for one without a global skip."""
    dials = _dials(generator)
    if not dials:
        if strength == 1.0:
            return
        raise ConfigError(
            "--strength needs a model trained with model.global_skip=true (it scales the change "
            "the model makes to its input); this one makes a new image"
        )
    for dial in dials:
        dial.strength = float(strength)


@contextmanager
def dialled(generator: nn.Module, strength: float) -> Iterator[None]:
    """`set_strength` for the duration of a block, then the strength it had before (a model
    the web page shares between requests keeps no request's setting)."""
    before = strength_of(generator)
    set_strength(generator, strength)
    try:
        yield
    finally:
        set_strength(generator, before)


def strength_of(generator: nn.Module) -> float:
    """The strength `set_strength` gave the generator (1 for one without a global skip)."""
    return next((m.strength for m in generator.modules() if hasattr(m, "strength")), 1.0)


def size_multiple(generator: str) -> int:
    """Input sides must be a multiple of this for the generator to return the same size."""
    return {"unet_128": 2**7, "unet_256": 2**8}.get(generator, 4)
