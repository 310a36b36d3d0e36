//! Companion files built with the project's own writer, following llama.cpp 0c1e570's key and
//! tensor names, checked alone and against real corpus heads (`tests/fixtures/llama-archs`,
//! n_embd 256, 2 layers, 128 tokens) — one pair llama.cpp accepts and one it refuses per rule.

use ggufscope_gguf::{
    GgmlType, Gguf, GgufWriter, OwnedArray, OwnedValue, ParseOptions, TensorData, ValueType,
};
use ggufscope_model::companion::{self, CompanionFacts, Level, PairCheck};
use ggufscope_model::FileKind;

fn bytes(w: GgufWriter<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    w.write(&mut v).unwrap();
    v
}

fn parse(b: &[u8]) -> Gguf<'_> {
    Gguf::parse_with(b, ParseOptions::lenient()).unwrap()
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(ggufscope_testkit::llama_archs_dir().join(name)).unwrap()
}

fn pair(model: &[u8], companion: &[u8]) -> PairCheck {
    companion::pair(&parse(model), &parse(companion))
}

fn codes(c: &PairCheck, level: Level) -> Vec<&'static str> {
    c.findings
        .iter()
        .filter(|f| f.severity == level)
        .map(|f| f.code)
        .collect()
}

fn errors(c: &PairCheck) -> Vec<&'static str> {
    codes(c, Level::Error)
}

fn strs(items: &[&str]) -> OwnedValue {
    OwnedValue::Array(OwnedArray {
        element_type: ValueType::String,
        items: items.iter().map(|s| OwnedValue::from(*s)).collect(),
    })
}

fn u32s(items: &[u32]) -> OwnedValue {
    OwnedValue::Array(OwnedArray {
        element_type: ValueType::U32,
        items: items.iter().map(|v| OwnedValue::U32(*v)).collect(),
    })
}

fn f32_data(v: &[f32]) -> TensorData<'static> {
    TensorData::Bytes(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

// ---------------------------------------------------------------------------------------------
// Projectors. Keys: tools/mtmd/clip-impl.h:32-60 (KEY_PROJ_TYPE "clip.projector_type",
// KEY_HAS_VISION_ENC, KEY_N_EMBD "clip.%s.embedding_length", …); the keys load_hparams requires:
// tools/mtmd/clip.cpp:1302-1320.

fn projector(ptype: &str, tensors: &[(&str, Vec<u64>)]) -> Vec<u8> {
    let audio = tensors
        .iter()
        .any(|(n, _)| n.starts_with("mm.a.") || n.starts_with("a."));
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "clip");
    w.add_kv("clip.projector_type", ptype);
    let m = if audio { "audio" } else { "vision" };
    w.add_kv(format!("clip.has_{m}_encoder"), true);
    for (k, v) in [
        ("embedding_length", 64u32),
        ("attention.head_count", 2),
        ("feed_forward_length", 128),
        ("block_count", 2),
        ("projection_dim", 256),
    ] {
        w.add_kv(format!("clip.{m}.{k}"), v);
    }
    w.add_kv(format!("clip.{m}.attention.layer_norm_epsilon"), 1e-6f32);
    if audio {
        w.add_kv("clip.audio.num_mel_bins", 128u32);
    } else {
        w.add_kv("clip.vision.image_size", 224u32);
        w.add_kv("clip.vision.patch_size", 14u32);
    }
    for (name, dims) in tensors {
        w.add_tensor(*name, GgmlType::F32, dims, TensorData::Zeros);
    }
    bytes(w)
}

