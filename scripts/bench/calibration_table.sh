#!/usr/bin/env bash
# The calibration recipes judged by KL divergence against the F16 test bed, on wikitext-2 test
# (512-token chunks, llama-perplexity's windows): size, bits per weight, PPL, mean KLD and
# same-top-token rate for each recipe. Usage:
#   bash scripts/bench/calibration_table.sh [CHUNKS=40] [OUT_DIR]
# Needs the test bed (scripts/bootstrap.sh). Takes about 110 minutes on 2 cores for 40 chunks; rows are
# cached, so an interrupted run resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
chunks=${1:-40}
cache=${QUANTKIT_TESTDATA:-$HOME/.cache/quantkit-testdata}
out=${2:-$cache/calibration-table}
mkdir -p "$out"
base=$cache/testbed/smollm2-135m-f16.gguf
text=../shared/testdata/wikitext-2/wiki.test.raw
calib=../shared/testdata/tinyshakespeare/input.txt
anchor=../shared/testdata/anchors/testbed-imatrix-tinyshakespeare.dat
# A private copy of the binary, so rebuilding during the long run cannot swap it underneath
# (QUANTKIT_BIN names an already built one).
if [ -z "${QUANTKIT_BIN:-}" ]; then
  swift build -c release --product quantkit >&2
  QUANTKIT_BIN=$(swift build -c release --show-bin-path)/quantkit
fi
cp "$QUANTKIT_BIN" "$out/quantkit"
q=$out/quantkit

# Statistics: tinyshakespeare (the corpus of llama.cpp's anchor imatrix, 10 × 512 tokens) and data-free.
[ -f "$out/tinyshakespeare.qkstats" ] || "$q" calibrate "$base" --calib "$calib" --tokens 5120 -o "$out/tinyshakespeare.qkstats" --quiet
[ -f "$out/data-free.qkstats" ] || "$q" calibrate "$base" -o "$out/data-free.qkstats" --quiet
# The same corpus with Hessians (X·Xᵀ per linear input), for --w8a8-gptq.
[ -f "$out/tinyshakespeare-hessian.qkstats" ] || "$q" calibrate "$base" --calib "$calib" --tokens 5120 --hessian -o "$out/tinyshakespeare-hessian.qkstats" --quiet

convert() {  # name, then convert arguments
  local name=$1; shift
  [ -f "$out/$name.gguf" ] || "$q" convert "$base" -o "$out/$name.gguf" --quiet "$@" > "$out/$name.convert.log" 2>&1
}
convert Q8_0 --type Q8_0
convert sq-0.5 --type F16 --stats "$out/tinyshakespeare.qkstats" --smoothquant 0.5
convert sq-auto-norms --type F16 --stats "$out/tinyshakespeare.qkstats" --smoothquant auto --smoothquant-sites norms
convert sq-auto --type F16 --stats "$out/tinyshakespeare.qkstats" --smoothquant auto
# tuned reads only the activation maxima from --stats (any --sample-rows gives the same α); α comes from
# the model's W8A8 KLD on 512 tokens of --calib.
convert sq-tuned --type F16 --stats "$out/tinyshakespeare.qkstats" --smoothquant tuned --calib "$calib"
# Rotation (--rotate) first, then statistics of the rotated model for its SmoothQuant.
convert rotated --type F16 --rotate
[ -f "$out/rotated.qkstats" ] || "$q" calibrate "$out/rotated.gguf" --calib "$calib" --tokens 5120 -o "$out/rotated.qkstats" --quiet
[ -f "$out/rotated-sq-auto.gguf" ] || "$q" convert "$out/rotated.gguf" -o "$out/rotated-sq-auto.gguf" --quiet --type F16 \
  --stats "$out/rotated.qkstats" --smoothquant auto > "$out/rotated-sq-auto.convert.log" 2>&1
# The same with 20480 calibration tokens (5120 match llama.cpp's anchor imatrix above; SmoothQuant's
# maxima want more: KLD 0.01091 → 0.00963, and 40960 gives no more, 0.00966).
[ -f "$out/rotated-20k.qkstats" ] || "$q" calibrate "$out/rotated.gguf" --calib "$calib" --tokens 20480 -o "$out/rotated-20k.qkstats" --quiet
[ -f "$out/rotated-20k-sq-auto.gguf" ] || "$q" convert "$out/rotated.gguf" -o "$out/rotated-20k-sq-auto.gguf" --quiet --type F16 \
  --stats "$out/rotated-20k.qkstats" --smoothquant auto > "$out/rotated-20k-sq-auto.convert.log" 2>&1
