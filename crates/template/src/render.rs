//! Rendering a chat template the way transformers' `apply_chat_template` does.
//!
//! transformers (`utils/chat_template_utils.py`, `_cached_compile_jinja_template`) compiles a
//! template in a jinja2 `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
//! extensions=[AssistantTracker, loopcontrols])` with a `tojson` filter that is `json.dumps`
//! (`ensure_ascii=False`), and the globals `raise_exception`, `strftime_now`, `dict`,
//! `namespace`; `render_jinja_template` passes `messages` (with reasoning aliased:
//! `_alias_reasoning_fields`), `tools`, `documents`, `add_generation_prompt` and, from
//! `apply_chat_template`, the tokenizer's `special_tokens_map` (`bos_token`, `eos_token`,
//! `unk_token`, `pad_token`, …). This module builds the same environment in minijinja with
//! minijinja-contrib's Python compatibility (`str.strip()`, `dict.items()`, …).

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value as Json;

use crate::pyjson::{self, DumpOptions};

/// What a template is rendered with.
#[derive(Debug, Clone, Default)]
pub struct RenderInput {
    /// The conversation (a JSON array of message objects).
    pub messages: Json,
    /// `tools` (a JSON array), `None` when not given (the template sees `none`).
    pub tools: Option<Json>,
    /// `documents`, `None` when not given.
    pub documents: Option<Json>,
    /// `add_generation_prompt`.
    pub add_generation_prompt: bool,
    /// The tokenizer's special-token texts, passed as `bos_token`, `eos_token`, … (as
    /// transformers' `special_tokens_map`: only those the tokenizer has).
    pub special_tokens: Vec<(String, String)>,
    /// Further template variables (`enable_thinking`, …), after the special tokens (they
    /// override them, as `apply_chat_template`'s kwargs do).
    pub extra: Vec<(String, Json)>,
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderError {
    /// `syntax` (the template does not parse), `raise_exception` (the template refused the
    /// input), or `render` (evaluation failed).
    pub stage: &'static str,
    /// The engine's message.
    pub message: String,
    /// The 1-based template line, when known.
    pub line: Option<usize>,
    /// The source text of that line (trimmed), when known.
    pub construct: Option<String>,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(line) = self.line {
            write!(f, " (line {line}")?;
            if let Some(c) = &self.construct {
                write!(f, ": `{c}`")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

const RAISED: &str = "raise_exception: ";

/// The clock `strftime_now` reads: the system clock (UTC), or a fixed time for reproducible
/// output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// `datetime.now()` in UTC.
    System,
    /// A fixed civil time: (year, month, day, hour, minute, second).
    Fixed(i64, u32, u32, u32, u32, u32),
}

/// A configured renderer (the environment is built once per template).
pub struct Renderer {
    env: Environment<'static>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

/// Rewrites `{% generation %}`/`{% endgeneration %}` (transformers' AssistantTracker tag, which
/// renders its body unchanged) as `{% if true %}`/`{% endif %}`, keeping the tag's whitespace
/// control and position so trim_blocks/lstrip_blocks and line numbers stay the same.
pub fn rewrite_generation_tags(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        let (before, tag) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = tag.find("%}") else {
            out.push_str(tag);
            return out;
        };
        let inner = tag.get(2..end).unwrap_or_default();
        let lead = inner
            .strip_prefix(['-', '+'])
            .map_or("", |_| inner.get(..1).unwrap_or_default());
        let trail_ws = inner.ends_with(['-', '+']);
        let trail = if trail_ws {
            inner.get(inner.len() - 1..).unwrap_or_default()
        } else {
            ""
        };
        let body = inner
            .get(lead.len()..inner.len() - trail.len())
            .unwrap_or_default()
            .trim();
        let replacement = match body {
            "generation" => Some("if true"),
            "endgeneration" => Some("endif"),
            _ => None,
        };
        match replacement {
            Some(r) => out.push_str(&format!("{{%{lead} {r} {trail}%}}")),
            None => out.push_str(tag.get(..end + 2).unwrap_or_default()),
        }
        rest = tag.get(end + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

impl Renderer {
    /// The environment transformers gives a template.
    pub fn new(clock: Clock) -> Renderer {
        Renderer {
            env: environment(clock, None),
        }
    }

    /// The same environment, recording `is string` tests and `selectattr` on tracked values
    /// into `stats` (for the capability probe).
    pub fn probing(stats: crate::track::SharedStats) -> Renderer {
        Renderer {
            env: environment(Clock::System, Some(stats)),
        }
    }

    /// Renders `template` with `input`.
    pub fn render(&self, template: &str, input: &RenderInput) -> Result<String, RenderError> {
        self.render_value(template, context(input))
    }

    /// Renders `template` with a prepared context (any value).
    pub fn render_value(&self, template: &str, ctx: Value) -> Result<String, RenderError> {
        let source = rewrite_generation_tags(template);
        let tmpl = self
            .env
            .template_from_str(&source)
            .map_err(|e| render_error(&e, template, "syntax"))?;
        tmpl.render(ctx).map_err(|e| {
            let stage = if e.to_string().contains(RAISED) {
                "raise_exception"
            } else {
                "render"
            };
            render_error(&e, template, stage)
        })
    }
}

fn environment(clock: Clock, probe: Option<crate::track::SharedStats>) -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(false)
        .build();
    if let Ok(syntax) = syntax {
        env.set_syntax(syntax);
    }
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.set_formatter(python_formatter);
    env.add_filter("tojson", tojson);
    env.add_filter("string", |v: Value| -> Result<Value, Error> {
        crate::track::mark_deep(&v); // llama.cpp's `string` of an object is its `tojson`
        Ok(Value::from(python_str(&v)))
    });
    env.add_function(
        "raise_exception",
        |message: Value| -> Result<Value, Error> {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("{RAISED}{}", python_str(&message)),
            ))
        },
    );
    env.add_function(
        "strftime_now",
        move |format: String| -> Result<Value, Error> {
            Ok(Value::from(crate::strftime::strftime_now(&format, clock)))
        },
    );
    crate::pyobj::register(&mut env, probe);
    env.set_debug(false);
    env
}

/// The template's variables, as `render_jinja_template` passes them.
pub fn context(input: &RenderInput) -> Value {
    let messages = match &input.messages {
        Json::Array(items) => Json::Array(items.iter().map(alias_reasoning).collect()),
        other => other.clone(),
    };
    let mut pairs: Vec<(String, Value)> = vec![
        ("messages".into(), to_value(&messages)),
        (
            "tools".into(),
            input.tools.as_ref().map_or_else(py_none, to_value),
        ),
        (
            "documents".into(),
            input.documents.as_ref().map_or_else(py_none, to_value),
        ),
        (
            "add_generation_prompt".into(),
            Value::from(input.add_generation_prompt),
        ),
    ];
    for (k, v) in &input.special_tokens {
        pairs.push((k.clone(), Value::from(v.as_str())));
    }
    for (k, v) in &input.extra {
        pairs.push((k.clone(), to_value(v)));
    }
    Value::from_pairs(pairs)
}

fn py_none() -> Value {
    Value::from_object(crate::pyobj::PyNone)
}

/// transformers' `_alias_reasoning_fields`: a message with reasoning under `reasoning_content`,
/// `thinking` or `reasoning` becomes `{"thinking": r, **message, "reasoning_content": r}`.
fn alias_reasoning(message: &Json) -> Json {
    let Json::Object(map) = message else {
        return message.clone();
    };
    let reasoning = ["reasoning_content", "thinking", "reasoning"]
        .iter()
        .find_map(|k| map.get(*k).filter(|v| !v.is_null()))
        .cloned();
    let Some(reasoning) = reasoning else {
        return message.clone();
    };
    let mut out = serde_json::Map::new();
    out.insert("thinking".into(), reasoning.clone());
    for (k, v) in map {
        out.insert(k.clone(), v.clone());
    }
    out.insert("reasoning_content".into(), reasoning);
    Json::Object(out)
}

/// A JSON value as a template value (maps keep their key order).
pub fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(items.iter().map(to_value).collect::<Vec<_>>()),
        Json::Object(map) => Value::from_pairs(map.iter().map(|(k, v)| (k.clone(), to_value(v)))),
    }
}

fn render_error(e: &Error, template: &str, stage: &'static str) -> RenderError {
    let mut message = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_string);
    if let Some(stripped) = message.strip_prefix(RAISED) {
        message = stripped.to_string();
    } else if e.detail().is_some() {
        message = format!("{}: {message}", e.kind());
    }
    let line = e.line();
    let construct = line
        .and_then(|l| template.lines().nth(l.saturating_sub(1)))
        .map(|s| {
            let s = s.trim();
            if s.chars().count() > 160 {
                let cut: String = s.chars().take(160).collect();
                format!("{cut}…")
            } else {
                s.to_string()
            }
        });
    RenderError {
        stage,
        message,
        line,
        construct,
    }
}