/// Where `clip_n_mmproj_embd` (tools/mtmd/clip.cpp:5966-6065) reads each projector type's
/// width, read again from the switch and from load_tensors' bindings (clip.cpp:2367-3590):
/// (type, tensor, dimension).
const WIDTHS: &[(&str, &str, usize)] = &[
    ("ldp", "mm.model.mb_block.1.block.2.1.bias", 0), // 5969, 2406
    ("ldpv2", "mm.model.peg.0.bias", 0),              // 5971, 2426
    ("phi4", "mm.2.weight", 1),                       // 5979, 3261
    ("pixtral", "mm.2.weight", 1),                    // 5979, 2802
    ("lightonocr", "mm.2.weight", 1),                 // 5979, 2814
    ("dots_ocr", "mm.2.weight", 1),                   // 5979, 2824
    ("dots3note_v", "mm.2.weight", 1),                // 5979, 2824
    ("dots3note_a", "mm.a.mlp.3.weight", 1),          // 5979, 2845
    ("resampler", "resampler.proj.weight", 0),        // 5983, 2433
    ("minicpmv4_6", "mm.down.weight", 1),             // 5985, 2480
    ("adapter", "adapter.linear.dense_4h_to_h.weight", 1), // 5987, 2492
    ("minimax_m3", "mm.merger.fc2.bias", 0),          // 5989, 2539
    ("muse-glimmer", "mm.2.weight", 1),               // 5991, 2546
    ("qwen2vl_merger", "mm.2.bias", 0),               // 5997, 2503
    ("qwen2.5vl_merger", "mm.2.bias", 0),             // 5997, 2503
    ("exaone4_5", "mm.2.bias", 0),                    // 5997, 2503
    ("janus_pro", "mm.1.bias", 0),                    // 5997, 3255
    ("youtuvl", "mm.2.bias", 0),                      // 5997, 2562
    ("ling3vl", "mm.2.bias", 0),                      // 6002, 2519
    ("mimovl", "mm.2.weight", 1),                     // 6004, 2525
    ("step3vl", "mm.model.fc.weight", 1),             // 6006, 2554
    ("gemma3", "mm.input_projection.weight", 0),      // 6009, 2630
    ("gemma3nv", "mm.input_projection.weight", 0),    // 6009, 2759
    ("gemma4v", "mm.input_projection.weight", 1),     // 6014, 2635
    ("gemma4uv", "mm.input_projection.weight", 1),    // 6014, 2661
    ("gemma4a", "mm.a.input_projection.weight", 1),   // 6014, 3317
    ("gemma4ua", "mm.a.input_projection.weight", 1),  // 6014, 3376
    ("idefics3", "mm.model.fc.weight", 1),            // 6016, 2764
    ("ultravox", "mm.a.mlp.2.weight", 1),             // 6020, 2855
    ("voxtral", "mm.a.mlp.2.weight", 1),              // 6020, 3174
    ("musicflamingo", "mm.a.mlp.2.weight", 1),        // 6020, 3184
    ("meralion", "mm.a.mlp.3.weight", 1),             // 6022, 2877
    ("internvl", "mm.model.mlp.3.weight", 1),         // 6025, 3193
    ("nemotron_v2_vl", "mm.model.mlp.3.weight", 1),   // 6025, 3200
    ("llama4", "mm.model.fc.weight", 1),              // 6027, 3219
    ("qwen2a", "mm.a.fc.weight", 1),                  // 6029, 2889
    ("qwen3a", "mm.a.mlp.2.weight", 1),               // 6031, 2903
    ("glma", "mm.a.mlp.2.weight", 1),                 // 6039, 3210
    ("lfm2", "mm.2.weight", 1),                       // 6039, 2772
    ("kimivl", "mm.2.weight", 1),                     // 6039, 2783
    ("paddleocr", "mm.2.weight", 1),                  // 6039, 2783
    ("kimik25", "mm.2.weight", 1),                    // 6039, 2783
    ("yasa2", "mm.2.weight", 1),                      // 6039, 2578
    ("deepseek4v", "mm.2.weight", 1),                 // 6039, 2790
    ("hunyuanvl", "mm.model.fc.weight", 1),           // 6041, 3241
    ("cogvlm", "mm.down.weight", 1),                  // 6043, 3230
    ("deepseekocr", "mm.model.fc.weight", 1),         // 6046, 3299
    ("deepseekocr2", "mm.model.fc.weight", 1),        // 6046, 3299
    ("lfm2a", "a.position_embd.weight", 0),           // 6048, 2268 (prefix "a")
    ("granite_speech", "a.proj_linear.weight", 1),    // 6050, 3527
    ("glm4v", "mm.down.weight", 1),                   // 6054, 2621
    ("glm5v", "mm.down.weight", 1),                   // 6054, 2621
    ("mimo_audio", "mm.a.mlp.2.weight", 1),           // 6056, 2952
    ("qwen3tts_spkenc", "mm.a.fc.weight", 2),         // 6058, 2992
    ("qwen3tts_gen", "a.gen.code.out_embd.weight", 0), // 6060, 3077
    ("pockettts_spkenc", "a.speaker_proj.weight", 1), // 6062, 2999
    ("pockettts_gen", "a.gen.input_linear.weight", 1), // 6064, 3044
    ("parakeet", "mm.a.mlp.2.weight", 1),             // 6066, 3441
];

fn dims_with(dim: usize, width: u64) -> Vec<u64> {
    let mut d = vec![7u64; dim + 1];
    d[dim] = width;
    if dim == 0 {
        d.push(3); // a matrix: ne[1] must not be mistaken for the width
    }
    d
}

#[test]
fn every_projector_type_width_against_the_text_model() {
    let llama = corpus("llama-dense.gguf"); // n_embd 256
    for (ptype, tensor, dim) in WIDTHS {
        let good = projector(ptype, &[(tensor, dims_with(*dim, 256))]);
        let c = pair(&llama, &good);
        assert_eq!(c.kind, FileKind::Projector, "{ptype}");
        assert!(c.ok(), "{ptype}: {:?}", c.findings);
        let bad = projector(ptype, &[(tensor, dims_with(*dim, 320))]);
        let c = pair(&llama, &bad);
        assert!(!c.ok(), "{ptype}");
        let f = c
            .findings
            .iter()
            .find(|f| f.code == "projector_width_mismatch")
            .unwrap();
        assert_eq!(f.tensor.as_deref(), Some(*tensor), "{ptype}");
        assert!(
            f.message.contains("n_embd = 256") && f.message.contains("n_embd = 320"),
            "{}",
            f.message
        );
        assert!(f.message.contains("you may be using wrong mmproj"));
        // Without the tensor clip's loader throws "unable to find tensor".
        let missing = projector(ptype, &[("v.patch_embd.weight", vec![14, 14, 3, 64])]);
        assert!(
            errors(&pair(&llama, &missing)).contains(&"projector_width_unknown"),
            "{ptype}"
        );
    }
    // Every name of PROJECTOR_TYPE_NAMES is covered: the list above, mlp, qwen3vl_merger,
    // granite4_vision, gemma3na (no case: abort) and qwen2.5o (rewritten).
    let mut covered: Vec<&str> = WIDTHS.iter().map(|w| w.0).collect();
    covered.extend([
        "mlp",
        "qwen3vl_merger",
        "granite4_vision",
        "gemma3na",
        "qwen2.5o",
    ]);
    covered.sort_unstable();
    let mut all = companion::projector_types();
    all.sort_unstable();
    assert_eq!(covered, all);
    assert_eq!(all.len(), 63);
}

