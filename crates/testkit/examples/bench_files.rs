//! Writes the two generated files of the peer benchmark (`bench/peers.sh`), sparse (tensor data
//! all zeros, left as holes, so they cost a few MiB of disk each):
//!
//! ```sh
//! cargo run --release -p ggufscope-testkit --example bench_files -- OUTDIR
//! ```
//!
//! - `OUTDIR/gemma3-like.gguf`: `general.architecture = gemma3` with Gemma-3-1B's
//!   hyper-parameters (width 1152, 4 query heads / 1 KV head, key and value length 256, FFN 6912,
//!   sliding window 512) but 18 layers, a SentencePiece-style vocabulary of 262,144 tokens with
//!   `tokenizer.ggml.scores` (f32) and `tokenizer.ggml.token_type` (i32), and 236 tensors
//!   (`token_embd`, `output_norm` and 18 × 13 per layer; the output is tied), shapes from the
//!   `gemma3` spec (`crates/model/src/arch/gemma3.rs`).
//! - `OUTDIR/qwen2-7b-like.gguf`: Qwen2-7B-Instruct's hyper-parameters (width 3584, 28 layers,
//!   28 / 4 heads, FFN 18944), a byte-level BPE vocabulary of 152,064 tokens (151,643 learned,
//!   3 control, 418 padding) with its 151,387 merges, and 339 tensors (`token_embd`,
//!   `output_norm`, an untied `output` and 28 × 12 per layer, q/k/v biases included), typed as
//!   a Q4_K_M file is.
//!
//! The token and merge strings are generated from a seeded RNG (SplitMix64), so every run
//! writes the same bytes. Their lengths follow real vocabularies: the BPE merges are built the
//! way BPE training builds them (each merge joins two existing tokens into a new one, starting
//! from GPT-2's 256 byte symbols), and the mean lengths land near the real Qwen2 vocabulary's
//! (9.0 bytes a token, 10.0 a merge; `ggml-vocab-qwen2.gguf`).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;

use ggufscope_gguf::{GgmlType, OwnedValue, ValueType};
use ggufscope_testkit::presets::ModelFixture;
use ggufscope_testkit::rng::Rng;

/// The draws the generators need beyond the testkit's SplitMix64 (same stream everywhere).
trait Draw {
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool;
    /// An index drawn from `weights`.
    fn weighted(&mut self, weights: &[u32]) -> usize;
}

impl Draw for Rng {
    fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// English letter frequencies (per mille), `a`..=`z`.
const LETTER_WEIGHTS: [u32; 26] = [
    82, 15, 28, 43, 127, 22, 20, 61, 70, 2, 8, 40, 24, 67, 75, 19, 1, 60, 63, 91, 28, 10, 24, 2,
    20, 1,
];

fn letter(rng: &mut Rng) -> char {
    char::from(b'a' + rng.weighted(&LETTER_WEIGHTS) as u8)
}

// ---------------------------------------------------------------------------------------------
// Gemma-3-like
// ---------------------------------------------------------------------------------------------

/// Gemma 3's vocabulary size.
const GEMMA_VOCAB: usize = 262_144;

/// SentencePiece token types as llama.cpp writes them.
const TT_NORMAL: i32 = 1;
const TT_UNKNOWN: i32 = 2;
const TT_CONTROL: i32 = 3;
const TT_USER_DEFINED: i32 = 4;
const TT_BYTE: i32 = 6;

/// One SentencePiece-style piece: a Latin word or word piece (`▁` marks a word start), a run of
/// CJK characters, or a Cyrillic, Greek or Devanagari piece, as a multilingual vocabulary has.
fn sentencepiece_piece(rng: &mut Rng) -> String {
    let mut s = String::new();
    match rng.weighted(&[62, 18, 12, 5, 3]) {
        0 => {
            if rng.chance(0.55) {
                s.push('▁');
            }
            let n = 1 + rng.weighted(&[10, 18, 20, 18, 14, 10, 8, 6, 4, 3, 2, 1]);
            let capital = rng.chance(0.12);
            for i in 0..n {
                let c = letter(rng);
                s.push(if capital && i == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                });
            }
        }
        1 => {
            for _ in 0..1 + rng.weighted(&[60, 30, 10]) {
                s.push(char::from_u32(0x4E00 + rng.below(0x5000) as u32).unwrap_or('中'));
            }
        }
        2 => {
            if rng.chance(0.5) {
                s.push('▁');
            }
            let base = if rng.chance(0.7) { 0x0430 } else { 0x03B1 };
            for _ in 0..1 + rng.below(7) {
                s.push(char::from_u32(base + rng.below(24) as u32).unwrap_or('a'));
            }
        }
        3 => {
            for _ in 0..1 + rng.below(4) {
                s.push(char::from_u32(0x0915 + rng.below(36) as u32).unwrap_or('a'));
            }
        }
        _ => {
            // Code and punctuation pieces.
            const PUNCT: [&str; 16] = [
                "(", ")", "{", "}", "[", "]", "();", "=>", "::", "->", "\",", ".", ",", "://",
                "==", "__",
            ];
            if rng.chance(0.3) {
                s.push('▁');
            }
            s.push_str(PUNCT[rng.below(PUNCT.len())]);
        }
    }
    s
}

