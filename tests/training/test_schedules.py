from __future__ import annotations

import pytest
import torch

from gan_style.config import TrainConfig
from gan_style.training.schedules import build_scheduler, lr_factor


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("linear", [1.0, 1.0, 2 / 3, 1 / 3]),  # reference: 1 - max(0, e + 1 - 2) / (2 + 1)
        ("cosine", [1.0, 1.0, 0.75, 0.25]),  # 0.5 * (1 + cos(pi * t)), t = 1/3, 2/3
        ("step", [1.0, 0.1, 0.01, 0.001]),
    ],
)
def test_factors(policy: str, expected: list[float]) -> None:
    cfg = TrainConfig(epochs=2, epochs_decay=2, lr_policy=policy, lr_decay_every=1, lr_gamma=0.1)
    f = lr_factor(cfg)
    assert [f(e) for e in range(4)] == pytest.approx(expected)


def test_scheduler_steps_per_epoch() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = build_scheduler(opt, TrainConfig(epochs=1, epochs_decay=1))
    lrs = []
    for _ in range(3):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1.0, 0.5, 0.0])