#[test]
fn llava_mlp_and_its_mlp_norm_variant() {
    // clip.cpp:2367-2388: mm.3.weight present → MLP_NORM → mm.3.bias ne[0] (5975); else mm.2.weight ne[1] (5979).
    let llama = corpus("llama-dense.gguf");
    let mlp = projector(
        "mlp",
        &[
            ("mm.0.weight", vec![64, 256]),
            ("mm.2.weight", vec![256, 256]),
        ],
    );
    assert!(pair(&llama, &mlp).ok());
    let mlp_bad = projector(
        "mlp",
        &[
            ("mm.0.weight", vec![64, 4096]),
            ("mm.2.weight", vec![4096, 4096]),
        ],
    );
    assert_eq!(
        errors(&pair(&llama, &mlp_bad)),
        ["projector_width_mismatch"]
    );
    let yi = projector(
        "mlp",
        &[
            ("mm.2.weight", vec![256, 999]),
            ("mm.3.weight", vec![256, 256]),
            ("mm.3.bias", vec![256]),
        ],
    );
    assert!(pair(&llama, &yi).ok(), "{:?}", pair(&llama, &yi).findings);
    let yi_bad = projector(
        "mlp",
        &[("mm.3.weight", vec![256, 512]), ("mm.3.bias", vec![512])],
    );
    assert!(!pair(&llama, &yi_bad).ok());
}

#[test]
fn qwen3vl_deepstack_widens_the_projection() {
    // clip.cpp:6000: mm_1_b ne[0] × (1 + deepstack layers); the text model's n_embd_inp is
    // n_embd × (1 + n_deepstack_layers) (src/llama-hparams.cpp:118-130): the corpus qwen3vl head
    // has n_deepstack_layers = 0, so a projector without deepstack fits and one with fails.
    let qwen3vl = corpus("qwen3vl-dense.gguf");
    let plain = projector("qwen3vl_merger", &[("mm.2.bias", vec![256])]);
    assert!(pair(&qwen3vl, &plain).ok());
    let deep = projector(
        "qwen3vl_merger",
        &[
            ("mm.2.bias", vec![256]),
            ("v.deepstack.1.fc1.weight", vec![64, 64]),
        ],
    );
    let c = pair(&qwen3vl, &deep);
    assert!(!c.ok());
    assert!(
        c.findings[0].message.contains("(n_embd = 512)"),
        "{}",
        c.findings[0].message
    );
}

#[test]
fn granite4_vision_and_gemma3na_and_unknown_types() {
    let llama = corpus("llama-dense.gguf");
    // feature layers × projection_dim (clip.cpp:6052, the blocks from clip.cpp:3571-3573).
    let granite = |layers: &[i32]| {
        let mut w = GgufWriter::new();
        w.add_kv("general.architecture", "clip")
            .add_kv("clip.projector_type", "granite4_vision")
            .add_kv("clip.has_vision_encoder", true);
        for (k, v) in [
            ("embedding_length", 64u32),
            ("attention.head_count", 2),
            ("feed_forward_length", 128),
            ("block_count", 2),
            ("projection_dim", 128),
        ] {
            w.add_kv(format!("clip.vision.{k}"), v);
        }
        w.add_kv("clip.vision.attention.layer_norm_epsilon", 1e-6f32)
            .add_kv("clip.vision.image_size", 384u32)
            .add_kv("clip.vision.patch_size", 16u32)
            .add_kv(
                "clip.vision.feature_layer",
                OwnedValue::Array(OwnedArray {
                    element_type: ValueType::I32,
                    items: layers.iter().map(|l| OwnedValue::I32(*l)).collect(),
                }),
            );
        w.add_tensor(
            "v.patch_embd.weight",
            GgmlType::F32,
            &[16, 16, 3, 64],
            TensorData::Zeros,
        );
        bytes(w)
    };
    let two = granite(&[3, 7]);
    assert!(pair(&llama, &two).ok(), "{:?}", pair(&llama, &two).findings);
    let c = pair(&llama, &granite(&[3, 7, 11]));
    assert_eq!(errors(&c), ["projector_width_mismatch"]);
    assert!(c.findings[0].message.contains("(n_embd = 384)"));
    // gemma3na is named but clip_n_mmproj_embd has no case: GGML_ABORT.
    let na = projector(
        "gemma3na",
        &[("mm.a.input_projection.weight", vec![64, 256])],
    );
    assert_eq!(errors(&pair(&llama, &na)), ["projector_width_unknown"]);
    let unknown = projector("not-a-projector", &[("mm.2.weight", vec![64, 256])]);
    assert_eq!(errors(&pair(&llama, &unknown)), ["projector_type_unknown"]);
}

