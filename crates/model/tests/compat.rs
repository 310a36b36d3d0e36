//! Adapter plans on the real fixtures and built files, and byte-exact row moves on quantized
//! tensors.

use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, OwnedValue, TensorData};
use ggufscope_model::{
    llamafy, neox_to_norm_order, plan, AdapterStep, Blocker, LlamafyError, RowSlice, Verdict,
};
use ggufscope_testkit::{presets, read_real};

use crate::Written;

fn plan_of(name: &str) -> ggufscope_model::AdapterPlan {
    let bytes = read_real(name);
    let g = Gguf::parse(&bytes).unwrap();
    plan(&g)
}

fn split(p: &ggufscope_model::AdapterPlan, tensor: &str) -> Vec<RowSlice> {
    p.steps
        .iter()
        .find_map(|s| match s {
            AdapterStep::SplitRows {
                tensor: t, into, ..
            } if t == tensor => Some(into.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no split of {tensor}"))
}

#[test]
fn phi3_plan_is_computed_from_the_config() {
    let p = plan_of("ggml-vocab-phi-3.gguf");
    assert_eq!(p.verdict, Verdict::CompatibleWithAdapter);
    assert_eq!(
        p.steps[0],
        AdapterStep::SetArchitecture {
            from: "phi3".into(),
            to: "llama".into()
        }
    );
    let rows: Vec<_> = split(&p, "attn_qkv.weight")
        .into_iter()
        .map(|s| (s.into, s.rows))
        .collect();
    assert_eq!(
        rows,
        [
            ("attn_q.weight".to_string(), 0..3072),
            ("attn_k.weight".into(), 3072..6144),
            ("attn_v.weight".into(), 6144..9216)
        ]
    );
    let rows: Vec<_> = split(&p, "ffn_up.weight")
        .into_iter()
        .map(|s| (s.into, s.rows))
        .collect();
    assert_eq!(
        rows,
        [
            ("ffn_gate.weight".to_string(), 0..8192),
            ("ffn_up.weight".into(), 8192..16384)
        ]
    );
    assert!(p.steps.contains(&AdapterStep::PermuteRows {
        tensors: vec!["attn_q.weight".into()],
        layers: 32,
        heads: 32,
        head_dim: 96
    }));
    assert!(p.steps.contains(&AdapterStep::PermuteRows {
        tensors: vec!["attn_k.weight".into()],
        layers: 32,
        heads: 32,
        head_dim: 96
    }));
    assert!(p.steps.contains(&AdapterStep::Output { tied: None }));
    let renamed = p.steps.iter().find_map(|s| match s {
        AdapterStep::RenameKeys { keys, .. } => Some(keys.len()),
        _ => None,
    });
    assert_eq!(renamed, Some(10), "every phi3.* key of the fixture");
    assert!(p.blockers.is_empty());
}

#[test]
fn qwen2_plan_permutes_biases_and_keeps_the_tied_output() {
    let w = Written::new(&presets::qwen2_5_0_5b());
    let p = plan(&w.gguf());
    assert_eq!(p.verdict, Verdict::CompatibleWithAdapter);
    assert!(p.steps.contains(&AdapterStep::PermuteRows {
        tensors: vec!["attn_q.weight".into(), "attn_q.bias".into()],
        layers: 24,
        heads: 14,
        head_dim: 64
    }));
    assert!(p.steps.contains(&AdapterStep::PermuteRows {
        tensors: vec!["attn_k.weight".into(), "attn_k.bias".into()],
        layers: 24,
        heads: 2,
        head_dim: 64
    }));
    assert!(p.steps.contains(&AdapterStep::Output { tied: Some(true) }));
    assert!(p
        .steps
        .iter()
        .any(|s| matches!(s, AdapterStep::CarryTensors { tensors, .. } if tensors.len() == 3)));
    assert!(!p
        .steps
        .iter()
        .any(|s| matches!(s, AdapterStep::SplitRows { .. })));
}

#[test]
fn sliding_window_is_a_remaining_difference() {
    let mut phi = presets::phi3_mini_4k();
    phi.set_kv("phi3.attention.sliding_window", 2047u32);
    let w = Written::new(&phi);
    let p = plan(&w.gguf());
    assert!(p.steps.iter().any(|s| matches!(s, AdapterStep::DropKeys { keys, .. } if keys == &["phi3.attention.sliding_window"])));
    assert!(
        p.remaining_differences[0].contains("2047"),
        "{:?}",
        p.remaining_differences
    );
    assert!(p.steps.contains(&AdapterStep::Output { tied: Some(false) }));
}

#[test]
fn llama_is_compatible_as_is_and_bert_is_not() {
    let p = plan_of("ggml-vocab-llama-spm.gguf");
    assert_eq!((p.verdict, p.steps.len()), (Verdict::Compatible, 0));
    let p = plan_of("ggml-vocab-bert-bge.gguf");
    assert_eq!(p.verdict, Verdict::Incompatible);
    // bert is in the architecture table: the blockers say what its graph has that a Llama
    // graph has not (its own graph in src/models/bert.cpp; `causal_attn` false).
    let features: Vec<String> = p
        .blockers
        .iter()
        .map(|b| match b {
            Blocker::GraphFeature { feature } => feature.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(features.len(), 2, "{features:?}");
    assert!(features[0].contains("src/models/bert.cpp"), "{features:?}");
    assert!(features[1].contains("bidirectional"), "{features:?}");
}

#[test]
fn reasons_a_file_cannot_be_adapted() {
    // Partial rotary: the llama loader refuses rope.dimension_count != head_dim.
    let mut f = presets::phi3_mini_4k();
    f.set_kv("phi3.rope.dimension_count", 64u32);
    let w = Written::new(&f);
    let p = plan(&w.gguf());
    assert_eq!(p.verdict, Verdict::Incompatible);
    assert_eq!(
        p.blockers,
        vec![Blocker::PartialRotary {
            n_rot: 64,
            head_dim: 96
        }]
    );
    // Heads that do not divide.
    let mut f = presets::qwen2_5_0_5b();
    f.set_kv("qwen2.attention.head_count_kv", 3u32);
    let w = Written::new(&f);
    let p = plan(&w.gguf());
    assert!(
        matches!(&p.blockers[..], [Blocker::InvalidConfig { message }] if message.contains("not a multiple of 3"))
    );
    // Vocab-only files get a plan, but nothing to convert.
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(llamafy(&g, &plan(&g)).err(), Some(LlamafyError::NoTensors));
}

/// A phi3 model whose fused tensors are quantized (attn_qkv q8_0, ffn_up q4_K) with random
/// bytes: every output row must be the exact bytes of its source row.
#[test]
fn quantized_rows_move_byte_for_byte() {
    let (e, heads, ff, vocab) = (256u64, 4u64, 256u64, 32u64);
    let hd = e / heads;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut bytes = |n: u64| -> Vec<u8> {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect()
    };
    let mut w = GgufWriter::new();
    for (k, v) in [
        ("general.architecture", OwnedValue::from("phi3")),
        ("phi3.context_length", OwnedValue::U32(128)),
        ("phi3.embedding_length", OwnedValue::U32(e as u32)),
        ("phi3.block_count", OwnedValue::U32(1)),
        ("phi3.feed_forward_length", OwnedValue::U32(ff as u32)),
        ("phi3.attention.head_count", OwnedValue::U32(heads as u32)),
        (
            "phi3.attention.layer_norm_rms_epsilon",
            OwnedValue::F32(1e-5),
        ),
        (
            "tokenizer.ggml.tokens",
            OwnedValue::strings((0..vocab).map(|i| format!("t{i}"))),
        ),
    ] {
        w.add_kv(k, v);
    }
    let q8_row = e / 32 * 34;
    let q4k_row = e / 256 * 144;
    let qkv = bytes(3 * e * q8_row);
    let up = bytes(2 * ff * q4k_row);
    w.add_tensor(
        "token_embd.weight",
        GgmlType::F32,
        &[e, vocab],
        TensorData::Bytes(bytes(e * vocab * 4)),
    );
    w.add_tensor(
        "blk.0.attn_norm.weight",
        GgmlType::F32,
        &[e],
        TensorData::Bytes(bytes(e * 4)),
    );
    w.add_tensor(
        "blk.0.attn_qkv.weight",
        GgmlType::Q8_0,
        &[e, 3 * e],
        TensorData::Bytes(qkv.clone()),
    );
    w.add_tensor(
        "blk.0.attn_output.weight",
        GgmlType::Q8_0,
        &[e, e],
        TensorData::Bytes(bytes(e * q8_row)),
    );
    w.add_tensor(
        "blk.0.ffn_norm.weight",
        GgmlType::F32,
        &[e],
        TensorData::Bytes(bytes(e * 4)),
    );
    w.add_tensor(
        "blk.0.ffn_up.weight",
        GgmlType::Q4_K,
        &[e, 2 * ff],
        TensorData::Bytes(up.clone()),
    );
    w.add_tensor(
        "blk.0.ffn_down.weight",
        GgmlType::Q4_K,
        &[ff, e],
        TensorData::Bytes(bytes(e * (ff / 256 * 144))),
    );
    w.add_tensor(
        "output_norm.weight",
        GgmlType::F32,
        &[e],
        TensorData::Bytes(bytes(e * 4)),
    );
    w.add_tensor(
        "output.weight",
        GgmlType::Q8_0,
        &[e, vocab],
        TensorData::Bytes(bytes(vocab * q8_row)),
    );
    let mut src = Vec::new();
    w.write(&mut src).unwrap();

    let g = Gguf::parse(&src).unwrap();
    let mut out = Vec::new();
    llamafy(&g, &plan(&g)).unwrap().write(&mut out).unwrap();
    let a = Gguf::parse(&out).unwrap();
    let data = |n: &str| a.tensor_data(a.tensor(n).unwrap()).unwrap();
    let row =
        |buf: &[u8], r: u64, rb: u64| buf[(r * rb) as usize..((r + 1) * rb) as usize].to_vec();
    let order = neox_to_norm_order(heads, hd);
    // Q: source rows 0..e, permuted per head; K: rows e..2e permuted; V: rows 2e..3e as they are.
    for (i, &src_row) in order.iter().enumerate() {
        assert_eq!(
            row(data("blk.0.attn_q.weight"), i as u64, q8_row),
            row(&qkv, src_row, q8_row)
        );
        assert_eq!(
            row(data("blk.0.attn_k.weight"), i as u64, q8_row),
            row(&qkv, e + src_row, q8_row)
        );
    }
    assert_eq!(
        data("blk.0.attn_v.weight"),
        &qkv[(2 * e * q8_row) as usize..]
    );
    assert_eq!(
        data("blk.0.ffn_gate.weight"),
        &up[..(ff * q4k_row) as usize]
    );
    assert_eq!(data("blk.0.ffn_up.weight"), &up[(ff * q4k_row) as usize..]);
    assert_eq!(
        a.tensor("blk.0.attn_q.weight").unwrap().ggml_type(),
        GgmlType::Q8_0
    );
    assert_eq!(a.tensor("blk.0.ffn_gate.weight").unwrap().dims(), &[e, ff]);
    assert_eq!(a.tensors().len(), 12);
}

#[test]
fn the_neox_to_norm_order_interleaves_the_halves_of_each_head() {
    assert_eq!(neox_to_norm_order(2, 4), [0, 2, 1, 3, 4, 6, 5, 7]);
}

/// Blockers from the table: the tensors llama.cpp creates for the file that its `llama` loader
/// never creates, with the llama.cpp line asking for them; sliding layers from the table's run.
#[test]
fn blockers_name_the_tensors_llama_has_no_place_for() {
    let features = |file: &str| -> Vec<String> {
        let bytes = std::fs::read(
            ggufscope_testkit::fixtures_dir()
                .join("llama-archs")
                .join(file),
        )
        .unwrap();
        let p = plan(&Gguf::parse(&bytes).unwrap());
        assert_eq!(p.verdict, Verdict::Incompatible, "{file}");
        p.blockers
            .iter()
            .map(|b| match b {
                Blocker::GraphFeature { feature } => feature.clone(),
                other => panic!("{file}: {other:?}"),
            })
            .collect()
    };
    // llama.cpp's corpus file also carries the optional reranker head `cls.output`, which the
    // llama loader would refuse as one tensor too many.
    assert_eq!(
        features("qwen3-dense.gguf")
            .iter()
            .map(|f| f.split(':').next().unwrap_or(""))
            .collect::<Vec<_>>(),
        [
            "`cls.output` (llama.cpp src/models/qwen3.cpp",
            "`blk.N.attn_k_norm` (llama.cpp src/models/qwen3.cpp",
            "`blk.N.attn_q_norm` (llama.cpp src/models/qwen3.cpp"
        ]
    );
    let gemma3 = features("gemma3-dense.gguf");
    for t in [
        "attn_q_norm",
        "attn_k_norm",
        "post_attention_norm",
        "post_ffw_norm",
    ] {
        assert!(
            gemma3
                .iter()
                .any(|f| f.starts_with(&format!("`blk.N.{t}` (llama.cpp src/models/gemma3.cpp:"))),
            "{t}: {gemma3:?}"
        );
    }
    assert!(
        gemma3
            .iter()
            .any(|f| f.contains("layers use a sliding window")),
        "{gemma3:?}"
    );
    // The adapted architectures have no foreign tensor.
    for file in [
        "ggml-vocab-phi-3.gguf",
        "ggml-vocab-qwen2.gguf",
        "ggml-vocab-llama-spm.gguf",
    ] {
        assert_eq!(plan_of(file).blockers, vec![], "{file}");
    }
}
