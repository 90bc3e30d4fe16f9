"""Quantizes a GGUF with llama.cpp's own llama_model_quantize (llama-cpp-python), with
llama-quantize's default rules, or every 2-D tensor to the type with --pure.
Usage: llama_quantize.py SRC DST FTYPE [--pure]"""
import ctypes, os, sys
import llama_cpp

params = llama_cpp.llama_model_quantize_default_params()
params.ftype = int(sys.argv[3]); params.nthread = 2; params.pure = "--pure" in sys.argv[4:]
# llama.cpp logs every tensor to stderr; keep the test output readable.
devnull = os.open(os.devnull, os.O_WRONLY); os.dup2(devnull, 2)
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(params)))
