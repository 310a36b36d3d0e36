//! Writes a full GGUF file (tensor data zeros, sparse) from a corpus head with its experts
//! widened to N_EXPERT in N_GROUPS groups of which N_GROUPS_USED are kept: DeepSeek-V3's group
//! routing (`build_moe_ffn`, src/llama-graph.cpp:2094-2117), which no file of llama.cpp's
//! generator has. Loaded by `tools/llama-ref/llama-ref-load`, it gives llama.cpp's compute buffer
//! for that subgraph (`tests/fixtures/expert-groups/`):
//!
//! ```sh
//! cargo run -p ggufscope-testkit --example expert_groups -- \
//!     tests/fixtures/llama-archs/deepseek2-moe.gguf 8 4 2 deepseek2-groups.gguf
//! ```
//!
//! Every tensor whose last dimension is the head's expert count and whose name is an expert
//! tensor (`_exps`, `ffn_gate_inp`, `exp_probs_b`) gets N_EXPERT there; the keys
//! `ARCH.expert_count`, `ARCH.expert_group_count` and `ARCH.expert_group_used_count` are set.

use std::process::ExitCode;

use ggufscope_gguf::{Gguf, GgufWriter, OwnedValue, ParseOptions, TensorData};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [head, n_expert, n_groups, n_used, out] = args.as_slice() else {
        eprintln!("usage: expert_groups HEAD N_EXPERT N_GROUPS N_GROUPS_USED OUT");
        return ExitCode::from(2);
    };
    let (Ok(n_expert), Ok(n_groups), Ok(n_used)) = (
        n_expert.parse::<u32>(),
        n_groups.parse::<u32>(),
        n_used.parse::<u32>(),
    ) else {
        eprintln!("N_EXPERT, N_GROUPS and N_GROUPS_USED must be numbers");
        return ExitCode::from(2);
    };
    let bytes = ggufscope_testkit::read_fixture(std::path::Path::new(head));
    let g = match Gguf::parse_with(&bytes, ParseOptions::lenient()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{head}: {e}");
            return ExitCode::from(2);
        }
    };
    let arch = ggufscope_testkit::arch_of(&g);
    let key = |k: &str| format!("{arch}.{k}");
    let old = g
        .metadata()
        .get_u64(&key("expert_count"))
        .ok()
        .flatten()
        .unwrap_or(0);
    let mut w = GgufWriter::new();
    let set = [
        (key("expert_count"), n_expert),
        (key("expert_group_count"), n_groups),
        (key("expert_group_used_count"), n_used),
    ];
    for kv in g.metadata().iter() {
        let k = String::from_utf8_lossy(kv.key().as_bytes()).to_string();
        if !set.iter().any(|(s, _)| *s == k) {
            w.add_kv(kv.key().as_bytes(), kv.value().to_owned_value());
        }
    }
    for (k, v) in &set {
        w.add_kv(k, OwnedValue::U32(*v));
    }
    for t in g.tensors() {
        let mut dims = t.dims().to_vec();
        let expert_tensor = ["_exps", "ffn_gate_inp.", "exp_probs_b"]
            .iter()
            .any(|p| t.name().contains(p));
        if expert_tensor && dims.last() == Some(&old) {
            if let Some(last) = dims.last_mut() {
                *last = u64::from(n_expert);
            }
        }
        w.add_tensor(t.name(), t.ggml_type(), &dims, TensorData::Zeros);
    }
    let result = std::fs::File::create(out)
        .map_err(|e| e.to_string())
        .and_then(|mut f| w.write_sparse(&mut f).map_err(|e| e.to_string()));
    match result {
        Ok(n) => {
            println!("{out}: {n} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::from(1)
        }
    }
}
