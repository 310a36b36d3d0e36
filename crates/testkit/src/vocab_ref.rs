//! llama.cpp 0c1e570's own vocabulary loader's answers (`tools/vocab-ref/`), as the model and
//! CLI tests compare them: `tests/fixtures/{real,vocab}/llama-vocab.jsonl`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// llama.cpp's `LLAMA_VOCAB_TYPE_*` numbers (include/llama.h:73-80).
pub const VOCAB_TYPES: &[&str] = &["NONE", "SPM", "BPE", "WPM", "UGM", "RWKV", "PLAMO2", "TEST"];

/// `LLAMA_VOCAB_PRE_TYPE_*` by number (src/llama-vocab.h:11-70).
pub const PRE_TYPES: &[&str] = &[
    "DEFAULT",
    "LLAMA3",
    "DEEPSEEK_LLM",
    "DEEPSEEK_CODER",
    "FALCON",
    "MPT",
    "STARCODER",
    "GPT2",
    "REFACT",
    "COMMAND_R",
    "STABLELM2",
    "QWEN2",
    "OLMO",
    "DBRX",
    "SMAUG",
    "PORO",
    "CHATGLM3",
    "CHATGLM4",
    "VIKING",
    "JAIS",
    "TEKKEN",
    "SMOLLM",
    "CODESHELL",
    "BLOOM",
    "GPT3_FINNISH",
    "EXAONE",
    "CHAMELEON",
    "MINERVA",
    "DEEPSEEK3_LLM",
    "GPT4O",
    "SUPERBPE",
    "TRILLION",
    "BAILINGMOE",
    "LLAMA4",
    "PIXTRAL",
    "SEED_CODER",
    "HUNYUAN",
    "KIMI_K2",
    "HUNYUAN_DENSE",
    "GROK_2",
    "GRANITE_DOCLING",
    "MINIMAX_M2",
    "AFMOE",
    "SOLAR_OPEN",
    "YOUTU",
    "EXAONE_MOE",
    "QWEN35",
    "TINY_AYA",
    "JOYAI_LLM",
    "JAIS2",
    "GEMMA4",
    "SARVAM_MOE",
    "MINICPM5",
    "WHITESPACE",
    "GRANITE_EMB_MULTI",
    "MELLUM2",
    "LAGUNA",
    "HY_V4",
    "SPARK2_5",
    "UFAKZEKA",
];

/// Each file with llama.cpp's record for it, from the `llama-vocab.jsonl` of `fixtures/real` and
/// `fixtures/vocab` (`fixtures` is the checkout's `tests/fixtures`, named by the caller).
pub fn cases(fixtures: &Path) -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for dir in [fixtures.join("real"), fixtures.join("vocab")] {
        let text = std::fs::read_to_string(dir.join("llama-vocab.jsonl"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let file = v["file"].as_str().unwrap_or_default().to_owned();
            out.push((dir.join(file), v));
        }
    }
    out
}
