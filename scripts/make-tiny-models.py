"""Tiny random Hugging Face checkpoints of the architectures QuantKit converts, for tests: no
checkpoint of these families can be downloaded here, so each is made from its definition —
config.json as transformers writes it, model.safetensors (float32, random weights scaled so
attention and the MLP do real work), and a byte-level BPE tokenizer.json trained with the
`tokenizers` package on TEXT, using the family's real pre-tokenizer.

Usage: make-tiny-models.py OUT_FOLDER TEXT [ARCH ...]   (ARCH: llama3, qwen2, qwen3; default all)
Writes OUT_FOLDER/<arch>/. Needs numpy, safetensors, tokenizers."""
import json, os, sys
import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers, Regex

LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

# name: (transformers class, model_type, split pattern, special tokens, bos, eos, extra config)
FAMILIES = {
    "llama3": ("LlamaForCausalLM", "llama", LLAMA3_SPLIT, ["<|begin_of_text|>", "<|end_of_text|>"], "<|begin_of_text|>", "<|end_of_text|>",
               {"head_dim": 16, "rope_theta": 500000.0, "tie_word_embeddings": True, "attention_bias": False}),
    "qwen2": ("Qwen2ForCausalLM", "qwen2", QWEN2_SPLIT, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], None, "<|endoftext|>",
              {"rope_theta": 1000000.0, "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 4096}),
    "qwen3": ("Qwen3ForCausalLM", "qwen3", QWEN2_SPLIT, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], None, "<|endoftext|>",
              {"head_dim": 32, "rope_theta": 1000000.0, "tie_word_embeddings": False, "attention_bias": False,
               "use_sliding_window": False, "sliding_window": None}),
}
HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB, CONTEXT = 64, 2, 4, 2, 160, 640, 512


def tokenizer(split, specials, text):
    tok = Tokenizer(models.BPE(byte_fallback=False, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB - len(specials), initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([text], trainer)
    tok.add_special_tokens(specials)
    return tok


def weights(name, family, vocab, rng):
    cls, _, _, _, _, _, extra = family
    hd = extra.get("head_dim", HIDDEN // HEADS)
    q, kv = HEADS * hd, KV_HEADS * hd
    def mat(rows, cols, scale=1.0):
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)
    def norm(n):
        return (1 + 0.2 * rng.standard_normal(n)).astype(np.float32)
    # Embeddings of std 0.3: as a tied output head they give logits of a few units, a peaked but
    # not degenerate next-token distribution (perplexity in the hundreds, not 1e16).
    t = {"model.embed_tokens.weight": (0.3 * rng.standard_normal((vocab, HIDDEN))).astype(np.float32),
         "model.norm.weight": norm(HIDDEN)}
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = norm(HIDDEN)
        t[p + "post_attention_layernorm.weight"] = norm(HIDDEN)
        t[p + "self_attn.q_proj.weight"] = mat(q, HIDDEN, 2.0)
        t[p + "self_attn.k_proj.weight"] = mat(kv, HIDDEN, 2.0)
        t[p + "self_attn.v_proj.weight"] = mat(kv, HIDDEN)
        t[p + "self_attn.o_proj.weight"] = mat(HIDDEN, q)
        t[p + "mlp.gate_proj.weight"] = mat(FFN, HIDDEN)
        t[p + "mlp.up_proj.weight"] = mat(FFN, HIDDEN)
        t[p + "mlp.down_proj.weight"] = mat(HIDDEN, FFN)
        if cls == "Qwen2ForCausalLM":
            for proj, n in (("q", q), ("k", kv), ("v", kv)):
                t[p + f"self_attn.{proj}_proj.bias"] = (0.3 * rng.standard_normal(n)).astype(np.float32)
        if cls == "Qwen3ForCausalLM":
            t[p + "self_attn.q_norm.weight"] = norm(hd)
            t[p + "self_attn.k_norm.weight"] = norm(hd)
    if not extra.get("tie_word_embeddings", False):
        t["lm_head.weight"] = mat(vocab, HIDDEN, 1.5)
    return t


def main():
    out, text_path = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(FAMILIES)
    text = open(text_path, encoding="utf-8").read()[:400_000]
    for name in names:
        family = FAMILIES[name]
        cls, model_type, split, specials, bos, eos, extra = family
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        tok = tokenizer(split, specials, text)
        tok.save(os.path.join(folder, "tokenizer.json"))
        vocab = tok.get_vocab_size()
        rng = np.random.default_rng(sum(map(ord, name)))  # fixed per family: the same files every run
        save_file(weights(name, family, vocab, rng), os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        config = {"architectures": [cls], "model_type": model_type, "hidden_size": HIDDEN, "intermediate_size": FFN,
                  "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
                  "max_position_embeddings": CONTEXT, "rms_norm_eps": 1e-6, "vocab_size": vocab, "hidden_act": "silu",
                  "torch_dtype": "float32", "bos_token_id": tok.token_to_id(bos) if bos else None,
                  "eos_token_id": tok.token_to_id(eos)}
        config.update(extra)
        json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
        json.dump({"add_bos_token": bos is not None, "add_eos_token": False, "bos_token": bos, "eos_token": eos,
                   "model_max_length": CONTEXT, "tokenizer_class": "PreTrainedTokenizerFast",
                   "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"},
                  open(os.path.join(folder, "tokenizer_config.json"), "w"), indent=2)
        print(f"{folder}: {cls}, vocab {vocab}")


main()
