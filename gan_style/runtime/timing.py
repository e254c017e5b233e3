"""Timing a piece of work (in this process, or a whole command) and reading peak memory, the
same way for every benchmark row."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable[[], object], device: torch.device, warmup: int, repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls of `fn` after `warmup` uncounted ones, the device
    synchronised around each."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def peak_memory_gib(device: torch.device) -> float:
    """Peak allocated memory on CUDA, else this process's peak resident memory."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux -> GiB


# Runs a command and prints its wall time and peak memory: one fresh parent per command, so
# that RUSAGE_CHILDREN holds that command's peak only.
_MEASURE = (
    "import resource, subprocess, sys, time, json; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
    ".returncode; print(json.dumps({'rc': rc, 'sec': time.perf_counter() - t, 'peak_mib': "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
)


def measure_process(command: list[str]) -> dict:
    """Wall seconds and peak resident MiB of `command`, run to its exit."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True,
                          text=True, check=True)  # fmt: skip
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{command[:3]}... exited with {result['rc']}")
    return result


@contextmanager
def own_cache(folder: Path) -> Iterator[None]:
    """`translate`'s converted models go to `folder`, not the user's cache, while timing."""
    with mock.patch.dict(os.environ, {"GAN_STYLE_CACHE": str(folder)}):  # restored after
        yield
