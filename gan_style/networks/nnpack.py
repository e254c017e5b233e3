"""NNPACK convolutions for fp32 on CPU: Winograd for 3x3 kernels, FFT for larger ones.

On a CPU without fast bf16 the direct fp32 convolutions of oneDNN bound training; the fast
transforms do fewer multiplications per output. NNPACK has forward passes only. The input
gradient of a stride-1 convolution is itself one (flipped, transposed weights, padding
k-1-p), so it runs through NNPACK too; the weight gradient stays with oneDNN.

Each call falls back to PyTorch's own convolution where NNPACK loses or cannot run: small
outputs (measured on a 2-core AVX2 EPYC: at 64x64 outputs NNPACK was 1.4-2.5x faster for
3x3 and 2-5x for 7x7 kernels; at 32x32 about even; at 16x16 and below slower), CUDA, other
dtypes, autocast, and torch.compile, tracing or export. Results differ from oneDNN's by
rounding only (relative ~1e-5 in the forward pass).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from gan_style.errors import ConfigError

BACKENDS = ("auto", "native", "nnpack")
MIN_OUTPUT_PIXELS = 48 * 48  # below this NNPACK did not beat oneDNN (see the module docstring)
MAX_KERNEL = 7  # the largest kernel measured; FFT tiles grow with it
MIN_IN_CHANNELS = 4  # an image's 1-3 channels in: oneDNN's direct kernel was faster (below)


@functools.cache
def available() -> bool:
    """Whether this torch build has NNPACK and it initialised (it must, before first use)."""
    return bool(torch._nnpack_available())


def resolve_backend(backend: str, device: torch.device | str, training: bool = False) -> str:
    """`auto` picks NNPACK for inference on CPU when the build has it, PyTorch's own
    convolutions elsewhere and for training, where NNPACK gave no gain in paired runs of the
    paper model (256 px on CPU, docs/performance.md)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown conv backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if backend == "nnpack" and not available():
        raise ConfigError("this torch build has no NNPACK; use conv_backend=native (or auto)")
    if backend == "auto":
        fast = not training and torch.device(device).type == "cpu" and available()
        return "nnpack" if fast else "native"
    return backend


BAND_PIXELS = 256 * 256  # output pixels per NNPACK call; larger outputs go in bands of rows
FFT_BAND_PIXELS = 256 * 32  # the same for kernels above 3x3 (FFT), whose buffers are larger