/// Gemma 3's vocabulary layout: control tokens, `<unusedN>`, the turn markers, whitespace
/// runs, the 256 byte tokens, learned pieces, the image markers and a tail of unused slots.
/// Returns (tokens, scores, token types).
fn gemma3_vocab(rng: &mut Rng) -> (Vec<String>, Vec<f32>, Vec<i32>) {
    let mut tokens: Vec<String> = Vec::with_capacity(GEMMA_VOCAB);
    let mut types: Vec<i32> = Vec::with_capacity(GEMMA_VOCAB);
    let mut push = |tokens: &mut Vec<String>, t: String, ty: i32| {
        tokens.push(t);
        types.push(ty);
    };
    for (t, ty) in [
        ("<pad>", TT_CONTROL),
        ("<eos>", TT_CONTROL),
        ("<bos>", TT_CONTROL),
        ("<unk>", TT_UNKNOWN),
        ("<mask>", TT_USER_DEFINED),
        ("[multimodal]", TT_USER_DEFINED),
    ] {
        push(&mut tokens, t.to_owned(), ty);
    }
    for i in 0..99 {
        push(&mut tokens, format!("<unused{i}>"), TT_USER_DEFINED);
    }
    push(&mut tokens, "<start_of_turn>".to_owned(), TT_USER_DEFINED);
    push(&mut tokens, "<end_of_turn>".to_owned(), TT_USER_DEFINED);
    for n in 1..=31 {
        push(&mut tokens, "\n".repeat(n), TT_USER_DEFINED);
    }
    for n in 2..=31 {
        push(&mut tokens, "▁".repeat(n), TT_USER_DEFINED);
    }
    for b in 0..=255u32 {
        push(&mut tokens, format!("<0x{b:02X}>"), TT_BYTE);
    }
    let tail_unused = 6142usize;
    let learned_end = GEMMA_VOCAB - 2 - tail_unused;
    let mut seen: HashSet<String> = tokens.iter().cloned().collect();
    while tokens.len() < learned_end {
        let piece = sentencepiece_piece(rng);
        if seen.insert(piece.clone()) {
            push(&mut tokens, piece, TT_NORMAL);
        }
    }
    push(&mut tokens, "<start_of_image>".to_owned(), TT_USER_DEFINED);
    push(&mut tokens, "<end_of_image>".to_owned(), TT_USER_DEFINED);
    for i in 99..99 + tail_unused {
        push(&mut tokens, format!("<unused{i}>"), TT_USER_DEFINED);
    }
    debug_assert_eq!(tokens.len(), GEMMA_VOCAB);
    // SentencePiece scores: 0 for the special tokens, minus the piece's rank for learned pieces.
    let scores = types
        .iter()
        .enumerate()
        .map(|(i, &ty)| if ty == TT_NORMAL { -(i as f32) } else { 0.0 })
        .collect();
    (tokens, scores, types)
}

