"""Speed options: mixed precision, memory layout, compilation and optimizer kernels."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable

import torch
from torch import nn

from gan_style.errors import ConfigError
from gan_style.networks import nnpack

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_bf16_supported() -> bool:
    """oneDNN has fast bf16 kernels only on CPUs with AVX-512 BF16 or AMX; elsewhere bf16
    convolutions fall back to a reference kernel (measured: ~0 vs 120 GFLOP/s fp32, AVX2 EPYC)."""
    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


def resolve_precision(precision: str, device: torch.device) -> str:
    """`auto`: bf16 on CUDA when supported, else fp16; on CPU bf16 where oneDNN has fast bf16
    kernels (AVX-512 BF16 or AMX), else fp32. bf16 keeps fp32's range, so it needs no loss
    scaler, and the demo's held-out quality did not move with it (docs/performance.md)."""
    if precision == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if device.type == "cpu" and cpu_bf16_supported() else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError("train.precision=fp16 needs a CUDA GPU; use bf16 on CPU")
    if precision == "bf16" and device.type == "cpu" and not cpu_bf16_supported():
        warnings.warn(
            "this CPU has no fast bf16 kernels (AVX-512 BF16 or AMX): bf16 will run far slower "
            "than fp32; use train.precision=fp32",
            stacklevel=2,
        )
    return precision


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    dtype = DTYPES[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def prepare_networks(
    nets: Iterable[nn.Module],
    channels_last: bool,
    compile: bool,
    conv_backend: str = "native",
    device: torch.device | str = "cpu",
    training: bool = False,
) -> str:
    """In place, so parameter names (and checkpoints) stay as they are; returns the resolved
    convolution backend (`auto` means another one for training, see `nnpack.resolve_backend`)."""
    nets = list(nets)
    resolved = nnpack.apply_backend(nets, conv_backend, device, training)
    for net in nets:
        if channels_last:
            net.to(memory_format=torch.channels_last)
        if compile:
            net.compile()
    return resolved


def adam(
    params: Iterable[nn.Parameter], lr: float, betas: tuple[float, float], device: torch.device
) -> torch.optim.Adam:
    """Fused Adam on CUDA (one kernel for all parameters), multi-tensor `foreach` elsewhere."""
    if device.type == "cuda":
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)