def _convolve(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding
) -> torch.Tensor:
    """One image at a time: NNPACK's batched path measured 2-3x slower than its per-image one.

    Outputs above `BAND_PIXELS` (`FFT_BAND_PIXELS` for larger kernels) are computed in bands of
    rows: NNPACK's transform buffers grow with the output (the first 7x7 layer of the paper
    generator at 512 px took 180 MiB beyond its output in one call), the bands' do not. PyTorch
    keeps each thread's largest buffer until the thread ends: for the last 7x7 layer at 256 px,
    49 MiB in one call, 15 MiB in bands of 32 rows, at 1.5 ms more (44 against 42.7 ms, one
    core of the development CPU).
    """
    pad = list(padding)
    k_h, k_w = weight.shape[-2:]
    out_h = x.shape[-2] + 2 * pad[0] - k_h + 1
    out_w = x.shape[-1] + 2 * pad[1] - k_w + 1
    band_pixels = BAND_PIXELS if k_h * k_w <= 9 else FFT_BAND_PIXELS
    rows = max(1, band_pixels // max(1, out_w))
    if out_h <= rows:
        if x.shape[0] == 1:
            return torch._nnpack_spatial_convolution(x, weight, bias, pad)
        return torch.cat([torch._nnpack_spatial_convolution(xi[None], weight, bias, pad)
                          for xi in x])  # fmt: skip
    if any(pad):
        x = F.pad(x, (pad[1], pad[1], pad[0], pad[0]))
    out = x.new_empty(x.shape[0], weight.shape[0], out_h, out_w)
    for top in range(0, out_h, rows):
        bottom = min(out_h, top + rows)
        band = x[:, :, top : bottom + k_h - 1].contiguous()
        out[:, :, top:bottom] = _convolve(band, weight, bias, (0, 0))
    return out


class _NnpackConvolution(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.has_bias = padding, bias is not None
        return _convolve(x, weight, bias, padding)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            flipped = weight.transpose(0, 1).flip(2, 3).contiguous()
            k_h, k_w = weight.shape[-2:]
            full = (k_h - 1 - ctx.padding[0], k_w - 1 - ctx.padding[1])
            grad_x = (
                _convolve(grad_out, flipped, None, full)
                if _fast_enough(x.shape[-2:])
                else F.conv2d(grad_out, flipped, padding=full)
            )
        want_w = ctx.needs_input_grad[1]
        want_b = ctx.has_bias and ctx.needs_input_grad[2]
        if want_w or want_b:
            _, grad_w, grad_b = torch.ops.aten.convolution_backward(
                grad_out, x, weight, [weight.shape[0]] if ctx.has_bias else None,
                [1, 1], list(ctx.padding), [1, 1], False, [0, 0], 1, [False, want_w, want_b],
            )  # fmt: skip
        return grad_x, grad_w, grad_b, None


def _fast_enough(size: torch.Size) -> bool:
    return size[0] * size[1] >= MIN_OUTPUT_PIXELS


def in_graph_capture() -> bool:
    """Whether a compiler, tracer or exporter is recording: they get PyTorch's standard ops."""
    return (
        torch.compiler.is_compiling()
        or torch.jit.is_scripting()
        or torch.jit.is_tracing()
        or torch.onnx.is_in_onnx_export()
    )


class NnpackConv2d(nn.Conv2d):
    """An `nn.Conv2d` (same parameters, same state_dict) that runs through NNPACK when it pays."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.device.type == "cpu"
            and x.dtype == torch.float32
            and self.weight.dtype == torch.float32
            and x.dim() == 4
            and not torch.is_autocast_enabled("cpu")
            and not in_graph_capture()
        ):
            out_size = [
                n + 2 * p - k + 1
                for n, p, k in zip(x.shape[-2:], self.padding, self.kernel_size, strict=True)
            ]
            if _fast_enough(out_size):
                args = (x.contiguous(), self.weight.contiguous(), self.bias, tuple(self.padding))
                if torch.is_grad_enabled():
                    return _NnpackConvolution.apply(*args)
                return _convolve(*args)
        return super().forward(x)


def eligible(module: nn.Module) -> bool:
    """Stride-1 dense convolutions with zero padding under the kernel size (for the gradient),
    except those reading an image: the paper generator's first 7x7 layer took 22 ms through
    NNPACK against oneDNN's 16 ms (one core) and 10 ms (two) at 256 px, 143 against 116 ms at
    512 px on two cores, and NNPACK's buffers for it were the largest of the network."""
    return (
        type(module) is nn.Conv2d
        and module.stride == (1, 1)
        and module.dilation == (1, 1)
        and module.groups == 1
        and module.in_channels >= MIN_IN_CHANNELS
        and module.padding_mode == "zeros"
        and isinstance(module.padding, tuple)
        and all(2 <= k <= MAX_KERNEL for k in module.kernel_size)
        and all(p < k for p, k in zip(module.padding, module.kernel_size, strict=True))
    )


def use_nnpack(net: nn.Module) -> int:
    """Switch the eligible convolutions of `net` to NNPACK in place; returns how many.

    The class is swapped, not the module, so parameters (and optimizers holding them) and
    state_dict keys stay as they are.
    """
    if not available():
        return 0
    count = 0
    for module in net.modules():
        if eligible(module):
            module.__class__ = NnpackConv2d
            count += 1
    return count


def use_native(net: nn.Module) -> None:
    """Undo `use_nnpack` (conv_backend=native on a network switched before)."""
    for module in net.modules():
        if type(module) is NnpackConv2d:
            module.__class__ = nn.Conv2d


def apply_backend(
    nets: list[nn.Module], backend: str, device: torch.device | str, training: bool = False
) -> str:
    """Resolve `backend` for `device` and set every network to it; returns the resolved name."""
    resolved = resolve_backend(backend, device, training)
    for net in nets:
        if resolved == "nnpack":
            use_nnpack(net)
        else:
            use_native(net)
    return resolved
