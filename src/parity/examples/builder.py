"""A tiny ONNX graph builder: named nodes, seeded random weights, opset 17."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class GraphBuilder:
    """Accumulates nodes and initializers; ``model()`` returns a checked ModelProto."""

    def __init__(self, name: str, seed: int = 0) -> None:
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def input(self, name: str, shape: list[int], dtype: int = TensorProto.FLOAT) -> str:
        """Declare a graph input."""
        self.inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def output(self, value: str, shape: list[int] | None = None, dtype: int = TensorProto.FLOAT) -> None:
        """Declare a graph output."""
        self.outputs.append(helper.make_tensor_value_info(value, dtype, shape))

    def const(self, prefix: str, array: np.ndarray) -> str:
        """Add an initializer."""
        name = self._name(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, prefix: str, shape: list[int], scale: float | None = None) -> str:
        """Add a He-initialised weight."""
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        std = scale if scale is not None else float(np.sqrt(2.0 / max(fan_in, 1)))
        return self.const(prefix, (self.rng.standard_normal(shape) * std).astype(np.float32))

    def op(
        self, op_type: str, inputs: list[str], n_out: int = 1, domain: str = "", **attrs
    ) -> str | list[str]:
        """Add a node; return its output name(s)."""
        name = self._name(op_type.lower())
        outputs = [f"{name}_out{i}" if n_out > 1 else f"{name}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs if n_out > 1 else outputs[0]

    # --- layers --------------------------------------------------------------------------------------
    def conv(self, x: str, c_in: int, c_out: int, k: int, stride: int = 1, bias: bool = False) -> str:
        """A same-padded k×k convolution."""
        inputs = [x, self.weight("conv_w", [c_out, c_in, k, k])]
        if bias:
            inputs.append(self.const("conv_b", self.rng.standard_normal(c_out).astype(np.float32) * 0.1))
        pad = k // 2
        return self.op("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)

    def batchnorm(self, x: str, c: int) -> str:
        """Batch normalisation with non-trivial statistics."""
        rng = self.rng
        scale = self.const("bn_scale", (1.0 + 0.1 * rng.standard_normal(c)).astype(np.float32))
        bias = self.const("bn_bias", (0.1 * rng.standard_normal(c)).astype(np.float32))
        mean = self.const("bn_mean", (0.1 * rng.standard_normal(c)).astype(np.float32))
        var = self.const("bn_var", (0.5 + rng.random(c)).astype(np.float32))
        return self.op("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-5)

    def conv_bn_relu(self, x: str, c_in: int, c_out: int, k: int, stride: int = 1, relu: bool = True) -> str:
        """Conv, batch norm and (optionally) ReLU."""
        y = self.batchnorm(self.conv(x, c_in, c_out, k, stride), c_out)
        return self.op("Relu", [y]) if relu else y

    def linear(self, x: str, d_in: int, d_out: int) -> str:
        """MatMul + Add, as exporters write a linear layer."""
        w = self.weight("fc_w", [d_in, d_out])
        b = self.const("fc_b", (0.1 * self.rng.standard_normal(d_out)).astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def model(self) -> onnx.ModelProto:
        """The checked model."""
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="parity"
        )
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model
