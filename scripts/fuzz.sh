#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS: gguf | safetensors | json | tokenizer | statistics | rules.
# Builds the target from the project's sources with swiftc -sanitize=fuzzer,address, seeds the
# corpus from small valid files (and the malformed corpus), and keeps crashes under
# .fuzz/TARGET/crashes (add each as a regression test). Not part of CI.
# Usage: scripts/fuzz.sh TARGET SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?target: gguf | safetensors | json | tokenizer | statistics | rules}
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
  # The .qkstats parser on decompressed images; seeds are generated below.
  statistics) sources="$formats Sources/QuantCore/Half.swift Sources/Inference/ActivationObserver.swift Calibration/Statistics/ActivationStatistics*.swift Calibration/Statistics/Zstd.swift scripts/fuzz/FuzzStatistics.swift"
              seeds="" ; extra_flags="-I Sources/CZstd -lzstd" ;;
  # `--rules` YAML: Yams (its Swift sources and libyaml, from the package checkout) and RulesFile.
  rules) yams=.build/checkouts/Yams/Sources
         [ -d "$yams" ] || swift package resolve
         sources="$formats $(find "$yams/Yams" -name '*.swift') Sources/quantkit/RulesFile.swift scripts/fuzz/FuzzRules.swift"
         seeds="" ; extra_flags="-D SWIFT_PACKAGE -I $yams/CYaml/include" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
# Everything is compiled as one module, so imports of the project's own modules are dropped.
rm -rf "$work/build" && mkdir -p "$work/build"
i=0
for source in $sources; do
  i=$((i + 1))
  sed -e '/^import QuantFormats$/d' -e '/^import QuantCore$/d' -e '/^import Inference$/d' -e '/^import Yams$/d' "$source" > "$work/build/$i-$(basename "$source")"
done
if [ "$target" = rules ]; then
  # libyaml, instrumented like the Swift code so the fuzzer sees its branches.
  for c in "$yams"/CYaml/src/*.c; do
    clang -O1 -g -fsanitize=fuzzer-no-link,address -I "$yams/CYaml/include" -DYAML_DECLARE_STATIC \
      -c "$c" -o "$work/build/$(basename "$c" .c).o"
  done
  extra_flags="$extra_flags $work/build/*.o"
  if [ -z "$(ls -A "$work/corpus")" ]; then
    printf -- "- pattern: 'attn_v\\.weight'\n  type: Q6_K\n- pattern: 'blk\\.(0|1)\\.ffn_down'\n  type: Q8_0\n" > "$work/corpus/list.yaml"
    printf -- "'output\\.weight': Q8_0\n'token_embd': Q4_K\n" > "$work/corpus/mapping.yaml"
    printf -- "anchors: &a {pattern: x, type: *a}\n" > "$work/corpus/alias.yaml"
  fi
fi
# shellcheck disable=SC2086
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget "$work"/build/*.swift ${extra_flags:-} -o "$work/fuzzer"
if [ "$target" = statistics ] && [ -z "$(ls -A "$work/corpus")" ]; then
  # Seeds: decompressed images of two small valid statistics files (samples, FFN activity, a
  # Hessian), written by a few lines of Python following the documented layout (the fuzzer
  # binary cannot write them: libFuzzer owns its main).
  python3 - "$work/corpus" <<'PY'
import json, struct, sys
def image(entries):
    payload = b""
    described = []
    for key, columns, active, rows, hessian in entries:
        item = {"key": key, "columns": columns, "active": active, "sample_rows": rows}
        if hessian: item["hessian"] = True
        described.append(item)
        payload += struct.pack(f"<{columns}f", *[0.5] * columns) * (3 if active else 2)
        payload += struct.pack(f"<{rows * columns}e", *[1.0] * (rows * columns))
        if hessian: payload += struct.pack(f"<{columns * (columns + 1) // 2}f", *[0.25] * (columns * (columns + 1) // 2))
    provenance = {"model": "m", "model_sha256": "0" * 64, "corpus": "c", "corpus_sha256": "0" * 64, "tokens": 4,
                  "sequences": 1, "ctx": 4, "active_threshold": 0.1, "tool": "fuzz seed"}
    header = json.dumps({"entries": described, "provenance": provenance}, sort_keys=True).encode()
    return b"QKSTATS\0" + struct.pack("<II", 1, len(header)) + header + payload
open(sys.argv[1] + "/plain", "wb").write(image([("blk.0.attn_in", 4, False, 2, False)]))
open(sys.argv[1] + "/full", "wb").write(image([("blk.0.ffn_down_in", 6, True, 1, True), ("output_in", 3, False, 0, False)]))
PY
fi
# Seeds: a valid sample header if present, plus the malformed corpus.
for seed in $seeds; do cp "$seed" "$work/corpus/" 2>/dev/null || true; done
sample=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}/SmolLM2-135M-Instruct.Q4_1.gguf
if { [ "$target" = gguf ] || [ "$target" = tokenizer ] || [ "$target" = safetensors ]; } && [ -f "$sample" ]; then head -c 2000000 "$sample" > "$work/corpus/sample-header.gguf"; fi
"$work/fuzzer" "$work/corpus" -max_total_time="$seconds" -max_len=4000000 -rss_limit_mb=2048 -artifact_prefix="$work/crashes/" \
  -print_final_stats=1 2>&1 | tail -n 25
