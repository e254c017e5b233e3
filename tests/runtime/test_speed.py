"""Speed options: mixed precision, channels_last, optimizers; the CPU twins of the GPU paths."""

from __future__ import annotations

import math

import pytest
import torch

from gan_style.config import ConfigError
from gan_style.runtime import checkpoint as ckpt
from gan_style.runtime import speed
from gan_style.training.loop import train


def weights(run_dir) -> dict[str, torch.Tensor]:
    return ckpt.load(run_dir / "latest.pt")["model"]


def test_precision_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    monkeypatch.setattr(speed, "cpu_bf16_supported", lambda: False)
    assert speed.resolve_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(speed, "cpu_bf16_supported", lambda: True)  # AVX-512 BF16 or AMX
    assert speed.resolve_precision("auto", cpu) == "bf16"
    assert speed.resolve_precision("fp32", cpu) == "fp32"
    assert speed.resolve_precision("bf16", cpu) == "bf16"
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU; use bf16 on CPU"):
        speed.resolve_precision("fp16", cpu)
    assert not speed.grad_scaler("bf16", cpu).is_enabled()


def test_bf16_autocast_runs_convolutions_in_bf16() -> None:
    conv = torch.nn.Conv2d(3, 4, 3)
    with speed.autocast("bf16", torch.device("cpu")):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == torch.bfloat16


def test_bf16_without_cpu_support_warns() -> None:
    if speed.cpu_bf16_supported():
        pytest.skip("this CPU has fast bf16 kernels")
    with pytest.warns(UserWarning, match="no fast bf16 kernels"):
        speed.resolve_precision("bf16", torch.device("cpu"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:this CPU has no fast bf16 kernels")
def test_bf16_training_tracks_fp32_and_resumes_exactly(
    make_config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """What `auto` picks on a CPU with bf16 kernels: a bf16 autocast run trains with finite
    losses, its weights stay close to the fp32 run's after a few steps, and 2 steps, a stop and
    1 more give the same weights as 3 straight."""
    monkeypatch.setattr(speed, "cpu_bf16_supported", lambda: True)
    fp32 = weights(train(make_config(train={"max_steps": 3, "precision": "fp32"}), run="fp32"))
    bf16_dir = train(make_config(train={"max_steps": 3, "precision": "auto"}), run="bf16")
    assert "training in bf16 (train.precision=auto on cpu" in capsys.readouterr().err
    bf16 = weights(bf16_dir)
    assert all(torch.isfinite(v).all() for v in bf16.values() if v.is_floating_point())
    drift = max((bf16[k] - fp32[k]).abs().max().item() for k in fp32 if fp32[k].is_floating_point())
    assert 0 < drift < 0.05
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    g = [e.value for e in EventAccumulator(str(bf16_dir)).Reload().Scalars("Loss/G/total")]
    assert all(math.isfinite(v) for v in g)

    bf16_steps = [make_config(train={"max_steps": n, "precision": "bf16"}) for n in (2, 3)]
    train(bf16_steps[0], run="resumed")
    resumed = weights(train(bf16_steps[1], run="resumed"))
    assert [k for k in bf16 if not torch.equal(bf16[k], resumed[k])] == []


@pytest.mark.slow
def test_channels_last_matches_the_default_layout(make_config) -> None:
    default = weights(train(make_config(train={"max_steps": 2}), run="nchw"))
    nhwc = weights(train(make_config(train={"max_steps": 2, "channels_last": True}), run="nhwc"))
    # Another summation order: Adam's normalised early steps turn float rounding into changes of
    # up to a few learning rates (2e-4), so the tolerance is 10 lr (measured: 8e-4).
    assert all(torch.allclose(default[k], nhwc[k], atol=2e-3) for k in default)


def test_optimizer_kernels() -> None:
    p = [torch.nn.Parameter(torch.zeros(2))]
    assert speed.adam(p, 1e-3, (0.5, 0.999), torch.device("cpu")).defaults["foreach"] is True
