//! Companion files: the GGUF files beside a model that are not models — multimodal projectors
//! (`general.architecture = clip`, `tools/mtmd/`), LoRA adapters (`general.type = adapter`,
//! `src/llama-adapter.cpp`), control vectors (`controlvector.*` keys and `direction.N` tensors,
//! `common/common.cpp`'s loader) and importance matrices (`general.type = imatrix`,
//! `tools/imatrix/imatrix.cpp`) — and whether one fits a model the way llama.cpp 0c1e570 checks it
//! when it loads the pair ([`pair`]). A draft model for speculative decoding is a model; its
//! pairing with a target follows `common/speculative.cpp`.

mod cvec;
mod draft;
mod imatrix;
mod lora;
mod projector;

use ggufscope_gguf::Gguf;
use serde::Serialize;

use crate::FileKind;

pub use cvec::ControlVectorFacts;
pub use draft::VocabFacts;
pub use imatrix::ImatrixFacts;
pub use lora::{LoraFacts, LoraTarget};
pub use projector::{projector_types, EncoderFacts, ProjectorFacts, ProjectorWidth};

/// `general.type`, when it is a string.
fn general_type<'a>(gguf: &Gguf<'a>) -> Option<&'a str> {
    gguf.metadata().get_str("general.type").ok().flatten()
}

/// `general.architecture`, when it is a string.
fn general_architecture<'a>(gguf: &Gguf<'a>) -> Option<&'a str> {
    gguf.metadata()
        .get_str("general.architecture")
        .ok()
        .flatten()
}

/// What kind of GGUF file this is, decided the way llama.cpp's loaders tell them apart:
/// - `general.type = adapter` → a LoRA adapter (`src/llama-adapter.cpp:205-208` refuses any
///   other type; `adapter.type` is checked at pairing);
/// - `general.type = imatrix` → an importance matrix (`tools/imatrix/imatrix.cpp:603` writes
///   it);
/// - `general.architecture = clip` → a multimodal projector (`clip.*` keys,
///   `tools/mtmd/clip-impl.h:32-40`);
/// - `general.architecture = controlvector`, any `controlvector.*` key
///   (`tools/cvector-generator/cvector-generator.cpp:360-363`) or tensors that are all
///   `direction.N` (`common/common.cpp:1904-1912`) → a control vector;
/// - otherwise a model, or vocab-only when it has no tensors.
pub fn file_kind(gguf: &Gguf<'_>) -> FileKind {
    match general_type(gguf) {
        Some("adapter") => return FileKind::LoraAdapter,
        Some("imatrix") => return FileKind::Imatrix,
        _ => {}
    }
    match general_architecture(gguf) {
        Some("clip") => return FileKind::Projector,
        Some("controlvector") => return FileKind::ControlVector,
        _ => {}
    }
    let cvec_key = gguf
        .metadata()
        .iter()
        .any(|kv| kv.key().as_bytes().starts_with(b"controlvector."));
    let tensors = gguf.tensors();
    let all_directions = !tensors.is_empty()
        && tensors
            .iter()
            .all(|t| cvec::direction_layer(t.name()).is_some());
    if cvec_key || all_directions {
        return FileKind::ControlVector;
    }
    if tensors.is_empty() {
        FileKind::VocabOnly
    } else {
        FileKind::Model
    }
}

/// The facts of a companion file, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CompanionFacts {
    /// A multimodal projector.
    Projector(ProjectorFacts),
    /// A LoRA adapter.
    Lora(LoraFacts),
    /// A control vector.
    ControlVector(ControlVectorFacts),
    /// An importance matrix.
    Imatrix(ImatrixFacts),
}

