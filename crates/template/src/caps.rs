//! A chat template's capabilities, computed as llama.cpp's probe computes them
//! (`common/jinja/caps.cpp` `caps_get`, llama.cpp 0c1e570 as vendored in llama-cpp-python
//! 0.3.36): the template is run on fixed inputs and what it did with them is read back.
//!
//! | capability | llama.cpp | how |
//! |---|---|---|
//! | typed content | caps.cpp:118-184 | content `"STRING_MARKER"`: tested `is string`? used as an array? then content `[]`: iterated/indexed/`selectattr` and the run succeeds |
//! | string content | caps.cpp:149-155 | the string run fails, or content is used as an array and the marker is not in the output |
//! | system role | caps.cpp:186-213 | `messages[0].content` of a system message is used |
//! | tools, tool calls, object arguments | caps.cpp:215-307 | one call with object arguments: `tools[0].function.name` used, `messages[1].tool_calls` used, `…arguments.arg` used |
//! | (string arguments) | caps.cpp:309-397 | the same with arguments as a JSON string when objects were not read; a failed run means no tools |
//! | parallel tool calls | caps.cpp:399-493 | two calls: `messages[1].tool_calls[1].function` used |
//! | preserve reasoning | caps.cpp:495-540 | `enable_thinking`, `preserve_thinking`…: an earlier turn's `reasoning_content` is in the output |
//! | reasoning effort | caps.cpp:542-566 | `reasoning_effort` used |
//!
//! "Used" is llama.cpp's `stats.used` (set by a member access, an identifier lookup, a filter, a
//! test, a loop over the value, `tojson` deeply): here [`crate::track`] records member accesses,
//! loops and `tojson` on wrapped inputs, and the `string` test and `selectattr`-family filters
//! record their input. `reasoning_effort`, a plain string, counts as used when the output
//! depends on it (`low` against `high`) or the template reads the variable.
//! `thinking` is ggufscope's own: the generation prompt changes with `enable_thinking`, or an
//! assistant turn's reasoning is rendered (llama.cpp decides this with its differential
//! analyser, `common/chat-diff-analyzer.cpp`).

use std::sync::{Arc, Mutex};

use minijinja::value::Value;
use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::render::Renderer;
use crate::track::{wrap, SharedStats, Stats};

/// The content llama.cpp's typed-content probe sends (caps.cpp:121).
pub const STRING_MARKER: &str = "STRING_MARKER";
const REASONING_PLACEHOLDER: &str = "<REASONING_CONTENT_PLACEHOLDER>";

/// What a template supports (llama.cpp's `caps::to_map()` names, plus `supports_thinking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// A `system` message's content reaches the prompt.
    pub supports_system_role: bool,
    /// The tool list reaches the prompt.
    pub supports_tools: bool,
    /// Assistant tool calls are rendered.
    pub supports_tool_calls: bool,
    /// A second tool call in one turn is rendered.
    pub supports_parallel_tool_calls: bool,
    /// Tool-call arguments are read as an object (not a JSON string).
    pub supports_object_arguments: bool,
    /// Earlier turns' reasoning is kept in the prompt.
    pub supports_preserve_reasoning: bool,
    /// `reasoning_effort` changes the prompt.
    pub supports_reasoning_effort: bool,
    /// ggufscope's: the template has a thinking mode (`enable_thinking` changes the generation
    /// prompt, or reasoning is rendered).
    pub supports_thinking: bool,
    /// Message content may be a string.
    pub supports_string_content: bool,
    /// Message content may be a list of typed parts (`[{"type": "text", …}]`).
    pub supports_typed_content: bool,
}

struct Run {
    ok: bool,
    output: String,
    stats: Stats,
}