/// Python's `str()` of a template value.
pub fn python_str(value: &Value) -> String {
    if let Some(plain) = crate::track::untracked(value) {
        return python_str(&plain);
    }
    match value.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::None => "None".into(),
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.into(),
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        ValueKind::Number if !value.is_integer() => f64::try_from(value.clone())
            .map_or_else(|_| value.to_string(), pyjson::python_float_repr),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            let mut out = String::new();
            python_repr(&mut out, value);
            out
        }
        _ => value.to_string(),
    }
}

/// Python's `repr()` of a template value (strings quoted as Python quotes them).
fn python_repr(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::String => out.push_str(&python_str_repr(value.as_str().unwrap_or_default())),
        ValueKind::Seq | ValueKind::Iterable => {
            let is_tuple = value
                .downcast_object_ref::<minijinja::value::Tuple>()
                .is_some();
            out.push(if is_tuple { '(' } else { '[' });
            let items: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_repr(out, item);
            }
            if is_tuple && items.len() == 1 {
                out.push(',');
            }
            out.push(if is_tuple { ')' } else { ']' });
        }
        ValueKind::Map => {
            out.push('{');
            let keys: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_repr(out, key);
                out.push_str(": ");
                python_repr(out, &value.get_item(key).unwrap_or_default());
            }
            out.push('}');
        }
        ValueKind::Undefined => out.push_str("Undefined"),
        _ => out.push_str(&python_str(value)),
    }
}

fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn python_formatter(
    out: &mut minijinja::Output,
    _state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    if value.is_undefined() {
        return Ok(());
    }
    out.write_str(&python_str(value))
        .map_err(|_| Error::new(ErrorKind::WriteFailure, "write"))
}

fn tojson(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let mut options = DumpOptions::default();
    if let Some(v) = kwargs.get::<Option<Value>>("ensure_ascii")? {
        options.ensure_ascii = v.is_true();
    }
    if let Some(v) = kwargs.get::<Option<Value>>("indent")? {
        options.indent = match v.kind() {
            ValueKind::None => None,
            ValueKind::String => Some(v.as_str().unwrap_or_default().to_string()),
            _ => Some(" ".repeat(v.as_usize().unwrap_or(0))),
        };
        if options.indent.is_some() {
            options.separators.0 = ",".into();
        }
    }
    if let Some(v) = kwargs.get::<Option<Value>>("separators")? {
        if !v.is_none() {
            let a = v.get_item(&Value::from(0))?;
            let b = v.get_item(&Value::from(1))?;
            options.separators = (python_str(&a), python_str(&b));
        }
    }
    if let Some(v) = kwargs.get::<Option<Value>>("sort_keys")? {
        options.sort_keys = v.is_true();
    }
    kwargs.assert_all_used()?;
    Ok(Value::from(pyjson::dumps(value, &options)?))
}
