//! The tokenizer section of `config`, `report` and `validate`: the vocabulary as llama.cpp
//! loads it ([`Vocab`]: model, pre-tokenizer, size, token types, special tokens, add flags, the
//! end-of-generation set) and each chat template's capabilities (llama.cpp's probe) and serving
//! findings. JSON: `{"vocab": …, "chat_templates": [{key, capabilities, findings}]}`.

use std::io::{self, Write};

use ggufscope_gguf::{Gguf, ValueType};
use ggufscope_model::tokenizer::{IdSource, Vocab};
use ggufscope_template::{Capabilities, Clock, Renderer, Tokenizer};
use serde::Serialize;

use crate::render::{self, markdown_table, Paint};
use crate::report::findings::{Finding, FindingSource};

/// The key of the default chat template.
pub const CHAT_TEMPLATE: &str = "tokenizer.chat_template";

/// One chat template of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatTemplate {
    /// Its key: `tokenizer.chat_template` or `tokenizer.chat_template.NAME`.
    pub key: String,
    /// llama.cpp's capability probe (common/jinja/caps.cpp).
    pub capabilities: Capabilities,
    /// What breaks serving it (`ggufscope_template::check`).
    pub findings: Vec<ggufscope_template::Finding>,
}

/// The tokenizer section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenizerReport {
    /// The vocabulary, `None` when the file has no `tokenizer.ggml.model`.
    pub vocab: Option<Vocab>,
    /// The chat templates, the default one first.
    pub chat_templates: Vec<ChatTemplate>,
}

/// The facts the template checks need, from the vocabulary as llama.cpp loads it.
pub fn template_tokenizer<'a>(gguf: &Gguf<'a>, vocab: Option<&Vocab>) -> Tokenizer<'a> {
    let md = gguf.metadata();
    let tokens = md
        .get_array("tokenizer.ggml.tokens", Some(ValueType::String))
        .ok()
        .flatten()
        .and_then(|a| a.strings().map(|s| s.map(|t| t.as_bytes()).collect()))
        .unwrap_or_default();
    let token_types = md
        .get_array("tokenizer.ggml.token_type", None)
        .ok()
        .flatten()
        .and_then(|a| a.i32s().map(Iterator::collect))
        .unwrap_or_default();
    let id = |role: &str| vocab.and_then(|v| v.id(role));
    Tokenizer {
        model: vocab.and_then(|v| v.model.clone()).unwrap_or_default(),
        tokens,
        token_types,
        bos: id("bos"),
        eos: id("eos"),
        unk: id("unk"),
        pad: id("pad"),
        add_bos: md.get_bool("tokenizer.ggml.add_bos_token").ok().flatten(),
        adds_bos: vocab.is_some_and(|v| v.add_bos.value),
        eog: vocab
            .map(|v| v.eog.iter().map(|t| t.id).collect())
            .unwrap_or_default(),
    }
}