[ -f "$out/rotated-hessian.qkstats" ] || "$q" calibrate "$out/rotated.gguf" --calib "$calib" --tokens 5120 --hessian -o "$out/rotated-hessian.qkstats" --quiet
[ -f "$out/rotated-sq-auto-w8a8-gptq.gguf" ] || "$q" convert "$out/rotated.gguf" -o "$out/rotated-sq-auto-w8a8-gptq.gguf" --quiet --type F16 \
  --stats "$out/rotated-hessian.qkstats" --smoothquant auto --w8a8-gptq > "$out/rotated-sq-auto-w8a8-gptq.convert.log" 2>&1
# Int8-grid GPTQ on the 20480-token Hessians of the rotated model (KLD 0.00963 → 0.00800).
[ -f "$out/rotated-20k-hessian.qkstats" ] || "$q" calibrate "$out/rotated.gguf" --calib "$calib" --tokens 20480 --hessian -o "$out/rotated-20k-hessian.qkstats" --quiet
[ -f "$out/rotated-20k-sq-auto-w8a8-gptq.gguf" ] || "$q" convert "$out/rotated.gguf" -o "$out/rotated-20k-sq-auto-w8a8-gptq.gguf" --quiet --type F16 \
  --stats "$out/rotated-20k-hessian.qkstats" --smoothquant auto --w8a8-gptq > "$out/rotated-20k-sq-auto-w8a8-gptq.convert.log" 2>&1
convert sq-auto-w8a8-gptq --type F16 --stats "$out/tinyshakespeare-hessian.qkstats" --smoothquant auto --w8a8-gptq
convert Q4_K_M --type Q4_K_M
convert Q4_K_M-stats --type Q4_K_M --stats "$out/tinyshakespeare.qkstats"
convert Q4_K_M-stats-data-free --type Q4_K_M --stats "$out/data-free.qkstats"
convert Q4_K_M-llama-imatrix --type Q4_K_M --imatrix "$anchor"
# The mix search: types per tensor from measured sensitivity, within the preset's size.
convert Q4_K_M-stats-mix --type Q4_K_M --stats "$out/tinyshakespeare.qkstats" --optimize-mix --calib "$calib"
convert Q4_K_M-stats-mix-data-free --type Q4_K_M --stats "$out/data-free.qkstats" --optimize-mix
convert IQ4_NL-stats-mix --type IQ4_NL --stats "$out/tinyshakespeare.qkstats" --optimize-mix --calib "$calib"
convert IQ4_NL --type IQ4_NL
convert IQ4_NL-stats --type IQ4_NL --stats "$out/tinyshakespeare.qkstats"
convert IQ4_NL-llama-imatrix --type IQ4_NL --imatrix "$anchor"
convert NF4 --type NF4
convert NF4-stats --type NF4 --stats "$out/tinyshakespeare.qkstats"
convert NF4_DQ --type NF4_DQ
convert NF4_DQ-stats --type NF4_DQ --stats "$out/tinyshakespeare.qkstats"
# NF4 mixes: NF4 kept or promoted to wider ggml types; the last filled to llama.cpp's IQ4_NL file size.
convert NF4-stats-mix --type NF4 --stats "$out/tinyshakespeare.qkstats" --optimize-mix --calib "$calib"
convert NF4_DQ-stats-mix --type NF4_DQ --stats "$out/tinyshakespeare.qkstats" --optimize-mix --calib "$calib"
convert NF4_DQ-stats-mix-IQ4_NL-size --type NF4_DQ --stats "$out/tinyshakespeare.qkstats" --optimize-mix --calib "$calib" \
  --target-size "$(stat -c %s "$out/IQ4_NL-llama-imatrix.gguf")"

# Weights in the model (bits per weight = file bits / this), from the F16 file's shapes.
params=$(python3 -c "import sys, gguf, math; print(sum(math.prod(int(d) for d in t.shape) for t in gguf.GGUFReader(sys.argv[1]).tensors))" "$base")

