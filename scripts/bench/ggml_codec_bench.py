"""Times llama.cpp's own codecs (libggml-base from the llama-cpp-python package) on the same data
QuantKit's benchmark uses. Prints JSON {type: {"quantize": {threads: MB/s}, "dequantize": {threads: MB/s}}}.
MB/s counts F32 bytes (4 per weight), like quantkit-bench. Threads split rows; ctypes releases the
GIL during the C call, so threads really run in parallel.
Usage: ggml_codec_bench.py INPUT.f32 ROWS COLS TYPE[,TYPE...] THREADS[,THREADS...] REPEATS"""
import ctypes, glob, json, os, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import llama_cpp

lib_dir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
ggml = ctypes.CDLL(glob.glob(os.path.join(lib_dir, "libggml-base.so*"))[0])

class TypeTraits(ctypes.Structure):
    _fields_ = [("type_name", ctypes.c_char_p), ("blck_size", ctypes.c_int64), ("blck_size_interleave", ctypes.c_int64),
                ("type_size", ctypes.c_size_t), ("is_quantized", ctypes.c_bool),
                ("to_float", ctypes.c_void_p), ("from_float_ref", ctypes.c_void_p)]

ggml.ggml_get_type_traits.restype = ctypes.POINTER(TypeTraits)
ggml.ggml_get_type_traits.argtypes = [ctypes.c_int]
ggml.ggml_quantize_chunk.restype = ctypes.c_size_t
ggml.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
ggml.ggml_row_size.restype = ctypes.c_size_t
ggml.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
ggml.ggml_quantize_init.argtypes = [ctypes.c_int]
to_float_t = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
IDS = {"F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q2_K": 10, "Q3_K": 11, "Q4_K": 12, "Q5_K": 13,
       "Q6_K": 14, "IQ4_NL": 20, "IQ4_XS": 23, "BF16": 30}

path, rows, cols, types, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(","), \
    [int(t) for t in sys.argv[5].split(",")], int(sys.argv[6])
x = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
mb = x.nbytes / 1e6
result = {}

def best(fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return min(times)

def chunks(n):
    return [(rows * i // n, rows * (i + 1) // n) for i in range(n)]

for name in types:
    t = IDS[name]
    ggml.ggml_quantize_init(t)
    row_size = ggml.ggml_row_size(t, cols)
    out = np.zeros(rows * row_size, dtype=np.uint8)
    back = np.zeros_like(x)
    to_float = to_float_t(ggml.ggml_get_type_traits(t).contents.to_float)
    entry = {"quantize": {}, "dequantize": {}}
    for n in threads:
        pool = ThreadPoolExecutor(n)
        def quantize():
            list(pool.map(lambda c: ggml.ggml_quantize_chunk(t, x.ctypes.data, out.ctypes.data, c[0] * cols, c[1] - c[0], cols, None), chunks(n)))
        def dequantize():
            list(pool.map(lambda c: to_float(out.ctypes.data + c[0] * row_size, back.ctypes.data + c[0] * cols * 4, (c[1] - c[0]) * cols), chunks(n)))
        entry["quantize"][n] = mb / best(quantize)
        dequantize_time = best(dequantize)
        entry["dequantize"][n] = mb / dequantize_time
        pool.shutdown()
    result[name] = entry
print(json.dumps(result))
