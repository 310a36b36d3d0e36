//! `ggufscope compare A B`: two models side by side — configuration, attention, rope,
//! tokenizer and size rows, then tensor names and shapes (per-layer ones once, as `blk.*`).
//! A vocab-only side is compared through the layout its configuration requires, and the
//! output says so. Exit 3 if either architecture is unsupported.

use std::io::Write;

use crate::cli::CompareArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::compare::CompareReport;

/// Runs `compare`.
pub fn run(args: &CompareArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let (a, b) = (Input::open(&args.a)?, Input::open(&args.b)?);
    let (ga, gb) = (a.parse()?, b.parse()?);
    let (ca, cb) = (a.config(&ga)?, b.config(&gb)?);
    let report = CompareReport::new((a.name(), &ga, &ca), (b.name(), &gb, &cb));
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
