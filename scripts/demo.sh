#!/usr/bin/env bash
# The main job on the default input: prepare the machine (the bootstrap fetches SmolLM2-135M and
# builds its BF16 Hugging Face checkpoint), build QuantKit in release mode, convert the checkpoint
# to BF16, Q8_0, Q4_K_M and Q4_0 GGUFs, measure each file's perplexity on a real English text every
# machine with Python has (CPython's license, about 3 000 tokens), print the table, and generate a
# few tokens with the Q4_K_M file.
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

# The Hugging Face BF16 checkpoint the bootstrap built from the sample (the test bed).
hf=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}/testbed/smollm2-135m-hf
"$quantkit" inspect "$hf"
files=()
for type in BF16 Q8_0 Q4_K_M Q4_0; do
  echo "== convert $hf to $type" >&2
  "$quantkit" convert "$hf" -o "$work/smollm2-$type.gguf" --type "$type" --quiet
  files+=("$work/smollm2-$type.gguf")
done
printf '\n%-26s %8s %6s %9s\n' file MB bpw PPL
for file in "${files[@]}"; do
  ppl=$("$quantkit" perplexity "$file" -f "$text" --chunks 2 --json 2>/dev/null | python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["ppl"])')
  info=$("$quantkit" inspect "$file" --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.1f %.2f" % (r["file_size"]/1e6, r["bits_per_weight"]))')
  printf '%-26s %8s %6s %9s\n' "$(basename "$file")" ${info% *} ${info#* } "$ppl"
done
echo
"$quantkit" generate "$work/smollm2-Q4_K_M.gguf" -p "The three most important ideas in computer science are" -n 32