fn run(template: &str, messages: Json, tools: Option<Json>, extra: &[(&str, Json)]) -> Run {
    let stats: SharedStats = Arc::new(Mutex::new(Stats::default()));
    let renderer = Renderer::probing(stats.clone());
    let mut pairs: Vec<(String, Value)> = vec![
        (
            "messages".into(),
            wrap(&messages, "messages".into(), &stats),
        ),
        (
            "tools".into(),
            wrap(&tools.unwrap_or_else(|| json!([])), "tools".into(), &stats),
        ),
        ("bos_token".into(), Value::from("")),
        ("eos_token".into(), Value::from("")),
        ("add_generation_prompt".into(), Value::from(true)),
    ];
    for (k, v) in extra {
        pairs.push(((*k).to_string(), crate::render::to_value(v)));
    }
    let result = renderer.render_value(template, Value::from_pairs(pairs));
    drop(renderer);
    let stats = Arc::try_unwrap(stats)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_default();
    match result {
        Ok(output) => Run {
            ok: true,
            output,
            stats,
        },
        Err(_) => Run {
            ok: false,
            output: String::new(),
            stats,
        },
    }
}

impl Stats {
    fn is_used(&self, path: &str) -> bool {
        self.used.contains(path)
    }

    fn has_op(&self, path: &str, op: &str) -> bool {
        self.ops.get(path).is_some_and(|ops| ops.contains(op))
    }

    fn used_as_array(&self, path: &str) -> bool {
        self.has_op(path, "selectattr") || self.has_op(path, "array_access")
    }
}

fn tool_list() -> Json {
    json!([{
        "name": "tool",
        "type": "function",
        "function": {
            "name": "tool1",
            "description": "Tool description",
            "parameters": {
                "type": "object",
                "properties": {"arg": {"type": "string", "description": "Arg description"}},
                "required": ["arg"],
            },
        },
    }])
}

fn tool_conversation(calls: usize, args: &Json) -> Json {
    let calls: Vec<Json> = (1..=calls)
        .map(|i| json!({"id": format!("call0000{i}"), "type": "function", "function": {"name": "tool1", "arguments": args}}))
        .collect();
    json!([
        {"role": "user", "content": "User message"},
        {"role": "assistant", "content": "", "tool_calls": calls},
        {"role": "tool", "content": "Tool response", "tool_call_id": "call00001"},
        {"role": "assistant", "content": "The tool response was 'tool response'"},
        {"role": "user", "content": "User message"},
    ])
}

/// Whether the template reads the variable `name` (an identifier, not an attribute): llama.cpp's
/// engine marks a variable used when an identifier looks it up (runtime.cpp:83-89). (Static:
/// a read in a branch the probe does not take counts too.)
fn referenced(template: &str, name: &str) -> bool {
    let mut rest = template;
    while let Some(at) = rest.find(name) {
        let before = rest.get(..at).and_then(|b| b.chars().last());
        let after = rest.get(at + name.len()..).unwrap_or_default();
        let ident_before = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let ident_after = after
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !ident_before && !ident_after {
            return true;
        }
        rest = after;
    }
    false
}

