"""GAN objectives, gradient penalty and the L1 reconstruction losses."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

GAN_MODES = ("lsgan", "vanilla", "hinge", "wgangp")


class GANLoss(nn.Module):
    """Adversarial loss on a discriminator's raw outputs (logits or scores).

    - lsgan: least squares, Mao et al. 2017: (D - target)^2 with targets 1 / 0.
    - vanilla: the original cross-entropy GAN, Goodfellow et al. 2014, on logits.
    - hinge: Lim & Ye 2017; the discriminator's margin is 1, the generator maximises D.
    - wgangp: Wasserstein critic, Gulrajani et al. 2017; add `gradient_penalty` for the critic.
    """

    def __init__(self, mode: str, r1_weight: float = 0.0) -> None:
        super().__init__()
        if mode not in GAN_MODES:
            raise ValueError(f"unknown gan_mode '{mode}'; choose one of {', '.join(GAN_MODES)}")
        self.mode = mode
        self.r1_weight = r1_weight  # the discriminators' R1 penalty (`discriminator_losses`)

    def forward(
        self, prediction: torch.Tensor, target_is_real: bool, for_discriminator: bool = True
    ) -> torch.Tensor:
        if self.mode == "lsgan":
            target = torch.full_like(prediction, 1.0 if target_is_real else 0.0)
            return F.mse_loss(prediction, target)
        if self.mode == "vanilla":
            target = torch.full_like(prediction, 1.0 if target_is_real else 0.0)
            return F.binary_cross_entropy_with_logits(prediction, target)
        if self.mode == "hinge" and for_discriminator:
            margin = 1.0 - prediction if target_is_real else 1.0 + prediction
            return F.relu(margin).mean()
        # wgangp, and the hinge generator: raise D on fakes (real target) / lower it.
        return -prediction.mean() if target_is_real else prediction.mean()


def gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP: (||grad_x D(x)||_2 - 1)^2 at random points between real and fake samples."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = discriminator(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def l1_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cycle and identity losses are both mean absolute error (Zhu et al. 2017, eq. 2 and 6).

    F.l1_loss rather than abs().mean(): autocast runs it in fp32 under bf16/fp16."""
    return F.l1_loss(output, target)


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """N x C x H x W images blurred by a Gaussian of `sigma` px (radius 2.5 sigma, reflected
    borders); differentiable. Unchanged at sigma 0."""
    if sigma <= 0:
        return image
    from torchvision.transforms.v2.functional import gaussian_blur as blur  # training only

    radius = max(1, round(2.5 * sigma))
    return blur(image, [2 * radius + 1] * 2, [sigma, sigma])


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Channel correlations of N x C x H x W features, normalised by C*H*W (Gatys et al. 2016)."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of feature maps: the perceptual (VGG content) loss."""
    return F.mse_loss(features, target)


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of Gram matrices at one layer."""
    return F.mse_loss(gram_matrix(features), target_gram.expand(features.shape[0], -1, -1))


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels: a smoothness prior on the image."""
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    return dx + dy


def discriminator_losses(
    gan_loss: GANLoss,
    name: str,
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    lambda_gp: float,
) -> dict[str, torch.Tensor]:
    """`name/real`, `name/fake` and `name/total` for one discriminator: the mean of the real and
    fake terms (the reference code halves D's loss), or for wgangp the critic loss plus its
    weighted gradient penalty (`name/gp`). With `gan_loss.r1_weight` > 0 the total also holds
    R1, gamma / 2 * E ||grad_x D(x)||^2 on the real images (`name/r1`)."""
    r1 = gan_loss.r1_weight > 0
    if r1:
        real = real.detach().requires_grad_(True)
    on_real = critic(real)
    losses = {
        f"{name}/real": gan_loss(on_real, True),
        f"{name}/fake": gan_loss(critic(fake), False),
    }
    if gan_loss.mode == "wgangp":
        losses[f"{name}/gp"] = gradient_penalty(critic, real.detach(), fake) * lambda_gp
        total = sum(losses.values())
    else:
        total = 0.5 * (losses[f"{name}/real"] + losses[f"{name}/fake"])
    if r1:
        (grad,) = torch.autograd.grad(on_real.sum(), real, create_graph=True)
        losses[f"{name}/r1"] = gan_loss.r1_weight / 2 * grad.pow(2).flatten(1).sum(1).mean()
        total = total + losses[f"{name}/r1"]
    losses[f"{name}/total"] = total
    return losses


def patch_nce_loss(
    query: torch.Tensor, key: torch.Tensor, temperature: float = 0.07
) -> torch.Tensor:
    """PatchNCE (Park et al. 2020): InfoNCE over sampled patches of one image.

    `query` (B, P, D) are features of the output at P locations, `key` (B, P, D) those of the
    input at the same locations, both L2-normalised. For each output patch the positive is the
    input patch at its location, the negatives the other P - 1 input patches of the same image;
    the loss is the cross-entropy of picking the positive, averaged over patches. The key is
    not trained through this loss (the reference code detaches it too).
    """
    key = key.detach()
    positive = (query * key).sum(-1, keepdim=True)  # (B, P, 1)
    negative = query @ key.transpose(1, 2)  # (B, P, P)
    itself = torch.eye(query.shape[1], dtype=torch.bool, device=query.device)
    negative = negative.masked_fill(itself, -10.0)  # a location is not its own negative
    logits = torch.cat([positive, negative], dim=2) / temperature
    target = torch.zeros(logits.shape[0] * logits.shape[1], dtype=torch.long, device=query.device)
    return F.cross_entropy(logits.flatten(0, 1), target)
