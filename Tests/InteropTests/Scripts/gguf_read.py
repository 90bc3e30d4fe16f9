"""Reads a GGUF with gguf-py's GGUFReader and prints JSON: every field's key, types and value
(nested arrays as null: gguf-py's reader does not decode them) and every tensor's type, ne and bytes.
Usage: gguf_read.py IN.gguf"""
import json, sys
import gguf

r = gguf.GGUFReader(sys.argv[1])
fields = []
for name, f in r.fields.items():
    if name.startswith("GGUF."):
        continue
    types = [t.name for t in f.types]
    nested = types.count("ARRAY") > 1
    fields.append({"key": name, "types": types, "value": None if nested else f.contents()})
tensors = [{"name": t.name, "type": t.tensor_type.name, "ne": [int(n) for n in t.shape],
            "data": bytes(t.data.tobytes()).hex()} for t in r.tensors]
print(json.dumps({"fields": fields, "tensors": tensors, "alignment": int(r.alignment)}))
