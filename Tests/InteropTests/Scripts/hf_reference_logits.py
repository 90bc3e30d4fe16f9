"""The logits a Hugging Face checkpoint defines, computed from its config.json and safetensors
with numpy in float64 — the forward pass of transformers' LlamaForCausalLM, Qwen2ForCausalLM and
Qwen3ForCausalLM written out (RMSNorm, rotate-half RoPE, q/k/v biases, per-head q/k norms,
grouped-query causal attention, SwiGLU), without torch. The oracle for conversion: our GGUF run by
llama.cpp and by QuantKit must give these logits.
Usage: hf_reference_logits.py FOLDER IDS_JSON OUT.safetensors   (IDS_JSON: a JSON list of token ids;
writes `logits`, F32 [tokens, vocab])"""
import json, os, sys
import numpy as np
from safetensors.numpy import load_file, save_file

folder, ids, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
c = json.load(open(os.path.join(folder, "config.json")))
w = {k: v.astype(np.float64) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
H, L, nh, nkv = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
hd = c.get("head_dim") or H // nh
eps, theta = c["rms_norm_eps"], c.get("rope_theta", 10000.0)
T = len(ids)

def rms(x, weight):
    return weight * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))

inv = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
angles = np.outer(np.arange(T), inv)
cos, sin = np.concatenate([np.cos(angles)] * 2, -1), np.concatenate([np.sin(angles)] * 2, -1)
def rope(x):  # x: [heads, T, hd], rotate-half
    half = np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    return x * cos + half * sin

x = w["model.embed_tokens.weight"][ids]
mask = np.triu(np.full((T, T), -np.inf), 1)
for l in range(L):
    p = f"model.layers.{l}."
    h = rms(x, w[p + "input_layernorm.weight"])
    proj = {}
    for n in "qkv":
        proj[n] = h @ w[p + f"self_attn.{n}_proj.weight"].T + w.get(p + f"self_attn.{n}_proj.bias", 0)
    q = proj["q"].reshape(T, nh, hd).transpose(1, 0, 2)
    k = proj["k"].reshape(T, nkv, hd).transpose(1, 0, 2)
    v = proj["v"].reshape(T, nkv, hd).transpose(1, 0, 2)
    if p + "self_attn.q_norm.weight" in w:
        q, k = rms(q, w[p + "self_attn.q_norm.weight"]), rms(k, w[p + "self_attn.k_norm.weight"])
    q, k = rope(q), rope(k)
    k, v = np.repeat(k, nh // nkv, 0), np.repeat(v, nh // nkv, 0)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
    s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
    a = (s @ v).transpose(1, 0, 2).reshape(T, nh * hd)
    x = x + a @ w[p + "self_attn.o_proj.weight"].T
    h = rms(x, w[p + "post_attention_layernorm.weight"])
    g = h @ w[p + "mlp.gate_proj.weight"].T
    x = x + ((g / (1 + np.exp(-g))) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
save_file({"logits": np.ascontiguousarray((rms(x, w["model.norm.weight"]) @ head.T).astype(np.float32))}, out)