const GEMMA3_CHAT_TEMPLATE: &str = "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if messages[0]['content'] is string -%}\n        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}\n    {%- else -%}\n        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}\n    {%- endif -%}\n    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = \"\" -%}\n    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n        {{ raise_exception(\"Conversation roles must alternate user/assistant/user/assistant/...\") }}\n    {%- endif -%}\n    {%- if (message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n    {%- else -%}\n        {%- set role = message['role'] -%}\n    {%- endif -%}\n    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}\n    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}\n    {%- elif message['content'] is iterable -%}\n        {%- for item in message['content'] -%}\n            {%- if item['type'] == 'image' -%}\n                {{ '<start_of_image>' }}\n            {%- elif item['type'] == 'text' -%}\n                {{ item['text'] | trim }}\n            {%- endif -%}\n        {%- endfor -%}\n    {%- else -%}\n        {{ raise_exception(\"Invalid content type\") }}\n    {%- endif -%}\n    {{ '<end_of_turn>\n' }}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n    {{'<start_of_turn>model\n'}}\n{%- endif -%}\n";

/// The Gemma-3-like file: Gemma-3-1B's widths with 18 layers (236 tensors), Q8_0 matrices
/// (1152 is not a multiple of the 256-wide k-quant blocks), f32 norms.
pub fn gemma3_like() -> ModelFixture {
    let (n_embd, n_ff, n_layer) = (1152u64, 6912u64, 18u32);
    let (n_head, n_head_kv, head_dim) = (4u64, 1u64, 256u64);
    let (q_width, kv_width) = (n_head * head_dim, n_head_kv * head_dim);
    let mut rng = Rng::new(0x6765_6d6d_6133);
    let (tokens, scores, types) = gemma3_vocab(&mut rng);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "gemma3")
        .set_kv("general.type", "model")
        .set_kv("general.name", "Gemma 3 1b It (bench, 18 layers)")
        .set_kv("general.finetune", "it")
        .set_kv("general.basename", "gemma-3")
        .set_kv("general.size_label", "1B")
        .set_kv("general.license", "gemma")
        .set_kv("gemma3.context_length", 32768u32)
        .set_kv("gemma3.embedding_length", n_embd as u32)
        .set_kv("gemma3.block_count", n_layer)
        .set_kv("gemma3.feed_forward_length", n_ff as u32)
        .set_kv("gemma3.attention.head_count", n_head as u32)
        .set_kv("gemma3.attention.head_count_kv", n_head_kv as u32)
        .set_kv("gemma3.rope.freq_base", 1_000_000f32)
        .set_kv("gemma3.rope.freq_base_swa", 10_000f32)
        .set_kv("gemma3.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("gemma3.attention.key_length", head_dim as u32)
        .set_kv("gemma3.attention.value_length", head_dim as u32)
        .set_kv("gemma3.attention.sliding_window", 512u32)
        .set_kv("gemma3.attention.sliding_window_pattern", 6u32)
        .set_kv("general.file_type", 7u32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv("tokenizer.ggml.pre", "default")
        .set_kv("tokenizer.ggml.tokens", OwnedValue::strings(&tokens))
        .set_kv(
            "tokenizer.ggml.scores",
            OwnedValue::array(ValueType::F32, scores.into_iter().map(OwnedValue::F32)),
        )
        .set_kv(
            "tokenizer.ggml.token_type",
            OwnedValue::array(ValueType::I32, types.into_iter().map(OwnedValue::I32)),
        )
        .set_kv("tokenizer.ggml.bos_token_id", 2u32)
        .set_kv("tokenizer.ggml.eos_token_id", 1u32)
        .set_kv("tokenizer.ggml.unknown_token_id", 3u32)
        .set_kv("tokenizer.ggml.padding_token_id", 0u32)
        .set_kv("tokenizer.ggml.add_bos_token", true)
        .set_kv("tokenizer.ggml.add_eos_token", false)
        .set_kv("tokenizer.ggml.add_space_prefix", false)
        .set_kv("tokenizer.chat_template", GEMMA3_CHAT_TEMPLATE)
        .set_kv("general.quantization_version", 2u32);
    let vocab = GEMMA_VOCAB as u64;
    let (f32_, q8) = (GgmlType::F32, GgmlType::Q8_0);
    m.push_tensor("token_embd.weight", q8, &[n_embd, vocab]);
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        m.push_tensor(&b("attn_norm.weight"), f32_, &[n_embd])
            .push_tensor(&b("attn_q.weight"), q8, &[n_embd, q_width])
            .push_tensor(&b("attn_k.weight"), q8, &[n_embd, kv_width])
            .push_tensor(&b("attn_v.weight"), q8, &[n_embd, kv_width])
            .push_tensor(&b("attn_q_norm.weight"), f32_, &[head_dim])
            .push_tensor(&b("attn_k_norm.weight"), f32_, &[head_dim])
            .push_tensor(&b("attn_output.weight"), q8, &[q_width, n_embd])
            .push_tensor(&b("post_attention_norm.weight"), f32_, &[n_embd])
            .push_tensor(&b("ffn_norm.weight"), f32_, &[n_embd])
            .push_tensor(&b("ffn_gate.weight"), q8, &[n_embd, n_ff])
            .push_tensor(&b("ffn_up.weight"), q8, &[n_embd, n_ff])
            .push_tensor(&b("ffn_down.weight"), q8, &[n_ff, n_embd])
            .push_tensor(&b("post_ffw_norm.weight"), f32_, &[n_embd]);
    }
    m.push_tensor("output_norm.weight", f32_, &[n_embd]);
    assert_eq!(m.tensors.len(), 236, "Gemma-3-like tensor count");
    m
}

