"""Reading an untrusted .npz of plain arrays with every size checked before anything is decompressed.

``numpy.load`` trusts the archive: a member's declared size, a header claiming petabytes, a deflate bomb
or a structured dtype all reach the allocator or the parser. Here each member must be a ``.npy`` of a
plain numeric or boolean dtype whose header (read with numpy's own header parser) agrees with the bytes
the archive declares, and the total decompressed size is bounded before any member is read.
"""

from __future__ import annotations

import math
import resource
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from parity.errors import BadInput
from parity.untrusted import regular_file

#: the most bytes all members may decompress to (the inputs of a large accuracy run fit in well under this)
MAX_DECOMPRESSED_BYTES = 2 * 1024**3
#: the most members an archive may have
MAX_MEMBERS = 4096
#: the largest .npy header numpy itself reads without being told it is trusted
MAX_NPY_HEADER = 10_000


def read_npz(path: str | Path, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> dict[str, np.ndarray]:
    """The arrays of ``path`` by name (the member name without ``.npy``).

    Raises:
        BadInput: not a regular file, not a zip, a member that is not a plain ``.npy``, a header that
            disagrees with the member's size, or more than ``max_bytes`` once decompressed.
    """
    path = regular_file(path, ".npz archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_sizes(members, max_bytes, path)
            return {member.filename[: -len(".npy")]: _member(archive, member, path) for member in members}
    except BadInput:
        raise
    except MemoryError:  # a caller's address-space limit under the bound (prlimit --as, CI)
        raise BadInput(
            "does not fit in the memory this process may use (its arrays are decompressed in memory)", path
        ) from None
    except (
        OSError,
        EOFError,
        ValueError,
        zipfile.BadZipFile,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ) as exc:
        raise BadInput(f"not a readable .npz archive ({type(exc).__name__})", path) from None


def _check_sizes(members: list[zipfile.ZipInfo], max_bytes: int, path: Path) -> None:
    if len(members) > MAX_MEMBERS:
        raise BadInput(f"{len(members)} members, over the {MAX_MEMBERS} limit", path)
    names = set()
    for member in members:
        if not member.filename.endswith(".npy") or member.is_dir():
            raise BadInput(f"member {member.filename[:80]!r} is not a .npy array", path)
        if member.filename in names:
            raise BadInput(f"member {member.filename[:80]!r} appears twice", path)
        names.add(member.filename)
    total = sum(member.file_size for member in members)
    if total > max_bytes:
        raise BadInput(f"members decompress to {total} bytes, over the {max_bytes}-byte limit", path)
    allowed = _address_space()
    if allowed is not None and total > allowed // 2:
        raise BadInput(
            f"members decompress to {total} bytes, more than half the {allowed}-byte address-space limit "
            "this process runs under",
            path,
        )


def _address_space() -> int | None:
    """The address-space limit the caller set on this process (``prlimit --as``), if any."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One member, read only after its header agrees with its declared size (zipfile stops at that size)."""
    name = member.filename[:80]
    with archive.open(member) as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns about Python 2 headers; the header is checked here
        try:
            version = npy_format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(
                    handle, max_header_size=MAX_NPY_HEADER
                )
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npy_format.read_array_header_2_0(
                    handle, max_header_size=MAX_NPY_HEADER
                )
            else:
                raise ValueError(f"npy format {version}")
        except (ValueError, SyntaxError, TypeError, EOFError, tokenize.TokenError, RecursionError) as exc:
            raise BadInput(f"member {name!r}: not a .npy header ({_first_line(exc)})", path) from None
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize == 0:
            raise BadInput(f"member {name!r}: dtype {dtype} is not a plain numeric array", path)
        nbytes = math.prod(shape) * dtype.itemsize
        left = member.file_size - handle.tell()
        if nbytes != left:
            raise BadInput(
                f"member {name!r}: header claims {nbytes} bytes of data, the member holds {left}", path
            )
        data = handle.read(nbytes)
    if len(data) != nbytes:
        raise BadInput(f"member {name!r}: truncated ({len(data)} of {nbytes} bytes)", path)
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
