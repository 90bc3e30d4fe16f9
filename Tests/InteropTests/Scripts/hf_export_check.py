"""Reads an exported Hugging Face folder with the Hugging Face libraries: config through
transformers' AutoConfig, every safetensors file with the safetensors package (numpy), and the
tokenizer (tokenizer.json through the tokenizers library, or tokenizer.model through
sentencepiece) on the first CHARS characters of TEXT.
Usage: hf_export_check.py FOLDER TEXT CHARS -> JSON"""
import glob, json, os, sys
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
import numpy as np
from safetensors.numpy import load_file
from transformers import AutoConfig

folder, text_path, chars = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = AutoConfig.from_pretrained(folder)
tensors = {}
for path in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
    tensors.update(load_file(path))
text = open(text_path, encoding="utf-8").read()[:chars]
if os.path.exists(os.path.join(folder, "tokenizer.json")):
    from tokenizers import Tokenizer
    ids = Tokenizer.from_file(os.path.join(folder, "tokenizer.json")).encode(text, add_special_tokens=False).ids
else:
    import sentencepiece
    ids = sentencepiece.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model")).encode(text)
probe = "model.layers.0.self_attn.q_proj.weight"
print(json.dumps({
    "model_type": config.model_type, "hidden_size": config.hidden_size, "num_hidden_layers": config.num_hidden_layers,
    "num_key_value_heads": config.num_key_value_heads, "vocab_size": config.vocab_size,
    "tie_word_embeddings": bool(config.tie_word_embeddings), "rms_norm_eps": config.rms_norm_eps,
    "tensors": len(tensors), "probe_sum": float(np.asarray(tensors[probe], dtype=np.float64).sum()),
    "probe_row0": [float(v) for v in np.asarray(tensors[probe], dtype=np.float64)[0, :8]],
    "ids": ids,
}))
