"""Prints gguf-py's GGML_QUANT_SIZES as JSON: {type name: [id, block size, bytes per block]}."""
import json
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

print(json.dumps({t.name: [t.value, *GGML_QUANT_SIZES[t]] for t in GGMLQuantizationType if t in GGML_QUANT_SIZES}))
