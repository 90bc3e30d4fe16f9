#!/usr/bin/env bash
# Before/after for a change that must not move speed: two quantkit binaries, by turns (A, B, A,
# B, …), on the same files — convert to Q4_K_M (wall time), perplexity over a few chunks
# (tokens/s from --json) and greedy generation of 128 tokens — and the median of each. This machine's speed drifts by up to 2× in
# minutes, so only turns within one run compare.
# With LLAMA_QUANTIZE=path/to/llama-quantize (scripts/build-llama-cpp.sh builds it), llama.cpp's
# own Q4_K_M conversion takes a turn in every round too, and each build's quantize time is also
# given as a ratio to it.
# Usage: [LLAMA_QUANTIZE=…] compare_builds.sh QUANTKIT_A QUANTKIT_B MODEL_F16.gguf TEXT [ROUNDS=3] [CHUNKS=4]
set -euo pipefail
a=$1 b=$2 model=$3 text=$4 rounds=${5:-3} chunks=${6:-4}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$a" convert "$model" -o "$work/q4km.gguf" --type Q4_K_M --quiet >/dev/null
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
for build in a b; do : > "$work/convert-$build"; : > "$work/ppl-f16-$build"; : > "$work/ppl-q4-$build"; : > "$work/gen-q4-$build"; done
: > "$work/convert-llama"
timed() { python3 -c 'import subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(time.perf_counter() - t)' "$@"; }
for round in $(seq "$rounds"); do
  if [ -n "${LLAMA_QUANTIZE:-}" ]; then
    timed "$LLAMA_QUANTIZE" "$model" "$work/out-llama.gguf" Q4_K_M "$(nproc)" >> "$work/convert-llama"
  fi
  for build in a b; do
    bin=${!build}
    timed "$bin" convert "$model" -o "$work/out-$build.gguf" --type Q4_K_M --quiet >> "$work/convert-$build"
    for kind in f16 q4; do
      file=$model; [ $kind = q4 ] && file=$work/q4km.gguf
      "$bin" perplexity "$file" -f "$text" --chunks "$chunks" --json 2>/dev/null \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r["chunks"]) * r["ctx"] / r["seconds"])' >> "$work/ppl-$kind-$build"
    done
    # Greedy generation of 128 tokens from the Q4_K_M file (tokens/s as generate reports it).
    "$bin" generate "$work/q4km.gguf" -p "Once upon a time" -n 128 --temp 0 --json 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])' >> "$work/gen-q4-$build"
  done
done
printf '%-28s %12s %12s %8s\n' measure A B B/A
for m in convert ppl-f16 ppl-q4 gen-q4; do
  ma=$(median < "$work/$m-a") mb=$(median < "$work/$m-b")
  unit=$([ $m = convert ] && echo "s (Q4_K_M)" || echo "tokens/s")
  printf '%-28s %12.2f %12.2f %8.3f\n' "$m $unit" "$ma" "$mb" "$(python3 -c "print($mb / $ma)")"
done
if [ -n "${LLAMA_QUANTIZE:-}" ]; then
  ml=$(median < "$work/convert-llama") ma=$(median < "$work/convert-a") mb=$(median < "$work/convert-b")
  printf '%-28s %12.2f   (A/llama %.3f, B/llama %.3f)\n' "llama-quantize s (Q4_K_M)" "$ml" \
    "$(python3 -c "print($ma / $ml)")" "$(python3 -c "print($mb / $ml)")"
fi
