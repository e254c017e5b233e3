"""The convolution that writes the image, rewritten so that OpenVINO computes it quickly: the
same sums, one output pixel phase per channel (stride `r`), put back in place by DepthToSpace.

Why: OpenVINO computes a convolution's outputs in vectors of 16 channels, so a 3-channel one
(the paper generator's last, 7x7 over 64 channels) does 16 channels' work for 3. Rewritten
with r = 4 (48 channels, 10x10 kernels, a quarter of the positions each way) it does a quarter
of that, with outputs equal to the bit: the extra kernel taps are zeros. Only the int8 file is
rewritten (`int8.quantize`); docs/performance.md has the measurements.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

# A convolution writing at most this many channels is rewritten (a vector holds 16).
MAX_CHANNELS = 8
PHASES = (4, 2)  # the stride r, the largest that divides the network's multiple
# Operations that keep each pixel where it is: between them and the output the convolution's
# output has the output's size (the input's, a multiple of the network's multiple).
_PIXELWISE = {"Tanh", "Sigmoid", "Relu", "Clip", "Add", "Sub", "Mul", "Div", "Identity"}


def split_output_convolution(path: Path, multiple: int) -> bool:
    """Rewrite the ONNX file `path` in place where its last convolution writes few channels
    straight to the output; whether it did."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    phases = next((r for r in PHASES if multiple % r == 0), None)
    convolution = _output_convolution(graph)
    if phases is None or convolution is None:
        return False
    weights = {init.name: init for init in graph.initializer}
    parameters = list(convolution.input[1:])
    readers = [name for node in graph.node for name in node.input if name in parameters]
    if any(name not in weights for name in parameters) or len(readers) != len(parameters):
        return False  # computed or shared weights: left as they are
    kernel = numpy_helper.to_array(weights[convolution.input[1]])
    if kernel.ndim != 4 or kernel.shape[0] > MAX_CHANNELS:
        return False
    phased = phase_kernel(kernel, phases)
    weights[convolution.input[1]].CopyFrom(numpy_helper.from_array(phased, convolution.input[1]))
    if len(convolution.input) > 2:
        bias = numpy_helper.to_array(weights[convolution.input[2]])
        repeated = np.repeat(bias, phases * phases)
        weights[convolution.input[2]].CopyFrom(
            numpy_helper.from_array(repeated, convolution.input[2])
        )
    kept = [a for a in convolution.attribute if a.name not in ("strides", "kernel_shape")]
    del convolution.attribute[:]
    convolution.attribute.extend(kept)
    convolution.attribute.append(helper.make_attribute("strides", [phases, phases]))
    convolution.attribute.append(helper.make_attribute("kernel_shape", list(phased.shape[2:])))
    image = convolution.output[0]
    convolution.output[0] = f"{image}_phases"
    to_pixels = helper.make_node(
        "DepthToSpace", [f"{image}_phases"], [image], blocksize=phases, mode="CRD",
        name=f"{convolution.name}_phases_to_pixels",
    )  # fmt: skip
    nodes = list(graph.node)
    graph.node.insert(nodes.index(convolution) + 1, to_pixels)
    onnx.save(model, str(path))
    return True


def phase_kernel(kernel: np.ndarray, phases: int) -> np.ndarray:
    """The CxKxhxw kernel of a stride-1 convolution as that of a stride-`phases` one writing
    C*phases^2 channels: channel c*phases^2 + a*phases + b is output row phase a, column phase
    b of channel c (DepthToSpace's CRD order), the kernel shifted by (a, b) in a larger one."""
    channels, inputs, h, w = kernel.shape
    phased = np.zeros((channels, phases, phases, inputs, h + phases - 1, w + phases - 1),
                      kernel.dtype)  # fmt: skip
    for a in range(phases):
        for b in range(phases):
            phased[:, a, b, :, a : a + h, b : b + w] = kernel
    return phased.reshape(channels * phases * phases, inputs, h + phases - 1, w + phases - 1)


def _output_convolution(graph: onnx.GraphProto) -> onnx.NodeProto | None:
    """The last convolution, if a plain one (stride 1, no dilation or groups) whose output
    reaches the graph's only output through pixelwise operations alone."""
    from onnx import helper

    nodes = list(graph.node)
    convolutions = [n for n in nodes if n.op_type == "Conv"]
    outputs = [o.name for o in graph.output]
    if not convolutions or len(outputs) != 1:
        return None
    convolution = convolutions[-1]
    attributes = {a.name: helper.get_attribute_value(a) for a in convolution.attribute}
    if (
        any(s != 1 for s in attributes.get("strides", [1]))
        or any(d != 1 for d in attributes.get("dilations", [1]))
        or attributes.get("group", 1) != 1
        or attributes.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"")
    ):
        return None
    # Follow the convolution's output forward: every reader must be pixelwise, up to the output.
    reached, frontier = set(), [convolution.output[0]]
    while frontier:
        tensor = frontier.pop()
        if tensor in reached:
            continue
        reached.add(tensor)
        for node in nodes:
            if tensor in node.input:
                if node.op_type not in _PIXELWISE:
                    return None
                frontier.extend(node.output)
    return convolution if outputs[0] in reached else None
