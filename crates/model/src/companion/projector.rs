//! Multimodal projectors (`tools/mtmd/`): the keys `clip_model_loader` reads
//! (`tools/mtmd/clip.cpp:1219-1340`, names in `tools/mtmd/clip-impl.h:32-100`) and the width
//! of the embeddings each projector type hands the text model, computed as
//! `clip_n_mmproj_embd` does (`tools/mtmd/clip.cpp:5966-6065`) from the tensors
//! `load_tensors` binds (`tools/mtmd/clip.cpp:2367-3590`).

use ggufscope_gguf::Gguf;
use serde::Serialize;

use super::{ne, ModelSide, PairFinding};

/// How `clip_n_mmproj_embd` finds a projector type's output width.
#[derive(Debug, Clone, Copy)]
enum Width {
    /// `tensor->ne[dim]`.
    Tensor(&'static str, usize),
    /// LLaVA's MLP: `mm.3.weight` present turns it into MLP_NORM (`clip.cpp:2384-2387`):
    /// `mm.3.bias` ne[0], else `mm.2.weight` ne[1].
    Mlp,
    /// Qwen3-VL: `mm.2.bias` ne[0] × (1 + deepstack layers), a deepstack layer being a block
    /// with `v.deepstack.N.fc1.weight` (`clip.cpp:2325-2331`, `clip-model.h:354-356`).
    Qwen3Vl,
    /// Granite 4 vision: `feature_layer` count × `projection_dim` (`clip.cpp:6051-6052`).
    Granite4Vision,
    /// Not in `clip_n_mmproj_embd`'s switch: `GGML_ABORT("Unknown projector type")`.
    Abort,
}

/// Every projector type llama.cpp 0c1e570 names (`PROJECTOR_TYPE_NAMES`,
/// `tools/mtmd/clip-impl.h:500-576`), with where `clip_n_mmproj_embd` reads its width. The
/// tensor is the one `load_tensors` binds to the field the switch reads, e.g.
/// `mm_2_w = get_tensor(TN_LLAVA_PROJ 2 weight)` → `mm.2.weight` for pixtral (`clip.cpp:2802`).
const TYPES: &[(&str, Width)] = &[
    ("mlp", Width::Mlp),
    (
        "ldp",
        Width::Tensor("mm.model.mb_block.1.block.2.1.bias", 0),
    ),
    ("ldpv2", Width::Tensor("mm.model.peg.0.bias", 0)),
    ("resampler", Width::Tensor("resampler.proj.weight", 0)),
    (
        "adapter",
        Width::Tensor("adapter.linear.dense_4h_to_h.weight", 1),
    ),
    ("qwen2vl_merger", Width::Tensor("mm.2.bias", 0)),
    ("qwen2.5vl_merger", Width::Tensor("mm.2.bias", 0)),
    ("qwen3vl_merger", Width::Qwen3Vl),
    ("ling3vl", Width::Tensor("mm.2.bias", 0)),
    ("step3vl", Width::Tensor("mm.model.fc.weight", 1)),
    ("gemma3", Width::Tensor("mm.input_projection.weight", 0)),
    ("gemma3nv", Width::Tensor("mm.input_projection.weight", 0)),
    ("gemma3na", Width::Abort),
    ("gemma4v", Width::Tensor("mm.input_projection.weight", 1)),
    ("gemma4a", Width::Tensor("mm.a.input_projection.weight", 1)),
    ("gemma4uv", Width::Tensor("mm.input_projection.weight", 1)),
    ("gemma4ua", Width::Tensor("mm.a.input_projection.weight", 1)),
    ("phi4", Width::Tensor("mm.2.weight", 1)),
    ("idefics3", Width::Tensor("mm.model.fc.weight", 1)),
    ("pixtral", Width::Tensor("mm.2.weight", 1)),
    ("ultravox", Width::Tensor("mm.a.mlp.2.weight", 1)),
    ("internvl", Width::Tensor("mm.model.mlp.3.weight", 1)),
    ("llama4", Width::Tensor("mm.model.fc.weight", 1)),
    ("qwen2a", Width::Tensor("mm.a.fc.weight", 1)),
    ("qwen3a", Width::Tensor("mm.a.mlp.2.weight", 1)),
    ("glma", Width::Tensor("mm.a.mlp.2.weight", 1)),
    // qwen2.5o: QWEN25VL for vision, QWEN2A for audio (clip.cpp:1292-1296), see `resolve`.
    ("voxtral", Width::Tensor("mm.a.mlp.2.weight", 1)),
    ("meralion", Width::Tensor("mm.a.mlp.3.weight", 1)),
    ("musicflamingo", Width::Tensor("mm.a.mlp.2.weight", 1)),
    ("lfm2", Width::Tensor("mm.2.weight", 1)),
    ("kimivl", Width::Tensor("mm.2.weight", 1)),
    ("paddleocr", Width::Tensor("mm.2.weight", 1)),
    ("lightonocr", Width::Tensor("mm.2.weight", 1)),
    ("cogvlm", Width::Tensor("mm.down.weight", 1)),
    ("janus_pro", Width::Tensor("mm.1.bias", 0)),
    ("dots_ocr", Width::Tensor("mm.2.weight", 1)),
    ("dots3note_v", Width::Tensor("mm.2.weight", 1)),
    ("dots3note_a", Width::Tensor("mm.a.mlp.3.weight", 1)),
    ("deepseekocr", Width::Tensor("mm.model.fc.weight", 1)),
    ("deepseekocr2", Width::Tensor("mm.model.fc.weight", 1)),
    ("deepseek4v", Width::Tensor("mm.2.weight", 1)),
    ("lfm2a", Width::Tensor("a.position_embd.weight", 0)),
    ("glm4v", Width::Tensor("mm.down.weight", 1)),
    ("glm5v", Width::Tensor("mm.down.weight", 1)),
    ("youtuvl", Width::Tensor("mm.2.bias", 0)),
    ("yasa2", Width::Tensor("mm.2.weight", 1)),
    ("kimik25", Width::Tensor("mm.2.weight", 1)),
    ("nemotron_v2_vl", Width::Tensor("mm.model.mlp.3.weight", 1)),
    ("exaone4_5", Width::Tensor("mm.2.bias", 0)),
    ("hunyuanvl", Width::Tensor("mm.model.fc.weight", 1)),
    ("minicpmv4_6", Width::Tensor("mm.down.weight", 1)),
    ("granite_speech", Width::Tensor("a.proj_linear.weight", 1)),
    ("mimovl", Width::Tensor("mm.2.weight", 1)),
    ("minimax_m3", Width::Tensor("mm.merger.fc2.bias", 0)),
    ("granite4_vision", Width::Granite4Vision),
    ("mimo_audio", Width::Tensor("mm.a.mlp.2.weight", 1)),
    ("parakeet", Width::Tensor("mm.a.mlp.2.weight", 1)),
    ("qwen3tts_spkenc", Width::Tensor("mm.a.fc.weight", 2)),
    (
        "qwen3tts_gen",
        Width::Tensor("a.gen.code.out_embd.weight", 0),
    ),
    (
        "pockettts_spkenc",
        Width::Tensor("a.speaker_proj.weight", 1),
    ),
    (
        "pockettts_gen",
        Width::Tensor("a.gen.input_linear.weight", 1),
    ),
    ("muse-glimmer", Width::Tensor("mm.2.weight", 1)),
];

/// Every projector type name llama.cpp 0c1e570 knows (`clip-impl.h:500-576`), `qwen2.5o`
/// included.
pub fn projector_types() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TYPES.iter().map(|(n, _)| *n).collect();
    v.push("qwen2.5o");
    v
}

