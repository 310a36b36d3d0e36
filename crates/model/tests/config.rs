//! Configuration extraction on the real fixtures and on written files.

use ggufscope_gguf::Gguf;
use ggufscope_model::story::{Phi3Config, QwenConfig};
use ggufscope_model::{
    expected_layout, ArchError, AttentionKind, Inconsistency, ModelConfig, RopeType,
};
use ggufscope_testkit::{presets, read_real};

use crate::Written;

fn config_of(name: &str) -> ModelConfig {
    let bytes = read_real(name);
    let g = Gguf::parse(&bytes).unwrap();
    ModelConfig::from_gguf(&g).unwrap()
}

/// Ground truth: `shared/docs/ground-truth.md` §2.2-2.3 (converter `conversion/phi.py:148-173`
/// and the official q4 file's loader dump). Rope NEOX: llama.cpp `src/llama-model.cpp:3127`.
#[test]
fn phi3_vocab_fixture_config() {
    let c = config_of("ggml-vocab-phi-3.gguf");
    assert_eq!(c.architecture, "phi3");
    assert_eq!(c.context_length, 4096);
    assert_eq!(c.embedding_length, 3072);
    assert_eq!(c.block_count, 32);
    assert_eq!(
        (c.attention_head_count, c.attention_head_count_kv),
        (32, 32)
    );
    assert_eq!(c.head_dim, 96);
    assert!(!c.head_dim_explicit, "no key_length: 3072 / 32");
    assert_eq!(c.attention_kind, AttentionKind::Mha);
    assert_eq!(c.gqa_group_size, 1);
    assert_eq!(c.feed_forward_length, 8192, "8192, not 4 x 3072");
    assert_eq!(c.rope_dimension_count, 96);
    assert_eq!(c.rope_freq_base, 10000.0);
    assert_eq!(c.rope_type, RopeType::Neox);
    assert_eq!(c.rms_norm_eps, 1e-5);
    assert_eq!(c.vocab_size, Some(32064), "32064, not ~32000");
    assert_eq!(c.rope_scaling.original_context_length, 4096);
    assert_eq!(c.tokenizer.model.as_deref(), Some("llama"));
    assert_eq!(
        (c.tokenizer.bos_token_id, c.tokenizer.eos_token_id),
        (Some(1), Some(32000))
    );
    assert!(c.tokenizer.has_chat_template);
    assert_eq!(
        (c.tied_embeddings, c.parameter_count),
        (None, None),
        "vocab-only"
    );
}

#[test]
fn phi3_expected_layout_has_the_fused_tensors() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    let layout = expected_layout(c.spec().unwrap(), &c, None);
    assert_eq!(layout.len(), 195, "3 globals + 32 x 6");
    let dims = |n: &str| {
        layout
            .iter()
            .find(|t| t.name == n)
            .unwrap()
            .dims
            .clone()
            .unwrap()
    };
    assert_eq!(dims("blk.0.attn_qkv.weight"), [3072, 9216]);
    assert_eq!(dims("blk.31.ffn_up.weight"), [3072, 16384]);
    assert_eq!(dims("blk.7.ffn_down.weight"), [8192, 3072]);
    assert_eq!(dims("token_embd.weight"), [3072, 32064]);
    assert_eq!(dims("output.weight"), [3072, 32064]);
    assert!(layout
        .iter()
        .all(|t| !t.name.contains("ffn_gate") && !t.name.contains("attn_q.")));
    let params: u64 = layout.iter().map(|t| t.elements().unwrap()).sum();
    assert_eq!(params, 3_821_079_552, "ground-truth §2.5.1");
}

#[test]
fn seed_views_refuse_the_wrong_architecture() {
    let phi = config_of("ggml-vocab-phi-3.gguf");
    let view = Phi3Config::try_from(&phi).unwrap();
    assert_eq!(view.architecture, "phi3", "the seed assumed `llama`");
    assert_eq!(
        (view.head_dim, view.is_mha, view.vocab_size, view.ffn_length),
        (96, true, 32064, 8192)
    );
    assert!(matches!(
        QwenConfig::try_from(&phi),
        Err(ArchError::WrongArchitecture {
            view: "QwenConfig",
            expected: "qwen2",
            ..
        })
    ));
    let qwen = config_of("ggml-vocab-qwen2.gguf");
    assert!(QwenConfig::try_from(&qwen).is_ok());
    assert!(
        matches!(Phi3Config::try_from(&qwen), Err(ArchError::WrongArchitecture { found, .. }) if found == "qwen2")
    );
}

