"""Generator files of the reference CycleGAN/pix2pix code: published models and its own outputs.

Those files are bare state dicts (`model.1.weight`, ...) with no config, so the architecture is
read from the keys and shapes. Our networks keep the same module layout, so they load as is.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from gan_style.errors import CheckpointError
from gan_style.networks.generators import build_generator


def is_reference_state(state: dict) -> bool:
    return (
        isinstance(state, dict)
        and bool(state)
        and "config" not in state
        and all(isinstance(k, str) and k.startswith("model.") for k in state)
    )


def _clean(state: dict) -> dict[str, torch.Tensor]:
    """Drop what old PyTorch versions stored for parameter-free instance norms (the reference
    code patches these out the same way) and a DataParallel `module.` prefix."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    out = {}
    for key, value in state.items():
        stat = key.endswith(("running_mean", "running_var", "num_batches_tracked"))
        if stat and f"{key.rsplit('.', 1)[0]}.weight" not in state:
            continue  # a norm without affine weights: instance norm, whose stats are unused
        out[key] = value
    return out


def infer_architecture(state: dict[str, torch.Tensor]) -> dict:
    """generator name, ngf, norm, channels from a reference state dict's keys and shapes."""
    if "model.1.weight" in state and state["model.1.weight"].dim() == 4:  # ResNet: c7s1 first
        blocks = {int(m.group(1)) for k in state if (m := re.match(r"model\.(\d+)\.conv_block", k))}
        if len(blocks) not in (6, 9):
            raise CheckpointError(f"a ResNet generator with {len(blocks)} blocks is not supported")
        first = state["model.1.weight"]
        last = max(int(k.split(".")[1]) for k in state if re.match(r"model\.\d+\.weight", k))
        has_norm_params = "model.2.weight" in state
        return {
            "generator": f"resnet_{len(blocks)}blocks",
            "ngf": first.shape[0],
            "norm": "batch" if has_norm_params else "instance",
            "in_channels": first.shape[1],
            "out_channels": state[f"model.{last}.weight"].shape[0],
        }
    if "model.model.0.weight" in state:  # U-Net: nested skip blocks
        depth = max(k.count("model.") for k in state if k.endswith("weight"))
        first = state["model.model.0.weight"]
        outermost_up = [k for k in state if re.fullmatch(r"model\.model\.\d+\.weight", k)][-1]
        has_norm_params = any(k.endswith("running_mean") for k in state)
        num_downs = depth - 1  # each level nests one more `model.`
        return {
            "generator": {7: "unet_128", 8: "unet_256"}.get(
                num_downs, f"unet with {num_downs} levels"
            ),
            "ngf": first.shape[0],
            "norm": "batch" if has_norm_params else "instance",
            "in_channels": first.shape[1],
            "out_channels": state[outermost_up].shape[1],
        }
    raise CheckpointError("not a reference CycleGAN generator: no 'model.1.weight' or U-Net keys")


def load_reference_generator(state: dict, source: Path) -> tuple[nn.Module, dict]:
    """Build our generator for a reference state dict and load it; returns (network, arch)."""
    state = _clean(state)
    arch = infer_architecture(state)
    if arch["generator"] not in ("resnet_9blocks", "resnet_6blocks", "unet_128", "unet_256"):
        raise CheckpointError(f"{source}: {arch['generator']} is not a supported generator")
    net = build_generator(
        arch["generator"], arch["in_channels"], arch["out_channels"], arch["ngf"], arch["norm"]
    )
    try:
        net.load_state_dict(state, assign=True)  # the file's tensors, not a copy of them
    except RuntimeError:
        raise CheckpointError(
            f"{source}: weights look like {arch['generator']} ngf={arch['ngf']} "
            f"norm={arch['norm']} but do not fit it; is this a generator file?"
        ) from None
    return net, arch


def reference_generator(path: Path, seed: int = 0) -> Path:
    """Random paper-generator weights in the reference code's layout (both programs read it)."""
    torch.manual_seed(seed)
    net = build_generator("resnet_9blocks", 3, 3, 64, "instance", False)
    torch.save(net.state_dict(), path)  # our ResNet keeps the reference's module names
    return path