judge() {  # recipe label, file, extra kld flags
  local label=$1 file=$2; shift 2
  local json="$out/${label//[^A-Za-z0-9_.=-]/_}.kld.json"
  [ -s "$json" ] || "$q" kld --base "$base" "$file" -f "$text" --chunks "$chunks" --json "$@" > "$json" 2>/dev/null
  python3 - "$label" "$file" "$json" "$params" <<'PY'
import json, os, sys
label, path, result = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
size = os.path.getsize(path) / 1e6
bpw = os.path.getsize(path) * 8 / int(sys.argv[4])
print(f"| {label:32} | {size:7.1f} | {bpw:5.2f} | {result['ppl']['value']:8.4f} ± {result['ppl']['uncertainty']:.4f} "
      f"| {result['mean_kld']['value']:.5f} ± {result['mean_kld']['uncertainty']:.5f} | {100 * result['same_top_token']['value']:6.2f} % |")
PY
}
# Most telling rows first (a partial run still answers the main questions). The F16 row is the
# base PPL every kld run reports (its KLD against itself is 0 by definition).
rows=(
  "Q4_K_M size, mix search|Q4_K_M-stats-mix.gguf|"
  "Q4_K_M size, mix search, data-free|Q4_K_M-stats-mix-data-free.gguf|"
  "IQ4_NL size, mix search|IQ4_NL-stats-mix.gguf|"
  "IQ4_NL size, NF4_DQ mix search|NF4_DQ-stats-mix-IQ4_NL-size.gguf|"
  "NF4 mix search|NF4-stats-mix.gguf|"
  "NF4_DQ mix search|NF4_DQ-stats-mix.gguf|"
  "Q4_K_M + our stats|Q4_K_M-stats.gguf|"
  "Q4_K_M + llama.cpp imatrix|Q4_K_M-llama-imatrix.gguf|"
  "Q4_K_M|Q4_K_M.gguf|"
  "W8A8|@base|--w8a8"
  "W8A8 + rotation + SmoothQuant auto + int8-grid GPTQ|rotated-sq-auto-w8a8-gptq.gguf|--w8a8"
  "W8A8 + rotation + SmoothQuant auto|rotated-sq-auto.gguf|--w8a8"
  "W8A8 + rotation + SmoothQuant auto, 20480 tokens|rotated-20k-sq-auto.gguf|--w8a8"
  "W8A8 + online Hadamard at ffn_down, rotation + SmoothQuant auto, 20480 tokens|rotated-20k-sq-auto.gguf|--w8a8 --w8a8-hadamard"
  "W8A8 + rotation + SmoothQuant auto + int8-grid GPTQ, 20480 tokens|rotated-20k-sq-auto-w8a8-gptq.gguf|--w8a8"
  "W8A8 + SmoothQuant auto, all|sq-auto.gguf|--w8a8"
  "IQ4_NL + our stats|IQ4_NL-stats.gguf|"
  "IQ4_NL + llama.cpp imatrix|IQ4_NL-llama-imatrix.gguf|"
  "IQ4_NL|IQ4_NL.gguf|"
  "NF4 + our stats (calibrated)|NF4-stats.gguf|"
  "NF4_DQ + our stats (calibrated)|NF4_DQ-stats.gguf|"
  "NF4 (bitsandbytes)|NF4.gguf|"
  "NF4_DQ (bitsandbytes)|NF4_DQ.gguf|"
  "W8A8 + SmoothQuant auto, norms|sq-auto-norms.gguf|--w8a8"
  "W8A8 + SmoothQuant α=0.5, all|sq-0.5.gguf|--w8a8"
  "W8A8 + SmoothQuant auto + int8-grid GPTQ|sq-auto-w8a8-gptq.gguf|--w8a8"
  "W8A8 + SmoothQuant tuned, all|sq-tuned.gguf|--w8a8"
  "W8A8 + rotation|rotated.gguf|--w8a8"
  "Q8_0|Q8_0.gguf|"
  "Q4_K_M + our data-free stats|Q4_K_M-stats-data-free.gguf|"
)
echo "| recipe | MB | bpw | PPL | mean KLD | same top |"
echo "|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r label file flags <<< "$row"
  [ "$file" = "@base" ] && file=$base || file=$out/$file
  # shellcheck disable=SC2086
  judge "$label" "$file" $flags
done
python3 - "$out" "$base" "$params" <<'PY'
import glob, json, os, sys
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.kld.json"))):
    try: base = json.load(open(path))["ppl_base"]
    except Exception: continue
    size = os.path.getsize(sys.argv[2])
    print(f"| {'F16 (base)':32} | {size / 1e6:7.1f} | {size * 8 / int(sys.argv[3]):5.2f} | {base['value']:8.4f} ± {base['uncertainty']:.4f} | 0 | 100.00 % |")
    break
PY
