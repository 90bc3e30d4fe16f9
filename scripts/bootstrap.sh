#!/usr/bin/env bash
# Prepares a fresh Debian machine with Swift for QuantKit. Idempotent and quick on a second run:
# installed packages and cached downloads are detected and skipped.
#   bash scripts/bootstrap.sh          what the tool needs: system libraries (apt) and the sample model
#   bash scripts/bootstrap.sh --tests  also the oracles the tests compare against (PyPI: gguf,
#                                      llama-cpp-python, transformers …) and, when ../shared/testdata
#                                      is beside the repository (as in CI), the SmolLM2 test bed
set -euo pipefail
cd "$(dirname "$0")/.."
tests=false
[ "${1:-}" = "--tests" ] && tests=true

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

model=$(bash scripts/fetch-sample-model.sh | tail -n 1)
$tests || exit 0

pip_install() { python3 -m pip install -q --disable-pip-version-check "$@"; }
# Oracles: llama.cpp's own gguf-py, the safetensors package (numpy API), and Hugging Face's
# transformers/tokenizers/sentencepiece (configuration and tokenizer files of exported checkpoints;
# no PyTorch needed).
if ! python3 -c "import gguf, safetensors, numpy, transformers, tokenizers, sentencepiece" 2>/dev/null; then
  echo "bootstrap: pip install gguf safetensors numpy transformers tokenizers sentencepiece" >&2
  pip_install "gguf==0.19.0" "safetensors==0.8.0" numpy "transformers==5.23.0" "tokenizers==0.23.3" "sentencepiece==0.2.3"
fi
# llama.cpp itself, the oracle of the inference tests (compiles llama.cpp: ~7 minutes on 2 cores
# the first time; pip keeps the built wheel, so later runs are quick).
if ! python3 -c "import llama_cpp" 2>/dev/null; then
  echo "bootstrap: pip install llama-cpp-python (builds llama.cpp, several minutes)" >&2
  pip_install "llama-cpp-python==0.3.36"
fi

# The test bed (F16 GGUF + BF16 Hugging Face folder) made from the sample model by the team's
# ../shared/testdata/make-testbed.py, when that folder is beside the repository (CI has it).
cache=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}
if [ ! -f "$cache/testbed/smollm2-135m-f16.gguf" ] && [ -f ../shared/testdata/make-testbed.py ]; then
  echo "bootstrap: building the test bed (about a minute)" >&2
  python3 ../shared/testdata/make-testbed.py --gguf "$model" --out "$cache/testbed.partial" >&2
  rm -rf "$cache/testbed" && mv "$cache/testbed.partial" "$cache/testbed"
fi
