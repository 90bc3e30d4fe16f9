"""Writes a safetensors file with the safetensors package (numpy API), every numpy-expressible
dtype, plus metadata; prints a JSON manifest. Usage: safetensors_write.py OUT"""
import json, sys
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(1)
arrays = {
    "f64": rng.standard_normal((2, 3)), "f32": rng.standard_normal((4,)).astype(np.float32),
    "f16": rng.standard_normal((3, 2)).astype(np.float16), "i64": np.array([-1, 2**40], dtype=np.int64),
    "i32": np.arange(6, dtype=np.int32).reshape(2, 3), "i16": np.array([-7], dtype=np.int16),
    "i8": np.array([-128, 127], dtype=np.int8), "u8": np.arange(5, dtype=np.uint8),
    "bool": np.array([True, False, True]), "empty": np.zeros((0, 3), dtype=np.float32),
}
save_file(arrays, sys.argv[1], metadata={"format": "np", "note": "ü"})
names = {np.float64: "F64", np.float32: "F32", np.float16: "F16", np.int64: "I64", np.int32: "I32",
         np.int16: "I16", np.int8: "I8", np.uint8: "U8", np.bool_: "BOOL"}
print(json.dumps({"metadata": {"format": "np", "note": "ü"},
                  "tensors": {k: {"dtype": names[a.dtype.type], "shape": list(a.shape), "data": a.tobytes().hex()}
                              for k, a in arrays.items()}}))
