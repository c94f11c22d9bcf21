"""Weight layouts optimisers store filters in, and how to read them back in OIHW order.

onnxruntime's NCHWc transformer reorders a Conv filter by blocks of B channels (B = 8 or 16 depending on
the machine's vector width, from ``MlasNchwcGetBlockSize``) and keeps the OIHW dims, with the output
channels rounded up to a multiple of B: OIHWBiBo when the input channels are blocked, OIHWBo for a first
layer (fewer input channels than B, read straight from NCHW) or a depthwise filter. The block size is
not recorded in the model; the graph engine infers it from the model's channel counts where it can, and
otherwise every plausible block is tried and the one that reproduces the reference wins.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK_SIZES = (4, 8, 16)


def filter_layout(stored_shape: tuple[int, ...], block: int, blocked_input: bool) -> str:
    """``OIHW{B}o`` (first layer or depthwise) or ``OIHW{B}i{B}o`` (blocked input channels)."""
    return f"OIHW{block}i{block}o" if blocked_input and stored_shape[1] % block == 0 else f"OIHW{block}o"


def unblock(stored: np.ndarray, layout: str) -> np.ndarray:
    """A blocked filter (its buffer in ``layout``, shape [O, I, H, W]) read back in OIHW order."""
    out, inp, height, width = stored.shape
    flat = np.asarray(stored).reshape(-1)
    block = int(layout[4:].split("i")[0].rstrip("o"))
    if layout.endswith(f"{block}i{block}o"):
        blocked = flat.reshape(out // block, inp // block, height, width, block, block)
        return blocked.transpose(0, 5, 1, 4, 2, 3).reshape(out, inp, height, width)
    blocked = flat.reshape(out // block, inp, height, width, block)
    return blocked.transpose(0, 4, 1, 2, 3).reshape(out, inp, height, width)


def nchwc_candidates(stored: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """(layout name, the filter re-read as OIHW) for every layout the stored filter may be in."""
    if stored.ndim != 4:
        return
    out, inp = stored.shape[:2]
    for block in BLOCK_SIZES:
        if out % block:
            continue
        yield f"OIHW{block}o", unblock(stored, f"OIHW{block}o")
        if inp % block == 0:
            yield f"OIHW{block}i{block}o", unblock(stored, f"OIHW{block}i{block}o")


def block(plain: np.ndarray, layout: str) -> np.ndarray:
    """The inverse of :func:`unblock`: an OIHW filter written in ``layout`` (its buffer, OIHW dims)."""
    out, inp, height, width = plain.shape
    size = int(layout[4:].split("i")[0].rstrip("o"))
    if layout.endswith(f"{size}i{size}o"):
        grouped = plain.reshape(out // size, size, inp // size, size, height, width).transpose(
            0, 2, 4, 5, 3, 1
        )
    else:
        grouped = plain.reshape(out // size, size, inp, height, width).transpose(0, 2, 3, 4, 1)
    return np.ascontiguousarray(grouped).reshape(out, inp, height, width)