/// The qwen2 vocab fixture carries Qwen2-7B-like hyper-parameters: the values are what the
/// file says.
#[test]
fn qwen2_vocab_fixture_config() {
    let c = config_of("ggml-vocab-qwen2.gguf");
    assert_eq!(c.architecture, "qwen2");
    assert_eq!(
        (c.embedding_length, c.block_count, c.context_length),
        (4096, 32, 32768)
    );
    assert_eq!(
        (
            c.attention_head_count,
            c.attention_head_count_kv,
            c.head_dim
        ),
        (32, 32, 128)
    );
    assert_eq!(c.feed_forward_length, 11008);
    assert_eq!(c.rope_freq_base, 1_000_000.0);
    assert!(!c.rope_freq_base_defaulted);
    assert_eq!(c.rms_norm_eps, 1e-6);
    assert_eq!(c.rope_type, RopeType::Neox);
    assert_eq!(c.vocab_size, Some(151_936));
    assert_eq!(c.tokenizer.merge_count, Some(151_387));
    assert_eq!(c.tokenizer.model.as_deref(), Some("gpt2"));
}

/// llama: NORM rope (`src/llama-model.cpp:3052, 3095`).
#[test]
fn llama_vocab_fixture_config() {
    let c = config_of("ggml-vocab-llama-spm.gguf");
    assert_eq!(
        (c.architecture.as_str(), c.rope_type),
        ("llama", RopeType::Norm)
    );
    assert_eq!(
        (c.head_dim, c.rope_dimension_count, c.vocab_size),
        (128, 128, Some(32000))
    );
    assert!(
        c.rope_freq_base_defaulted,
        "no llama.rope.freq_base: default 10000"
    );
}

#[test]
fn bert_is_unsupported_and_the_error_lists_the_supported() {
    let bytes = read_real("ggml-vocab-bert-bge.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    match ModelConfig::from_gguf(&g) {
        Err(ArchError::Unsupported {
            architecture,
            supported,
        }) => {
            assert_eq!(architecture, "bert");
            assert_eq!(supported, ["llama", "qwen2", "qwen3", "phi3", "gemma3"]);
        }
        other => panic!("{other:?}"),
    }
    let msg = ModelConfig::from_gguf(&g).unwrap_err().to_string();
    assert!(msg.contains("bert") && msg.contains("phi3"), "{msg}");
}

#[test]
fn qwen2_5_written_file_config() {
    let w = Written::new(&presets::qwen2_5_0_5b());
    let c = ModelConfig::from_gguf(&w.gguf()).unwrap();
    assert_eq!(c.attention_kind, AttentionKind::Gqa { group: 7 });
    assert_eq!((c.gqa_group_size, c.head_dim, c.k_width), (7, 64, 128));
    assert_eq!(c.tied_embeddings, Some(true));
    assert_eq!(c.parameter_count, Some(494_032_768));
    let phi = Written::new(&presets::phi3_mini_4k());
    let c = ModelConfig::from_gguf(&phi.gguf()).unwrap();
    assert_eq!(
        (c.tied_embeddings, c.parameter_count),
        (Some(false), Some(3_821_079_552))
    );
}

fn tiny_with(
    edit: impl FnOnce(&mut ggufscope_testkit::presets::ModelFixture),
) -> Result<ModelConfig, ArchError> {
    let mut f = presets::tiny_llama();
    edit(&mut f);
    let bytes = f.to_bytes();
    let g = Gguf::parse(&bytes).unwrap();
    ModelConfig::from_gguf(&g)
}

#[test]
fn attention_kinds() {
    assert_eq!(AttentionKind::classify(32, 32), Ok(AttentionKind::Mha));
    assert_eq!(
        AttentionKind::classify(14, 2),
        Ok(AttentionKind::Gqa { group: 7 })
    );
    assert_eq!(
        AttentionKind::classify(9, 3),
        Ok(AttentionKind::Gqa { group: 3 })
    );
    assert_eq!(AttentionKind::classify(8, 1), Ok(AttentionKind::Mqa));
    assert_eq!(AttentionKind::classify(1, 1), Ok(AttentionKind::Mha));
    assert!(matches!(
        AttentionKind::classify(14, 3),
        Err(Inconsistency::HeadsDoNotDivide {
            heads: 14,
            kv_heads: 3,
            ..
        })
    ));
    assert!(matches!(
        AttentionKind::classify(0, 0),
        Err(Inconsistency::Zero { .. })
    ));
    assert!(matches!(
        AttentionKind::classify(8, 0),
        Err(Inconsistency::Zero { .. })
    ));
    let c = tiny_with(|f| {
        f.set_kv("llama.attention.head_count_kv", 1u32);
    })
    .unwrap();
    assert_eq!(
        (c.attention_kind, c.gqa_group_size, c.k_width),
        (AttentionKind::Mqa, 4, 16)
    );
}