// ---------------------------------------------------------------------------------------------
// Qwen2-7B-like
// ---------------------------------------------------------------------------------------------

/// Qwen2-7B's padded vocabulary size and its merge count.
const QWEN_VOCAB: usize = 152_064;
const QWEN_MERGES: usize = 151_387;

/// GPT-2's byte-to-unicode table: printable bytes stand for themselves, the others are shifted
/// to U+0100 and up (so a space is `Ġ`, a newline `Ċ`).
fn gpt2_byte_symbols() -> Vec<char> {
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || b >= 174;
    let mut shifted = 0u32;
    (0u32..256)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).unwrap_or('?')
            } else {
                shifted += 1;
                char::from_u32(255 + shifted).unwrap_or('?')
            }
        })
        .collect()
}

/// A byte-level BPE vocabulary built as BPE training builds one: start from the 256 byte
/// symbols, and let each merge join two existing tokens (`left right`) into a new token, the
/// new token's length drawn from a real vocabulary's length profile. Word-start tokens begin
/// with `Ġ`; a right-hand part never does. Returns (learned tokens, merges).
fn bpe_vocab(rng: &mut Rng, n_merges: usize) -> (Vec<String>, Vec<String>) {
    let symbols = gpt2_byte_symbols();
    let mut tokens: Vec<String> = symbols.iter().map(|c| c.to_string()).collect();
    // Tokens by length in symbols (index 0 unused), for picking the two parts of a merge.
    let mut by_len: Vec<Vec<usize>> = vec![Vec::new(); 40];
    let mut seen: HashSet<String> = HashSet::with_capacity(n_merges * 2);
    for (i, t) in tokens.iter().enumerate() {
        by_len[1].push(i);
        seen.insert(t.clone());
    }
    let space = symbols[usize::from(b' ')];
    // Length profile of the merged tokens in symbols (2..=16), shaped after the Qwen2 vocab.
    const LEN_WEIGHTS: [u32; 15] = [15, 40, 70, 90, 100, 100, 90, 78, 62, 46, 32, 22, 14, 8, 5];
    // A single symbol (a token index: symbol tokens are the first 256, in byte order): mostly
    // letters, sometimes `Ġ` (left parts only), sometimes any byte.
    let pick_one = |rng: &mut Rng, right: bool| {
        let r = rng.below(100);
        if !right && r < 45 {
            usize::from(b' ')
        } else if r < 97 {
            usize::from(letter(rng) as u8)
        } else {
            rng.below(256)
        }
    };
    let mut merges = Vec::with_capacity(n_merges);
    while merges.len() < n_merges {
        // Early merges make short tokens, as in real BPE; the full profile after ~20,000.
        let reach = (1 + merges.len() / 1400).min(LEN_WEIGHTS.len());
        let len = 2 + rng.weighted(&LEN_WEIGHTS[..reach]);
        let split = 1 + rng.below(len - 1);
        let (ll, rl) = (split, len - split);
        if by_len[ll].is_empty() || by_len[rl].is_empty() {
            continue;
        }
        let left = if ll == 1 {
            pick_one(rng, false)
        } else {
            by_len[ll][rng.below(by_len[ll].len())]
        };
        let right = if rl == 1 {
            pick_one(rng, true)
        } else {
            by_len[rl][rng.below(by_len[rl].len())]
        };
        if tokens[right].starts_with(space) {
            continue;
        }
        let joined = format!("{}{}", tokens[left], tokens[right]);
        if !seen.insert(joined.clone()) {
            continue;
        }
        merges.push(format!("{} {}", tokens[left], tokens[right]));
        by_len[len].push(tokens.len());
        tokens.push(joined);
    }
    (tokens, merges)
}

