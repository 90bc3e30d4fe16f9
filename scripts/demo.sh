#!/usr/bin/env bash
# The main job on the default input: prepare the machine, build QuantKit in release mode, then on
# the sample model (SmolLM2-135M-Instruct, Q4_1) inspect it, convert it to Q8_0 and Q4_0, measure
# each file's perplexity on a real English text every machine with Python has (CPython's license,
# about 3 000 tokens), print the table, and generate a few tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
model=$(bash scripts/fetch-sample-model.sh | tail -n 1)
swift build -c release --product quantkit >&2
quantkit=$(swift build -c release --show-bin-path)/quantkit
work=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}/demo
mkdir -p "$work"
text=$(python3 -c 'import sys, os; print(os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "LICENSE.txt"))')
[ -f "$text" ] || text=$(python3 -c 'import os, sys; print(os.path.join(os.path.dirname(os.__file__), "LICENSE.txt"))')

"$quantkit" inspect "$model"
for type in Q8_0 Q4_0; do
  echo "== convert to $type (requantizing the Q4_1 sample: a demo, not best practice)" >&2
  "$quantkit" convert "$model" -o "$work/sample-$type.gguf" --type "$type" --allow-requantize --quiet
done
printf '\n%-34s %8s %6s %9s\n' file MB bpw PPL
for file in "$model" "$work/sample-Q8_0.gguf" "$work/sample-Q4_0.gguf"; do
  ppl=$("$quantkit" perplexity "$file" -f "$text" --chunks 2 --json 2>/dev/null | python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["ppl"])')
  info=$("$quantkit" inspect "$file" --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.1f %.2f" % (r["file_size"]/1e6, r["bits_per_weight"]))')
  printf '%-34s %8s %6s %9s\n' "$(basename "$file")" ${info% *} ${info#* } "$ppl"
done
echo
"$quantkit" generate "$model" -p "The three most important ideas in computer science are" -n 32