#[test]
fn projector_required_keys_and_encoders() {
    let llama = corpus("llama-dense.gguf");
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "clip")
        .add_kv("clip.projector_type", "pixtral");
    w.add_tensor("mm.2.weight", GgmlType::F32, &[64, 256], TensorData::Zeros);
    let g = bytes(w);
    let c = pair(&llama, &g);
    // No encoder declared: mtmd.cpp:586-588 "Failed to load CLIP model".
    assert_eq!(errors(&c), ["projector_no_encoder"]);
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "clip")
        .add_kv("clip.projector_type", "pixtral")
        .add_kv("clip.has_vision_encoder", true);
    w.add_tensor("mm.2.weight", GgmlType::F32, &[64, 256], TensorData::Zeros);
    let g = bytes(w);
    let c = pair(&llama, &g);
    assert_eq!(codes(&c, Level::Error).len(), 8, "{:?}", c.findings);
    assert!(c
        .findings
        .iter()
        .any(|f| f.key.as_deref() == Some("clip.vision.image_size")));
}

#[test]
fn projector_facts_and_kind() {
    let g = projector("pixtral", &[("mm.2.weight", vec![1024, 5120])]);
    let gguf = parse(&g);
    assert_eq!(companion::file_kind(&gguf), FileKind::Projector);
    let Some(CompanionFacts::Projector(p)) = companion::companion_facts(&gguf) else {
        panic!()
    };
    let e = &p.encoders[0];
    assert_eq!(
        (e.modality, e.projector_type.as_str()),
        ("vision", "pixtral")
    );
    assert_eq!(
        (
            e.image_size,
            e.patch_size,
            e.block_count,
            e.embedding_length
        ),
        (Some(224), Some(14), Some(2), Some(64))
    );
    assert_eq!(e.projection_width.n_embd, Some(5120));
}

// ---------------------------------------------------------------------------------------------
// LoRA adapters. Keys: src/llama-arch.cpp:166 (general.type), 422-426 (adapter.type,
// adapter.lora.alpha, adapter.alora.invocation_tokens); tensors NAME.lora_a / NAME.lora_b
// (src/llama-adapter.cpp:277-297). Base: the corpus llama head (attn_q [256,256], ffn_down
// [384,256], token_embd [256,128]).

fn lora(
    arch: &str,
    extra: impl FnOnce(&mut GgufWriter<'static>),
    tensors: &[(&str, Vec<u64>)],
) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", arch)
        .add_kv("general.type", "adapter")
        .add_kv("adapter.type", "lora")
        .add_kv("adapter.lora.alpha", 16.0f32);
    extra(&mut w);
    for (name, dims) in tensors {
        w.add_tensor(*name, GgmlType::F32, dims, TensorData::Zeros);
    }
    bytes(w)
}

fn good_lora_tensors() -> Vec<(&'static str, Vec<u64>)> {
    vec![
        ("blk.0.attn_q.weight.lora_a", vec![256, 8]),
        ("blk.0.attn_q.weight.lora_b", vec![8, 256]),
        ("blk.1.attn_q.weight.lora_a", vec![256, 8]),
        ("blk.1.attn_q.weight.lora_b", vec![8, 256]),
        ("blk.0.ffn_down.weight.lora_a", vec![384, 8]),
        ("blk.0.ffn_down.weight.lora_b", vec![8, 256]),
        // token_embd: A and B flipped, B not transposed (src/llama-adapter.cpp:358-363).
        ("token_embd.weight.lora_a", vec![8, 128]),
        ("token_embd.weight.lora_b", vec![8, 256]),
    ]
}

#[test]
fn lora_matching_pair_and_facts() {
    let llama = corpus("llama-dense.gguf");
    let a = lora("llama", |_| {}, &good_lora_tensors());
    let c = pair(&llama, &a);
    assert_eq!(c.kind, FileKind::LoraAdapter);
    assert!(c.ok(), "{:?}", c.findings);
    let Some(CompanionFacts::Lora(f)) = companion::companion_facts(&parse(&a)) else {
        panic!()
    };
    assert_eq!(
        (f.rank, f.alpha, f.scale, f.pairs),
        (Some(8), Some(16.0), Some(2.0), 4)
    );
    let q = f
        .targets
        .iter()
        .find(|t| t.tensor == "attn_q.weight")
        .unwrap();
    assert_eq!((q.layers, q.rank), (2, Some(8)));
}

#[test]
fn lora_architecture_must_match() {
    // src/llama-adapter.cpp:210-214: "model arch and LoRA arch mismatch".
    let a = lora("llama", |_| {}, &good_lora_tensors());
    assert!(pair(&corpus("llama-dense.gguf"), &a).ok());
    let c = pair(&corpus("qwen2-dense.gguf"), &a);
    assert!(errors(&c).contains(&"lora_arch_mismatch"));
}

