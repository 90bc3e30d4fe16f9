"""A straightforward llama forward pass in NumPy (float64, Hugging Face layout) that records what
QuantKit's calibration records, as the reference for the statistics test.
Usage: numpy_llama_stats.py HF_FOLDER IDS.safetensors THRESHOLD OUT.safetensors
IDS holds `ids` (I32 [sequences, length]). OUT gets, per site key (blk.<l>.attn_in,
blk.<l>.attn_out_in, blk.<l>.ffn_in, blk.<l>.ffn_down_in, output_in): `<key>.mean_sq` and
`<key>.max_abs` (F64 [columns]) over every token, and `<key>.active` for ffn_down_in (fraction of
tokens with |x| > THRESHOLD)."""
import json, sys
import numpy as np
from safetensors.numpy import load_file, save_file

folder, ids_path, threshold, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
config = json.load(open(folder + "/config.json"))
w = {k: v.astype(np.float64) for k, v in load_file(folder + "/model.safetensors").items()}
ids = load_file(ids_path)["ids"]
d, heads, kv_heads = config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]
head_dim = config.get("head_dim", d // heads)
eps, theta = config["rms_norm_eps"], config.get("rope_theta", 10000.0)

def rms_norm(x, weight):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight

def rope(x, positions):  # x [T, heads, head_dim], rotate-half layout
    inv = 1.0 / theta ** (np.arange(0, head_dim, 2) / head_dim)
    angles = np.outer(positions, inv)
    cos = np.concatenate([np.cos(angles)] * 2, axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(angles)] * 2, axis=-1)[:, None, :]
    half = head_dim // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin

sums, peaks, active = {}, {}, {}
def record(key, x):
    sums[key] = sums.get(key, 0) + np.sum(x * x, axis=0)
    peaks[key] = np.maximum(peaks.get(key, 0), np.max(np.abs(x), axis=0))
    if key.endswith("ffn_down_in"):
        active[key] = active.get(key, 0) + np.sum(np.abs(x) > threshold, axis=0)

tokens = 0
for sequence in ids:
    T = len(sequence); tokens += T
    x = w["model.embed_tokens.weight"][sequence]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(config["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"]); record(f"blk.{l}.attn_in", h)
        q = rope((h @ w[p + "self_attn.q_proj.weight"].T).reshape(T, heads, head_dim), np.arange(T))
        k = rope((h @ w[p + "self_attn.k_proj.weight"].T).reshape(T, kv_heads, head_dim), np.arange(T))
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(T, kv_heads, head_dim)
        group = heads // kv_heads
        o = np.zeros((T, heads, head_dim))
        for hd in range(heads):
            scores = q[:, hd] @ k[:, hd // group].T / np.sqrt(head_dim) + mask
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True)); scores /= scores.sum(axis=-1, keepdims=True)
            o[:, hd] = scores @ v[:, hd // group]
        o = o.reshape(T, heads * head_dim); record(f"blk.{l}.attn_out_in", o)
        x = x + o @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"]); record(f"blk.{l}.ffn_in", h)
        g = h @ w[p + "mlp.gate_proj.weight"].T
        a = g / (1 + np.exp(-g)) * (h @ w[p + "mlp.up_proj.weight"].T); record(f"blk.{l}.ffn_down_in", a)
        x = x + a @ w[p + "mlp.down_proj.weight"].T
    record("output_in", rms_norm(x, w["model.norm.weight"]))

result = {}
for key in sums:
    result[key + ".mean_sq"] = sums[key] / tokens
    result[key + ".max_abs"] = np.asarray(peaks[key], dtype=np.float64)
    if key in active: result[key + ".active"] = active[key] / tokens
save_file(result, out)
