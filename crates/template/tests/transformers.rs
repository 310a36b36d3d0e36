//! Every chat template of llama.cpp's `models/templates/` (llama.cpp 0c1e570, the
//! llama-cpp-python 0.3.36 sdist; copied to `tests/fixtures/templates/jinja/`) rendered with the
//! fixed conversations of `tests/fixtures/templates/conversations.json` must be byte-identical
//! to what transformers' own `render_jinja_template` gave (`expected.json`, written by
//! `tools/template-ref/render_reference.py`), and fail where transformers failed.

use std::path::PathBuf;

use ggufscope_template::{Clock, RenderInput, Renderer};
use serde_json::Value;

/// (template, case, why minijinja cannot match). Each is asserted to still differ.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[(
    "meetkai-functionary-medium-v3.1.jinja",
    "tools",
    "`\"…\"|safe + t | tojson()`: in jinja2 `Markup + str` HTML-escapes the str (transformers renders \
     `{&#34;name&#34;: …}`); minijinja concatenates a safe string and a plain one unescaped, and \
     its `+` cannot be overridden",
)];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/templates")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The render input of one case of conversations.json.
pub fn input(conv: &Value, case: &Value) -> RenderInput {
    let special = conv["special_tokens"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    RenderInput {
        messages: case["messages"].clone(),
        tools: case.get("tools").cloned(),
        documents: case.get("documents").cloned(),
        add_generation_prompt: case["add_generation_prompt"].as_bool().unwrap_or(false),
        special_tokens: special,
        extra: Vec::new(),
    }
}

#[test]
fn templates_render_as_transformers_does() {
    let conv = load("conversations.json");
    let expected = load("expected.json");
    let renderer = Renderer::new(Clock::Fixed(2026, 1, 15, 9, 30, 0));
    let templates = expected["templates"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        templates.len() >= 70,
        "expected.json lists {} templates",
        templates.len()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, cases) in &templates {
        let source =
            std::fs::read_to_string(fixtures().join("jinja").join(file)).unwrap_or_default();
        for (name, want) in cases.as_object().cloned().unwrap_or_default() {
            let case = &conv["cases"][&name];
            let got = renderer.render(&source, &input(&conv, case));
            let same = match (&got, want.get("ok")) {
                (Ok(text), Some(Value::String(w))) => text == w,
                (Err(_), None) => true,
                _ => false,
            };
            let gap = KNOWN_GAPS.iter().find(|(t, c, _)| t == file && *c == name);
            match (same, gap) {
                (true, None) => checked += 1,
                (false, Some(_)) => {}
                (true, Some((_, _, why))) => failures.push(format!(
                    "{file} {name}: listed as a gap ({why}) but now matches"
                )),
                (false, None) => {
                    let got = match got {
                        Ok(t) => t,
                        Err(e) => format!("ERROR {e}"),
                    };
                    failures.push(format!(
                        "{file} {name}:\n--- want\n{want}\n--- got\n{got}\n"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 300, "{checked} cases matched");
}