#[test]
fn lora_rules_one_refusal_each() {
    let llama = corpus("llama-dense.gguf");
    let with = |extra: &[(&str, Vec<u64>)], drop: &str| {
        let mut t: Vec<(&str, Vec<u64>)> = good_lora_tensors()
            .into_iter()
            .filter(|(n, _)| *n != drop)
            .collect();
        t.extend(extra.iter().cloned());
        pair(&llama, &lora("llama", |_| {}, &t))
    };
    // 328-330: a lora_a without its lora_b.
    let c = with(&[], "blk.0.ffn_down.weight.lora_b");
    assert_eq!(errors(&c), ["lora_pair_incomplete"]);
    assert_eq!(
        c.findings[0].tensor.as_deref(),
        Some("blk.0.ffn_down.weight.lora_a")
    );
    // 332-336: the base has 2 layers.
    let c = with(
        &[
            ("blk.5.attn_q.weight.lora_a", vec![256, 8]),
            ("blk.5.attn_q.weight.lora_b", vec![8, 256]),
        ],
        "",
    );
    assert_eq!(errors(&c), ["lora_base_tensor_missing"]);
    assert_eq!(c.findings[0].tensor.as_deref(), Some("blk.5.attn_q.weight"));
    // 364-367: lora_a ne[0] must be the base's ne[0].
    let c = with(
        &[
            ("blk.1.attn_k.weight.lora_a", vec![255, 8]),
            ("blk.1.attn_k.weight.lora_b", vec![8, 256]),
        ],
        "",
    );
    assert_eq!(errors(&c), ["lora_wrong_shape"]);
    // lora_b ne[1] must be the base's ne[1].
    let c = with(
        &[
            ("blk.1.attn_k.weight.lora_a", vec![256, 8]),
            ("blk.1.attn_k.weight.lora_b", vec![8, 384]),
        ],
        "",
    );
    assert_eq!(errors(&c), ["lora_wrong_shape"]);
    // 368-370: lora_a ne[1] = lora_b ne[0].
    let c = with(
        &[
            ("blk.1.attn_k.weight.lora_a", vec![256, 8]),
            ("blk.1.attn_k.weight.lora_b", vec![16, 256]),
        ],
        "",
    );
    assert_eq!(errors(&c), ["lora_not_transposed"]);
    // 358-363: token_embd checked with A and B flipped (the non-flipped layout is refused).
    let c = with(
        &[
            ("token_embd.weight.lora_a", vec![256, 8]),
            ("token_embd.weight.lora_b", vec![8, 128]),
        ],
        "token_embd.weight.lora_a",
    );
    assert!(errors(&c).contains(&"lora_wrong_shape"), "{:?}", c.findings);
    // 293-296: a tensor that is neither lora_a, lora_b nor *_norm.weight.
    let c = with(&[("blk.0.attn_q.weight", vec![256, 256])], "");
    assert_eq!(errors(&c), ["lora_unexpected_suffix"]);
    // 290-292: *_norm.weight is skipped, not refused.
    let c = with(&[("blk.0.attn_norm.weight", vec![256])], "");
    assert!(c.ok());
    assert_eq!(codes(&c, Level::Info), ["lora_norm_skipped"]);
}

#[test]
fn lora_keys_alpha_type_and_alora_tokens() {
    let llama = corpus("llama-dense.gguf");
    // 216-219: only adapter.type = lora (an aLoRA is a lora with invocation tokens).
    let mut t = good_lora_tensors();
    t.truncate(2);
    let alora_type = lora(
        "llama",
        |w| {
            w.add_kv("adapter.type", "alora");
        },
        &t,
    );
    // The writer keeps both entries; llama.cpp's gguf reader refuses duplicate keys, so build
    // the file without the first one instead.
    let _ = alora_type;
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama")
        .add_kv("general.type", "adapter")
        .add_kv("adapter.type", "alora");
    for (n, d) in &t {
        w.add_tensor(*n, GgmlType::F32, d, TensorData::Zeros);
    }
    assert_eq!(errors(&pair(&llama, &bytes(w))), ["lora_adapter_type"]);
    // 221 + gguf_get_val_f32's type assertion: an f64 alpha aborts.
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama")
        .add_kv("general.type", "adapter")
        .add_kv("adapter.type", "lora")
        .add_kv("adapter.lora.alpha", 16.0f64);
    for (n, d) in &t {
        w.add_tensor(*n, GgmlType::F32, d, TensorData::Zeros);
    }
    assert_eq!(errors(&pair(&llama, &bytes(w))), ["lora_alpha_type"]);
    // 224-243: invocation tokens must be an array of u32.
    let ok = lora(
        "llama",
        |w| {
            w.add_kv("adapter.alora.invocation_tokens", u32s(&[5, 6, 7]));
        },
        &t,
    );
    let c = pair(&llama, &ok);
    assert!(c.ok() && c.findings.is_empty(), "{:?}", c.findings);
    let Some(CompanionFacts::Lora(f)) = companion::companion_facts(&parse(&ok)) else {
        panic!()
    };
    assert_eq!(f.alora_invocation_tokens, Some(vec![5, 6, 7]));
    let bad = lora(
        "llama",
        |w| {
            w.add_kv(
                "adapter.alora.invocation_tokens",
                OwnedValue::Array(OwnedArray {
                    element_type: ValueType::I32,
                    items: vec![OwnedValue::I32(5)],
                }),
            );
        },
        &t,
    );
    assert_eq!(errors(&pair(&llama, &bad)), ["alora_tokens_type"]);
    // A token past the base vocabulary (128 tokens) can never match: a warning.
    let far = lora(
        "llama",
        |w| {
            w.add_kv("adapter.alora.invocation_tokens", u32s(&[5, 500]));
        },
        &t,
    );
    let c = pair(&llama, &far);
    assert!(c.ok());
    assert_eq!(codes(&c, Level::Warning), ["alora_token_out_of_vocab"]);
}

