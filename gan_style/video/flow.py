"""Optical flow between consecutive frames (OpenCV's DIS), a frame warped along it, and where
that warp can be trusted: forward-backward consistency (Ruder et al. 2016, "Artistic style
transfer for videos") marks occluded and disoccluded pixels. Steadying and the flicker score
share it, so both judge the same motion."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


def grey(image: np.ndarray) -> np.ndarray:
    """An 8-bit RGB frame as 8-bit luminance, what the flow is computed on."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


@dataclass
class Alignment:
    """The previous frame's pixels placed onto the current frame."""

    flow: np.ndarray  # H x W x 2 float32: where each current pixel was in the previous frame
    reliable: np.ndarray  # H x W bool: the pixel was visible in both frames, the flows agree

    def resized(self, height: int, width: int) -> Alignment:
        """The same motion for a frame of another size (an enlarger's output)."""
        if self.flow.shape[:2] == (height, width):
            return self
        scale = np.array(
            [width / self.flow.shape[1], height / self.flow.shape[0]], dtype=np.float32
        )
        flow = cv2.resize(self.flow, (width, height), interpolation=cv2.INTER_LINEAR) * scale
        reliable = cv2.resize(
            self.reliable.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST
        )
        return Alignment(flow, reliable.astype(bool))


def _dis() -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _sample(values: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`values` read at each pixel's position plus `flow` (bilinear; outside: the border)."""
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        values, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


def align(previous: np.ndarray, current: np.ndarray) -> Alignment:
    """How the previous frame maps onto the current one (both 8-bit grey, as `grey` gives)."""
    dis = _dis()
    backward = dis.calc(current, previous, None)  # current pixel -> its place in previous
    forward = dis.calc(previous, current, None)
    returned = _sample(forward, backward)  # and back again: cancels out where both agree
    mismatch = np.sum((backward + returned) ** 2, axis=2)
    motion = np.sum(backward**2, axis=2) + np.sum(returned**2, axis=2)
    reliable = mismatch <= 0.01 * motion + 0.5
    h, w = current.shape[:2]
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    x, y = xs + backward[..., 0], ys + backward[..., 1]
    reliable &= (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)  # came from inside the frame
    return Alignment(backward, reliable)


def warp(image: np.ndarray, alignment: Alignment) -> np.ndarray:
    """The previous frame's `image` (any size; float32) placed onto the current frame."""
    moved = alignment.resized(*image.shape[:2])
    return _sample(image.astype(np.float32), moved.flow)
