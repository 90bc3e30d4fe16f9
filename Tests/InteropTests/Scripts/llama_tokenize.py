"""Token ids of a text file as llama.cpp (llama-cpp-python) tokenizes it: BOS as the vocabulary
asks, special tokens not parsed (as llama-perplexity). Usage: llama_tokenize.py MODEL TEXT -> JSON list"""
import json, os, sys
devnull = os.open(os.devnull, os.O_WRONLY); saved = os.dup(2); os.dup2(devnull, 2)
import llama_cpp

llm = llama_cpp.Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
text = open(sys.argv[2], "rb").read()
ids = llm.tokenize(text, add_bos=True, special=False)
os.dup2(saved, 2)
print(json.dumps(ids))