// ---------------------------------------------------------------------------------------------
// Control vectors: general.architecture = controlvector, controlvector.model_hint,
// controlvector.layer_count (tools/cvector-generator/cvector-generator.cpp:360-363), tensors
// direction.N, F32, 1-D (common/common.cpp:1904-1942).

fn cvec(tensors: &[(&str, GgmlType, Vec<u64>)]) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "controlvector")
        .add_kv("controlvector.model_hint", "llama")
        .add_kv(
            "controlvector.layer_count",
            i32::try_from(tensors.len()).unwrap(),
        );
    for (n, t, d) in tensors {
        w.add_tensor(*n, *t, d, TensorData::Zeros);
    }
    bytes(w)
}

#[test]
fn control_vector_width_and_layers() {
    let llama = corpus("llama-dense.gguf"); // n_embd 256, n_layer 2
    let good = cvec(&[("direction.1", GgmlType::F32, vec![256])]);
    let c = pair(&llama, &good);
    assert_eq!(c.kind, FileKind::ControlVector);
    assert!(c.ok() && c.findings.is_empty(), "{:?}", c.findings);
    // src/llama-adapter.cpp:112-115: "control vector n_embd does not match model".
    let wide = cvec(&[("direction.1", GgmlType::F32, vec![512])]);
    assert_eq!(errors(&pair(&llama, &wide)), ["cvec_width_mismatch"]);
    // 126-133: layers ≥ n_layer are never applied.
    let far = cvec(&[
        ("direction.1", GgmlType::F32, vec![256]),
        ("direction.7", GgmlType::F32, vec![256]),
    ]);
    let c = pair(&llama, &far);
    assert!(c.ok());
    assert_eq!(codes(&c, Level::Warning), ["cvec_layers_beyond_model"]);
    let Some(CompanionFacts::ControlVector(f)) = companion::companion_facts(&parse(&far)) else {
        panic!()
    };
    assert_eq!(
        (
            f.layers.clone(),
            f.n_embd,
            f.model_hint.as_deref(),
            f.layer_count
        ),
        (vec![1, 7], Some(256), Some("llama"), Some(2))
    );
}

#[test]
fn control_vector_file_rules() {
    let llama = corpus("llama-dense.gguf");
    let one = |t: (&str, GgmlType, Vec<u64>)| errors(&pair(&llama, &cvec(&[t])));
    assert_eq!(
        one(("direction.0", GgmlType::F32, vec![256])),
        ["cvec_layer_zero"]
    );
    assert_eq!(
        one(("direction.x", GgmlType::F32, vec![256])),
        ["cvec_bad_layer"]
    );
    assert_eq!(
        one(("direction.1", GgmlType::F16, vec![256])),
        ["cvec_not_f32"]
    );
    assert_eq!(
        one(("direction.1", GgmlType::F32, vec![16, 16])),
        ["cvec_not_1d"]
    );
    // A trailing 1 does not make a second dimension (ggml_n_dims).
    assert!(one(("direction.1", GgmlType::F32, vec![256, 1])).is_empty());
    let mixed = cvec(&[
        ("direction.1", GgmlType::F32, vec![256]),
        ("direction.2", GgmlType::F32, vec![128]),
    ]);
    assert_eq!(errors(&pair(&llama, &mixed)), ["cvec_width_differs"]);
    assert_eq!(errors(&pair(&llama, &cvec(&[]))), ["cvec_no_directions"]);
}

// ---------------------------------------------------------------------------------------------
// Importance matrices (tools/imatrix/imatrix.cpp:603-628): general.type = imatrix,
// imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size; NAME.in_sum2 [n_per_row, n_mat]
// and NAME.counts [1, n_mat], both F32.

struct Entry {
    name: String,
    n_per_row: u64,
    counts: Vec<f32>,
}

fn imatrix(entries: &[Entry], metadata: bool) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.type", "imatrix");
    if metadata {
        w.add_kv("imatrix.datasets", strs(&["wiki.train.raw"]))
            .add_kv("imatrix.chunk_count", 100u32)
            .add_kv("imatrix.chunk_size", 512u32);
    }
    for e in entries {
        let n_mat = e.counts.len() as u64;
        let sums = vec![1.0f32; (e.n_per_row * n_mat) as usize];
        w.add_tensor(
            format!("{}.in_sum2", e.name),
            GgmlType::F32,
            &[e.n_per_row, n_mat],
            f32_data(&sums),
        );
        w.add_tensor(
            format!("{}.counts", e.name),
            GgmlType::F32,
            &[1, n_mat],
            f32_data(&e.counts),
        );
    }
    bytes(w)
}

/// An entry for every matrix of a model file but token_embd (the imatrix never sees it).
fn entries_for(model: &[u8]) -> Vec<Entry> {
    let g = parse(model);
    g.tensors()
        .iter()
        .filter(|t| t.dims().len() >= 2 && !t.name().starts_with("token_embd"))
        .map(|t| {
            let n_mat = t.dims().get(2).copied().unwrap_or(1);
            Entry {
                name: t.name().to_owned(),
                n_per_row: t.dims()[0],
                counts: vec![512.0; n_mat as usize],
            }
        })
        .collect()
}