const QWEN2_CHAT_TEMPLATE: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// The Qwen2-7B-like file: 339 tensors typed as in a Q4_K_M file (Q6_K for `output` and for
/// `attn_v`/`ffn_down` in the layers llama.cpp gives more bits), f32 norms and biases.
pub fn qwen2_7b_like() -> ModelFixture {
    let (n_embd, n_ff, n_layer) = (3584u64, 18944u64, 28u32);
    let (n_head, n_head_kv) = (28u64, 4u64);
    let kv_width = n_embd / n_head * n_head_kv;
    let mut rng = Rng::new(0x7177_656e_3237);
    let (mut tokens, merges) = bpe_vocab(&mut rng, QWEN_MERGES);
    let learned = tokens.len();
    let mut types = vec![TT_NORMAL; learned];
    for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
        tokens.push(t.to_owned());
        types.push(TT_CONTROL);
    }
    while tokens.len() < QWEN_VOCAB {
        tokens.push(format!("[PAD{}]", tokens.len()));
        types.push(TT_USER_DEFINED);
    }
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "qwen2")
        .set_kv("general.type", "model")
        .set_kv("general.name", "Qwen2 7B Instruct (bench)")
        .set_kv("general.finetune", "Instruct")
        .set_kv("general.basename", "Qwen2")
        .set_kv("general.size_label", "7B")
        .set_kv("general.license", "apache-2.0")
        .set_kv("qwen2.block_count", n_layer)
        .set_kv("qwen2.context_length", 32768u32)
        .set_kv("qwen2.embedding_length", n_embd as u32)
        .set_kv("qwen2.feed_forward_length", n_ff as u32)
        .set_kv("qwen2.attention.head_count", n_head as u32)
        .set_kv("qwen2.attention.head_count_kv", n_head_kv as u32)
        .set_kv("qwen2.rope.freq_base", 1_000_000f32)
        .set_kv("qwen2.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("general.file_type", 15u32)
        .set_kv("tokenizer.ggml.model", "gpt2")
        .set_kv("tokenizer.ggml.pre", "qwen2")
        .set_kv("tokenizer.ggml.tokens", OwnedValue::strings(&tokens))
        .set_kv(
            "tokenizer.ggml.token_type",
            OwnedValue::array(ValueType::I32, types.into_iter().map(OwnedValue::I32)),
        )
        .set_kv("tokenizer.ggml.merges", OwnedValue::strings(&merges))
        .set_kv("tokenizer.ggml.eos_token_id", 151645u32)
        .set_kv("tokenizer.ggml.padding_token_id", 151643u32)
        .set_kv("tokenizer.ggml.bos_token_id", 151643u32)
        .set_kv("tokenizer.ggml.add_bos_token", false)
        .set_kv("tokenizer.chat_template", QWEN2_CHAT_TEMPLATE)
        .set_kv("general.quantization_version", 2u32);
    let vocab = QWEN_VOCAB as u64;
    let (f32_, q4, q6) = (GgmlType::F32, GgmlType::Q4_K, GgmlType::Q6_K);
    let more_bits = |i: u32| i < n_layer / 8 || i >= 7 * n_layer / 8 || (i - n_layer / 8) % 3 == 2;
    m.push_tensor("token_embd.weight", q4, &[n_embd, vocab]);
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        let wide = if more_bits(i) { q6 } else { q4 };
        m.push_tensor(&b("attn_norm.weight"), f32_, &[n_embd])
            .push_tensor(&b("attn_q.weight"), q4, &[n_embd, n_embd])
            .push_tensor(&b("attn_q.bias"), f32_, &[n_embd])
            .push_tensor(&b("attn_k.weight"), q4, &[n_embd, kv_width])
            .push_tensor(&b("attn_k.bias"), f32_, &[kv_width])
            .push_tensor(&b("attn_v.weight"), wide, &[n_embd, kv_width])
            .push_tensor(&b("attn_v.bias"), f32_, &[kv_width])
            .push_tensor(&b("attn_output.weight"), q4, &[n_embd, n_embd])
            .push_tensor(&b("ffn_norm.weight"), f32_, &[n_embd])
            .push_tensor(&b("ffn_gate.weight"), q4, &[n_embd, n_ff])
            .push_tensor(&b("ffn_up.weight"), q4, &[n_embd, n_ff])
            .push_tensor(&b("ffn_down.weight"), wide, &[n_ff, n_embd]);
    }
    m.push_tensor("output_norm.weight", f32_, &[n_embd])
        .push_tensor("output.weight", q6, &[n_embd, vocab]);
    assert_eq!(m.tensors.len(), 339, "Qwen2-7B-like tensor count");
    m
}

