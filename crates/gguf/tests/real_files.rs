//! Exact facts of the real fixtures in `tests/fixtures/real/` (vocab-only files written by
//! llama.cpp's converter).

use ggufscope_gguf::{open, Endian, Gguf, Value, ValueType};
use ggufscope_testkit::{read_real, real_fixture, REAL_FIXTURES};

#[test]
fn phi3_vocab_header_and_hyperparameters() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.version(), 3);
    assert_eq!(g.endian(), Endian::Little);
    assert_eq!(g.metadata().len(), 26);
    assert_eq!(g.tensors().len(), 0);
    assert_eq!(g.alignment(), 32);
    // A vocab-only file ends exactly after its last KV: no padding, no data.
    assert_eq!(g.metadata_end(), bytes.len() as u64);
    assert_eq!(g.data_offset(), bytes.len() as u64);
    let md = g.metadata();
    assert_eq!(md.get_str("general.architecture").unwrap(), Some("phi3"));
    assert_eq!(md.get_u32("phi3.embedding_length").unwrap(), Some(3072));
    assert_eq!(md.get_u32("phi3.block_count").unwrap(), Some(32));
    assert_eq!(md.get_u32("phi3.attention.head_count").unwrap(), Some(32));
    assert_eq!(
        md.get_u32("phi3.attention.head_count_kv").unwrap(),
        Some(32)
    );
    assert_eq!(md.get_u32("phi3.rope.dimension_count").unwrap(), Some(96));
    assert_eq!(md.get_u32("phi3.feed_forward_length").unwrap(), Some(8192));
    assert_eq!(
        md.get_u64("phi3.context_length").unwrap(),
        Some(4096),
        "u32 widens to u64"
    );
    assert_eq!(md.get_f64("phi3.rope.freq_base").unwrap(), Some(10000.0));
    assert_eq!(
        md.get_bool("tokenizer.ggml.add_bos_token").unwrap(),
        Some(true)
    );
    assert!(g.check_layout().is_empty());
}

#[test]
fn phi3_vocab_tokens_are_random_access() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let md = g.metadata();
    let tokens = md
        .get_array("tokenizer.ggml.tokens", Some(ValueType::String))
        .unwrap()
        .unwrap();
    assert_eq!(tokens.len(), 32064);
    let tok = |i| {
        tokens
            .get(i)
            .and_then(|v| v.as_gguf_str())
            .unwrap()
            .to_str()
            .unwrap()
    };
    assert_eq!(tok(1), "<s>");
    assert_eq!(tok(32000), "<|endoftext|>");
    assert_eq!(tok(32007), "<|end|>");
    assert_eq!(tokens.strings().unwrap().count(), 32064);
    let scores = md
        .get_array("tokenizer.ggml.scores", Some(ValueType::F32))
        .unwrap()
        .unwrap();
    assert_eq!(scores.len(), 32064);
    assert_eq!(scores.byte_len(), 32064 * 4);
    // Fixed-size elements are O(1) by index; the last one exists, one past it does not.
    assert!(matches!(scores.get(32063), Some(Value::F32(_))));
    assert_eq!(scores.get(32064), None);
    let types = md
        .get_array("tokenizer.ggml.token_type", Some(ValueType::I32))
        .unwrap()
        .unwrap();
    assert_eq!(
        types.get(32000),
        Some(Value::I32(3)),
        "<|endoftext|> is CONTROL"
    );
}

#[test]
fn qwen2_vocab_has_all_tokens_and_merges() {
    let bytes = read_real("ggml-vocab-qwen2.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(
        (g.version(), g.metadata().len(), g.tensors().len()),
        (3, 20, 0)
    );
    let md = g.metadata();
    assert_eq!(md.get_str("general.architecture").unwrap(), Some("qwen2"));
    assert_eq!(md.get_u32("qwen2.embedding_length").unwrap(), Some(4096));
    assert_eq!(md.get_u32("qwen2.context_length").unwrap(), Some(32768));
    assert_eq!(
        md.get_f64("qwen2.rope.freq_base").unwrap(),
        Some(1_000_000.0)
    );
    assert_eq!(md.get_str("tokenizer.ggml.model").unwrap(), Some("gpt2"));
    let tokens = md
        .get_array("tokenizer.ggml.tokens", Some(ValueType::String))
        .unwrap()
        .unwrap();
    let merges = md
        .get_array("tokenizer.ggml.merges", Some(ValueType::String))
        .unwrap()
        .unwrap();
    assert_eq!(tokens.len(), 151936);
    assert_eq!(merges.len(), 151387);
    assert_eq!(merges.strings().unwrap().count(), 151387);
    assert_eq!(
        md.get_u32("tokenizer.ggml.eos_token_id").unwrap(),
        Some(151643)
    );
    assert_eq!(g.metadata_end(), 5_928_681);
}

#[test]
fn llama_spm_and_bert_parse_with_their_own_keys() {
    let llama = read_real("ggml-vocab-llama-spm.gguf");
    let g = Gguf::parse(&llama).unwrap();
    assert_eq!(g.metadata().len(), 22);
    assert_eq!(
        g.metadata().get_u32("llama.vocab_size").unwrap(),
        Some(32000)
    );
    assert_eq!(
        g.metadata().get_u32("llama.rope.dimension_count").unwrap(),
        Some(128)
    );

    let bert = read_real("ggml-vocab-bert-bge.gguf");
    let g = Gguf::parse(&bert).unwrap();
    assert_eq!(g.metadata().len(), 20);
    assert_eq!(
        g.metadata().get_str("general.architecture").unwrap(),
        Some("bert")
    );
    assert_eq!(
        g.metadata().get_bool("bert.attention.causal").unwrap(),
        Some(false)
    );
    let tokens = g
        .metadata()
        .get_array("tokenizer.ggml.tokens", None)
        .unwrap()
        .unwrap();
    assert_eq!(tokens.len(), 30522);
}

#[test]
fn metadata_keeps_file_order() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let keys: Vec<String> = g
        .metadata()
        .iter()
        .take(4)
        .map(|kv| kv.key().to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "general.architecture",
            "general.name",
            "phi3.context_length",
            "phi3.rope.scaling.original_context_length"
        ]
    );
    let offsets: Vec<u64> = g.metadata().iter().map(|kv| kv.offset()).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(offsets[0], 24);
}

#[test]
fn typed_getters_name_the_key_and_types() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let err = g.metadata().get_u32("general.architecture").unwrap_err();
    assert!(matches!(
        err.kind(),
        ggufscope_gguf::ErrorKind::TypeMismatch {
            expected: "u32",
            found: ValueType::String
        }
    ));
    assert_eq!(
        err.location(),
        Some(&ggufscope_gguf::Location::Key(
            "general.architecture".into()
        ))
    );
    assert_eq!(err.offset(), 24);
    assert_eq!(g.metadata().get_u32("no.such.key").unwrap(), None);
}

#[test]
fn mmap_open_matches_read() {
    for name in REAL_FIXTURES {
        let map = open(real_fixture(name)).unwrap();
        let bytes = read_real(name);
        assert_eq!(&*map, &bytes[..]);
        let a = Gguf::parse(&map).unwrap();
        let b = Gguf::parse(&bytes).unwrap();
        assert_eq!(a.metadata().entries(), b.metadata().entries(), "{name}");
    }
}
