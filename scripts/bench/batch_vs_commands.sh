#!/usr/bin/env bash
# Wall time of the same jobs three ways, by turns: `quantkit batch` (one job at a time, all
# cores), the same jobs as separate `convert` + `kld --base` commands, and `batch --jobs 2`.
# Usage: batch_vs_commands.sh QUANTKIT MODEL_F16.gguf TEXT [ROUNDS=2] [CHUNKS=8]
set -euo pipefail
q=$(realpath "$1") model=$(realpath "$2") text=$(realpath "$3") rounds=${4:-2} chunks=${5:-8}
types=(Q8_0 Q6_K Q4_K_M Q4_0)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
manifest() {
  { echo "output: $1"; echo "models: [{name: model, path: $model}]"; echo "recipes:"
    for t in "${types[@]}"; do echo "  - {name: ${t,,}, type: $t}"; done
    echo "evaluation: {text: $text, chunks: $chunks, kld: true, generation_tokens: 0}"; } > "$1.yaml"
}
separate() {
  mkdir -p "$1"
  for t in "${types[@]}"; do
    "$q" convert "$model" -o "$1/$t.gguf" --type "$t" --quiet > /dev/null
    "$q" kld --base "$model" "$1/$t.gguf" -f "$text" --chunks "$chunks" --json > "$1/$t.json" 2> /dev/null
  done
}
seconds() { local s; s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; echo "$(date +%s.%N) - $s" | bc; }
for round in $(seq "$rounds"); do
  rm -rf one two separate ./*.yaml; manifest one; manifest two
  echo "round $round  batch: $(seconds "$q" batch one.yaml --quiet) s  separate commands: $(seconds separate separate) s  batch --jobs 2: $(seconds "$q" batch two.yaml --quiet --jobs 2) s"
done
