"""Trained generators from any checkpoint kind, ready to translate: which networks, which way,
which style."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_style.config import Config, from_dict
from gan_style.errors import CheckpointError, ConfigError
from gan_style.inference.engine_policy import engine_name
from gan_style.models import TranslationModel, model_class
from gan_style.networks import nnpack, size_multiple
from gan_style.networks.reference import is_reference_state, load_reference_generator
from gan_style.runtime import checkpoint as ckpt


@dataclass
class Generators:
    G_AB: nn.Module
    G_BA: nn.Module | None  # None for a reference file holding one generator, and pix2pix
    config: Config
    step: int  # training iterations behind these weights
    source: Path  # the file they came from
    multiple: int  # input sides are padded to a multiple of this
    styles: list[str] = field(default_factory=list)  # multistyle models: the style names
    style_embedding: nn.Module | None = None
    style_encoder: nn.Module | None = None
    precision: str = "fp32"  # autocast dtype for translation: fp32, bf16 or fp16 (CUDA)
    cycle: bool = False  # G_BA undoes G_AB, so reconstructions (rec_A) are meaningful
    # Which engine translates on the CPU (`engine_policy`): networks in training stay on
    # PyTorch, since their weights change between calls; loaded ones take the default.
    engine: str = "pytorch"

    @classmethod
    def from_networks(
        cls, networks: dict[str, nn.Module], cfg: Config, step: int, source: Path
    ) -> Generators:
        """From a model's inference networks by checkpoint name (G_AB, G_BA, style_embedding,
        style_encoder), with translation's view of the generators (`image_network`)."""
        spec = model_class(cfg.model.name)
        forward, backward = (
            None if net is None else spec.image_network(net)
            for net in (networks["G_AB"], networks.get("G_BA"))
        )
        return cls(
            forward, backward, cfg, step, source, size_multiple(cfg.model.generator),
            styles=list(cfg.data.styles) if spec.styled else [],
            style_embedding=networks.get("style_embedding"),
            style_encoder=networks.get("style_encoder"),
            cycle=spec.cycle and backward is not None,
        )  # fmt: skip

    @classmethod
    def from_model(
        cls, model: TranslationModel, cfg: Config, step: int, source: Path
    ) -> Generators:
        """The generators of a model in training, for scoring it without saving it first."""
        return cls.from_networks(model.named_generators, cfg, step, source)

    def style_code(
        self, spec: str | None = None, image: np.ndarray | None = None
    ) -> torch.Tensor | None:
        """The style code for `spec` ("monet" or a blend "monet:0.7,ukiyoe:0.3", weights
        normalised) or for an example painting; None for models without styles."""
        if not self.styles:
            if spec or image is not None:
                raise ConfigError(
                    f"{self.source} is not a multistyle model; drop --style/--style-image"
                )
            return None
        if (spec is None) == (image is None):
            raise ConfigError(
                f"this model needs --style NAME[:weight,...] or --style-image PATH "
                f"(styles: {', '.join(self.styles)})"
            )
        device = next(self.G_AB.parameters()).device
        with torch.inference_mode():
            if image is not None:
                x = torch.from_numpy(np.array(image)).to(device).permute(2, 0, 1)[None].float()
                return self.style_encoder(x / 127.5 - 1)
            weights = parse_blend(spec, self.styles)
            index = torch.tensor([self.styles.index(n) for n in weights], device=device)
            w = torch.tensor(list(weights.values()), device=device, dtype=torch.float32)
            return (self.style_embedding(index) * w[:, None]).sum(0, keepdim=True) / w.sum()

    def pick(self, direction: str) -> nn.Module:
        """The generator for `direction` (AtoB or BtoA)."""
        if direction not in ("AtoB", "BtoA"):
            raise ConfigError(f"direction must be AtoB or BtoA, got '{direction}'")
        if direction == "BtoA":
            if self.G_BA is None:
                raise CheckpointError(
                    f"{self.source} holds a single generator, which translates one way only; "
                    f"drop --direction BtoA"
                )
            return self.G_BA
        return self.G_AB


def parse_blend(spec: str, styles: list[str]) -> dict[str, float]:
    """ "monet:0.7,ukiyoe:0.3" -> {"monet": 0.7, "ukiyoe": 0.3}; a bare name weighs 1."""
    weights: dict[str, float] = {}
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in styles:
            raise ConfigError(f"unknown style '{name}'; this model knows {', '.join(styles)}")
        try:
            weights[name] = weights.get(name, 0.0) + (float(weight) if weight else 1.0)
        except ValueError:
            raise ConfigError(f"style weight '{weight}' of '{name}' is not a number") from None
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ConfigError(f"style weights must be non-negative and not all 0: '{spec}'")
    return weights


STOCHASTIC = (nn.modules.batchnorm._BatchNorm, nn.Dropout)  # behave differently when training


