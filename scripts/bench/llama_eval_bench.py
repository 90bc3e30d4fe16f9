"""llama.cpp's evaluation speed (llama-cpp-python) on the same work as quantkit-bench perplexity:
CHUNKS chunks of 512 tokens of TEXT with all logits, then greedy generation of N_GEN tokens.
Prints JSON {"eval_tokens_per_second", "generate_tokens_per_second"}.
Usage: llama_eval_bench.py MODEL TEXT CHUNKS N_GEN THREADS"""
import json, os, sys, time
import llama_cpp

model, text, chunks, n_gen, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
devnull = os.open(os.devnull, os.O_WRONLY); os.dup2(devnull, 2)
llm = llama_cpp.Llama(model, n_ctx=512, n_batch=512, n_ubatch=512, logits_all=True, n_threads=threads,
                      n_threads_batch=threads, verbose=False)
ids = llm.tokenize(open(text, "rb").read(), add_bos=True, special=False)
start = time.perf_counter()
for c in range(chunks):
    llm.reset(); llm.eval(ids[c * 512:(c + 1) * 512])
evaluation = chunks * 512 / (time.perf_counter() - start)
llm.reset()
start = time.perf_counter(); count = 0
for tok in llm.generate(ids[:16], temp=0.0, top_k=1, reset=True):
    count += 1
    if count == n_gen: break
generation = count / (time.perf_counter() - start)
print(json.dumps({"eval_tokens_per_second": evaluation, "generate_tokens_per_second": generation}))
