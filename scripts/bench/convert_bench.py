"""Conversion benchmark, QuantKit next to llama.cpp's quantizer on the same input in one run.

For each preset: wall time and peak RSS of `quantkit convert` and of llama_model_quantize
(llama-cpp-python, the code behind llama-quantize, run in its own process), the output size and
bits per weight, whether both chose the same type for every tensor, and perplexity of the output
on TEXT with llama-perplexity's method: QuantKit's core (`quantkit perplexity`) next to llama.cpp.

Usage: convert_bench.py QUANTKIT INPUT.gguf TEXT [--types Q8_0,Q4_K_M,...] [--chunks N] [--threads T] [--json]
Peak RSS comes from wait4() of each child; the llama.cpp number includes the Python interpreter
that hosts it (about 40 MB of its total)."""
import argparse, json, os, subprocess, sys, tempfile, time, math

FTYPES = {"F16": 1, "BF16": 32, "Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11,
          "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18,
          "IQ4_NL": 25, "IQ4_XS": 30}

LLAMA_QUANTIZE = """
import ctypes, os, sys, llama_cpp
p = llama_cpp.llama_model_quantize_default_params(); p.ftype = int(sys.argv[3]); p.nthread = int(sys.argv[4])
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
"""

LLAMA_PPL = """
import math, os, sys, json, numpy as np
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
import llama_cpp
model, text, chunks, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]); ctx = 512
llm = llama_cpp.Llama(model, n_ctx=ctx, n_batch=ctx, n_ubatch=ctx, logits_all=True, n_threads=threads, verbose=False)
ids = llm.tokenize(open(text, "rb").read(), add_bos=True, special=False)
add_bos = llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
nll = 0.0; n = 0
for c in range(chunks):
    toks = list(ids[c * ctx:(c + 1) * ctx])
    if add_bos: toks[0] = llm.token_bos()
    llm.reset(); llm.eval(toks); s = np.array(llm.scores[:ctx], dtype=np.float32)
    for j in range(ctx // 2, ctx - 1):
        row = s[j]; m = float(row.max()); nll -= float(row[toks[j + 1]]) - m - math.log(float(np.exp(row - m).astype(np.float64).sum())); n += 1
print(json.dumps({"ppl": math.exp(nll / n)}))
"""


def run(argv):
    """Runs a child; returns (seconds, peak RSS MB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(argv[:3])}… exited with {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, out.decode()


def tensor_types(path):
    # In a child: a child's ru_maxrss starts from its parent's size at fork, so this process must
    # stay small (no numpy maps of model files here).
    code = "import gguf, json, sys; print(json.dumps({t.name: t.tensor_type.name for t in gguf.GGUFReader(sys.argv[1]).tensors}))"
    return json.loads(subprocess.check_output([sys.executable, "-c", code, path]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("quantkit"); ap.add_argument("input"); ap.add_argument("text")
    ap.add_argument("--types", default="Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,IQ4_NL,Q3_K_M,Q2_K")
    ap.add_argument("--chunks", type=int, default=8); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="quantkit-convert-bench-")
    rows = []
    for name in a.types.split(","):
        ours, theirs = f"{work}/ours-{name}.gguf", f"{work}/llama-{name}.gguf"
        t_ours, rss_ours, _ = run([a.quantkit, "convert", a.input, "-o", ours, "--type", name, "--quiet", "--threads", str(a.threads)])
        t_llama, rss_llama, _ = run([sys.executable, "-c", LLAMA_QUANTIZE, a.input, theirs, str(FTYPES[name]), str(a.threads)])
        info = json.loads(subprocess.check_output([a.quantkit, "inspect", ours, "--json"]))
        same_types = tensor_types(ours) == tensor_types(theirs)
        row = {"type": name, "mb": info["file_size"] / 1e6, "bpw": info["bits_per_weight"],
               "seconds": t_ours, "rss_mb": rss_ours, "llama_seconds": t_llama, "llama_rss_mb": rss_llama,
               "same_types": same_types}
        if a.chunks > 0:
            _, _, out = run([a.quantkit, "perplexity", ours, "-f", a.text, "--chunks", str(a.chunks), "--json", "--threads", str(a.threads)])
            row["ppl"] = json.loads(out)["ppl"]
            _, _, out = run([sys.executable, "-c", LLAMA_PPL, theirs, a.text, str(a.chunks), str(a.threads)])
            row["llama_ppl"] = json.loads(out)["ppl"]
        rows.append(row)
        for f in (ours, theirs): os.remove(f)
        if not a.json:
            print(f"{name:7s} {row['mb']:7.1f} MB {row['bpw']:5.2f} bpw | ours {t_ours:5.2f} s {rss_ours:6.0f} MB | "
                  f"llama {t_llama:5.2f} s {rss_llama:6.0f} MB | time x{t_ours / t_llama:4.2f} rss x{rss_ours / rss_llama:4.2f} | "
                  f"types {'same' if same_types else 'DIFFER'}"
                  + (f" | PPL ours {row['ppl']:.4f} llama {row['llama_ppl']:.4f}" if a.chunks > 0 else ""), flush=True)
    os.rmdir(work)
    if a.json: print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
