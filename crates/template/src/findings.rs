//! What breaks serving a chat template: it does not parse or render; it uses statements
//! llama.cpp's engine (0c1e570) does not parse; special tokens in it disagree with the
//! tokenizer; BOS would be added twice; the end-of-generation set lacks its end-of-turn token.

use std::borrow::Cow;

use serde::Serialize;

use crate::render::{RenderError, RenderInput, Renderer};

/// The tokenizer facts the checks need, as llama.cpp loads them (the caller fills them from
/// `ggufscope_model::tokenizer::Vocab`, which computes them as src/llama-vocab.cpp does).
#[derive(Debug, Clone, Default)]
pub struct Tokenizer<'a> {
    /// `tokenizer.ggml.model` (`llama`, `gpt2`, …).
    pub model: String,
    /// `tokenizer.ggml.tokens`, the bytes as the file holds them (borrowed; decoded only for
    /// the tokens a check shows).
    pub tokens: Vec<&'a [u8]>,
    /// `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused,
    /// 6 byte), empty when absent.
    pub token_types: Vec<i32>,
    /// BOS id (the file's key or llama.cpp's default for the vocabulary type).
    pub bos: Option<u32>,
    /// EOS id.
    pub eos: Option<u32>,
    /// UNK id.
    pub unk: Option<u32>,
    /// PAD id.
    pub pad: Option<u32>,
    /// `tokenizer.ggml.add_bos_token`, when present.
    pub add_bos: Option<bool>,
    /// Whether llama.cpp adds BOS (the key, else the default of the vocabulary type and
    /// pre-tokenizer, src/llama-vocab.cpp:2154-2656).
    pub adds_bos: bool,
    /// llama.cpp's end-of-generation set (`special_eog_ids`), ascending.
    pub eog: Vec<u32>,
}

