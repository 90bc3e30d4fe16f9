#!/usr/bin/env bash
# Proves QuantKit works as a library depended on by version: clones this repository's HEAD into a
# scratch folder, tags the clone 0.1.0, builds Examples/QuantizeAndMeasure against it through a
# file:// git URL (`from: "0.1.0"`, as a user's package would depend on a release) and runs it on
# the sample checkpoint. Usage: scripts/check-example.sh CHECKPOINT_FOLDER TEXT_FILE
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint=$1 text=$2
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
git clone -q . "$scratch/quantkit"
git -C "$scratch/quantkit" tag 0.1.0
cp -R Examples/QuantizeAndMeasure "$scratch/example"
export QUANTKIT_URL="file://$scratch/quantkit"
swift build -c release --package-path "$scratch/example" 2>&1 | tee "$scratch/build.log" >&2
if grep -q "unsafe build flags" "$scratch/build.log"; then echo "check-example: SwiftPM refused QuantKit's flags" >&2; exit 1; fi
mkdir -p "$scratch/out"
"$(swift build -c release --package-path "$scratch/example" --show-bin-path)/QuantizeAndMeasure" "$checkpoint" "$text" "$scratch/out"
