//! `ggufscope validate SOURCE`: every format finding (the lenient parse's diagnostics and the
//! layout checks) and every schema finding (the tensors against the layout the architecture
//! requires). Exit 0 when no finding is an error, 1 otherwise, 2 when the file is unreadable.
//! On an unsupported architecture the format checks still run and a `schema_not_checked`
//! warning says why the schema was not. A split set is checked shard by shard (format) and
//! as a whole (schema); a remote file's tensor data is not downloaded, so only its bounds are
//! checked (against the file's size) and an info says so.

use std::io::Write;

use crate::cli::SourceArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::validate::ValidateReport;

/// Runs `validate`.
pub fn run(args: &SourceArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let report = ValidateReport::new(&gguf, &input.format_issues(&gguf));
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(if report.ok {
        Status::Success
    } else {
        Status::ProblemsFound
    })
}