/// The facts of a companion file; `None` for a model or a vocab-only file.
pub fn companion_facts(gguf: &Gguf<'_>) -> Option<CompanionFacts> {
    Some(match file_kind(gguf) {
        FileKind::Projector => CompanionFacts::Projector(ProjectorFacts::of(gguf)),
        FileKind::LoraAdapter => CompanionFacts::Lora(LoraFacts::of(gguf)),
        FileKind::ControlVector => CompanionFacts::ControlVector(ControlVectorFacts::of(gguf)),
        FileKind::Imatrix => CompanionFacts::Imatrix(ImatrixFacts::of(gguf)),
        FileKind::Model | FileKind::VocabOnly => return None,
    })
}

/// How serious a pairing finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Worth knowing.
    Info,
    /// llama.cpp loads the pair but says so, or works around it.
    Warning,
    /// llama.cpp refuses the pair (or aborts on it).
    Error,
}

/// One finding about a companion file, alone or paired with a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairFinding {
    /// How serious.
    pub severity: Level,
    /// A stable machine-readable code.
    pub code: &'static str,
    /// What was found, in words (llama.cpp's own message where it has one).
    pub message: String,
    /// The metadata key it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The tensor it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor: Option<String>,
    /// Where llama.cpp 0c1e570 makes the check (`file:line`).
    pub llama_cpp: &'static str,
}

impl PairFinding {
    fn new(severity: Level, code: &'static str, llama_cpp: &'static str, message: String) -> Self {
        Self {
            severity,
            code,
            message,
            key: None,
            tensor: None,
            llama_cpp,
        }
    }

    fn error(code: &'static str, llama_cpp: &'static str, message: String) -> Self {
        Self::new(Level::Error, code, llama_cpp, message)
    }

    fn warning(code: &'static str, llama_cpp: &'static str, message: String) -> Self {
        Self::new(Level::Warning, code, llama_cpp, message)
    }

    fn info(code: &'static str, llama_cpp: &'static str, message: String) -> Self {
        Self::new(Level::Info, code, llama_cpp, message)
    }

    fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    fn tensor(mut self, tensor: impl Into<String>) -> Self {
        self.tensor = Some(tensor.into());
        self
    }
}

/// The result of checking a companion against a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairCheck {
    /// The companion's kind (`model` or `vocab_only`: checked as a draft model).
    pub kind: FileKind,
    /// What the check compared (`n_embd`, rank, widths…), for the report.
    pub facts: Vec<(String, String)>,
    /// The findings, errors first.
    pub findings: Vec<PairFinding>,
}

impl PairCheck {
    /// Whether llama.cpp would load the pair (no error).
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Level::Error)
    }
}

/// What the pairing checks need from the model: llama.cpp's hyper-parameters, read by the
/// architecture table when it holds the architecture (else from the generic keys).
#[derive(Debug, Clone, Default)]
pub(crate) struct ModelSide {
    arch: String,
    n_embd: Option<i64>,
    n_embd_inp: Option<i64>,
    n_layer: Option<i64>,
}

impl ModelSide {
    fn of(gguf: &Gguf<'_>) -> Self {
        let arch = general_architecture(gguf).unwrap_or("").to_owned();
        if let Ok(model) = crate::Model::new(gguf) {
            if model.in_table() {
                let h = &model.run().hparams;
                let n_embd = h.int("n_embd");
                // llama_hparams::n_embd_inp (src/llama-hparams.cpp:118-130), what mtmd compares
                // (tools/mtmd/mtmd.cpp:537).
                let imp = h.int("n_embd_inp_impl").unwrap_or(0);
                let deepstack = h.int("n_deepstack_layers").unwrap_or(0);
                let n_embd_inp = if imp > 0 {
                    Some(imp)
                } else {
                    n_embd.map(|e| e.saturating_add(e.saturating_mul(deepstack.max(0))))
                };
                return Self {
                    arch,
                    n_embd,
                    n_embd_inp,
                    n_layer: Some(model.run().n_layer),
                };
            }
        }
        let int = |suffix: &str| {
            gguf.metadata()
                .get_i64(&format!("{arch}.{suffix}"))
                .ok()
                .flatten()
        };
        let n_embd = int("embedding_length");
        let deepstack = int("n_deepstack_layers").unwrap_or(0);
        Self {
            n_embd,
            n_embd_inp: n_embd.map(|e| e.saturating_add(e.saturating_mul(deepstack.max(0)))),
            n_layer: int("block_count"),
            arch,
        }
    }
}

