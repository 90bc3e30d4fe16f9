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

bash scripts/fetch-sample-model.sh >/dev/null
