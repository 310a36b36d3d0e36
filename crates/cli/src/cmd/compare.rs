//! `ggufscope compare A B`: two models side by side — configuration, attention, rope,
//! tokenizer and size rows, then tensor names and shapes (per-layer ones once, as `blk.*`).
//! A vocab-only side is compared through the layout its configuration requires, and the
//! output says so. Two architectures with Llama-shaped specs are compared through `ModelConfig`;
//! any other pair the architecture table holds through what the table reads (`ArchFacts`).
//! Exit 3 if either architecture is unknown.

use std::io::Write;

use crate::cli::CompareArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::compare::CompareReport;
use ggufscope_model::table;
use ggufscope_model::Model;

/// Runs `compare`.
pub fn run(args: &CompareArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let (a, b) = (Input::open(&args.a)?, Input::open(&args.b)?);
    let (ga, gb) = (a.parse()?, b.parse()?);
    super::refuse_companion(&a, &ga)?;
    super::refuse_companion(&b, &gb)?;
    let (arch_a, arch_b) = (super::architecture(&ga), super::architecture(&gb));
    let spec = |a: &str| ggufscope_model::lookup(a).is_some();
    let held = |a: &str| table::table().holds(a);
    // Two architectures with Llama-shaped specs keep the wave-1 comparison (tokenizer rows,
    // the story's fields); any other pair the table holds is compared by what it reads.
    let report = if !(spec(&arch_a) && spec(&arch_b)) && held(&arch_a) && held(&arch_b) {
        let ma = Model::new(&ga).map_err(|e| a.config_error(e))?;
        let mb = Model::new(&gb).map_err(|e| b.config_error(e))?;
        CompareReport::from_facts((a.name(), ma.side()), (b.name(), mb.side()))
    } else {
        let (ca, cb) = (a.config(&ga)?, b.config(&gb)?);
        CompareReport::new((a.name(), &ga, &ca), (b.name(), &gb, &cb))
    };
    if args.json {
        super::write_json(out, &report)?;
    } else if args.markdown {
        writeln!(
            out,
            "# Comparison: `{}` and `{}`\n",
            report.a.file, report.b.file
        )?;
        report.markdown(out, "##")?;
    } else {
        report.render(out, paint)?;
    }
    Ok(Status::Success)
}