#[test]
fn head_count_kv_defaults_to_head_count() {
    let c = tiny_with(|f| {
        f.remove_kv("llama.attention.head_count_kv");
    })
    .unwrap();
    assert_eq!(
        (c.attention_head_count_kv, c.attention_kind),
        (4, AttentionKind::Mha)
    );
}

#[test]
fn inconsistent_configs_name_the_numbers() {
    let e = tiny_with(|f| {
        f.set_kv("llama.attention.head_count_kv", 3u32);
    })
    .unwrap_err();
    assert_eq!(
        e,
        ArchError::Inconsistent(Inconsistency::HeadsDoNotDivide {
            heads: 4,
            kv_heads: 3,
            layer: 0
        })
    );
    let e = tiny_with(|f| {
        f.set_kv("llama.attention.head_count", 0u32);
    })
    .unwrap_err();
    assert!(matches!(
        e,
        ArchError::Inconsistent(Inconsistency::Zero { .. })
    ));
    let e = tiny_with(|f| {
        f.set_kv("llama.attention.head_count", 5u32)
            .set_kv("llama.attention.head_count_kv", 5u32);
    })
    .unwrap_err();
    assert_eq!(
        e,
        ArchError::Inconsistent(Inconsistency::WidthNotDivisible {
            width: 64,
            heads: 5
        })
    );
    // llama refuses rope.dimension_count != head_dim (`invalid n_rot`, llama-model.cpp:1450).
    let e = tiny_with(|f| {
        f.set_kv("llama.rope.dimension_count", 8u32);
    })
    .unwrap_err();
    assert_eq!(
        e,
        ArchError::Inconsistent(Inconsistency::RotNotHeadDim {
            n_rot: 8,
            head_dim: 16
        })
    );
    let e = tiny_with(|f| {
        f.set_kv("llama.block_count", 100_000u32);
    })
    .unwrap_err();
    assert!(matches!(
        e,
        ArchError::Inconsistent(Inconsistency::TooManyLayers { .. })
    ));
}

#[test]
fn missing_and_mistyped_keys_are_named() {
    let e = tiny_with(|f| {
        f.remove_kv("llama.attention.layer_norm_rms_epsilon");
    })
    .unwrap_err();
    assert_eq!(
        e,
        ArchError::MissingKey {
            key: "llama.attention.layer_norm_rms_epsilon".into()
        }
    );
    let e = tiny_with(|f| {
        f.set_kv("llama.context_length", "4096");
    })
    .unwrap_err();
    assert!(
        matches!(e, ArchError::KeyType { ref key, found: ggufscope_gguf::ValueType::String, .. } if key == "llama.context_length")
    );
    let e = tiny_with(|f| {
        f.set_kv("llama.context_length", -1i32);
    })
    .unwrap_err();
    assert!(matches!(e, ArchError::KeyValue { ref key, .. } if key == "llama.context_length"));
    // Counts stored as u64 or u8 widen.
    let c = tiny_with(|f| {
        f.set_kv("llama.context_length", 4096u64)
            .set_kv("llama.block_count", 2u8);
    })
    .unwrap();
    assert_eq!((c.context_length, c.block_count), (4096, 2));
}

#[test]
fn per_layer_head_counts_are_read() {
    use ggufscope_gguf::{OwnedValue, ValueType};
    let c = tiny_with(|f| {
        f.set_kv(
            "llama.attention.head_count_kv",
            OwnedValue::array(ValueType::U32, [OwnedValue::U32(2), OwnedValue::U32(1)]),
        );
    })
    .unwrap();
    let layers = c.per_layer.as_ref().unwrap();
    assert_eq!((layers[0].head_count_kv, layers[1].head_count_kv), (2, 1));
    assert_eq!(c.layer(1).head_count_kv, 1);
    let e = tiny_with(|f| {
        f.set_kv(
            "llama.attention.head_count_kv",
            OwnedValue::array(ValueType::U32, [OwnedValue::U32(2)]),
        );
    })
    .unwrap_err();
    assert!(matches!(
        e,
        ArchError::Inconsistent(Inconsistency::PerLayerLength {
            len: 1,
            block_count: 2,
            ..
        })
    ));
}

#[test]
fn analysis_is_logged_through_tracing() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let sink = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    // A global subscriber: a thread-scoped one races with the interest cache of call sites
    // that parallel tests hit first. This is the only test that installs one.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    tracing::callsite::rebuild_interest_cache();
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    ggufscope_model::validate(&g, &c);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("configuration extracted"), "{text}");
    assert!(
        text.contains("architecture=phi3") && text.contains("attention=MHA"),
        "{text}"
    );
    assert!(text.contains("vocab_only"), "{text}");
}
