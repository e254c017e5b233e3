"""Weight initialisation as in the reference CycleGAN code."""

from __future__ import annotations

from torch import nn

INIT_SCHEMES = ("normal", "xavier", "kaiming", "orthogonal")


def init_weights(net: nn.Module, scheme: str = "normal", gain: float = 0.02) -> nn.Module:
    """Conv weights by `scheme`, biases 0; batch-norm weights N(1, gain), biases 0.

    A module that must start in a particular state (a generator with a global skip starts as
    the identity) has a `reset_after_init` method, called after the scheme has run.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init '{scheme}'; choose one of {', '.join(INIT_SCHEMES)}")

    def init(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if scheme == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            elif scheme == "xavier":
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif scheme == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)

    net.apply(init)
    for module in net.modules():
        reset = getattr(module, "reset_after_init", None)
        if callable(reset):
            reset()
    return net
