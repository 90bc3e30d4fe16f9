#!/usr/bin/env bash
# The test command (CI runs exactly this through .ci/run): prepares the machine with the test
# oracles, builds everything in release mode (`-enable-testing` for `@testable` imports) and fails
# on any compiler warning in the project's own code, runs the test suite, then builds the example
# package against a version-tagged clone of this repository and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --tests
log=$(mktemp); trap 'rm -f "$log"' EXIT
swift build -c release -Xswiftc -enable-testing --build-tests 2>&1 | tee "$log"
if grep -E "^$PWD/[^.][^:]*:[0-9]+:[0-9]+: warning:" "$log" | sort -u | grep .; then
  echo "test: the build printed compiler warnings (above); the project builds without any" >&2
  exit 1
fi
swift test -c release -Xswiftc -enable-testing --skip-build

# The example needs a checkpoint: the sample exported as the demo does.
cache=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}
checkpoint=$cache/demo/smollm2-135m-hf
if [ ! -f "$checkpoint/config.json" ]; then
  "$(swift build -c release --show-bin-path)/quantkit" export "$(bash scripts/fetch-sample-model.sh | tail -n 1)" \
    -o "$checkpoint" --dtype bf16 --permute-channels 0 --quiet
fi
text=$(python3 -c 'import os; print(os.path.join(os.path.dirname(os.__file__), "LICENSE.txt"))')
bash scripts/check-example.sh "$checkpoint" "$text"
