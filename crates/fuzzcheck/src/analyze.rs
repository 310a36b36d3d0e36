//! The `analyze` target: everything the model layer does with a parsed file, which must not
//! panic on any file the format layer accepts.

use std::io;

use ggufscope_gguf::{Gguf, ParseOptions, Severity};
use ggufscope_model::story::{seed_claims, Phi3Config, QwenConfig};
use ggufscope_model::{
    compare, expected_layout, llamafy, plan, plan_for, validate, ModelConfig, Verdict,
};

/// Outputs of `llamafy` up to this size are written to memory and parsed back; larger ones go
/// to `io::sink()`.
const PARSE_BACK_MAX_BYTES: usize = 16 << 20;

/// Parses `data` leniently and runs the model layer on it: `ModelConfig::from_gguf`, the
/// story's views, `validate`, `expected_layout` (the file's own Q/K/V layout and the
/// preferred one), `seed_claims`, `compare` with itself, the compatibility plan and, when the
/// plan is not incompatible and the file has tensors, `llamafy(..).write(..)`. Must not panic on
/// any parsed file; panics (as an oracle) when:
///
/// - `plan` and `plan_for` disagree on a file whose configuration reads;
/// - `llamafy` fails on a strictly valid file with a clean layout, every tensor's data in the
///   file, a clean schema and a plan that is not incompatible;
/// - a file `llamafy` wrote does not parse back, or has layout errors.
pub fn analyze(data: &[u8]) {
    let Ok(g) = Gguf::parse_with(data, ParseOptions::lenient()) else {
        return;
    };
    let layout_clean = !g
        .check_layout()
        .iter()
        .any(|f| f.severity == Severity::Error);
    let the_plan = plan(&g);
    for step in &the_plan.steps {
        let _ = step.describe();
    }
    for blocker in &the_plan.blockers {
        let _ = blocker.to_string();
    }
    let mut schema_clean = false;
    match ModelConfig::from_gguf(&g) {
        Ok(cfg) => {
            let _ = Phi3Config::try_from(&cfg);
            let _ = QwenConfig::try_from(&cfg);
            for il in [0, cfg.block_count.saturating_sub(1)] {
                let _ = cfg.layer(il);
            }
            let report = validate(&g, &cfg);
            for f in &report.findings {
                let _ = (f.to_string(), f.code(), f.severity(), f.tensor());
            }
            schema_clean = !report.has_errors();
            if let Some(spec) = cfg.spec() {
                for qkv in [None, report.qkv_layout] {
                    for t in expected_layout(spec, &cfg, qkv) {
                        let _ = t.elements();
                    }
                }
            }
            let _ = seed_claims(&g, &cfg);
            let cmp = compare((&g, &cfg), (&g, &cfg));
            let _ = cmp.differences().count();
            let direct = plan_for(&g, &cfg);
            assert_eq!(
                direct.verdict, the_plan.verdict,
                "plan and plan_for disagree"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if the_plan.verdict == Verdict::Incompatible || g.tensors().is_empty() {
        return;
    }
    // A tensor of an unknown type is only a layout warning, but its bytes cannot be located.
    let all_data = g.tensors().iter().all(|t| g.tensor_data(t).is_some());
    let must_work = layout_clean && schema_clean && all_data && Gguf::parse(data).is_ok();
    let w = match llamafy(&g, &the_plan) {
        Ok(w) => w,
        Err(e) if must_work => panic!("llamafy failed on a clean, compatible file: {e}"),
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    if data.len() > PARSE_BACK_MAX_BYTES {
        let written = w.write(&mut io::sink());
        assert!(
            written.is_ok() || !must_work,
            "writing the llama file failed: {written:?}"
        );
        return;
    }
    let mut out = Vec::new();
    match w.write(&mut out) {
        Ok(n) => assert_eq!(n, out.len() as u64),
        Err(e) if must_work => panic!("writing the llama file failed: {e}"),
        Err(_) => return,
    }
    let back = match Gguf::parse_with(&out, ParseOptions::lenient()) {
        Ok(back) => back,
        Err(e) => panic!("the llama file llamafy wrote does not parse: {e}"),
    };
    let errors: Vec<_> = back
        .check_layout()
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "the llama file has layout errors: {errors:?}"
    );
}
