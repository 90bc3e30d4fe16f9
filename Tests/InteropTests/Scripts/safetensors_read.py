"""Loads a safetensors file with the safetensors package (numpy API) and prints JSON: metadata and
every tensor's dtype, shape and bytes. Usage: safetensors_read.py IN"""
import json, sys
from safetensors import safe_open

names = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32",
         "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
with safe_open(sys.argv[1], framework="numpy") as f:
    out = {"metadata": f.metadata(), "tensors": {}}
    for k in f.keys():
        a = f.get_tensor(k)
        out["tensors"][k] = {"dtype": names[str(a.dtype)], "shape": list(a.shape), "data": a.tobytes().hex()}
print(json.dumps(out))
