//! `ggufscope inspect SOURCE`: the header, every metadata entry in file order, a tensor summary,
//! the lenient parse's diagnostics and the layout findings. Only the header, metadata and
//! tensor infos must be readable: a file whose tensor data is cut short is inspected, and the
//! findings say what is missing. A remote file is inspected from its head (`fetched` says how
//! many bytes were read); a split set shows its first shard's header and metadata, every
//! shard's tensors, and the shards.

use std::io::Write;

use crate::cli::InspectArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::inspect::InspectReport;

/// Runs `inspect`.
pub fn run(args: &InspectArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let report = InspectReport::new(&gguf, &input, args.array_limit());
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(Status::Success)
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn inspect_json(path: std::path::PathBuf) -> Value {
        let args = InspectArgs {
            source: path,
            json: true,
            array_limit: 8,
            full_arrays: false,
        };
        let mut out = Vec::new();
        let status = run(&args, &mut out, Paint::plain()).unwrap();
        assert_eq!(status, Status::Success);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn phi3_json_has_exact_scalars_in_file_order() {
        let v = inspect_json(ggufscope_testkit::real_fixture("ggml-vocab-phi-3.gguf"));
        assert_eq!(
            v["metadata"][2],
            json!({"key": "phi3.context_length", "type": "u32", "value": 4096})
        );
        let eps = &v["metadata"][9];
        assert_eq!(eps["key"], "phi3.attention.layer_norm_rms_epsilon");
        assert_eq!(eps["type"], "f32");
        assert_eq!(eps["value"].as_f64().unwrap() as f32, 1e-5f32);
        assert_eq!(v["metadata"].as_array().unwrap().len(), 26);
        let tokens = &v["metadata"][15]["value"];
        assert_eq!(tokens["element_type"], "string");
        assert_eq!(tokens["len"], 32064);
        assert_eq!(tokens["head"].as_array().unwrap().len(), 8);
    }

    #[test]
    fn phi3_epsilon_is_written_as_the_short_decimal() {
        let args = InspectArgs {
            source: ggufscope_testkit::real_fixture("ggml-vocab-phi-3.gguf"),
            json: true,
            array_limit: 0,
            full_arrays: false,
        };
        let mut out = Vec::new();
        run(&args, &mut out, Paint::plain()).unwrap();
        let text = String::from_utf8(out).unwrap();
        // serde_json writes the f64 nearest to 1e-5 as `0.00001` (or `1e-5` in other versions).
        assert!(
            text.contains("\"value\": 0.00001\n") || text.contains("\"value\": 1e-5\n"),
            "{text}"
        );
    }
}
