"""Several images at once on CPU, each on its own share of the cores ("lanes").

PyTorch splits each operation over every core, which pays for big matrix products but not for
NNPACK's transforms, instance norms, padding and the image codecs around the network: two small
images in flight on one core each finish sooner than two images one after the other on both
(docs/performance.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import torch

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_LANES = 2  # measured on 2 cores only; more lanes multiply the activations in memory
# Largest image (pixels) that goes through lanes. At 256 px two lanes took 840 MiB, under the
# reference script's 860; at 512 px they were 1.2x faster than one image on both cores but took
# 1,269 MiB against its 1,023 (and one lane 954), so between the two, one lane on every core.
LANE_MAX_PIXELS = 2 * 256 * 256


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_lanes(device: torch.device | str, largest_pixels: int = 0) -> int:
    """Images in flight on `device` when the user did not say: `MAX_LANES` on a CPU with that
    many cores for images up to `LANE_MAX_PIXELS` (the largest of them given), else 1; 1 on
    accelerators (they batch instead) and single-core machines."""
    if str(device).split(":")[0] != "cpu" or largest_pixels > LANE_MAX_PIXELS:
        return 1
    return max(1, min(MAX_LANES, usable_cores()))


@contextmanager
def threads_per_lane(lanes: int) -> Iterator[None]:
    """PyTorch's intra-op threads shared out between `lanes` (a process-wide setting, restored
    on exit)."""
    import torch  # here: the OpenVINO path shares lanes without loading PyTorch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, usable_cores() // lanes))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def map_in_lanes(
    work: Callable[[Item], Result], items: Iterable[Item], lanes: int, torch_threads: bool = True
) -> Iterator[Result]:
    """`work` of each item, in order, with up to `lanes` running at once.

    Autograd and autocast modes are per thread: `work` sets what it needs itself. At most
    `lanes` results wait ahead of the consumer, so memory holds a few images, not the folder.
    `torch_threads`: share PyTorch's threads out between the lanes (work that does not run
    PyTorch sets its own threads: OpenVINO's compiled models take theirs when they are made).
    """
    items = list(items)
    if lanes <= 1 or len(items) <= 1:
        yield from map(work, items)
        return
    with threads_per_lane(lanes) if torch_threads else nullcontext():
        pool = ThreadPoolExecutor(lanes, "gan-style-lane")
        try:
            pending = []
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) > lanes:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()
        finally:
            # On an error or Ctrl-C the queued items are dropped; the running ones finish.
            pool.shutdown(wait=True, cancel_futures=True)
