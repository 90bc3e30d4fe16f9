"""Runs gguf-py's reference quantizers on tensors written by QuantKit.
Usage: gguf_quants.py IN.safetensors OUT.safetensors
IN holds `input` (F32 [rows, cols]) and, per type T, `T.ours` (QuantKit's bytes, U8 [rows, bytes]).
OUT gets `T.gguf` (gguf.quants.quantize(input, T), for the types gguf-py can quantize) and
`T.dequant` (gguf.quants.dequantize(T.ours, T), F32)."""
import sys
import numpy as np
from safetensors.numpy import load_file, save_file
from gguf import quants
from gguf.constants import GGMLQuantizationType as Q

data = load_file(sys.argv[1])
x = data["input"]
out = {}
for key, ours in data.items():
    if not key.endswith(".ours"):
        continue
    name = key[: -len(".ours")]
    qtype = Q[name]
    out[f"{name}.dequant"] = np.ascontiguousarray(quants.dequantize(ours, qtype).astype(np.float32))
    try:
        out[f"{name}.gguf"] = np.ascontiguousarray(quants.quantize(x, qtype))
    except NotImplementedError:
        pass
save_file(out, sys.argv[2])
