"""Every loader of parity as a fuzz target: its seeds (real files), how a mutant is made, how it is run.

Seeds come from the bundled examples, files parity itself writes (evidence, reports), safetensors and npz
files written here, the packaged rulebooks, and, when ``../shared`` is beside the repository, the real
training logs and benchmark folders of its corpus. Every mutant runs the real command in-process, except
``.npz`` files, whose loader is called the way ``parity check --inputs`` calls it (running both models per
mutant would measure onnxruntime, not the loader); one ``.npz`` mutant in twenty goes through the command.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fuzz.mutate import (
    HOSTILE_TOKENS,
    dump_json,
    hostile_value,
    mutate_bytes,
    mutate_json,
    mutate_json_value,
    splice,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SHARED_LOGS = REPO.parent / "shared" / "corpus" / "mlperf_logs"
RULEBOOKS = REPO / "src" / "parity" / "rulebook" / "data"


def cli(argv: list[str]) -> int:
    """`parity ARGV` in this process; its exit code."""
    from parity.cli.entry import main

    try:
        main([str(arg) for arg in argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 4
    return 0


def check_output(out: Path, code: int | None) -> str:
    """Why what a command printed is broken (not UTF-8; JSON that is not strict JSON), or ''."""
    if code not in (0, 1, 2):
        return ""
    data = out.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "output is not UTF-8"
    if not text.lstrip().startswith("{"):
        return ""  # a text report

    def refuse(token):
        raise ValueError(f"{token} is not JSON")

    try:
        json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        return str(exc)[:200]
    return ""


@dataclass
class Loader:
    """A fuzz target."""

    name: str
    seeds: list[Path]
    mutate: object  # (seed folder, mutant folder, rng) -> the input path
    arguments: object  # (input path, rng) -> argv
    run: object = cli
    check_output: object = check_output


def _copy_seed(seed: Path, folder: Path) -> None:
    (folder / "seed").write_text(seed.name)  # which seed the mutant came from (and so its reference)
    for item in seed.iterdir():
        if item.is_dir():
            shutil.copytree(item, folder / item.name, symlinks=True)
        else:
            shutil.copy(item, folder / item.name)


def _seed_of(path: Path) -> str:
    """The name of the seed a mutant's input came from."""
    for folder in (path.parent, *path.parents):
        if (folder / "seed").is_file():
            return (folder / "seed").read_text()
    return ""


def _plant(folder: Path, name: str, rng: random.Random, named: bool = False) -> Path:
    """Replace ``name`` in ``folder`` by a link out of it, a FIFO, or a link to a device.

    A file the user names on the command line may be a link anywhere (that is the user's choice), so a
    ``named`` file becomes only a FIFO or a device.
    """
    path = folder / name
    if path.exists() or path.is_symlink():
        path.unlink()
    outside = next(parent / "outside" for parent in folder.parents if (parent / "outside").is_dir())
    choice = rng.uniform(0.6, 1.0) if named else rng.random()
    if choice < 0.4:
        path.symlink_to(os.path.relpath(outside / "secret.txt", path.parent))
    elif choice < 0.6:
        path.symlink_to("/etc/passwd")
    elif choice < 0.8:
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


# --- ONNX -----------------------------------------------------------------------------------------------


def _onnx_seeds(seeds: Path) -> list[Path]:
    import onnx

    found = []
    for model in ("cnn", "transformer"):
        for onnx_file in sorted((EXAMPLES / model).glob("*.onnx")):
            folder = seeds / "onnx" / f"{model}-{onnx_file.stem}"
            folder.mkdir(parents=True)
            shutil.copy(onnx_file, folder / "model.onnx")
            found.append(folder)
        folder = seeds / "onnx" / f"{model}-external"
        folder.mkdir(parents=True)
        onnx.save(
            onnx.load(EXAMPLES / model / "reference.onnx"),
            folder / "model.onnx",
            save_as_external_data=True,
            location="weights.bin",
            size_threshold=0,
        )
        found.append(folder)
    return found


