"""Loads each GGUF in llama.cpp (llama-cpp-python), evaluates a few tokens and reports whether
every logit is finite. Usage: llama_load_check.py MODEL... -> JSON {path: {finite, n_vocab, argmax}}"""
import json, math, os, sys
devnull = os.open(os.devnull, os.O_WRONLY); saved = os.dup(2); os.dup2(devnull, 2)
import llama_cpp

result = {}
for path in sys.argv[1:]:
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_threads=2, logits_all=True, verbose=False)
    tokens = llm.tokenize(b"The quick brown fox jumps over the lazy dog", add_bos=False)
    llm.eval(tokens)
    logits = [float(x) for row in llm.scores[: len(tokens)] for x in row]
    last = llm.scores[len(tokens) - 1]
    result[path] = {"finite": all(math.isfinite(x) for x in logits), "n_vocab": llm.n_vocab(),
                    "argmax": int(max(range(len(last)), key=lambda i: last[i]))}
    del llm
os.dup2(saved, 2)
print(json.dumps(result))
