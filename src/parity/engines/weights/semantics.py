"""What real converters do to weight values, as data: each documented behaviour the weights rules accept.

A converter that clamps, pads or re-expresses weights produces values that differ from a plain rounding
of the reference, and an auditor that ignores this calls legal conversions modified. Each entry names the
tool, the function and parameters that document the behaviour, and what the weights engine accepts
because of it; the engine reports how many entries each behaviour explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ToolSemantics:
    """One documented behaviour of a converter."""

    name: str
    tool: str
    documented: str  # where the behaviour is defined (module.function and its defaults)
    accepts: str  # what the weights engine accepts because of it
    parameters: dict[str, float] = field(default_factory=dict)


FP16_CLAMP = ToolSemantics(
    name="fp16-clamp",
    tool="onnxconverter-common",
    documented="onnxconverter_common.float16.convert_np_to_float16(np_array, min_positive_val=1e-7, "
    "max_finite_val=1e4), applied to initializers and Constant nodes alike",
    accepts=(
        "an fp16 entry equal to the reference clamped to ±[min_positive_val, max_finite_val] before "
        "rounding (magnitudes below 1e-7 become ±1e-7, above 1e4 become ±1e4; zeros stay zero)"
    ),
    parameters={"min_positive_val": 1e-7, "max_finite_val": 1e4},
)
FP16_CLAMP_ONNXRUNTIME = ToolSemantics(
    name="fp16-clamp-onnxruntime",
    tool="onnxruntime (onnxruntime.transformers.float16, used by its transformers optimizer)",
    documented="onnxruntime.transformers.float16.convert_np_to_float16(np_array, min_positive_val=5.96e-08, "
    "max_finite_val=65504.0), applied to initializers and Constant nodes alike",
    accepts=(
        "an fp16 entry equal to the reference clamped to ±[min_positive_val, max_finite_val] before "
        "rounding (a masked_fill value of -1e9 becomes -65504; magnitudes below 5.96e-8 become ±5.96e-8)"
    ),
    parameters={"min_positive_val": 5.96e-08, "max_finite_val": 65504.0},
)
#: the documented fp16 clampings a converted tensor may show (each converter clamps with its own bounds)
FP16_CLAMPS = (FP16_CLAMP, FP16_CLAMP_ONNXRUNTIME)
NCHWC_PADDING = ToolSemantics(
    name="nchwc-channel-padding",
    tool="onnxruntime (ORT_ENABLE_ALL, NchwcTransformer)",
    documented="onnxruntime/core/optimizer/nchwc_transformer.cc: channels rounded up to the NCHWc block size",
    accepts=(
        "a blocked Conv filter or bias with channels padded up to the block size (8 or 16), every padded "
        "entry zero; the padded channels are cut off again by ReorderOutput(channels=...)"
    ),
)
BATCHNORM_AS_DEPTHWISE_CONV = ToolSemantics(
    name="batchnorm-as-depthwise-conv",
    tool="onnxruntime (ORT_ENABLE_ALL, NchwcTransformer)",
    documented="nchwc_transformer.cc TransformBatchNormalization: a standalone BatchNormalization becomes a "
    "depthwise 1x1 NCHWc Conv with weight scale/sqrt(var+eps) and bias B - mean*scale/sqrt(var+eps)",
    accepts="a depthwise 1x1 Conv whose weight and bias are the batch norm's scale and shift",
)
DYNAMIC_QUANTIZATION = ToolSemantics(
    name="dynamic-quantization",
    tool="onnxruntime.quantization.quantize_dynamic",
    documented="quantize_dynamic(weight_type=QInt8): weights quantized per tensor from their own min/max; "
    "activations by DynamicQuantizeLinear at run time (MatMulInteger, ConvInteger)",
    accepts="an int8 weight within half a quantization step of the reference, scale and zero point stored",
)

REGISTRY: dict[str, ToolSemantics] = {
    item.name: item
    for item in (
        FP16_CLAMP,
        FP16_CLAMP_ONNXRUNTIME,
        NCHWC_PADDING,
        BATCHNORM_AS_DEPTHWISE_CONV,
        DYNAMIC_QUANTIZATION,
    )
}


def fp16_clamped(reference: np.ndarray, semantics: ToolSemantics = FP16_CLAMP) -> np.ndarray:
    """The reference as the fp16 converter sees it before rounding (float64)."""
    low = semantics.parameters["min_positive_val"]
    high = semantics.parameters["max_finite_val"]
    magnitude = np.abs(reference)
    clamped = np.where((magnitude > 0) & (magnitude < low), low, magnitude)
    clamped = np.where(clamped > high, high, clamped)
    return np.copysign(clamped, reference)