_OPS = ["Conv", "Relu", "Gemm", "MatMul", "Loop", "If", "Scan", "Foo", "", "Relu" * 50, "Cast", "Reshape"]
_DOMAINS = ["", "ai.onnx.ml", "com.microsoft", "evil.domain", "\x00", "ai.onnx.preview.training"]
_DIMS = [0, 1, -1, -(2**62), 2**31, 2**40, 2**62, 2**63 - 1, 7]
_LOCATIONS = [
    "../outside/secret.txt",
    "../../outside/secret.txt",
    "/etc/passwd",
    "weights\x00.bin",
    "",
    ".",
    "weights.bin",
    "sub/../../x.bin",
    "a" * 5000,
]
_NUMBERS = ["0", "abc", "0x10", "-5", "99999999999999", str(2**63), "", "1e3", " 4", "4\n"]


def _mutate_model(model, rng: random.Random, folder: Path) -> None:
    import onnx
    from onnx import helper

    graph = model.graph
    choice = rng.random()
    if choice < 0.3 and graph.initializer:
        tensor = rng.choice(graph.initializer)
        edit = rng.randrange(5)
        if edit == 0:
            tensor.dims[:] = (
                [rng.choice(_DIMS) for _ in range(rng.randint(0, 4))] if rng.random() < 0.8 else []
            )
        elif edit == 1:
            tensor.data_type = rng.randrange(0, 27)
        elif edit == 2:
            raw = tensor.raw_data or b"\0" * 16
            tensor.raw_data = raw[: rng.randrange(len(raw) + 1)] if rng.random() < 0.5 else raw * 2
        elif edit == 3:
            (folder / "weights.bin").write_bytes(os.urandom(rng.choice([0, 3, 64, 4096])))
            tensor.ClearField("raw_data")
            del tensor.float_data[:]
            tensor.data_location = onnx.TensorProto.EXTERNAL
            del tensor.external_data[:]
            for key in ("location", "offset", "length"):
                if rng.random() < 0.8:
                    entry = tensor.external_data.add()
                    entry.key = key
                    entry.value = rng.choice(_LOCATIONS) if key == "location" else rng.choice(_NUMBERS)
        else:
            tensor.name = rng.choice(
                ["", "x" * 10000, "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")]
            )
    elif choice < 0.55 and graph.node:
        node = rng.choice(graph.node)
        edit = rng.randrange(6)
        if edit == 0:
            node.op_type = rng.choice(_OPS)
        elif edit == 1:
            node.domain = rng.choice(_DOMAINS)
        elif edit == 2 and node.input:
            node.input[rng.randrange(len(node.input))] = rng.choice(["missing", "", node.output[0]])
        elif edit == 3:
            graph.node.append(helper.make_node("Identity", [node.output[0]], [node.output[0]], name="dup"))
        elif edit == 4 and node.attribute:
            attribute = rng.choice(node.attribute)
            attribute.ints[:] = [rng.choice(_DIMS) for _ in range(rng.randint(0, 6))]
            attribute.i = rng.choice(_DIMS)
            if rng.random() < 0.3:
                attribute.type = rng.randrange(0, 15)
        else:
            graph.node.remove(node)
    elif choice < 0.7:
        target = rng.choice([graph.value_info, graph.input, graph.output])
        info = helper.make_tensor_value_info(
            rng.choice([graph.output[0].name, "extra", graph.input[0].name]),
            rng.randrange(0, 27),
            [rng.choice([*_DIMS, "N", ""]) for _ in range(rng.randint(0, 5))],
        )
        target.append(info)
    elif choice < 0.8:
        opset = model.opset_import[0] if model.opset_import else model.opset_import.add()
        opset.version = rng.choice([0, 1, 6, 7, 10**6, -1, 2**62])
        if rng.random() < 0.3:
            model.ir_version = rng.choice([0, 1, 3, 10**6])
    elif choice < 0.9:
        body = helper.make_graph(
            [helper.make_node("Identity", ["inner"], ["out"])],
            "body",
            [],
            [helper.make_tensor_value_info("out", 1, [1])],
            [helper.make_tensor("inner", 1, [1], [1.0])],
        )
        inner = body.initializer[0]
        inner.ClearField("float_data")
        inner.data_location = onnx.TensorProto.EXTERNAL
        entry = inner.external_data.add()
        entry.key, entry.value = "location", rng.choice(_LOCATIONS)
        cond = helper.make_tensor_value_info("cond", onnx.TensorProto.BOOL, [])
        graph.input.append(cond)
        graph.node.append(helper.make_node("If", ["cond"], ["if_out"], then_branch=body, else_branch=body))
    else:
        function = helper.make_function(
            "local", "Loop", ["x"], ["y"], [helper.make_node("Loop", ["x"], ["y"], domain="local")], []
        )
        model.functions.append(function)
        graph.node.append(helper.make_node("Loop", [graph.input[0].name], ["rec"], domain="local"))


