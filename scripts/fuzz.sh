#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS: gguf | safetensors | json | tokenizer.
# Builds the target from the project's sources with swiftc -sanitize=fuzzer,address, seeds the
# corpus from small valid files (and the malformed corpus), and keeps crashes under
# .fuzz/TARGET/crashes (add each as a regression test). Not part of CI.
# Usage: scripts/fuzz.sh TARGET SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?target: gguf | safetensors | json | tokenizer}
seconds=${2:-60}
work=.fuzz/$target
mkdir -p "$work/corpus" "$work/crashes"
formats=$(find Formats -name '*.swift')
case "$target" in
  gguf) sources="$formats scripts/fuzz/FuzzGGUF.swift"; seeds="Tests/QuantFormatsTests/Fixtures/malformed/*.gguf" ;;
  safetensors) sources="$formats scripts/fuzz/FuzzSafetensors.swift"; seeds="Tests/QuantFormatsTests/Fixtures/malformed/*.safetensors" ;;
  json) sources="$formats scripts/fuzz/FuzzJSON.swift"; seeds="Tests/QuantFormatsTests/Fixtures/malformed/*.json" ;;
  tokenizer) sources="$formats $(find Sources/Inference/Tokenizer -name '*.swift') Sources/Inference/InferenceError.swift scripts/fuzz/FuzzTokenizer.swift"
             seeds="Tests/QuantFormatsTests/Fixtures/malformed/*.gguf" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
# Everything is compiled as one module, so imports of the project's own modules are dropped.
rm -rf "$work/build" && mkdir -p "$work/build"
i=0
for source in $sources; do
  i=$((i + 1))
  sed -e '/^import QuantFormats$/d' -e '/^import QuantCore$/d' -e '/^import Inference$/d' "$source" > "$work/build/$i-$(basename "$source")"
done
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget "$work"/build/*.swift -o "$work/fuzzer"
# Seeds: a valid sample header if present, plus the malformed corpus.
for seed in $seeds; do cp "$seed" "$work/corpus/" 2>/dev/null || true; done
sample=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}/SmolLM2-135M-Instruct.Q4_1.gguf
if [ "$target" != json ] && [ -f "$sample" ]; then head -c 2000000 "$sample" > "$work/corpus/sample-header.gguf"; fi
"$work/fuzzer" "$work/corpus" -max_total_time="$seconds" -max_len=4000000 -rss_limit_mb=2048 -artifact_prefix="$work/crashes/" \
  -print_final_stats=1 2>&1 | tail -n 25
