//! How a model's layout differs from a plain Llama one (NORM rope, separate `attn_q`/`attn_k`/
//! `attn_v`, separate `ffn_gate`/`ffn_up`, no biases, an `output.weight`), stated as facts read
//! from the configuration and the tensor table. This is the report's short answer to "is it
//! Llama-compatible as-is?"; planning a conversion is a later command's job.

use ggufscope_model::{lookup, ModelConfig, RopeType};
use serde::Serialize;

use crate::render;
use crate::report::tensor_table::TensorTable;

/// The facts and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LlamaLayout {
    /// Whether a Llama pipeline can load the layout as it is (no difference below).
    pub compatible_as_is: bool,
    /// Differences a Llama pipeline cannot absorb without converting the weights or its code.
    pub blocking: Vec<String>,
    /// Features beyond the plain Llama layout that the pipeline must support.
    pub also_needs: Vec<String>,
}

fn shape_of(table: &TensorTable, name: &str) -> String {
    render::shape_opt(table.find(name).and_then(|g| g.shape.as_deref()))
}

impl LlamaLayout {
    /// Reads the facts.
    pub fn new(cfg: &ModelConfig, table: &TensorTable) -> Self {
        let mut blocking = Vec::new();
        let mut also_needs = Vec::new();
        if cfg.architecture == "llama" {
            return Self {
                compatible_as_is: true,
                blocking,
                also_needs,
            };
        }
        let names = table.layer_names();
        let has = |n: &str| names.contains(&n);
        if cfg.rope_type != RopeType::Norm {
            blocking.push(format!(
                "RoPE is {} (rope_type `{}`), where Llama uses NORM (adjacent pairs)",
                cfg.rope_type.as_str().to_uppercase(),
                cfg.rope_type.as_str()
            ));
        }
        if has("attn_qkv.weight") {
            blocking.push(format!(
                "Q, K and V are fused in one `blk.N.attn_qkv.weight` {} where Llama has separate `attn_q`, `attn_k`, `attn_v`",
                shape_of(table, "attn_qkv.weight")
            ));
        }
        if has("ffn_up.weight") && !has("ffn_gate.weight") {
            let rows = table
                .find("ffn_up.weight")
                .and_then(|g| g.shape.as_ref()?.get(1).copied());
            let n_ff = cfg.feed_forward_length;
            let rows = match rows {
                Some(r) if Some(r) == n_ff.checked_mul(2) => {
                    format!("{r} rows = 2 x feed_forward_length {n_ff}")
                }
                Some(r) => format!("{r} rows"),
                None => "rows unknown".to_owned(),
            };
            blocking.push(format!(
                "gate and up are fused in one `blk.N.ffn_up.weight` {} ({rows}) and there is no `ffn_gate`",
                shape_of(table, "ffn_up.weight"),
            ));
        }
        if let Some(llama) = lookup("llama") {
            let known: Vec<&str> = llama.layer_tensors().map(|t| t.name).collect();
            let extra: Vec<String> = names
                .iter()
                .filter(|n| !known.contains(n))
                .map(|n| format!("`{n}`"))
                .collect();
            if !extra.is_empty() {
                blocking.push(format!(
                    "layers hold tensors a Llama layer does not have: {}",
                    extra.join(", ")
                ));
            }
        }
        let biases: Vec<String> = names
            .iter()
            .filter(|n| n.ends_with(".bias"))
            .map(|n| format!("`{n}`"))
            .collect();
        if !biases.is_empty() {
            also_needs.push(format!("biases: {}", biases.join(", ")));
        }
        if cfg.tied_embeddings == Some(true) {
            also_needs.push(
                "a tied output: there is no `output.weight`, the output projection is `token_embd`"
                    .to_owned(),
            );
        }
        Self {
            compatible_as_is: blocking.is_empty() && also_needs.is_empty(),
            blocking,
            also_needs,
        }
    }

    /// The verdict as one sentence (markdown).
    pub fn sentence(&self, cfg: &ModelConfig) -> String {
        if cfg.architecture == "llama" {
            return "Llama-compatible as-is: **yes**, it is a `llama` file.".to_owned();
        }
        let mut s = if self.compatible_as_is {
            "Llama-compatible as-is: **yes**: NORM rope, separate Q/K/V and gate/up, no biases, an output projection.".to_owned()
        } else if self.blocking.is_empty() {
            "Llama-compatible as-is: **only if the pipeline supports** what follows.".to_owned()
        } else {
            format!(
                "Llama-compatible as-is: **no**: {}.",
                self.blocking.join("; ")
            )
        };
        if !self.also_needs.is_empty() {
            s.push_str(&format!(
                " Beyond the plain Llama layout it also has {}.",
                self.also_needs.join("; and ")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggufscope_testkit::presets::{self, ModelFixture};

    fn layout_of(fixture: &ModelFixture) -> LlamaLayout {
        let file = fixture.write_sparse_temp();
        // Through `Input`, as the commands read it (on a 32-bit target this 2.2 GB file is too
        // large to map and its head is read instead).
        let input = crate::input::Input::open(file.path()).unwrap();
        let gguf = input.parse().unwrap();
        let cfg = ModelConfig::from_gguf(&gguf).unwrap();
        LlamaLayout::new(&cfg, &TensorTable::new(&gguf, &[]))
    }

    #[test]
    fn phi3_differs_by_rope_and_two_fused_tensors() {
        let l = layout_of(&presets::phi3_mini_4k());
        assert!(!l.compatible_as_is);
        assert_eq!(l.blocking.len(), 3, "{:#?}", l.blocking);
        assert!(l.blocking[1].contains("attn_qkv.weight` [3072, 9216]"));
        assert!(l.blocking[2].contains("16384 rows = 2 x feed_forward_length 8192"));
        assert!(l.also_needs.is_empty());
    }

    #[test]
    fn qwen2_5_differs_by_rope_and_needs_biases_and_a_tied_output() {
        let l = layout_of(&presets::qwen2_5_0_5b());
        assert!(!l.compatible_as_is);
        assert_eq!(l.blocking.len(), 1, "{:#?}", l.blocking);
        assert!(l.blocking[0].starts_with("RoPE is NEOX"));
        assert_eq!(l.also_needs.len(), 2, "{:#?}", l.also_needs);
        assert!(l.also_needs[0].contains("`attn_q.bias`"));
        assert!(l.also_needs[1].contains("no `output.weight`"));
    }

    #[test]
    fn llama_is_llama() {
        let l = layout_of(&presets::tiny_llama());
        assert!(l.compatible_as_is);
        assert!(l.blocking.is_empty() && l.also_needs.is_empty());
    }
}
