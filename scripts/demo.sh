#!/usr/bin/env bash
# The main job on the default input, with nothing but this repository: prepare the machine (system
# libraries, the 98 MB sample model SmolLM2-135M-Instruct), build QuantKit in release mode, turn
# the sample GGUF into a BF16 Hugging Face checkpoint with `quantkit export`, convert that
# checkpoint to BF16, Q8_0, Q4_K_M and Q4_0 GGUFs, measure each file's size, perplexity and KL
# divergence from the BF16 file on a real English text every machine with Python has (CPython's
# license, about 3 000 tokens), and generate a few tokens with the Q4_K_M file.
#
# The sample is stored as Q4_1, so its weights sit on Q4_1's per-32 grid, which would make
# re-quantizing to 4 bits look nearly free. The export therefore applies exact,
# function-preserving channel permutations (`--permute-channels 0`): the checkpoint computes the
# same function, and the numbers below measure real quantization error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
sample=$(bash scripts/fetch-sample-model.sh | tail -n 1)
swift build -c release --product quantkit >&2
quantkit=$(swift build -c release --show-bin-path)/quantkit
work=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}/demo
mkdir -p "$work"
text=$(python3 -c 'import sys, os; print(os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "LICENSE.txt"))')
[ -f "$text" ] || text=$(python3 -c 'import os, sys; print(os.path.join(os.path.dirname(os.__file__), "LICENSE.txt"))')

hf=$work/smollm2-135m-hf
if [ ! -f "$hf/config.json" ]; then
  echo "== export $sample to a Hugging Face checkpoint" >&2
  "$quantkit" export "$sample" -o "$hf" --dtype bf16 --permute-channels 0 --quiet >&2
fi
"$quantkit" inspect "$hf"
files=()
for type in BF16 Q8_0 Q4_K_M Q4_0; do
  echo "== convert $hf to $type" >&2
  "$quantkit" convert "$hf" -o "$work/smollm2-$type.gguf" --type "$type" --quiet
  files+=("$work/smollm2-$type.gguf")
done
json() { python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"; }
printf '\n%-24s %8s %6s %9s %10s\n' file MB bpw PPL "KLD vs BF16"
for file in "${files[@]}"; do
  ppl=$("$quantkit" perplexity "$file" -f "$text" --chunks 2 --json 2>/dev/null | json '"%.3f" % r["ppl"]')
  kld=$("$quantkit" kld --base "$work/smollm2-BF16.gguf" "$file" -f "$text" --chunks 2 --json 2>/dev/null | json '"%.5f" % r["mean_kld"]["value"]')
  info=$("$quantkit" inspect "$file" --json | json '"%.1f %.2f" % (r["file_size"]/1e6, r["bits_per_weight"])')
  printf '%-24s %8s %6s %9s %10s\n' "$(basename "$file")" ${info% *} ${info#* } "$ppl" "$kld"
done
echo
"$quantkit" generate "$work/smollm2-Q4_K_M.gguf" -p "The three most important ideas in computer science are" -n 32