/// The checks llama.cpp makes on a companion file by itself (no model needed): what `validate`
/// adds for companions.
pub fn self_check(companion: &Gguf<'_>) -> Vec<PairFinding> {
    let mut out = match file_kind(companion) {
        FileKind::Projector => projector::self_check(companion),
        FileKind::LoraAdapter => lora::self_check(companion),
        FileKind::ControlVector => cvec::self_check(companion),
        FileKind::Imatrix => imatrix::self_check(companion),
        FileKind::Model | FileKind::VocabOnly => Vec::new(),
    };
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// Checks `companion` against `model` as llama.cpp 0c1e570 does when it loads the two
/// together: a projector with `mtmd_init_from_file`, a LoRA adapter with
/// `llama_adapter_lora_init`, a control vector with `common_control_vector_load` +
/// `llama_set_adapter_cvec`, an importance matrix with `llama-quantize --imatrix`, and a model
/// (or vocab-only file) as the draft of speculative decoding (`common/speculative.cpp`).
pub fn pair(model: &Gguf<'_>, companion: &Gguf<'_>) -> PairCheck {
    let side = ModelSide::of(model);
    let kind = file_kind(companion);
    let mut facts = Vec::new();
    let mut findings = match kind {
        FileKind::Projector => projector::pair(&side, companion, &mut facts),
        FileKind::LoraAdapter => lora::pair(&side, model, companion, &mut facts),
        FileKind::ControlVector => cvec::pair(&side, companion, &mut facts),
        FileKind::Imatrix => imatrix::pair(model, companion, &mut facts),
        FileKind::Model | FileKind::VocabOnly => draft::pair(model, companion, &mut facts),
    };
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    PairCheck {
        kind,
        facts,
        findings,
    }
}

/// `ne[i]` of a tensor (1 past its dimensions, as ggml pads them).
fn ne(t: &ggufscope_gguf::TensorInfo<'_>, i: usize) -> u64 {
    t.ne().get(i).copied().unwrap_or(1)
}

/// The weights a companion adds when llama.cpp loads it with a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanionWeights {
    /// Its kind (`model`/`vocab_only`: a draft model).
    pub kind: FileKind,
    /// Tensors llama.cpp allocates for it.
    pub tensors: u64,
    /// Their bytes, as stored (llama.cpp keeps the file's types: `ggml_dup_tensor` for LoRA,
    /// `src/llama-adapter.cpp:373-376`; the projector's and a draft's tensors as loaded).
    pub bytes: u64,
}

/// The weights of a companion: every tensor of a projector or a draft model; a LoRA adapter's
/// `lora_a`/`lora_b` (its `*_norm.weight` tensors are skipped, `src/llama-adapter.cpp:290-292`);
/// a control vector's `n_layer − 1` F32 rows of `n_embd` are allocated by llama.cpp from the
/// model (`src/llama-adapter.cpp:66-77`), counted here as the file's directions; an importance
/// matrix is not loaded by inference (0).
pub fn weights(gguf: &Gguf<'_>) -> CompanionWeights {
    let kind = file_kind(gguf);
    let counted = |t: &&ggufscope_gguf::TensorInfo<'_>| match kind {
        FileKind::LoraAdapter => t.name().ends_with(".lora_a") || t.name().ends_with(".lora_b"),
        FileKind::Imatrix => false,
        _ => true,
    };
    let (tensors, bytes) = gguf
        .tensors()
        .iter()
        .filter(counted)
        .fold((0u64, 0u64), |(n, b), t| {
            (n + 1, b.saturating_add(t.n_bytes().unwrap_or(0)))
        });
    CompanionWeights {
        kind,
        tensors,
        bytes,
    }
}
