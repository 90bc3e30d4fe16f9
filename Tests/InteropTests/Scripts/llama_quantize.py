"""Quantizes a GGUF with llama.cpp's own llama_model_quantize (llama-cpp-python), with
llama-quantize's default rules, or every 2-D tensor to the type with --pure; --imatrix FILE
passes a legacy .dat importance matrix, normalized as llama-quantize's load_imatrix does
(values / ncall). Usage: llama_quantize.py SRC DST FTYPE [--pure] [--imatrix FILE]"""
import ctypes, os, struct, sys
import llama_cpp

params = llama_cpp.llama_model_quantize_default_params()
params.ftype = int(sys.argv[3]); params.nthread = 2; params.pure = "--pure" in sys.argv[4:]
keep = []
if "--imatrix" in sys.argv:
    raw = open(sys.argv[sys.argv.index("--imatrix") + 1], "rb").read()
    (n,), pos, entries = struct.unpack_from("<i", raw), 4, []
    for _ in range(n):
        (length,) = struct.unpack_from("<i", raw, pos); pos += 4
        name = raw[pos:pos + length]; pos += length
        ncall, nval = struct.unpack_from("<ii", raw, pos); pos += 8
        values = (ctypes.c_float * nval)(*struct.unpack_from(f"<{nval}f", raw, pos)); pos += 4 * nval
        if ncall > 0:
            for i in range(nval): values[i] = ctypes.c_float(values[i] / ncall).value
        keep.append((name, values)); entries.append((name, values, nval))
    array = (llama_cpp.llama_model_imatrix_data * (len(entries) + 1))()
    for i, (name, values, nval) in enumerate(entries):
        array[i].name = name; array[i].data = ctypes.cast(values, ctypes.POINTER(ctypes.c_float)); array[i].size = nval
    keep.append(array)
    params.imatrix = ctypes.cast(array, type(params.imatrix))
# llama.cpp logs every tensor to stderr; keep the test output readable.
devnull = os.open(os.devnull, os.O_WRONLY); os.dup2(devnull, 2)
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(params)))