/// The three encoders a projector file can hold (`clip.cpp:1221-1223`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modality {
    Vision,
    Audio,
    GenAudio,
}

impl Modality {
    const ALL: [Modality; 3] = [Modality::Vision, Modality::Audio, Modality::GenAudio];

    fn name(self) -> &'static str {
        match self {
            Modality::Vision => "vision",
            Modality::Audio => "audio",
            Modality::GenAudio => "gen_audio",
        }
    }

    /// The `clip.%s.*` prefix (`clip.cpp:1301`).
    fn prefix(self) -> &'static str {
        match self {
            Modality::Vision => "vision",
            Modality::Audio => "audio",
            Modality::GenAudio => "gen.audio",
        }
    }

    fn has_key(self) -> &'static str {
        match self {
            Modality::Vision => "clip.has_vision_encoder",
            Modality::Audio => "clip.has_audio_encoder",
            Modality::GenAudio => "clip.has_gen_audio_encoder",
        }
    }

    fn type_key(self) -> &'static str {
        match self {
            Modality::Vision => "clip.vision.projector_type",
            Modality::Audio => "clip.audio.projector_type",
            Modality::GenAudio => "clip.gen.audio.projector_type",
        }
    }
}

/// The width one encoder's projector gives the text model, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectorWidth {
    /// `clip_n_mmproj_embd`, when it can be computed.
    pub n_embd: Option<u64>,
    /// Where it comes from (the tensor and dimension, or the formula).
    pub from: String,
}

