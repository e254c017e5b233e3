"""One training iteration, shared by the training loop and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_style.config import TrainConfig
from gan_style.models import TranslationModel
from gan_style.runtime import speed
from gan_style.training import distributed


def set_requires_grad(nets: list[nn.Module], flag: bool) -> None:
    """Freeze the discriminators during the generator step: no wasted weight gradients."""
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


@dataclass
class GanIteration:
    """The generator step, then the discriminator step on its fakes; the owner of zero_grad,
    backward, optimizer steps, autocast, loss scaling and gradient averaging over ranks."""

    model: TranslationModel
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    precision: str
    device: torch.device
    group: distributed.Group
    generator_params: list[nn.Parameter]
    discriminator_params: list[nn.Parameter]

    @classmethod
    def build(
        cls,
        model: TranslationModel,
        cfg: TrainConfig,
        device: torch.device,
        group: distributed.Group | None = None,
    ) -> GanIteration:
        """Adam for the generators and for the discriminators, and the precision and loss
        scaler of `train.precision`."""
        generator_params = [p for g in model.generators for p in g.parameters()]
        discriminator_params = [p for d in model.discriminators for p in d.parameters()]
        betas = (cfg.beta1, cfg.beta2)
        opt_G = speed.adam(generator_params, cfg.lr, betas, device)
        opt_D = speed.adam(discriminator_params, cfg.lr, betas, device)
        precision = speed.resolve_precision(cfg.precision, device)
        scaler = speed.grad_scaler(precision, device)
        return cls(
            model, opt_G, opt_D, scaler, precision, device, group or distributed.Group(),
            generator_params, discriminator_params,
        )  # fmt: skip

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    def __call__(self, batch: dict[str, torch.Tensor]) -> tuple[dict, dict]:
        model, scaler = self.model, self.scaler

        # Generators, with the discriminators frozen.
        set_requires_grad(model.discriminators, False)
        self.opt_G.zero_grad(set_to_none=True)
        with speed.autocast(self.precision, self.device):
            g_losses = model.generator_step(batch)
        scaler.scale(g_losses["G/total"]).backward()
        distributed.average_gradients(self.generator_params, self.group)
        scaler.step(self.opt_G)

        # Discriminators, on fakes from the image pools (none without an adversarial term).
        set_requires_grad(model.discriminators, True)
        self.opt_D.zero_grad(set_to_none=True)
        with speed.autocast(self.precision, self.device):
            d_losses = model.discriminator_step(batch)
        if d_losses:
            scaler.scale(d_losses["D/total"]).backward()
            distributed.average_gradients(self.discriminator_params, self.group)
            scaler.step(self.opt_D)
        scaler.update()
        return g_losses, d_losses
