//! The capability probe against llama.cpp's own (`tests/fixtures/templates/llama-caps.jsonl`:
//! `common/jinja/caps.cpp` `caps_get` built from llama.cpp 0c1e570's sources and run on each
//! template by `tools/template-ref/llama_caps.cpp`).

use std::path::PathBuf;

use serde_json::Value;

/// (template, capabilities, why ggufscope's answer differs from llama.cpp's). Each is asserted to
/// still differ. All but the last come from the engines, not the probe: the probe runs the
/// template as transformers would, and these fail under jinja2's rules where llama.cpp's own
/// engine carries on.
const KNOWN_DIFFERENCES: &[(&str, &[&str], &str)] = &[
    (
        "Kimi-K2-Instruct.jinja",
        TOOL_CAPS,
        "the tool runs call `list.append`, which jinja2's immutable sandbox (and minijinja) refuse and llama.cpp's engine allows",
    ),
    (
        "Kimi-K2-Thinking.jinja",
        TOOL_CAPS,
        "the tool runs call `list.append`, which jinja2's immutable sandbox (and minijinja) refuse and llama.cpp's engine allows",
    ),
    (
        "llama-cpp-deepseek-r1.jinja",
        TOOL_CAPS,
        "`tools | map(attribute='function') | tojson`: jinja2's map is a generator json.dumps refuses; llama.cpp's map is a list",
    ),
    (
        "fireworks-ai-llama-3-firefunction-v2.jinja",
        &[
            "supports_object_arguments",
            "supports_parallel_tool_calls",
            "supports_string_content",
            "supports_system_role",
            "supports_tool_calls",
        ],
        "adds the variables `functions` and `datetime` that nobody passes to a string: jinja2 raises on `str + Undefined`, llama.cpp's engine concatenates",
    ),
    (
        "NVIDIA-Nemotron-Nano-v2.jinja",
        &["supports_typed_content"],
        "`'/think' in content` with content `[]`: minijinja's `in` enumerates the array, which the tracker counts as array access; llama.cpp's `in` does not mark it",
    ),
];

const TOOL_CAPS: &[&str] = &[
    "supports_object_arguments",
    "supports_parallel_tool_calls",
    "supports_tool_calls",
    "supports_tools",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/templates")
}

#[test]
fn capabilities_agree_with_llama_cpp() {
    let truth = std::fs::read_to_string(fixtures().join("llama-caps.jsonl")).unwrap_or_default();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for line in truth.lines() {
        let row: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let file = row["file"].as_str().unwrap_or_default();
        let source =
            std::fs::read_to_string(fixtures().join("jinja").join(file)).unwrap_or_default();
        let ours = serde_json::to_value(ggufscope_template::probe(&source)).unwrap_or(Value::Null);
        for (cap, want) in row["caps"].as_object().cloned().unwrap_or_default() {
            let got = &ours[&cap];
            let known = KNOWN_DIFFERENCES
                .iter()
                .find(|(t, caps, _)| *t == file && caps.contains(&cap.as_str()));
            match (got == &want, known) {
                (true, None) => compared += 1,
                (false, Some(_)) => {}
                (true, Some(_)) => {
                    mismatches.push(format!("{file} {cap}: listed as differing but agrees"))
                }
                (false, None) => {
                    mismatches.push(format!("{file} {cap}: llama.cpp {want}, ggufscope {got}"))
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} differences:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(compared > 600, "{compared} answers compared");
}