/// The keys of the file's chat templates: `tokenizer.chat_template`, then the named ones
/// (`tokenizer.chat_template.NAME`) in file order.
pub fn template_keys(gguf: &Gguf<'_>) -> Vec<String> {
    let md = gguf.metadata();
    let mut keys: Vec<String> = Vec::new();
    if md.get(CHAT_TEMPLATE).is_some() {
        keys.push(CHAT_TEMPLATE.to_owned());
    }
    for e in md.iter() {
        let key = String::from_utf8_lossy(e.key().as_bytes()).into_owned();
        if key.starts_with("tokenizer.chat_template.") && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

impl TokenizerReport {
    /// Reads the vocabulary and probes and checks every chat template.
    pub fn of(gguf: &Gguf<'_>) -> Self {
        let vocab = Vocab::present(gguf).then(|| Vocab::read(gguf));
        let keys = template_keys(gguf);
        let mut chat_templates = Vec::new();
        if !keys.is_empty() {
            let tok = template_tokenizer(gguf, vocab.as_ref());
            // A fixed clock: the section must not change with the time of day.
            let renderer = Renderer::new(Clock::Fixed(2026, 1, 1, 0, 0, 0));
            for key in keys {
                let Some(text) = gguf.metadata().get_str(&key).ok().flatten() else {
                    continue;
                };
                chat_templates.push(ChatTemplate {
                    capabilities: ggufscope_template::probe(text),
                    findings: ggufscope_template::check(text, &tok, &renderer),
                    key,
                });
            }
        }
        Self {
            vocab,
            chat_templates,
        }
    }

    /// The vocabulary's and the templates' findings, as `validate` and `report` list them.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .vocab
            .iter()
            .flat_map(|v| &v.findings)
            .map(|f| tokenizer_finding(f.severity, f.code, f.message.clone(), None))
            .collect();
        for t in &self.chat_templates {
            for f in &t.findings {
                let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                out.push(tokenizer_finding(
                    f.severity,
                    f.code,
                    format!("{}{line}", f.message),
                    Some(t.key.clone()),
                ));
            }
        }
        out
    }

    /// Adds `vocab` and `chat_templates` to a JSON object.
    pub fn insert_into(
        &self,
        map: &mut serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Result<()> {
        map.insert("vocab".into(), serde_json::to_value(&self.vocab)?);
        map.insert(
            "chat_templates".into(),
            serde_json::to_value(&self.chat_templates)?,
        );
        Ok(())
    }

    /// The rows (field, value, note) of the text and markdown tables.
    pub fn rows(&self) -> Vec<[String; 3]> {
        let row = |a: &str, b: String, c: String| [a.to_owned(), b, c];
        let Some(v) = &self.vocab else {
            return vec![row(
                "model",
                "none".into(),
                "no tokenizer.ggml.model: llama.cpp refuses to load the model".into(),
            )];
        };
        let mut rows = vec![row(
            "model",
            v.model.clone().unwrap_or_else(|| "?".into()),
            v.vocab_type.map_or_else(
                || "not a tokenizer llama.cpp 0c1e570 knows".into(),
                |t| format!("LLAMA_VOCAB_TYPE_{t}"),
            ),
        )];
        if let Some(err) = &v.load_error {
            rows.push(row("load", "refused".into(), err.clone()));
        }
        rows.push(row(
            "pre",
            v.pre.clone().unwrap_or_else(|| "none".into()),
            match (v.vocab_type, v.pre_type) {
                (_, None) if v.load_error.is_some() && v.pre.is_some() => {
                    "unknown to llama.cpp 0c1e570".into()
                }
                (Some("BPE"), Some(t)) => format!("LLAMA_VOCAB_PRE_TYPE_{t}"),
                (Some(_), Some(t)) => {
                    format!("LLAMA_VOCAB_PRE_TYPE_{t} (only BPE vocabularies use it)")
                }
                _ => String::new(),
            },
        ));
        let merges = v
            .n_merges
            .map(|m| format!("{} merges", render::grouped(m)))
            .unwrap_or_default();
        rows.push(row("n_vocab", render::grouped(v.n_vocab.into()), merges));
        if let Some(h) = &v.token_types {
            let parts: Vec<String> = [
                ("normal", h.normal),
                ("unknown", h.unknown),
                ("control", h.control),
                ("user-defined", h.user_defined),
                ("unused", h.unused),
                ("byte", h.byte),
                ("undefined", h.undefined),
            ]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {}", render::grouped((*n).into())))
            .collect();
            rows.push(row(
                "token_types",
                parts.join(", "),
                "tokenizer.ggml.token_type".into(),
            ));
        }
        for s in &v.special {
            let others: Vec<String> = s
                .candidates
                .iter()
                .filter(|c| Some(c.id) != s.id)
                .map(|c| format!("{} {:?}", c.id, c.text))
                .collect();
            let value = match (&s.id, &s.text) {
                (Some(id), Some(text)) => format!("{id} {text:?}"),
                _ => others.join(" or "),
            };
            let note = match s.source {
                IdSource::Key => "key".to_owned(),
                IdSource::Default => format!("llama.cpp's {} default", v.vocab_type.unwrap_or("?")),
                IdSource::Text if others.is_empty() => "by text".to_owned(),
                IdSource::Text if s.id.is_none() => {
                    "by text; llama.cpp takes whichever its hash map yields first".to_owned()
                }
                IdSource::Text => format!(
                    "by text, first in libstdc++'s hash order (Linux builds; libc++/MSVC builds may take {})",
                    others.join(" or ")
                ),
            };
            rows.push(row(s.role, value, note));
        }
        for (name, f) in [
            ("add_bos", v.add_bos),
            ("add_eos", v.add_eos),
            ("add_sep", v.add_sep),
        ] {
            let note = if f.from_key {
                format!("key (default {})", f.default)
            } else if f.value != f.default {
                format!("forced (default {})", f.default)
            } else {
                "default".to_owned()
            };
            rows.push(row(name, f.value.to_string(), note));
        }
        let eog: Vec<String> = v
            .eog
            .iter()
            .map(|t| format!("{} {:?}", t.id, t.text))
            .collect();
        rows.push(row(
            "eog",
            if eog.is_empty() {
                "none".into()
            } else {
                eog.join(", ")
            },
            "ends generation (special_eog_ids)".into(),
        ));
        rows
    }

    /// The capabilities a template has, as words.
    pub fn capability_words(caps: &Capabilities) -> String {
        let value = serde_json::to_value(caps).unwrap_or_default();
        let words: Vec<String> = value
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| **v == serde_json::Value::Bool(true))
                    .map(|(k, _)| k.trim_start_matches("supports_").replace('_', " "))
                    .collect()
            })
            .unwrap_or_default();
        if words.is_empty() {
            "none".to_owned()
        } else {
            words.join(", ")
        }
    }

    /// Writes the text section (after `config`'s table).
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        let rows = self.rows();
        let width = |i: usize| {
            rows.iter()
                .filter_map(move |r| r.get(i))
                .map(|c| c.chars().count())
        };
        let w0 = width(0).max().unwrap_or(0);
        let w1 = width(1).max().unwrap_or(0).min(60);
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.heading("tokenizer (as llama.cpp loads it)")
        )?;
        for [f, v, n] in &rows {
            let line = format!("  {f:<w0$}  {v:<w1$}  {n}");
            writeln!(out, "{}", line.trim_end())?;
        }
        for t in &self.chat_templates {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                paint.heading(&format!("chat template ({})", t.key))
            )?;
            writeln!(
                out,
                "  capabilities  {}",
                Self::capability_words(&t.capabilities)
            )?;
            writeln!(
                out,
                "  findings      {}",
                if t.findings.is_empty() {
                    "none".to_owned()
                } else {
                    t.findings
                        .iter()
                        .map(|f| snake(f.code))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )?;
        }
        Ok(())
    }

    /// Writes the markdown sections of `report`.
    pub fn markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\n## Tokenizer\n")?;
        writeln!(
            out,
            "The vocabulary as llama.cpp 0c1e570 loads it (`llama_vocab::impl::load`, src/llama-vocab.cpp).\n"
        )?;
        let rows: Vec<Vec<String>> = self
            .rows()
            .into_iter()
            .map(|[f, v, n]| {
                // Token texts in code spans, so that `<s>` is not read as HTML.
                let v = if v.contains('"') { format!("`{v}`") } else { v };
                vec![format!("`{f}`"), v, n]
            })
            .collect();
        markdown_table(out, &["field", "value", "note"], &rows, &[])?;
        if self.chat_templates.is_empty() {
            return Ok(());
        }
        writeln!(out, "\n## Chat templates\n")?;
        writeln!(
            out,
            "Capabilities as llama.cpp's probe finds them (common/jinja/caps.cpp); findings from rendering a plain conversation as transformers does (`ggufscope template` shows the prompt).\n"
        )?;
        let rows: Vec<Vec<String>> = self
            .chat_templates
            .iter()
            .map(|t| {
                vec![
                    format!("`{}`", t.key),
                    Self::capability_words(&t.capabilities),
                    if t.findings.is_empty() {
                        "none".to_owned()
                    } else {
                        t.findings
                            .iter()
                            .map(|f| format!("`{}`", snake(f.code)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                ]
            })
            .collect();
        markdown_table(out, &["key", "capabilities", "findings"], &rows, &[])
    }
}

/// A tokenizer finding as `validate` lists it (codes in `validate`'s snake case).
fn tokenizer_finding(
    severity: &'static str,
    code: &'static str,
    message: String,
    key: Option<String>,
) -> Finding {
    Finding {
        severity,
        code: snake(code),
        message,
        offset: None,
        key,
        tensor: None,
        shard: None,
        source: FindingSource::Tokenizer,
    }
}

/// The snake-case form of a tokenizer or template finding code.
fn snake(code: &'static str) -> &'static str {
    match code {
        "vocab-load" => "vocab_load",
        "pre-tokenizer-unknown" => "pre_tokenizer_unknown",
        "pre-tokenizer-missing" => "pre_tokenizer_missing",
        "special-token-out-of-range" => "special_token_out_of_range",
        "eot-dropped-from-eog" => "eot_dropped_from_eog",
        "eot-not-eog" => "eot_not_eog",
        "template-syntax" => "template_syntax",
        "template-render" => "template_render",
        "llama-cpp-unsupported" => "template_llama_cpp_unsupported",
        "special-token-unknown" => "special_token_unknown",
        "special-token-not-control" => "special_token_not_control",
        "bos-twice" => "bos_twice",
        other => other,
    }
}