def _mutate_onnx(seed: Path, folder: Path, rng: random.Random) -> Path:
    import onnx

    _copy_seed(seed, folder)
    path = folder / "model.onnx"
    if rng.random() < 0.04:
        external = (folder / "weights.bin").exists()
        _plant(folder, "weights.bin" if external else "model.onnx", rng, named=not external)
        return path
    data = path.read_bytes()
    if rng.random() < 0.25:
        path.write_bytes(mutate_bytes(data, rng))
        return path
    model = onnx.ModelProto()
    model.ParseFromString(data)
    for _ in range(rng.randint(1, 3)):
        _mutate_model(model, rng, folder)
    path.write_bytes(model.SerializeToString())
    return path


def _onnx_arguments(path: Path, rng: random.Random) -> list:
    model = "transformer" if "transformer" in _seed_of(path) else "cnn"
    if rng.random() < 0.1:  # a candidate of another model altogether
        model = {"cnn": "transformer", "transformer": "cnn"}[model]
    reference = EXAMPLES / model / "reference.onnx"
    sides = [reference, path] if rng.random() < 0.7 else [path, reference]
    numeric = ["--samples", "1", "--time-limit", "20"] if rng.random() < 0.04 else ["--no-numeric"]
    return [
        "check",
        "--reference",
        sides[0],
        "--candidate",
        sides[1],
        "-r",
        "mlperf-inference",
        "-f",
        "json",
        *numeric,
    ]


# --- .npz inputs and labels -------------------------------------------------------------------------------


def _npz_seeds(seeds: Path) -> list[Path]:
    found = []
    rng = np.random.default_rng(0)
    images = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
    for name, save in (("inputs", np.savez), ("inputs-compressed", np.savez_compressed)):
        folder = seeds / "npz" / name
        folder.mkdir(parents=True)
        save(folder / "data.npz", image=images)
        found.append(folder)
    folder = seeds / "npz" / "labels"
    folder.mkdir(parents=True)
    np.savez(folder / "data.npz", labels=np.arange(4, dtype=np.int64))
    found.append(folder)
    folder = seeds / "npz" / "fortran"
    folder.mkdir(parents=True)
    np.savez(folder / "data.npz", image=np.asfortranarray(images[:, :, :, :]))
    found.append(folder)
    return found


_DESCRS = ["<f4", "|O", "<U10", "[('a', '<f4')]", "<f8", "|b1", "V8", "<c8", "<f4 ", "'x'", "<i8", "(1,2)"]
_SHAPES = ["(4, 3, 32, 32)", "(10000000000000000,)", "(-1,)", "()", "(0, 3, 32, 32)", "('a',)", "(2**70,)"]


