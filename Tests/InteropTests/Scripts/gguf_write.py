"""Writes a GGUF with gguf-py's GGUFWriter (every value type, nested arrays, several tensor types,
real quantized bytes from gguf.quants) and prints a JSON manifest of what it wrote.
Usage: gguf_write.py OUT.gguf"""
import json, sys
import numpy as np
import gguf
from gguf import GGUFValueType as V, GGMLQuantizationType as Q

out = sys.argv[1]
w = gguf.GGUFWriter(out, arch="llama")
values = [
    ("t.u8", V.UINT8, 200), ("t.i8", V.INT8, -100), ("t.u16", V.UINT16, 60000), ("t.i16", V.INT16, -30000),
    ("t.u32", V.UINT32, 4000000000), ("t.i32", V.INT32, -2000000000), ("t.f32", V.FLOAT32, 0.25),
    ("t.bool", V.BOOL, True), ("t.string", V.STRING, "héllo\nwörld"), ("t.u64", V.UINT64, 2**64 - 1),
    ("t.i64", V.INT64, -2**63), ("t.f64", V.FLOAT64, -2.5e300),
]
for key, vtype, value in values:
    w.add_key_value(key, value, vtype)
w.add_array("t.arr.strings", ["a", "", "ü"])
w.add_array("t.arr.ints", [1, -2, 3])
w.add_array("t.arr.floats", [0.5, -1.5])
w.add_array("t.arr.nested", [[1, 2], [3], ["x", "y"]])
w.add_key_value("t.arr.u8", [1, 2, 255], V.ARRAY, sub_type=V.UINT8)

rng = np.random.default_rng(0)
tensors = {}
def add(name, array, raw_dtype=None):
    w.add_tensor(name, array, raw_dtype=raw_dtype)
    tensors[name] = array.tobytes().hex()
add("f32", rng.standard_normal((3, 8)).astype(np.float32))
add("f16", rng.standard_normal((2, 16)).astype(np.float16))
add("i32", np.arange(5, dtype=np.int32))
x = rng.standard_normal((4, 64)).astype(np.float32)
add("q8_0", gguf.quants.quantize(x, Q.Q8_0), raw_dtype=Q.Q8_0)
add("q4_0", gguf.quants.quantize(x, Q.Q4_0), raw_dtype=Q.Q4_0)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

manifest = {"kv": {k: v for k, _, v in values if not isinstance(v, float) or v == v},
            "arrays": {"t.arr.strings": ["a", "", "ü"], "t.arr.ints": [1, -2, 3], "t.arr.floats": [0.5, -1.5],
                       "t.arr.nested": [[1, 2], [3], ["x", "y"]], "t.arr.u8": [1, 2, 255]},
            "types": {k: t.name for k, t, _ in values},
            "tensors": tensors,
            "tensor_types": {"f32": "F32", "f16": "F16", "i32": "I32", "q8_0": "Q8_0", "q4_0": "Q4_0"},
            "tensor_ne": {"f32": [8, 3], "f16": [16, 2], "i32": [5], "q8_0": [64, 4], "q4_0": [64, 4]}}
print(json.dumps(manifest))
