//! `template FILE [--messages FILE|-] [--tools FILE] [--no-generation-prompt] [--name NAME]
//! [--json]`: renders the file's chat template (`tokenizer.chat_template`, or
//! `tokenizer.chat_template.NAME`) exactly as transformers' `apply_chat_template` would, with
//! the tokenizer's special-token texts, and reports the template's capabilities (llama.cpp's
//! probe) and serving findings (`ggufscope_template`). Without `--messages`, a built-in sample
//! conversation. Exit 0, 1 when a finding is an error, 2 when the file or an input cannot be
//! read or the file has no such template.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use ggufscope_gguf::{Gguf, ValueType};
use ggufscope_template::{Clock, RenderInput, Renderer, Tokenizer};
use serde_json::{json, Value as Json};

use crate::exit::{Failure, Status};
use crate::input::Input;
use crate::render::Paint;
use crate::report::template::TemplateReport;

/// Arguments of `template`.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// The GGUF file: a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION].
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// The conversation: a JSON array of messages (or `{"messages": [...]}`), `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub messages: Option<PathBuf>,

    /// Tools: a JSON array of tool schemas passed as `tools`.
    #[arg(long, value_name = "FILE")]
    pub tools: Option<PathBuf>,

    /// Do not ask for the assistant's turn (`add_generation_prompt` false).
    #[arg(long)]
    pub no_generation_prompt: bool,

    /// Use the named template `tokenizer.chat_template.NAME` (e.g. `tool_use`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The conversation rendered without `--messages`.
pub fn sample_messages() -> Json {
    json!([
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hi there. How can I help?"},
        {"role": "user", "content": "What is the capital of France?"}
    ])
}

fn read_json(path: &PathBuf) -> anyhow::Result<Json> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| {
            Failure::new(Status::BadInput, format!("cannot read {}", path.display()))
        })?;
    }
    serde_json::from_str(&text)
        .with_context(|| Failure::new(Status::BadInput, format!("{} is not JSON", path.display())))
}

fn ids(gguf: &Gguf<'_>, key: &str) -> Option<u32> {
    gguf.metadata().get_u32(key).ok().flatten()
}

/// The tokenizer facts of a file.
pub fn tokenizer(gguf: &Gguf<'_>) -> Tokenizer {
    let md = gguf.metadata();
    let tokens = md
        .get_array("tokenizer.ggml.tokens", Some(ValueType::String))
        .ok()
        .flatten()
        .and_then(|a| {
            a.strings().map(|s| {
                s.map(|t| t.to_str().unwrap_or_default().to_string())
                    .collect()
            })
        })
        .unwrap_or_default();
    let token_types = md
        .get_array("tokenizer.ggml.token_type", None)
        .ok()
        .flatten()
        .map(|a| {
            a.iter()
                .map(|v| {
                    v.as_integer()
                        .and_then(|i| i32::try_from(i).ok())
                        .unwrap_or(0)
                })
                .collect()
        })
        .unwrap_or_default();
    let fim = [
        "tokenizer.ggml.fim_pad_token_id",
        "tokenizer.ggml.fim_rep_token_id",
        "tokenizer.ggml.fim_sep_token_id",
    ]
    .iter()
    .filter_map(|k| ids(gguf, k))
    .collect();
    Tokenizer {
        model: md
            .get_str("tokenizer.ggml.model")
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_string(),
        tokens,
        token_types,
        bos: ids(gguf, "tokenizer.ggml.bos_token_id"),
        eos: ids(gguf, "tokenizer.ggml.eos_token_id"),
        eot: ids(gguf, "tokenizer.ggml.eot_token_id"),
        eom: ids(gguf, "tokenizer.ggml.eom_token_id"),
        unk: ids(gguf, "tokenizer.ggml.unknown_token_id"),
        pad: ids(gguf, "tokenizer.ggml.padding_token_id"),
        fim,
        add_bos: md.get_bool("tokenizer.ggml.add_bos_token").ok().flatten(),
    }
}

/// Runs `template`.
pub fn run(args: &TemplateArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let key = match &args.name {
        Some(name) => format!("tokenizer.chat_template.{name}"),
        None => "tokenizer.chat_template".to_string(),
    };
    let template = gguf
        .metadata()
        .get_str(&key)
        .ok()
        .flatten()
        .with_context(|| {
            Failure::new(
                Status::BadInput,
                format!("{} has no `{key}`", input.shown()),
            )
        })?
        .to_string();
    let mut messages = match &args.messages {
        Some(path) => read_json(path)?,
        None => sample_messages(),
    };
    if let Some(inner) = messages.get("messages") {
        messages = inner.clone();
    }
    // apply_chat_template drops the keys whose value is None (`_normalize_chat_messages`).
    if let Json::Array(items) = &mut messages {
        for m in items.iter_mut() {
            if let Json::Object(map) = m {
                map.retain(|_, v| !v.is_null());
            }
        }
    }
    let tools = args.tools.as_ref().map(read_json).transpose()?;
    let tok = tokenizer(&gguf);
    let renderer = Renderer::new(Clock::System);
    let render_input = RenderInput {
        messages,
        tools,
        documents: None,
        add_generation_prompt: !args.no_generation_prompt,
        special_tokens: tok.special_tokens(),
        extra: Vec::new(),
    };
    let (rendered, error) = match renderer.render(&template, &render_input) {
        Ok(text) => (Some(text), None),
        Err(e) => (None, Some(e)),
    };
    let report = TemplateReport {
        key,
        rendered,
        error,
        capabilities: ggufscope_template::probe(&template),
        findings: ggufscope_template::check(&template, &tok, &renderer),
    };
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(if report.has_errors() {
        Status::ProblemsFound
    } else {
        Status::Success
    })
}