impl Tokenizer<'_> {
    /// The text of token `id` (invalid UTF-8 replaced, as Python's tokenizer would show it).
    pub fn text(&self, id: Option<u32>) -> Option<Cow<'_, str>> {
        self.tokens
            .get(usize::try_from(id?).ok()?)
            .map(|b| String::from_utf8_lossy(b))
    }

    /// The id of the token whose text is `text`.
    pub fn id_of(&self, text: &str) -> Option<u32> {
        self.tokens
            .iter()
            .position(|t| *t == text.as_bytes())
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The special-token texts `apply_chat_template` passes (`bos_token`, `eos_token`,
    /// `unk_token`, `pad_token`), for the tokens the tokenizer has.
    pub fn special_tokens(&self) -> Vec<(String, String)> {
        [
            ("bos_token", self.bos),
            ("eos_token", self.eos),
            ("unk_token", self.unk),
            ("pad_token", self.pad),
        ]
        .into_iter()
        .filter_map(|(k, id)| Some((k.to_string(), self.text(id)?.to_string())))
        .collect()
    }

    /// Whether llama.cpp adds BOS when tokenizing with special tokens.
    pub fn adds_bos(&self) -> bool {
        self.adds_bos
    }

    /// The end-of-generation set as llama.cpp computes it.
    pub fn eog_ids(&self) -> Vec<u32> {
        self.eog.clone()
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `error` (serving will fail) or `warning` (serving will misbehave).
    pub severity: &'static str,
    /// A stable code: `template-syntax`, `template-render`, `llama-cpp-unsupported`,
    /// `special-token-unknown`, `special-token-not-control`, `bos-twice`, `eot-not-eog`.
    pub code: &'static str,
    /// What is wrong, with the line and construct where known.
    pub message: String,
    /// The 1-based template line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Statements llama.cpp's engine parses (common/jinja/parser.cpp:132-214); any other raises
/// "Unknown statement" there (parser.cpp:214).
const LLAMA_STATEMENTS: &[&str] = &[
    "set",
    "endset",
    "if",
    "elif",
    "else",
    "endif",
    "macro",
    "endmacro",
    "for",
    "endfor",
    "break",
    "continue",
    "call",
    "endcall",
    "filter",
    "endfilter",
    "generation",
    "endgeneration",
];

/// Block statements whose name llama.cpp's parser does not know, with their lines.
pub fn unsupported_statements(template: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(at) = rest.find("{%") {
        let after = rest.get(at + 2..).unwrap_or_default();
        let body = after.trim_start_matches(['-', '+']).trim_start();
        let name: String = body
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !LLAMA_STATEMENTS.contains(&name.as_str()) {
            let line = template
                .get(..offset + at)
                .map_or(1, |p| p.matches('\n').count() + 1);
            out.push((name, line));
        }
        offset += at + 2;
        rest = after;
    }
    out
}

/// Literal strings in the template that look like special tokens (`<|…|>`, `<…>` without
/// spaces, `[INST]`-style upper-case brackets, `<｜…｜>`).
pub fn token_literals(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        let close = match c {
            '<' => '>',
            '[' => ']',
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = i + 1;
        while j < chars.len() && j - i < 64 {
            let d = chars.get(j).copied().unwrap_or(' ');
            if d == close
                || d.is_whitespace()
                || d == '<'
                || d == '['
                || d == '\''
                || d == '"'
                || d == '{'
            {
                break;
            }
            j += 1;
        }
        if chars.get(j) == Some(&close) && j > i + 1 {
            let tok: String = chars
                .get(i..=j)
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            let inner: String = chars
                .get(i + 1..j)
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            let looks_special = if c == '<' {
                inner.starts_with('|') && inner.ends_with('|') && inner.len() > 2
                    || inner.starts_with('｜')
                    || (inner.contains('_')
                        && !inner.starts_with('/')
                        && inner.chars().all(|x| x.is_ascii_lowercase() || x == '_'))
            } else {
                inner.len() >= 3
                    && inner
                        .chars()
                        .all(|x| x.is_ascii_uppercase() || x == '_' || x == '/')
            };
            if looks_special && !out.contains(&tok) {
                out.push(tok);
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// The sample conversation's render, for the end-of-turn check.
const ASSISTANT_TEXT: &str = "Hi there. How can I help?";

/// The token the template puts right after an assistant turn (its end-of-turn), if it is a
/// token of the vocabulary.
pub fn end_of_turn_token(rendered: &str, tok: &Tokenizer<'_>) -> Option<String> {
    let at = rendered.find(ASSISTANT_TEXT)? + ASSISTANT_TEXT.len();
    let after = rendered.get(at..)?;
    // The longest vocabulary token among the literal token-like prefixes.
    let lits = token_literals(after.get(..after.len().min(80))?);
    let first = lits
        .into_iter()
        .find(|l| after.trim_start().starts_with(l.as_str()))?;
    tok.id_of(&first).map(|_| first)
}

/// All findings for `template` with the tokenizer `tok`.
pub fn check(template: &str, tok: &Tokenizer<'_>, renderer: &Renderer) -> Vec<Finding> {
    let mut out = Vec::new();
    // 1. Parse and render with a plain multi-turn conversation.
    let input = RenderInput {
        messages: serde_json::json!([
            {"role": "user", "content": "Hello!"},
            {"role": "assistant", "content": ASSISTANT_TEXT},
            {"role": "user", "content": "Thanks."}
        ]),
        add_generation_prompt: true,
        special_tokens: tok.special_tokens(),
        ..RenderInput::default()
    };
    let rendered = match renderer.render(template, &input) {
        Ok(text) => Some(text),
        Err(e) => {
            out.push(render_finding(&e));
            None
        }
    };
    // 2. Statements llama.cpp cannot parse.
    for (name, line) in unsupported_statements(template) {
        out.push(Finding {
            severity: "error",
            code: "llama-cpp-unsupported",
            message: format!(
                "`{{% {name} %}}` on line {line}: llama.cpp's template engine (0c1e570) has no `{name}` statement (common/jinja/parser.cpp:214, \"Unknown statement\"); llama-server falls back or refuses the template"
            ),
            line: Some(line),
        });
    }
    // 3. Special tokens in the template against the vocabulary.
    if !tok.tokens.is_empty() {
        for lit in token_literals(template) {
            match tok.id_of(&lit) {
                None => out.push(Finding {
                    severity: "warning",
                    code: "special-token-unknown",
                    message: format!("the template writes `{lit}`, which is not a token of this vocabulary: it will be tokenized as plain text"),
                    line: line_of(template, &lit),
                }),
                Some(id) => {
                    let ty = tok.token_types.get(id as usize).copied();
                    if ty.is_some_and(|t| t != 3 && t != 4) {
                        out.push(Finding {
                            severity: "warning",
                            code: "special-token-not-control",
                            message: format!(
                                "the template writes `{lit}` (token {id}), but the tokenizer types it {} not control or user-defined: llama.cpp will not parse it as one special token",
                                ty.unwrap_or(0)
                            ),
                            line: line_of(template, &lit),
                        });
                    }
                }
            }
        }
    }
    // 4. BOS twice.
    if let (Some(text), Some(bos)) = (&rendered, tok.text(tok.bos)) {
        let bos = bos.as_ref();
        if tok.adds_bos() && !bos.is_empty() && text.starts_with(bos) {
            out.push(Finding {
                severity: "warning",
                code: "bos-twice",
                message: format!(
                    "the rendered prompt starts with BOS `{bos}` and the tokenizer adds BOS too (add_bos_token {}): the model sees BOS twice",
                    tok.add_bos.map_or_else(|| format!("default for `{}`", tok.model), |b| b.to_string())
                ),
                line: None,
            });
        }
    }
    // 5. The template's end-of-turn token is not end-of-generation.
    if let Some(text) = &rendered {
        if let Some(eot) = end_of_turn_token(text, tok) {
            let eog = tok.eog_ids();
            if let Some(id) = tok.id_of(&eot) {
                if !eog.contains(&id) {
                    out.push(Finding {
                        severity: "error",
                        code: "eot-not-eog",
                        message: format!(
                            "the template ends an assistant turn with `{eot}` (token {id}), which is not in llama.cpp's end-of-generation set {eog:?} (src/llama-vocab.cpp:2871-3032): generation will run past the turn"
                        ),
                        line: line_of(template, &eot),
                    });
                }
            }
        }
    }
    out
}

fn render_finding(e: &RenderError) -> Finding {
    let (severity, code, what) = match e.stage {
        "syntax" => ("error", "template-syntax", "does not parse"),
        "raise_exception" => (
            "warning",
            "template-render",
            "refuses a plain user/assistant conversation",
        ),
        _ => ("error", "template-render", "does not render"),
    };
    Finding {
        severity,
        code,
        message: format!("the template {what}: {e}"),
        line: e.line,
    }
}

fn line_of(template: &str, needle: &str) -> Option<usize> {
    let at = template.find(needle)?;
    Some(template.get(..at)?.matches('\n').count() + 1)
}
