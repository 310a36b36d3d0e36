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
use ggufscope_model::tokenizer::Vocab;
use ggufscope_template::{Clock, RenderInput, Renderer};
use serde_json::{json, Value as Json};

use crate::exit::{Failure, Status};
use crate::input::Input;
use crate::render::Paint;
use crate::report::template::TemplateReport;
use crate::report::vocab::template_tokenizer;

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
    let vocab = Vocab::present(&gguf).then(|| Vocab::read(&gguf));
    let tok = template_tokenizer(&gguf, vocab.as_ref());
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