/// One encoder of a projector file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EncoderFacts {
    /// `vision`, `audio` or `gen_audio`.
    pub modality: &'static str,
    /// The projector type (after llama.cpp's `qwen2.5o` rewrite).
    pub projector_type: String,
    /// `clip.vision.image_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<i64>,
    /// `clip.vision.patch_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_size: Option<i64>,
    /// `clip.audio.num_mel_bins`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_mel_bins: Option<i64>,
    /// `clip.%s.embedding_length`: the encoder's width.
    pub embedding_length: Option<i64>,
    /// `clip.%s.block_count`: the encoder's depth.
    pub block_count: Option<i64>,
    /// `clip.%s.feed_forward_length`.
    pub feed_forward_length: Option<i64>,
    /// `clip.%s.attention.head_count`.
    pub head_count: Option<i64>,
    /// `clip.%s.projection_dim`.
    pub projection_dim: Option<i64>,
    /// `clip.vision.spatial_merge_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spatial_merge_size: Option<i64>,
    /// `clip.vision.projector.scale_factor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_factor: Option<i64>,
    /// `clip.audio.projector.stack_factor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_factor: Option<i64>,
    /// `clip.vision.mm_patch_merge_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_merge_type: Option<String>,
    /// The width handed to the text model (`clip_n_mmproj_embd`).
    pub projection_width: ProjectorWidth,
}

/// A projector file's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectorFacts {
    /// `general.name`.
    pub name: Option<String>,
    /// One entry per encoder the file declares (`clip.has_*_encoder`).
    pub encoders: Vec<EncoderFacts>,
    /// Tensors in the file.
    pub tensor_count: u64,
}

fn int(gguf: &Gguf<'_>, key: &str) -> Option<i64> {
    gguf.metadata().get_i64(key).ok().flatten()
}

fn string(gguf: &Gguf<'_>, key: &str) -> Option<String> {
    gguf.metadata()
        .get_str(key)
        .ok()
        .flatten()
        .map(str::to_owned)
}

/// The encoders the file declares (`clip.cpp:1221-1223`; a key absent is `false`).
fn modalities(gguf: &Gguf<'_>) -> Vec<Modality> {
    Modality::ALL
        .into_iter()
        .filter(|m| gguf.metadata().get_bool(m.has_key()).ok().flatten() == Some(true))
        .collect()
}

/// The projector type of one encoder: `clip.projector_type`, else the modality's own key
/// (`clip.cpp:1268-1283`); `qwen2.5o` becomes `qwen2.5vl_merger` / `qwen2a`
/// (`clip.cpp:1291-1296`). The key it came from is returned with it.
fn resolve(gguf: &Gguf<'_>, m: Modality) -> (String, &'static str) {
    let (name, key) = match string(gguf, "clip.projector_type").filter(|s| !s.is_empty()) {
        Some(s) => (s, "clip.projector_type"),
        None => (string(gguf, m.type_key()).unwrap_or_default(), m.type_key()),
    };
    let name = if name == "qwen2.5o" {
        match m {
            Modality::Vision => "qwen2.5vl_merger".to_owned(),
            _ => "qwen2a".to_owned(),
        }
    } else {
        name
    };
    (name, key)
}

