#!/usr/bin/env bash
# The main job on the default input: prepare the machine, build QuantKit in release mode, and run
# it on the sample model (SmolLM2-135M-Instruct). Later stages (convert, evaluate) join here as
# they land.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
model=$(bash scripts/fetch-sample-model.sh | tail -n 1)
swift build -c release --product quantkit >&2
quantkit=$(swift build -c release --show-bin-path)/quantkit
"$quantkit" inspect "$model"
