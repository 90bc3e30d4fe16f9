#!/usr/bin/env bash
# Prepares a fresh Debian machine with Swift for QuantKit: system libraries (apt), the Python
# oracles the interop tests use (PyPI), and the sample model (cached). Idempotent and quick on a
# second run: installed packages and cached downloads are detected and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libopenblas-dev libzstd-dev pkg-config)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "bootstrap: apt-get install ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Oracles for interop tests: llama.cpp's own gguf-py and the safetensors package (numpy API).
if ! python3 -c "import gguf, safetensors, numpy" 2>/dev/null; then
  echo "bootstrap: pip install gguf safetensors numpy" >&2
  python3 -m pip install -q --disable-pip-version-check "gguf==0.19.0" "safetensors==0.8.0" numpy
fi

# llama.cpp itself, the oracle of the inference tests (compiles llama.cpp: ~7 minutes on 2 cores
# the first time; pip keeps the built wheel, so later runs are quick).
if ! python3 -c "import llama_cpp" 2>/dev/null; then
  echo "bootstrap: pip install llama-cpp-python (builds llama.cpp, several minutes)" >&2
  python3 -m pip install -q --disable-pip-version-check "llama-cpp-python==0.3.36"
fi

model=$(bash scripts/fetch-sample-model.sh | tail -n 1)

# The test bed (F16 GGUF + BF16 Hugging Face folder) made from the sample model by
# ../shared/testdata/make-testbed.py, when that folder is beside the repository (CI has it).
cache=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}
if [ ! -f "$cache/testbed/smollm2-135m-f16.gguf" ] && [ -f ../shared/testdata/make-testbed.py ]; then
  echo "bootstrap: building the test bed (about a minute)" >&2
  python3 ../shared/testdata/make-testbed.py --gguf "$model" --out "$cache/testbed.partial" >&2
  rm -rf "$cache/testbed" && mv "$cache/testbed.partial" "$cache/testbed"
fi