#[test]
fn imatrix_matching_and_size_mismatch() {
    let llama = corpus("llama-dense.gguf");
    let mut e = entries_for(&llama);
    let good = imatrix(&e, true);
    let c = pair(&llama, &good);
    assert_eq!(c.kind, FileKind::Imatrix);
    assert!(c.ok() && c.findings.is_empty(), "{:?}", c.findings);
    let Some(CompanionFacts::Imatrix(f)) = companion::companion_facts(&parse(&good)) else {
        panic!()
    };
    assert_eq!(
        (
            f.entries,
            f.chunk_count,
            f.chunk_size,
            f.datasets.clone(),
            f.coverage
        ),
        (
            e.len() as u64,
            Some(100),
            Some(512),
            vec!["wiki.train.raw".to_owned()],
            Some(1.0)
        )
    );
    // src/llama-quant.cpp:1283-1294: entry size ≠ ne[0] × ne[2] → "imatrix size … is different".
    let down = e
        .iter_mut()
        .find(|x| x.name == "blk.0.ffn_down.weight")
        .unwrap();
    down.n_per_row = 256;
    let c = pair(&llama, &imatrix(&e, true));
    assert_eq!(errors(&c), ["imatrix_size_mismatch"]);
    assert_eq!(
        c.findings[0].tensor.as_deref(),
        Some("blk.0.ffn_down.weight")
    );
    // The same imatrix against phi3 (no ffn_gate: its up projection holds gate and up): llama's
    // ffn_gate entries name nothing there — quantize ignores them (a warning), and phi3's
    // ffn_up [256, 768] does not match llama's ffn_up entry of 256 values? It does (ne[0] = 256).
    let c = pair(&corpus("phi3-dense.gguf"), &good);
    assert!(c.ok(), "{:?}", c.findings);
    assert_eq!(codes(&c, Level::Warning), ["imatrix_entry_without_weight"]);
    assert_eq!(
        c.findings[0].tensor.as_deref(),
        Some("blk.0.ffn_gate.weight")
    );
}

#[test]
fn imatrix_missing_entries_and_partial_experts() {
    let llama = corpus("llama-dense.gguf");
    let mut e = entries_for(&llama);
    e.retain(|x| x.name != "blk.1.attn_v.weight");
    let c = pair(&llama, &imatrix(&e, true));
    assert!(c.ok());
    assert_eq!(codes(&c, Level::Warning), ["imatrix_weight_without_entry"]);
    assert_eq!(c.findings[0].tensor.as_deref(), Some("blk.1.attn_v.weight"));
    // MoE: ffn_*_exps entries hold one matrix per expert; a zero count is partial data
    // (imatrix.cpp:559-574; quantize.cpp:204-215 uses 1 for it).
    let moe = corpus("llama-moe.gguf");
    let mut e = entries_for(&moe);
    let full = pair(&moe, &imatrix(&e, true));
    assert!(full.ok() && full.findings.is_empty(), "{:?}", full.findings);
    let exps = e.iter_mut().find(|x| x.counts.len() > 1).unwrap();
    exps.counts[1] = 0.0;
    let name = format!("{}.counts", exps.name);
    let g = imatrix(&e, true);
    let c = pair(&moe, &g);
    assert!(c.ok());
    assert_eq!(codes(&c, Level::Warning), ["imatrix_partial_data"]);
    assert_eq!(c.findings[0].tensor.as_deref(), Some(name.as_str()));
    let Some(CompanionFacts::Imatrix(f)) = companion::companion_facts(&parse(&g)) else {
        panic!()
    };
    assert_eq!(f.partial_entries, Some(1));
    assert!(f.coverage.unwrap() < 1.0);
}

#[test]
fn imatrix_file_rules() {
    let llama = corpus("llama-dense.gguf");
    let e = entries_for(&llama);
    // quantize.cpp:190-193: missing metadata.
    let c = pair(&llama, &imatrix(&e, false));
    assert_eq!(errors(&c), ["imatrix_metadata_missing"; 3]);
    // imatrix-loader.cpp:140-145: sums without counts.
    let mut w = GgufWriter::new();
    w.add_kv("general.type", "imatrix")
        .add_kv("imatrix.datasets", strs(&["d"]))
        .add_kv("imatrix.chunk_count", 1u32)
        .add_kv("imatrix.chunk_size", 512u32);
    w.add_tensor(
        "blk.0.attn_q.weight.in_sum2",
        GgmlType::F32,
        &[256, 1],
        f32_data(&[1.0; 256]),
    );
    let c = pair(&llama, &bytes(w));
    assert!(errors(&c).contains(&"imatrix_unpaired"));
    // src/llama-quant.cpp:1002-1008: a non-finite value.
    let mut w = GgufWriter::new();
    w.add_kv("general.type", "imatrix")
        .add_kv("imatrix.datasets", strs(&["d"]))
        .add_kv("imatrix.chunk_count", 1u32)
        .add_kv("imatrix.chunk_size", 512u32);
    let mut sums = vec![1.0f32; 256];
    sums[3] = f32::NAN;
    w.add_tensor(
        "blk.0.attn_q.weight.in_sum2",
        GgmlType::F32,
        &[256, 1],
        f32_data(&sums),
    );
    w.add_tensor(
        "blk.0.attn_q.weight.counts",
        GgmlType::F32,
        &[1, 1],
        f32_data(&[1.0]),
    );
    assert!(errors(&pair(&llama, &bytes(w))).contains(&"imatrix_non_finite"));
}