def uses_test_batch_statistics(net: nn.Module) -> bool:
    """Whether `net` has batch norm or dropout, which the pix2pix paper keeps in training
    behaviour at test time."""
    return any(isinstance(m, STOCHASTIC) for m in net.modules())


@contextmanager
def test_behaviour(model: nn.Module, networks: list[nn.Module]) -> Iterator[None]:
    """`model` in eval mode and `networks` (its generators) in the behaviour `gan-style
    evaluate` gives them (`set_test_behaviour`), for scoring a model in training: on exit its
    modes, batch-norm momenta and batch counters are as they were, and dropout's random draws
    have stayed out of the training's random stream."""
    modules = list(model.modules())
    modes = [m.training for m in modules]
    norms = [m for m in modules if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.num_batches_tracked) for m in norms]
    saved = [(momentum, None if n is None else n.clone()) for momentum, n in saved]
    with torch.random.fork_rng(devices=[]):
        model.eval()
        for net in networks:
            set_test_behaviour(net, paper=uses_test_batch_statistics(net))
        try:
            yield
        finally:
            for module, mode in zip(modules, modes, strict=True):
                module.training = mode
            for module, (momentum, count) in zip(norms, saved, strict=True):
                module.momentum = momentum
                if count is not None:
                    module.num_batches_tracked.copy_(count)


def set_test_behaviour(net: nn.Module, paper: bool) -> None:
    """Eval mode, or with `paper` the behaviour of the pix2pix paper and the reference code's
    test script: batch norm normalises with the statistics of the test batch (its running
    statistics are left as they are) and dropout stays on."""
    net.eval()
    if not paper:
        return
    for module in net.modules():
        if isinstance(module, STOCHASTIC):
            module.train()
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.momentum = 0.0  # batch statistics are used, the stored ones kept


def load_generators(
    path: str | Path,
    device: str | torch.device = "cpu",
    conv_backend: str = "auto",
    eval_mode: bool = False,
    engine: str | None = None,
) -> Generators:
    """The generators of a run folder, training checkpoint, generator file or reference-code
    file, with their convolutions on `conv_backend` (auto: NNPACK for fp32 on CPU; see
    networks/nnpack), translating on the CPU with `engine` (None: the default, `engine_policy`).

    Networks with batch norm or dropout (pix2pix's U-Net) run as the pix2pix paper runs them at
    test time, with the test batch's statistics and dropout on; `eval_mode` gives the usual eval
    mode (running statistics, no dropout) instead."""
    gens = _read_generators(ckpt.resolve(path), device)
    nets = [net for net in (gens.G_AB, gens.G_BA, gens.style_encoder) if net is not None]
    for net in nets:
        set_test_behaviour(net, paper=not eval_mode and uses_test_batch_statistics(net))
    nnpack.apply_backend(nets, conv_backend, device)
    gens.engine = engine_name(engine)
    return gens


def _read_generators(source: Path, device: str | torch.device) -> Generators:
    state = ckpt.load(source, mmap=True)
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{source} holds a {type(state).__name__}, not a checkpoint; pass a run folder, "
            f"a .pt file written by gan-style or a reference generator .pth"
        )
    if is_reference_state(state):
        net, arch = load_reference_generator(state, source)
        cfg = Config(name=source.stem)
        cfg.model.generator, cfg.model.ngf = arch["generator"], arch["ngf"]
        cfg.model.norm, cfg.data.channels = arch["norm"], arch["in_channels"]
        multiple = size_multiple(arch["generator"])
        return Generators(net.to(device).eval(), None, cfg, 0, source, multiple)
    if "config" not in state:
        raise CheckpointError(f"{source} has no config: it is not a gan-style checkpoint")
    try:
        cfg = from_dict(state["config"])
    except ConfigError as e:
        raise CheckpointError(f"{source} holds a config this version cannot read ({e})") from None
    spec = model_class(cfg.model.name)
    nets = spec.inference_networks(cfg)
    weights = ckpt.network_weights(state, list(nets))
    m = cfg.model
    for name in list(nets):
        if name not in weights:
            if name == "G_AB" or spec.styled:
                raise CheckpointError(f"{source} holds no {name} weights; the file is damaged")
            del nets[name]  # an optional network the file does not hold
            continue
        try:
            # assign: the file's tensors become the parameters; no second copy in memory
            nets[name].load_state_dict(weights[name], assign=True)
        except RuntimeError:
            raise CheckpointError(
                f"{source}: the {name} weights do not fit the {m.generator} ngf={m.ngf} "
                f"norm={m.norm} generator its config describes; the file is damaged or edited"
            ) from None
        nets[name].to(device).eval()
    return Generators.from_networks(nets, cfg, int(state.get("step", 0)), source)