def _npy(rng: random.Random) -> bytes:
    header = "{" + f"'descr': {rng.choice(_DESCRS)!r}, 'fortran_order': {rng.choice(['False', 'True', 'x'])},"
    header += f" 'shape': {rng.choice(_SHAPES)}, " + "}"
    if rng.random() < 0.5:
        header = header.replace("'<f4'", "<f4")
    version = rng.choice([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x09\x09"])
    length = len(header) + 1 if rng.random() < 0.8 else rng.choice([0, 65535, 5])
    size = struct.pack("<H" if version == b"\x01\x00" else "<I", length)
    body = os.urandom(rng.choice([0, 16, 4 * 3 * 32 * 32 * 4]))
    return b"\x93NUMPY" + version + size + header.encode() + b"\n" + body


_ARRAY_SHAPES = [
    (4, 3, 32, 32),
    (4, 1, 3, 32, 32),
    (0, 3, 32, 32),
    (4, 3, 16, 16),
    (1, 3, 32, 32),
    (4,),
    (),
    (64, 3, 32, 32),
]


def _hostile_arrays(rng: random.Random) -> dict[str, np.ndarray]:
    """Valid .npy members whose values, types or shapes are wrong: NaN, inf, other dtypes, odd shapes."""
    shape = rng.choice(_ARRAY_SHAPES)
    dtype = rng.choice([np.float32, np.float32, np.float64, np.float16, np.int64, np.bool_, np.uint8])
    array = np.zeros(shape, dtype)
    if np.issubdtype(dtype, np.floating) and array.size:
        with np.errstate(all="ignore"):  # 1e38 overflows float16 to inf, which is the point
            array.flat[:: max(1, array.size // 7)] = rng.choice([np.nan, np.inf, -np.inf, 1e38])
    if rng.random() < 0.3:
        array = np.asfortranarray(array)
    arrays = {rng.choice(["image", "labels", "image", "other"]): array}
    if rng.random() < 0.3:
        arrays["extra"] = np.full(rng.choice([(4,), (4, 2)]), rng.choice([-1, 2**62, 7]), np.int64)
    return arrays


def _mutate_npz(seed: Path, folder: Path, rng: random.Random) -> Path:
    _copy_seed(seed, folder)
    path = folder / "data.npz"
    choice = rng.random()
    if choice < 0.03:
        _plant(folder, "data.npz", rng, named=True)
    elif choice < 0.3:
        path.write_bytes(mutate_bytes(path.read_bytes(), rng))
    elif choice < 0.55:  # a well-formed archive of hostile arrays
        np.savez(path, **_hostile_arrays(rng))
    elif choice < 0.6:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:  # a deflate bomb
            archive.writestr("image.npy", b"\0" * rng.choice([64, 512]) * 1024**2)
    else:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        name = next(iter(members))
        edit = rng.randrange(6)
        if edit == 0:
            members[rng.choice(["image", "../evil.npy", "dir/", "image.npy.npy", "labels.npy", ".npy"])] = (
                members.pop(name)
            )
        elif edit == 1:
            members[name] = _npy(rng)
        elif edit == 2:
            members[name] = members[name][: rng.randrange(len(members[name]) + 1)]
        elif edit == 3:
            members.update({f"extra{i}.npy": members[name][:200] for i in range(rng.choice([2, 5000]))})
        elif edit == 4:
            members[name] = mutate_bytes(members[name][:128], rng) + members[name][128:]
        else:
            members = {}
        method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
        with zipfile.ZipFile(path, "w", method) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
    return path


def _npz_arguments(path: Path, rng: random.Random) -> list:
    role = "labels" if "labels" in _seed_of(path) or rng.random() < 0.2 else "inputs"
    if rng.random() < 0.05:
        return [
            "check",
            "--reference",
            EXAMPLES / "cnn" / "reference.onnx",
            "--candidate",
            EXAMPLES / "cnn" / "optimized.onnx",
            "-r",
            "mlperf-inference",
            "-f",
            "json",
            f"--{role}",
            path,
            "--time-limit",
            "20",
        ]
    return ["npz", role, path]


def run_npz(argv: list) -> int:
    """The --inputs or --labels loader as `parity check` calls it (or the command, for a full argv)."""
    if argv[0] != "npz":
        return cli(argv)
    from parity.engines.numeric.engine import _accuracy
    from parity.engines.numeric.inputs import load_inputs
    from parity.errors import BadInput, one_line
    from parity.ir import load_graph

    _, role, path = argv
    try:
        if role == "inputs":
            load_inputs(Path(path), load_graph(EXAMPLES / "cnn" / "reference.onnx"))
        else:
            _accuracy(Path(path), [[0, 1, 2, 3], [0, 1, 2, 3]], 4)
    except BadInput as exc:
        sys.stderr.write(f"parity: error: {one_line(str(exc))}\n")
        return 3
    except Exception as exc:
        sys.stderr.write(f"parity: internal error: {type(exc).__name__}: {exc}"[:2000] + "\n")
        return 4
    return 0


# --- safetensors ----------------------------------------------------------------------------------------


def _safetensors_seeds(seeds: Path) -> list[Path]:
    import onnx
    from onnx import numpy_helper

    found = []
    for model in ("cnn", "transformer"):
        tensors = {
            t.name: numpy_helper.to_array(t)
            for t in onnx.load(EXAMPLES / model / "reference.onnx").graph.initializer
        }
        header, data = {"__metadata__": {"format": "pt"}}, b""
        codes = {np.dtype("float32"): "F32", np.dtype("int64"): "I64", np.dtype("float16"): "F16"}
        for name, array in tensors.items():
            if array.dtype not in codes:
                continue
            raw = np.ascontiguousarray(array).tobytes()
            header[name] = {
                "dtype": codes[array.dtype],
                "shape": list(array.shape),
                "data_offsets": [len(data), len(data) + len(raw)],
            }
            data += raw
        folder = seeds / "safetensors" / model
        folder.mkdir(parents=True)
        text = json.dumps(header).encode()
        (folder / "weights.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + data)
        found.append(folder)
    return found


def _mutate_safetensors(seed: Path, folder: Path, rng: random.Random) -> Path:
    _copy_seed(seed, folder)
    path = folder / "weights.safetensors"
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8 : 8 + length]), data[8 + length :]
    choice = rng.random()
    if choice < 0.04:
        _plant(folder, "weights.safetensors", rng, named=True)
        return path
    if choice < 0.25:
        path.write_bytes(mutate_bytes(data, rng))
        return path
    text = dump_json(mutate_json_value(header, rng), rng) if choice < 0.8 else json.dumps(header).encode()
    if rng.random() < 0.1:
        text += b" " * rng.choice([1024**2, 17 * 1024**2])
    prefix_length = (
        len(text) if rng.random() < 0.85 else rng.choice([0, 2**64 - 1, 2**63, len(text) + 1, 100_000_000])
    )
    if rng.random() < 0.2:
        body = body[: rng.randrange(len(body) + 1)]
    path.write_bytes(struct.pack("<Q", prefix_length) + text + body)
    return path


def _safetensors_arguments(path: Path, rng: random.Random) -> list:
    model = "transformer" if "transformer" in _seed_of(path) else "cnn"
    reference = EXAMPLES / model / "reference.onnx"
    side = rng.choice(["--candidate-weights", "--reference-weights"])
    return [
        "check",
        "--reference",
        reference,
        "--candidate",
        reference,
        side,
        path,
        "--no-numeric",
        "-f",
        "json",
        "-r",
        rng.choice(["mlperf-inference", "mlperf-training"]),
    ]


# --- evidence -----------------------------------------------------------------------------------------


def _evidence_seeds(seeds: Path) -> list[Path]:
    import contextlib
    import io

    found = []
    for model, candidate in (("cnn", "swapped_activation"), ("cnn", "fp16"), ("transformer", "removed_erf")):
        folder = seeds / "evidence" / f"{model}-{candidate}"
        folder.mkdir(parents=True)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            cli(
                [
                    "check",
                    "--reference",
                    EXAMPLES / model / "reference.onnx",
                    "--candidate",
                    EXAMPLES / model / f"{candidate}.onnx",
                    "-r",
                    "mlperf-inference",
                    "--no-numeric",
                    "--save-evidence",
                    folder / "evidence.json",
                    "-f",
                    "json",
                    "--out",
                    folder / "report.json",
                ]
            )
        (folder / "report.json").unlink()
        found.append(folder)
    return found


def _mutate_evidence(seed: Path, folder: Path, rng: random.Random) -> Path:
    _copy_seed(seed, folder)
    path = folder / "evidence.json"
    if rng.random() < 0.03:
        _plant(folder, "evidence.json", rng, named=True)
    else:
        path.write_bytes(mutate_json(path.read_bytes(), rng))
    return path


def _evidence_arguments(path: Path, rng: random.Random) -> list:
    form = "json" if rng.random() < 0.7 else "text"
    return [
        "judge",
        path,
        "-r",
        rng.choice(["mlperf-inference", "mlperf-training", "mlperf-training-v0.7"]),
        "-f",
        form,
    ]


# --- MLLOG logs and benchmark folders -------------------------------------------------------------------


def _generated_logs(seeds: Path) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from mllog_files import flux_runs

    folder = seeds / "generated" / "v5.1" / "flux1"
    if not folder.exists():
        flux_runs(folder, count=10)
    return folder


def _log_seeds(seeds: Path) -> list[Path]:
    found = []
    sources = [_generated_logs(seeds) / "result_0.txt"]
    if SHARED_LOGS.is_dir():
        singles = sorted(
            p for p in (SHARED_LOGS / "singles").rglob("*.txt") if p.stat().st_size < 2 * 1024**2
        )
        sources += singles[:: max(1, len(singles) // 12)]
    for index, source in enumerate(sources):
        parts = source.parts
        at = next(
            (i for i, part in enumerate(parts) if part.startswith("v") and part[1:2].isdigit()),
            len(parts) - 2,
        )
        folder = seeds / "logs" / str(index)
        target = folder.joinpath(*parts[at:])
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
        found.append(folder)
    return found


def _mutate_log_text(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    records = [i for i, line in enumerate(lines) if b":::MLLOG" in line]
    if rng.random() < 0.1 or not records:
        return mutate_bytes(data, rng)
    for _ in range(rng.randint(1, 4)):
        at = rng.choice(records)
        line = lines[at]
        head, _, payload = line.partition(b":::MLLOG")
        choice = rng.random()
        if choice < 0.6:
            lines[at] = head + b":::MLLOG " + mutate_json(payload, rng).replace(b"\n", b"\\n")
        elif choice < 0.7:
            lines[at] = b""
        elif choice < 0.8:
            lines[at:at] = [line] * rng.randint(2, 200)
        elif choice < 0.9:
            lines[at] = line + rng.choice(HOSTILE_TOKENS)
        else:
            lines[at] = (
                head
                + b":::MLLOG "
                + payload.replace(b"}", b', "value": ' + rng.choice(HOSTILE_TOKENS) + b"}", 1)
            )
        records = [i for i, line in enumerate(lines) if b":::MLLOG" in line] or records
    return b"\n".join(lines)


def _main_log(folder: Path) -> Path:
    return next(p for p in sorted(folder.rglob("*.txt")) if p.is_file() and not p.is_symlink())


def _mutate_logs(seed: Path, folder: Path, rng: random.Random) -> Path:
    _copy_seed(seed, folder)
    log = _main_log(folder)
    named = rng.random() < 0.5
    if rng.random() < 0.04:
        _plant(log.parent, log.name, rng, named=named)
    else:
        log.write_bytes(_mutate_log_text(log.read_bytes(), rng))
    return log if named else folder


def _logs_arguments(path: Path, rng: random.Random) -> list:
    extra = ["--ruleset", rng.choice(["4.0.0", "5.0.0", "5.1.0", "6.0.0"])] if rng.random() < 0.3 else []
    return ["logs", "check", path, "-f", "json" if rng.random() < 0.7 else "text", *extra]


def _rcp_seeds(seeds: Path) -> list[Path]:
    found = [seeds / "generated"]
    if SHARED_LOGS.is_dir():
        benchmarks = sorted({p.parent for p in SHARED_LOGS.rglob("result_0.txt")})
        for index, benchmark in enumerate(benchmarks[:: max(1, len(benchmarks) // 10)]):
            parts = benchmark.parts
            at = next(i for i, part in enumerate(parts) if part.startswith("v") and part[1:2].isdigit())
            folder = seeds / "rcp" / str(index)
            shutil.copytree(benchmark, folder.joinpath(*parts[at:]))
            found.append(folder)
    return found


def _mutate_rcp(seed: Path, folder: Path, rng: random.Random) -> Path:
    _copy_seed(seed, folder)
    benchmark = _main_log(folder).parent
    logs = sorted(benchmark.glob("result_*.txt"))
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        if choice < 0.5 and logs:
            log = rng.choice(logs)
            if log.exists() and not log.is_symlink() and log.is_file():
                log.write_bytes(_mutate_log_text(log.read_bytes(), rng))
        elif choice < 0.6 and logs:
            victim = rng.choice(logs)
            if victim.exists() or victim.is_symlink():
                victim.unlink()
        elif choice < 0.75:
            _plant(benchmark, f"result_{rng.randint(0, 12)}.txt", rng)
        elif choice < 0.8:
            outside = next(parent / "outside" for parent in folder.parents if (parent / "outside").is_dir())
            if not (benchmark / "sub").is_symlink():
                (benchmark / "sub").symlink_to(rng.choice([os.path.relpath(outside, benchmark), ".", ".."]))
        elif choice < 0.9:
            current = benchmark
            for _ in range(rng.choice([65, 200, 1000])):
                current = current / "d"
                current.mkdir(exist_ok=True)
            if logs and logs[0].is_file():
                shutil.copy(logs[0], current / "result_99.txt")
        else:
            sparse = benchmark / "result_20.txt"
            with open(sparse, "wb") as handle:
                handle.truncate(rng.choice([2 * 1024**2, 3 * 1024**3]))
    return benchmark


def _rcp_arguments(path: Path, rng: random.Random) -> list:
    if rng.random() < 0.2:
        return ["logs", "check", path, "-f", "json"]
    method = ["--method", "mlperf-logging"] if rng.random() < 0.3 else []
    return ["rcp", "check", path, "-f", "json" if rng.random() < 0.7 else "text", *method]


# --- rulebooks ----------------------------------------------------------------------------------------


def _rulebook_seeds(seeds: Path) -> list[Path]:
    folder = seeds / "rulebooks" / "packaged"
    folder.mkdir(parents=True)
    for name in ("mlperf-training-v0.7.yaml", "mlperf-training-v6.0.yaml", "mlperf-inference-v0.7.yaml"):
        shutil.copy(RULEBOOKS / name, folder / name)
    return [folder]


_YAML_ATTACKS = [
    b"!!python/object/apply:os.system ['echo pwned']\n",
    b"".join(  # a billion laughs: each level nine aliases of the one before
        b"%s: &%s [%s]\n" % (name, name, b", ".join([b"*" + previous] * 9) if previous else b"x")
        for previous, name in zip(
            [b"", b"a", b"b", b"c", b"d", b"e", b"f"], [b"a", b"b", b"c", b"d", b"e", b"f", b"g"], strict=True
        )
    ),
    b"extends: ../outside/secret.txt\n",
    b"extends: /etc/passwd\n",
    b"extends: mlperf-training-v6.0.yaml\n",
    b"rules: " + b"[" * 2000 + b"]" * 2000 + b"\n",
    b'id: "\\ud800"\n',
    b"\t\x00\x1b\n",
]


def _mutate_rulebook(seed: Path, folder: Path, rng: random.Random) -> Path:
    import yaml

    _copy_seed(seed, folder)
    path = folder / rng.choice(
        ["mlperf-training-v6.0.yaml", "mlperf-inference-v0.7.yaml", "mlperf-training-v0.7.yaml"]
    )
    data, choice = path.read_bytes(), rng.random()
    if choice < 0.3:
        path.write_bytes(mutate_bytes(data, rng))
    elif choice < 0.5:
        lines = data.split(b"\n")
        lines.insert(rng.randrange(len(lines)), rng.choice(_YAML_ATTACKS).rstrip(b"\n"))
        path.write_bytes(b"\n".join(lines) if rng.random() < 0.5 else rng.choice(_YAML_ATTACKS))
    else:
        mutated = mutate_json_value(yaml.safe_load(data), rng)
        path.write_text(splice(json.dumps(mutated)))  # JSON is YAML
    return path


def _rulebook_arguments(path: Path, rng: random.Random) -> list:
    choice = rng.random()
    if choice < 0.5:
        return ["rules", "list", "-r", path, "-f", "json"]
    if choice < 0.7:
        return ["rules", "test", "-r", path]
    return [
        "rules",
        "explain",
        rng.choice(["training.seeds.logged", "inference.model.analysed", "x"]),
        "-r",
        path,
    ]


# --- inference submissions ----------------------------------------------------------------------------
INFERENCE_FIXTURE = REPO / "tests" / "data" / "inference" / "v5.1" / "closed"


def _inference_seeds(seeds: Path) -> list[Path]:
    folder = seeds / "inference" / "0"
    shutil.copytree(INFERENCE_FIXTURE, folder / "v5.1" / "closed")
    return [folder]


def _mutate_inference(seed: Path, folder: Path, rng: random.Random) -> Path:
    """One to three files of the tree mutated, removed or replaced by a link or FIFO; or a folder linked."""
    _copy_seed(seed, folder)
    tree = folder / "v5.1" / "closed"
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    for path in rng.sample(files, rng.randint(1, 3)):
        if not path.is_file() or path.is_symlink() or path.parent.is_symlink():
            continue  # an earlier choice removed or linked its folder
        choice = rng.random()
        if choice < 0.08:
            _plant(path.parent, path.name, rng)
        elif choice < 0.14:
            path.unlink()
        elif choice < 0.18:
            shutil.rmtree(path.parent)
            outside = next(parent / "outside" for parent in folder.parents if (parent / "outside").is_dir())
            path.parent.symlink_to(os.path.relpath(outside, path.parent.parent))
        elif path.name == "mlperf_log_detail.txt":
            path.write_bytes(_mutate_log_text(path.read_bytes(), rng))
        elif path.suffix == ".json":
            path.write_bytes(mutate_json(path.read_bytes(), rng))
        else:
            path.write_bytes(mutate_bytes(path.read_bytes(), rng))
    return tree


def _inference_arguments(path: Path, rng: random.Random) -> list:
    extra = ["--ruleset", rng.choice(["5.0", "5.1", "6.0", "6.1"])] if rng.random() < 0.3 else []
    return ["audit", path, "--jobs", "1", "-f", "json" if rng.random() < 0.7 else "text", *extra]


def loaders(seeds: Path) -> list[Loader]:
    """Every fuzz target with its seeds written under ``seeds``."""
    return [
        Loader("onnx", _onnx_seeds(seeds), _mutate_onnx, _onnx_arguments),
        Loader("npz", _npz_seeds(seeds), _mutate_npz, _npz_arguments, run=run_npz),
        Loader("safetensors", _safetensors_seeds(seeds), _mutate_safetensors, _safetensors_arguments),
        Loader("evidence", _evidence_seeds(seeds), _mutate_evidence, _evidence_arguments),
        Loader("mllog", _log_seeds(seeds), _mutate_logs, _logs_arguments),
        Loader("rcp", _rcp_seeds(seeds), _mutate_rcp, _rcp_arguments),
        Loader("rulebook", _rulebook_seeds(seeds), _mutate_rulebook, _rulebook_arguments),
        Loader("inference", _inference_seeds(seeds), _mutate_inference, _inference_arguments),
    ]


__all__ = ["Loader", "hostile_value", "loaders"]
