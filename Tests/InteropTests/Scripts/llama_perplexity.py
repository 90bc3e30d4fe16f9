"""llama.cpp (through llama-cpp-python) as the oracle for the inference core.
Usage: llama_perplexity.py MODEL TEXT CTX CHUNKS OUT.safetensors [f32-cache]
Computes perplexity with llama-perplexity's method from llama.cpp's own logits over CHUNKS chunks
of CTX tokens, and writes: `ids` (I32, llama.cpp's tokenization of TEXT), `logits64` (F32 [64, vocab],
the logits of the first 64 tokens evaluated as one sequence), `logits64_tokenwise` (the same, one
token per forward pass), `greedy` (I32 [32], greedy
continuation of the first 16 tokens) and `ppl` (F64 [2]: PPL, uncertainty)."""
import math, sys
import numpy as np
from safetensors.numpy import save_file
import llama_cpp

model, text_path, ctx, chunks, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
# f32-cache: an F32 KV cache instead of llama.cpp's default F16, for exact-function comparisons.
cache = {"type_k": 0, "type_v": 0} if sys.argv[6:] == ["f32-cache"] else {}
llm = llama_cpp.Llama(model, n_ctx=ctx, n_batch=ctx, n_ubatch=ctx, logits_all=True, n_threads=2, verbose=False, **cache)
text = open(text_path, "rb").read()
ids = llm.tokenize(text, add_bos=True, special=False)
add_bos = llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
bos = llm.token_bos()

def log_softmax(row, tok):
    m = float(np.max(row))
    s = float(np.sum(np.exp((row - m).astype(np.float32)).astype(np.float64)))
    return float(row[tok]) - m - math.log(s)

nll = nll2 = 0.0; count = 0
first = ctx // 2
for c in range(chunks):
    toks = list(ids[c * ctx:(c + 1) * ctx])
    if add_bos: toks[0] = bos
    llm.reset()
    llm.eval(toks)
    scores = np.array(llm.scores[:ctx], dtype=np.float32)
    for j in range(first, ctx - 1):
        lp = log_softmax(scores[j], toks[j + 1]); nll -= lp; nll2 += lp * lp; count += 1
if count:
    mean = nll / count; ppl = math.exp(mean); var = nll2 / count - mean * mean
    unc = math.sqrt(var / (count - 1)) * ppl if var > 0 else 0.0
else:
    ppl = unc = float("nan")

llm.reset(); llm.eval(list(ids[:64]))
logits64 = np.array(llm.scores[:64], dtype=np.float32)
# The same 64 tokens one per forward pass: how far llama.cpp's own logits move with nothing but
# the batch size (and so the f32 summation order ahead of each activation rounding) changed.
tokenwise = llama_cpp.Llama(model, n_ctx=ctx, n_batch=1, n_ubatch=1, logits_all=True, n_threads=2, verbose=False, **cache)
tokenwise.eval(list(ids[:64]))
logits64_tokenwise = np.array(tokenwise.scores[:64], dtype=np.float32)
del tokenwise
llm.reset()
greedy = []
for tok in llm.generate(list(ids[:16]), temp=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0, reset=True):
    greedy.append(tok)
    if len(greedy) == 32: break
save_file({"ids": np.array(ids, dtype=np.int32), "logits64": np.ascontiguousarray(logits64),
           "logits64_tokenwise": np.ascontiguousarray(logits64_tokenwise),
           "greedy": np.array(greedy, dtype=np.int32), "ppl": np.array([ppl, unc], dtype=np.float64)}, out)
print(f"PPL {ppl:.4f} +/- {unc:.5f} over {count} tokens")