// ---------------------------------------------------------------------------------------------
// Draft models: common/speculative.cpp:67-130.

fn vocab(model: &str, tokens: &[String], keys: &[(&str, OwnedValue)]) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama")
        .add_kv("tokenizer.ggml.model", model);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    w.add_kv("tokenizer.ggml.tokens", strs(&refs));
    for (k, v) in keys {
        w.add_kv(*k, v.clone());
    }
    bytes(w)
}

fn toks(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i}")).collect()
}

#[test]
fn draft_vocabulary_rules() {
    // The corpus heads share llama.cpp's test vocabulary: any two are compatible.
    let c = pair(&corpus("llama-dense.gguf"), &corpus("qwen2-dense.gguf"));
    assert_eq!(c.kind, FileKind::Model);
    assert!(c.ok(), "{:?}", c.findings);
    // 79-83: vocab types differ (test vs SPM).
    let phi3 = std::fs::read(ggufscope_testkit::real_fixture("ggml-vocab-phi-3.gguf")).unwrap();
    assert_eq!(
        errors(&pair(&corpus("llama-dense.gguf"), &phi3)),
        ["draft_vocab_type"]
    );
    // Real vocabularies: llama-spm (32000 tokens, EOS 2) and phi-3 (32064, EOS 32000) are
    // both SPM, add BOS 1, add no EOS (so EOS ids are not compared), are 64 apart and agree on
    // every text from id 5: compatible; qwen2 (BPE) with phi-3 is not.
    let real = |n: &str| std::fs::read(ggufscope_testkit::real_fixture(n)).unwrap();
    let c = pair(&real("ggml-vocab-llama-spm.gguf"), &phi3);
    assert!(c.ok(), "{:?}", c.findings);
    assert_eq!(codes(&c, Level::Info), ["draft_vocab_size_differs"]);
    assert_eq!(
        errors(&pair(&real("ggml-vocab-qwen2.gguf"), &phi3)),
        ["draft_vocab_type"]
    );
    // 85-91: SPM adds BOS; ids 1 vs 3.
    let t = toks(300);
    let a = vocab("llama", &t, &[]);
    let b = vocab(
        "llama",
        &t,
        &[("tokenizer.ggml.bos_token_id", OwnedValue::U32(3))],
    );
    assert!(pair(&a, &vocab("llama", &t, &[])).ok());
    assert_eq!(errors(&pair(&a, &b)), ["draft_bos"]);
    // …but when neither adds a BOS its id is not compared.
    let no_bos = |id| {
        vocab(
            "llama",
            &t,
            &[
                ("tokenizer.ggml.add_bos_token", OwnedValue::Bool(false)),
                ("tokenizer.ggml.bos_token_id", OwnedValue::U32(id)),
            ],
        )
    };
    assert!(pair(&no_bos(1), &no_bos(3)).ok());
    // 93-99: T5 (UGM) adds EOS, default id 1.
    let u = vocab("t5", &t, &[]);
    assert!(pair(&u, &vocab("t5", &t, &[])).ok());
    assert_eq!(
        errors(&pair(
            &u,
            &vocab(
                "t5",
                &t,
                &[("tokenizer.ggml.eos_token_id", OwnedValue::U32(2))]
            )
        )),
        ["draft_eos"]
    );
    // 102-113: at most 128 tokens apart.
    assert!(pair(&a, &vocab("llama", &toks(428), &[])).ok());
    assert_eq!(
        errors(&pair(&a, &vocab("llama", &toks(429), &[]))),
        ["draft_vocab_size"]
    );
    // 115-125: texts from id 5 on; ids 0-4 may differ.
    let mut low = t.clone();
    low[4] = "other".into();
    assert!(pair(&a, &vocab("llama", &low, &[])).ok());
    let mut high = t.clone();
    high[5] = "other".into();
    let c = pair(&a, &vocab("llama", &high, &[]));
    assert_eq!(errors(&c), ["draft_token_text"]);
    assert!(c.findings[0].message.contains("token 5 content differs"));
}

// ---------------------------------------------------------------------------------------------

#[test]
fn kinds_of_real_files() {
    for name in ggufscope_testkit::REAL_FIXTURES {
        let b = std::fs::read(ggufscope_testkit::real_fixture(name)).unwrap();
        assert_eq!(
            companion::file_kind(&parse(&b)),
            FileKind::VocabOnly,
            "{name}"
        );
    }
    for path in ggufscope_testkit::llama_archs_files() {
        let b = std::fs::read(&path).unwrap();
        assert_eq!(
            companion::file_kind(&parse(&b)),
            FileKind::Model,
            "{}",
            path.display()
        );
    }
    // Only direction.N tensors, no key: still a control vector (common/common.cpp:1904-1912).
    let mut w = GgufWriter::new();
    w.add_tensor("direction.1", GgmlType::F32, &[256], TensorData::Zeros);
    assert_eq!(
        companion::file_kind(&parse(&bytes(w))),
        FileKind::ControlVector
    );
}
