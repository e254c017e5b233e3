"""Several images in flight on CPU: same results, in order, on a share of the cores each."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from gan_style.inference import translate_images
from gan_style.networks import build_generator, init_weights
from gan_style.networks.nnpack import use_nnpack
from gan_style.runtime.lanes import default_lanes, map_in_lanes, usable_cores


def test_work_runs_side_by_side_and_comes_back_in_order() -> None:
    both_running = threading.Barrier(2, timeout=10)  # breaks (and raises) unless two overlap
    seen_threads: list[int] = []

    def work(i: int) -> int:
        seen_threads.append(torch.get_num_threads())
        if i < 2:
            both_running.wait()
        return i * i

    before = torch.get_num_threads()
    assert list(map_in_lanes(work, range(7), lanes=2)) == [i * i for i in range(7)]
    assert torch.get_num_threads() == before  # the process-wide setting is restored
    assert set(seen_threads) == {max(1, usable_cores() // 2)}


def test_a_failure_reaches_the_caller() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("image 3")
        return i

    with pytest.raises(ValueError, match="image 3"):
        list(map_in_lanes(work, range(6), lanes=2))


def test_defaults() -> None:
    assert default_lanes("cpu") == min(2, usable_cores())
    assert default_lanes("meta") == 1  # accelerators batch instead
    assert default_lanes("cpu", 512 * 512) == 1  # two 512 px images took more memory than ...
    assert default_lanes("cpu", 256 * 256) == min(2, usable_cores())  # ... the reference


@pytest.mark.parametrize("backend", ["native", "nnpack"])
def test_lanes_translate_like_one_image_at_a_time(backend: str) -> None:
    torch.manual_seed(0)
    net = init_weights(build_generator("resnet_6blocks", ngf=8), "normal", 0.02).eval()
    if backend == "nnpack" and not use_nnpack(net):
        pytest.skip("this torch build has no NNPACK")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (64 + 4 * (i % 2), 64, 3), dtype=np.uint8) for i in range(5)]
    alone = translate_images(net, images, lanes=1)
    together = translate_images(net, images, lanes=2)
    assert [a.shape for a in alone] == [t.shape for t in together]
    # Threads per operation change the order of sums only: at most one grey level apart.
    assert max(np.abs(a.astype(int) - t).max() for a, t in zip(alone, together, strict=True)) <= 1
    assert np.abs(alone[0].astype(int) - images[0]).mean() > 1  # a real translation was compared


def test_after_a_failure_queued_work_is_dropped() -> None:
    started: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        if i == 0:
            raise ValueError("first image")
        return i

    with pytest.raises(ValueError, match="first image"):
        list(map_in_lanes(work, range(50), lanes=2))
    assert len(started) <= 4  # the two running and at most the one queued, not all 50
