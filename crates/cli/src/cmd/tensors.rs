//! `ggufscope tensors SOURCE`: every tensor in file order (name, ggml type, shape in ggml `ne`
//! order, elements, bytes, offset relative to the data section), then the totals. With
//! `--expected`: the layout the architecture requires for the file's configuration instead
//! (see [`crate::report::expected`]); that needs a supported architecture (exit 3 otherwise).

use std::io::Write;

use ggufscope_model::table;
use ggufscope_model::Model;

use crate::cli::TensorsArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::expected::{ExpectedReport, TableLayoutReport};
use crate::report::tensors::TensorsReport;

/// Runs `tensors`.
pub fn run(args: &TensorsArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    if args.expected {
        super::refuse_companion(&input, &gguf)?;
        let arch = super::architecture(&gguf);
        // Architectures without a Llama-shaped spec: the layout llama.cpp's own loader code
        // asks for (the table run against the file, or for a vocab-only file the required
        // layout of its configuration).
        if ggufscope_model::lookup(&arch).is_none() && table::table().holds(&arch) {
            let model = Model::new(&gguf).map_err(|e| input.config_error(e))?;
            let loaded = model.run();
            let report = TableLayoutReport::new(loaded);
            if args.json {
                super::write_json(out, &report)?;
            } else {
                report.render(out, paint)?;
            }
            return Ok(Status::Success);
        }
        let cfg = input.config(&gguf)?;
        let spec = ggufscope_model::spec_of(&gguf).map_err(|e| input.config_error(e))?;
        let report = ExpectedReport::new(spec, &gguf, &cfg);
        if args.json {
            super::write_json(out, &report)?;
        } else {
            report.render(out, paint)?;
        }
        return Ok(Status::Success);
    }
    let report = TensorsReport::new(&gguf, input.tensor_shards().as_deref());
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(Status::Success)
}