// ---------------------------------------------------------------------------------------------

/// Writes `fixture` to `out`, sparse, as `bench/peers.sh` times it (also used by the divan
/// bench `crates/gguf/benches/parse.rs`, which includes this file).
pub fn write(mut fixture: ModelFixture, out: &Path) -> Result<u64, String> {
    let name = out
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    fixture.set_kv(
        "general.description",
        format!(
            "benchmark file, layout only, tensor data all zeros; written as {name} by `cargo run --release -p ggufscope-testkit --example bench_files -- OUTDIR`"
        ),
    );
    let file = File::create(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut w = BufWriter::new(file);
    let len = fixture
        .writer()
        .write_sparse(&mut w)
        .map_err(|e| format!("writing {}: {e}", out.display()))?;
    w.into_inner()
        .map_err(|e| format!("writing {}: {}", out.display(), e.error()))?;
    Ok(len)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!("usage: bench_files OUTDIR  (writes gemma3-like.gguf and qwen2-7b-like.gguf)");
        return ExitCode::from(2);
    };
    let dir = Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("bench_files: creating {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    type Build = fn() -> ModelFixture;
    let files: [(&str, Build); 2] = [
        ("gemma3-like.gguf", gemma3_like),
        ("qwen2-7b-like.gguf", qwen2_7b_like),
    ];
    for (name, build) in files {
        let out = dir.join(name);
        match write(build(), &out) {
            Ok(len) => println!("wrote {} ({len} bytes, sparse)", out.display()),
            Err(e) => {
                eprintln!("bench_files: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