/// Runs the probe on `template`.
pub fn probe(template: &str) -> Capabilities {
    let mut caps = Capabilities {
        supports_system_role: true,
        supports_tools: true,
        supports_tool_calls: true,
        supports_parallel_tool_calls: true,
        supports_object_arguments: false,
        supports_preserve_reasoning: false,
        supports_reasoning_effort: false,
        supports_thinking: false,
        supports_string_content: true,
        supports_typed_content: false,
    };

    // Typed content (caps.cpp:118-184).
    let r = run(
        template,
        json!([{"role": "user", "content": STRING_MARKER}]),
        None,
        &[],
    );
    let content = "messages.0.content";
    let checks_for_string = r.stats.has_op(content, "test_is_string");
    let marker_out = r.output.contains(STRING_MARKER);
    if !r.ok {
        caps.supports_string_content = false;
    }
    // A string cannot be tracked here, so the array use is read from the second run (llama.cpp
    // runs it only after an `is string` test; without one, an array use shows in both runs).
    let r2 = run(
        template,
        json!([{"role": "user", "content": []}]),
        None,
        &[],
    );
    if r2.stats.used_as_array(content) && r2.ok {
        caps.supports_typed_content = true;
        if !checks_for_string && r.ok && !marker_out {
            caps.supports_string_content = false;
        }
    }

    // System role (caps.cpp:186-213).
    let r = run(
        template,
        json!([{"role": "system", "content": "System message"}, {"role": "user", "content": "User message"}]),
        None,
        &[],
    );
    if !r.stats.is_used(content) {
        caps.supports_system_role = false;
    }

    // One call, object arguments (caps.cpp:215-307).
    let r = run(
        template,
        tool_conversation(1, &json!({"arg": "value"})),
        Some(tool_list()),
        &[],
    );
    if r.ok {
        if !r.stats.is_used("tools.0.function.name") {
            caps.supports_tools = false;
        }
        if !r.stats.is_used("messages.1.tool_calls") {
            caps.supports_tool_calls = false;
        } else if r
            .stats
            .is_used("messages.1.tool_calls.0.function.arguments.arg")
        {
            caps.supports_object_arguments = true;
        }
    }
    // One call, string arguments (caps.cpp:309-397).
    if !caps.supports_object_arguments {
        let r = run(
            template,
            tool_conversation(1, &json!("{\"arg\": \"value\"}")),
            Some(tool_list()),
            &[],
        );
        if !r.ok {
            caps.supports_tool_calls = false;
            caps.supports_tools = false;
        } else {
            if !r.stats.is_used("tools.0.function.name") {
                caps.supports_tools = false;
            }
            if !r.stats.is_used("messages.1.tool_calls") {
                caps.supports_tool_calls = false;
            }
        }
    }

    // Parallel calls (caps.cpp:399-493).
    let args = if caps.supports_object_arguments {
        json!({"arg": "value"})
    } else {
        json!("{\"arg\": \"value\"}")
    };
    let r = run(
        template,
        tool_conversation(2, &args),
        Some(tool_list()),
        &[],
    );
    if !r.ok || !r.stats.is_used("messages.1.tool_calls.1.function") {
        caps.supports_parallel_tool_calls = false;
    }

    // Preserved reasoning (caps.cpp:495-540).
    let preserve = [
        ("enable_thinking", json!(true)),
        ("preserve_thinking", json!(true)),
        ("clear_thinking", json!(false)),
        ("truncate_history_thinking", json!(false)),
        ("drop_thinking", json!(false)),
    ];
    let r = run(
        template,
        json!([
            {"role": "user", "content": "User message"},
            {"role": "assistant", "content": "Assistant message", "reasoning_content": REASONING_PLACEHOLDER},
            {"role": "user", "content": "User message"},
            {"role": "assistant", "content": "Assistant message", "reasoning_content": "Reasoning content"},
            {"role": "user", "content": "User message"},
        ]),
        None,
        &preserve,
    );
    caps.supports_preserve_reasoning = r.output.contains(REASONING_PLACEHOLDER);

    // Reasoning effort (caps.cpp:542-566): the output depends on it.
    let user = json!([{"role": "user", "content": "User message"}]);
    let effort = |level: &str| {
        run(
            template,
            user.clone(),
            None,
            &[
                ("enable_thinking", json!(true)),
                ("reasoning_effort", json!(level)),
                ("reasoning_strength", json!(level)),
            ],
        )
    };
    let (low, high) = (effort("low"), effort("high"));
    caps.supports_reasoning_effort = (low.ok && high.ok && low.output != high.output)
        || referenced(template, "reasoning_effort");

    // Thinking (ggufscope's): enable_thinking changes the prompt, or reasoning is rendered.
    let on = run(
        template,
        user.clone(),
        None,
        &[("enable_thinking", json!(true))],
    );
    let off = run(template, user, None, &[("enable_thinking", json!(false))]);
    let last = run(
        template,
        json!([
            {"role": "user", "content": "User message"},
            {"role": "assistant", "content": "Assistant message", "reasoning_content": REASONING_PLACEHOLDER},
        ]),
        None,
        &[("enable_thinking", json!(true))],
    );
    caps.supports_thinking = (on.ok && off.ok && on.output != off.output)
        || caps.supports_preserve_reasoning
        || last.output.contains(REASONING_PLACEHOLDER);
    caps
}
