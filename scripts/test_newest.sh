#!/usr/bin/env bash
# The test suite against the newest releases, as `pip install` gives a user: a fresh virtual
# environment, `pip install -e '.[dev]'` without constraints.txt, the versions it got, then the
# README's test command. Run it before every submission; refresh constraints.txt from a green run.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
# torch only builds the test corpus. Its newest Linux wheel on PyPI is a CUDA build of several GB, so
# the CPU build (2.13.0 here) is held with a one-line constraint; everything else gets its newest release.
pins="$(dirname "$venv")/torch-only.txt"
echo "torch==2.13.0" > "$pins"
python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]' -c "$pins"
echo "newest releases installed:"
python -m pip list --format=freeze | grep -iE '^(onnx|onnxruntime|onnxsim|onnxslim|onnxconverter-common|onnxscript|onnx-ir|numpy|scipy|sympy|networkx|pydantic|typer|rich|jinja2|pyyaml|safetensors|torch|transformers|pytest|ruff)=='
pytest "$@"
