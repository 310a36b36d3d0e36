#!/usr/bin/env python3
"""Writes the planted vocabulary files of tests/fixtures/vocab/ (vocab-only GGUFs, a few dozen
tokens each), each with one defect or one of llama-vocab.cpp's special rules, with llama.cpp's own
gguf-py writer:

    PYTHONPATH=LLAMA_CPP_DIR/gguf-py python3 tools/vocab-ref/make_vocab_fixtures.py tests/fixtures/vocab

llama.cpp's answers for them (tools/vocab-ref/llama_vocab_ref) are in
tests/fixtures/vocab/llama-vocab.jsonl.
"""
import os
import sys

import numpy as np
import gguf

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
BASE = ["a", "b", "ab", "Ċ", "Ġ", "hello", "Ġworld", "!"]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def write(path, model, tokens, types=None, pre=None, merges=True, extra=None, arrays=None):
    w = gguf.GGUFWriter(path, "llama")
    w.add_string("general.name", os.path.basename(path)[: -len(".gguf")])
    # A small llama's hyper-parameters, so that only the vocabulary differs from a loadable file.
    for key, value in [("block_count", 2), ("context_length", 512), ("embedding_length", 64),
                       ("feed_forward_length", 128), ("attention.head_count", 4),
                       ("attention.head_count_kv", 4), ("rope.dimension_count", 16)]:
        w.add_uint32("llama." + key, value)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_string("tokenizer.ggml.model", model)
    if pre is not None:
        w.add_string("tokenizer.ggml.pre", pre)
    w.add_array("tokenizer.ggml.tokens", tokens)
    if types is None:
        types = [CONTROL if t.startswith(("<", "[")) and len(t) > 2 else NORMAL for t in tokens]
    w.add_array("tokenizer.ggml.token_type", types)
    if merges:
        w.add_array("tokenizer.ggml.merges", ["a b", "Ġ w"])
    for key, (kind, value) in (extra or {}).items():
        if kind == "u32":
            w.add_uint32(key, value)
        elif kind == "i32":
            w.add_int32(key, value)
        elif kind == "bool":
            w.add_bool(key, value)
        elif kind == "str":
            w.add_string(key, value)
    for key, value in (arrays or {}).items():
        w.add_array(key, value)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name + ".gguf")
    # A BPE pre-tokenizer llama.cpp 0c1e570 does not know: it refuses the model.
    write(p("unknown-pre"), "gpt2", BASE + ["<|endoftext|>"], pre="future-bpe",
          extra={"tokenizer.ggml.eos_token_id": ("u32", 8)})
    # A BPE vocabulary without a pre-tokenizer: the default, with a warning.
    write(p("missing-pre"), "gpt2", BASE + ["<|endoftext|>"],
          extra={"tokenizer.ggml.eos_token_id": ("u32", 8)})
    # A tokenizer model llama.cpp does not know.
    write(p("unknown-model"), "sentencepiece2", BASE)
    # gpt-oss (o200k_harmony): <|end|> leaves the EOG set beside <|return|> and <|call|>, even as
    # the file's EOT.
    write(p("harmony-end"), "gpt2", BASE + ["<|start|>", "<|end|>", "<|return|>", "<|call|>", "<|endoftext|>",
                                            "<|channel|>", "<|message|>"], pre="gpt-4o",
          extra={"tokenizer.ggml.eos_token_id": ("u32", 11), "tokenizer.ggml.eot_token_id": ("u32", 9),
                 "tokenizer.ggml.bos_token_id": ("u32", 8)})
    # gemma4: the model forces pre "gemma4", add_bos true over the file's false, and </s> is a
    # normal token beside <|tool_response>.
    write(p("gemma4-s"), "gemma4", BASE + ["<bos>", "<eos>", "</s>", "<|tool_response>", "<turn|>"],
          extra={"tokenizer.ggml.bos_token_id": ("u32", 8), "tokenizer.ggml.eos_token_id": ("u32", 9),
                 "tokenizer.ggml.add_bos_token": ("bool", False)})
    # Special-token ids past the vocabulary: the default stays.
    write(p("bos-out-of-range"), "llama", ["<unk>", "<s>", "</s>"] + BASE,
          types=[UNKNOWN, CONTROL, CONTROL] + [NORMAL] * len(BASE), merges=False,
          extra={"tokenizer.ggml.bos_token_id": ("u32", 999), "tokenizer.ggml.eos_token_id": ("u32", 2)})
    # A special-token id stored as int32: llama.cpp's get_key refuses the type.
    write(p("eos-wrong-type"), "llama", ["<unk>", "<s>", "</s>"] + BASE,
          types=[UNKNOWN, CONTROL, CONTROL] + [NORMAL] * len(BASE), merges=False,
          extra={"tokenizer.ggml.eos_token_id": ("i32", 2)})
    # chatglm-bpe: no BOS by default; BPE's default EOS 11.
    write(p("chatglm-nobos"), "gpt2", BASE + ["<|endoftext|>", "[gMASK]", "<sop>", "<|user|>"],
          pre="chatglm-bpe")
    # Qwen-style FIM tokens: pad/repo/file_sep are EOG; the EOT found by text among two.
    write(p("fim-qwen"), "gpt2", BASE + ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>",
                                         "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
                                         "<|file_sep|>"], pre="qwen2",
          extra={"tokenizer.ggml.eos_token_id": ("u32", 8), "tokenizer.chat_template": ("str", CHATML)})
    # A chat template whose end-of-turn token is a control token outside the EOG set.
    write(p("turn-end-not-eog"), "gpt2", BASE + ["<|endoftext|>", "<|turn_start|>", "<|turn_end|>"],
          pre="llama-bpe",
          extra={"tokenizer.ggml.eos_token_id": ("u32", 8), "tokenizer.ggml.bos_token_id": ("u32", 8),
                 "tokenizer.chat_template": ("str", CHATML.replace("im_start", "turn_start").replace("im_end", "turn_end"))})
    # A default template and a named one (`tokenizer.chat_template.tool_use`) that takes tools.
    tools = (
        "{% if tools %}<|im_start|>system\nTools: {{ tools | tojson }}<|im_end|>\n{% endif %}"
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{% if m.tool_calls %}{% for c in m.tool_calls %}"
        "<tool_call>{{ c.function | tojson }}</tool_call>{% endfor %}{% else %}{{ m.content }}{% endif %}"
        "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    write(p("named-templates"), "gpt2", BASE + ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>",
                                                "</tool_call>"], pre="qwen2",
          extra={"tokenizer.ggml.eos_token_id": ("u32", 10), "tokenizer.chat_template": ("str", CHATML),
                 "tokenizer.chat_template.tool_use": ("str", tools)})
    # T5 (UGM): EOS 1 added, no BOS.
    write(p("t5-defaults"), "t5", ["<pad>", "</s>", "<unk>"] + BASE,
          types=[CONTROL, CONTROL, UNKNOWN] + [NORMAL] * len(BASE), merges=False)
    # Two tokens with one text: llama.cpp aborts (GGML_ASSERT).
    write(p("duplicate-token"), "gpt2", BASE + ["hello", "<|endoftext|>"], pre="gpt-2")
    # Fewer token types than tokens.
    write(p("short-token-types"), "gpt2", BASE + ["<|endoftext|>"], types=[NORMAL] * 4, pre="gpt-2")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/vocab")