/// `clip_n_mmproj_embd` for one projector type, or why it cannot be computed.
fn width(gguf: &Gguf<'_>, projector_type: &str) -> Result<ProjectorWidth, String> {
    let Some((_, rule)) = TYPES.iter().find(|(n, _)| *n == projector_type) else {
        return Err(format!("unknown projector type: {projector_type}"));
    };
    let dim = |name: &str, i: usize| -> Result<u64, String> {
        gguf.tensor(name)
            .map(|t| ne(t, i))
            .ok_or_else(|| format!("unable to find tensor {name}"))
    };
    match *rule {
        Width::Tensor(name, i) => Ok(ProjectorWidth {
            n_embd: Some(dim(name, i)?),
            from: format!("{name} ne[{i}]"),
        }),
        Width::Mlp => {
            if gguf.tensor("mm.3.weight").is_some() {
                Ok(ProjectorWidth {
                    n_embd: Some(dim("mm.3.bias", 0)?),
                    from: "mm.3.bias ne[0] (mlp with mm.3: MLP_NORM)".into(),
                })
            } else {
                Ok(ProjectorWidth {
                    n_embd: Some(dim("mm.2.weight", 1)?),
                    from: "mm.2.weight ne[1]".into(),
                })
            }
        }
        Width::Qwen3Vl => {
            let base = dim("mm.2.bias", 0)?;
            // The layers below block_count with a deepstack block: counted over the file's
            // tensors, not over a block count a header may set to billions.
            let n_layer = int(gguf, "clip.vision.block_count").unwrap_or(0);
            let deepstack = gguf
                .tensors()
                .iter()
                .filter_map(|t| {
                    t.name()
                        .strip_prefix("v.deepstack.")?
                        .strip_suffix(".fc1.weight")?
                        .parse::<i64>()
                        .ok()
                })
                .filter(|&il| (0..n_layer).contains(&il))
                .count() as u64;
            Ok(ProjectorWidth {
                n_embd: base.checked_mul(deepstack.saturating_add(1)),
                from: format!("mm.2.bias ne[0] × (1 + {deepstack} deepstack layers)"),
            })
        }
        Width::Granite4Vision => {
            let layers = gguf
                .metadata()
                .get_array("clip.vision.feature_layer", None)
                .ok()
                .flatten()
                .map_or(0, |a| a.len());
            let proj = int(gguf, "clip.vision.projection_dim").unwrap_or(0);
            Ok(ProjectorWidth {
                n_embd: u64::try_from(proj).ok().and_then(|p| p.checked_mul(layers)),
                from: format!("{layers} feature layers × clip.vision.projection_dim {proj}"),
            })
        }
        Width::Abort => Err(format!(
            "clip_n_mmproj_embd has no case for {projector_type}: GGML_ABORT(\"Unknown projector type\")"
        )),
    }
}

impl ProjectorFacts {
    /// Reads a projector file's facts.
    pub fn of(gguf: &Gguf<'_>) -> Self {
        let encoders = modalities(gguf)
            .into_iter()
            .map(|m| {
                let p = m.prefix();
                let (projector_type, _) = resolve(gguf, m);
                let vision = m == Modality::Vision;
                let projection_width =
                    width(gguf, &projector_type).unwrap_or_else(|why| ProjectorWidth {
                        n_embd: None,
                        from: why,
                    });
                EncoderFacts {
                    modality: m.name(),
                    image_size: int(gguf, "clip.vision.image_size").filter(|_| vision),
                    patch_size: int(gguf, "clip.vision.patch_size").filter(|_| vision),
                    num_mel_bins: int(gguf, "clip.audio.num_mel_bins")
                        .filter(|_| m == Modality::Audio),
                    embedding_length: int(gguf, &format!("clip.{p}.embedding_length")),
                    block_count: int(gguf, &format!("clip.{p}.block_count")),
                    feed_forward_length: int(gguf, &format!("clip.{p}.feed_forward_length")),
                    head_count: int(gguf, &format!("clip.{p}.attention.head_count")),
                    projection_dim: int(gguf, &format!("clip.{p}.projection_dim")),
                    spatial_merge_size: int(gguf, "clip.vision.spatial_merge_size")
                        .filter(|_| vision),
                    scale_factor: int(gguf, "clip.vision.projector.scale_factor")
                        .filter(|_| vision),
                    stack_factor: int(gguf, "clip.audio.projector.stack_factor")
                        .filter(|_| m == Modality::Audio),
                    patch_merge_type: string(gguf, "clip.vision.mm_patch_merge_type")
                        .filter(|_| vision),
                    projector_type,
                    projection_width,
                }
            })
            .collect();
        Self {
            name: string(gguf, "general.name"),
            encoders,
            tensor_count: gguf.tensors().len() as u64,
        }
    }
}

/// The per-encoder keys `load_hparams` requires (`get_u32`/`get_f32` without `false` throw
/// "key not found", `clip.cpp:1300-1340`).
fn required_keys(m: Modality) -> Vec<String> {
    let p = m.prefix();
    let mut keys: Vec<String> = [
        "embedding_length",
        "attention.head_count",
        "feed_forward_length",
        "block_count",
        "projection_dim",
        "attention.layer_norm_epsilon",
    ]
    .iter()
    .map(|k| format!("clip.{p}.{k}"))
    .collect();
    match m {
        Modality::Vision => {
            keys.push("clip.vision.image_size".into());
            keys.push("clip.vision.patch_size".into());
        }
        Modality::Audio => keys.push("clip.audio.num_mel_bins".into()),
        Modality::GenAudio => {}
    }
    keys
}

