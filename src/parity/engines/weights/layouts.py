"""Weight layouts optimisers store filters in, and how to read them back in OIHW order.

onnxruntime's NCHWc transformer reorders a Conv filter by blocks of B channels (B = 8 or 16 depending on
the machine's vector width) and keeps the OIHW dims: OIHWBiBo when the input channels are blocked,
OIHWBo for a first layer (3 input channels) or a depthwise filter. The block size is not recorded, so
every plausible layout is tried and the one that reproduces the reference wins.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK_SIZES = (4, 8, 16)


def nchwc_candidates(stored: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """(layout name, the filter re-read as OIHW) for every layout the stored filter may be in."""
    if stored.ndim != 4:
        return
    out, inp, height, width = stored.shape
    flat = stored.reshape(-1)
    for block in BLOCK_SIZES:
        if out % block:
            continue
        # OIHWBo: [O/B, I, H, W, Bo]
        blocked = flat.reshape(out // block, inp, height, width, block)
        yield f"OIHW{block}o", blocked.transpose(0, 4, 1, 2, 3).reshape(out, inp, height, width)
        if inp % block == 0:
            # OIHWBiBo: [O/B, I/B, H, W, Bi, Bo]
            blocked = flat.reshape(out // block, inp // block, height, width, block, block)
            yield (
                f"OIHW{block}i{block}o",
                blocked.transpose(0, 5, 1, 4, 2, 3).reshape(out, inp, height, width),
            )