/// What `clip_init` + `mtmd_context` refuse in a projector file alone.
pub(super) fn self_check(gguf: &Gguf<'_>) -> Vec<PairFinding> {
    let mut out = Vec::new();
    let mods = modalities(gguf);
    if !mods.iter().any(|m| *m != Modality::GenAudio) {
        out.push(
            PairFinding::error(
                "projector_no_encoder",
                "tools/mtmd/mtmd.cpp:585-588",
                "neither clip.has_vision_encoder nor clip.has_audio_encoder is true: \"Failed to load CLIP model\"".into(),
            )
            .key("clip.has_vision_encoder"),
        );
    }
    for m in &mods {
        for key in required_keys(*m) {
            if gguf.metadata().get(&key).is_none() {
                out.push(
                    PairFinding::error(
                        "projector_key_missing",
                        "tools/mtmd/clip.cpp:1304-1345",
                        format!("{} encoder: key not found in model: {key}", m.name()),
                    )
                    .key(key),
                );
            }
        }
        let (projector_type, key) = resolve(gguf, *m);
        if let Err(why) = width(gguf, &projector_type) {
            let unknown = !TYPES.iter().any(|(n, _)| *n == projector_type);
            let f = if unknown {
                PairFinding::error(
                    "projector_type_unknown",
                    "tools/mtmd/clip.cpp:1285-1289",
                    format!(
                        "{} encoder: unknown projector type: {projector_type:?}",
                        m.name()
                    ),
                )
                .key(key)
            } else {
                PairFinding::error(
                    "projector_width_unknown",
                    "tools/mtmd/clip.cpp:5966-6065",
                    format!("{} encoder ({projector_type}): {why}", m.name()),
                )
            };
            out.push(f);
        }
    }
    // Vision and audio projectors must agree (mtmd.cpp:590-599).
    let widths: Vec<(Modality, u64)> = mods
        .iter()
        .filter(|m| **m != Modality::GenAudio)
        .filter_map(|m| {
            let w = width(gguf, &resolve(gguf, *m).0).ok()?.n_embd?;
            Some((*m, w))
        })
        .collect();
    if let [(_, v), (_, a)] = widths.as_slice() {
        if v != a {
            out.push(PairFinding::error(
                "projector_modalities_differ",
                "tools/mtmd/mtmd.cpp:590-599",
                format!(
                    "mismatch between vision and audio mmproj (n_embd_v = {v}, n_embd_a = {a})"
                ),
            ));
        }
    }
    out
}

/// The projector against the text model: `n_embd_text` (`llama_model_n_embd_inp`) must equal
/// `clip_n_mmproj_embd` of the vision (else audio) encoder and of the gen-audio encoder
/// (`tools/mtmd/mtmd.cpp:601-617`).
pub(super) fn pair(
    side: &ModelSide,
    gguf: &Gguf<'_>,
    facts: &mut Vec<(String, String)>,
) -> Vec<PairFinding> {
    let mut out = self_check(gguf);
    let Some(n_embd_text) = side.n_embd_inp else {
        out.push(PairFinding::warning(
            "model_width_unknown",
            "tools/mtmd/mtmd.cpp:537",
            format!(
                "the model's input embedding width (llama_model_n_embd_inp) cannot be read ({}): the projector's width is not compared",
                side.arch
            ),
        ));
        return out;
    };
    facts.push(("model n_embd_inp".into(), n_embd_text.to_string()));
    let mods = modalities(gguf);
    let main = mods
        .iter()
        .find(|m| **m == Modality::Vision)
        .or_else(|| mods.iter().find(|m| **m == Modality::Audio));
    let gen = mods.iter().find(|m| **m == Modality::GenAudio);
    for (m, what) in main
        .map(|m| (*m, "mmproj"))
        .into_iter()
        .chain(gen.map(|m| (*m, "gen-audio mmproj")))
    {
        let projector_type = resolve(gguf, m).0;
        let Ok(w) = width(gguf, &projector_type) else {
            continue;
        };
        let Some(n) = w.n_embd else { continue };
        facts.push((
            format!("{} projection width ({projector_type})", m.name()),
            format!("{n} ({})", w.from),
        ));
        if i64::try_from(n).ok() != Some(n_embd_text) {
            let tensor = w.from.split(' ').next().unwrap_or("").to_owned();
            let mut f = PairFinding::error(
                "projector_width_mismatch",
                "tools/mtmd/mtmd.cpp:603-617",
                format!(
                    "mismatch between text model (n_embd = {n_embd_text}) and {what} (n_embd = {n}): hint: you may be using wrong mmproj ({} {projector_type}: {})",
                    m.name(),
                    w.from
                ),
            );
            if tensor.contains('.') {
                f = f.tensor(tensor);
            }
            out.push(f);
        }
    }
    out
}
