//! `ggufscope llamafy IN -o OUT [--force]`: executes the adapter plan and writes a `llama`
//! file. Data streams from the mapped input to a temporary file beside OUT, which is renamed
//! only when everything is written (an error or an interrupt never leaves a half-written
//! OUT); an existing OUT is kept unless `--force`.

use crate::report::llamafy::LlamafyReport;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use anyhow::Context;
use ggufscope_model::{llamafy, ModelConfig, Verdict};

use crate::cli::LlamafyArgs;
use crate::exit::{Failure, Status};
use crate::input::Input;
use crate::render::Paint;
use crate::source::Location;

/// Counts bytes for the progress bar.
struct Progress<W> {
    inner: W,
    bar: Option<indicatif::ProgressBar>,
}

impl<W: Write> Write for Progress<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Runs `llamafy`.
pub fn run(args: &LlamafyArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    if Location::parse(&args.input)?.is_remote() {
        return Err(anyhow::anyhow!(
            "it needs the tensor data, and a remote source is read for its metadata only: download the file first"
        ))
        .with_context(|| {
            Failure::new(
                Status::BadInput,
                format!("llamafy {}", args.input.display()),
            )
        });
    }
    let input = Input::open(&args.input)?;
    let gguf = input.parse()?;
    super::refuse_companion(&input, &gguf)?;
    if !input.is_single_local_file() {
        let shards = input.shards().len();
        let why = if shards > 1 {
            format!("it is the first of {shards} shards and llamafy reads one file: merge them first (llama-gguf-split --merge)")
        } else {
            format!(
                "at {} bytes it is larger than this platform can map, and llamafy needs every byte: run it on a 64-bit system",
                input.file_len()
            )
        };
        return Err(anyhow::anyhow!(why))
            .with_context(|| Failure::new(Status::BadInput, format!("llamafy {}", input.shown())));
    }
    let plan = ggufscope_model::plan(&gguf);
    let refuse = |status, what: String| {
        Err(anyhow::anyhow!(what))
            .with_context(|| Failure::new(status, format!("llamafy {}", input.name())))
    };
    if plan.verdict == Verdict::Incompatible {
        let why: Vec<String> = plan.blockers.iter().map(ToString::to_string).collect();
        return refuse(
            Status::ProblemsFound,
            format!("the model cannot be adapted to llama: {}", why.join("; ")),
        );
    }
    if gguf.tensors().is_empty() {
        return refuse(
            Status::ProblemsFound,
            "the file has no tensors to convert (vocab-only): run `ggufscope compat` for the plan"
                .into(),
        );
    }
    if args.output.exists() && !args.force {
        return refuse(
            Status::BadInput,
            format!(
                "{} exists (use --force to overwrite)",
                args.output.display()
            ),
        );
    }
    let writer =
        llamafy(&gguf, &plan).with_context(|| Failure::new(Status::ProblemsFound, "llamafy"))?;
    let planned = writer.plan().context("planning the output")?;
    let total: u64 = planned.iter().map(|p| p.n_bytes).sum();
    let tensors_out = planned.len() as u64;
    let dir = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let failure = || {
        Failure::new(
            Status::BadInput,
            format!("writing {}", args.output.display()),
        )
    };
    let tmp = tempfile::Builder::new()
        .prefix(".llamafy-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .with_context(failure)?;
    let bar = (std::io::stderr().is_terminal() && !args.no_progress).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let file: &File = tmp.as_file();
    let mut sink = Progress {
        inner: BufWriter::new(file),
        bar,
    };
    let bytes_written = writer.write(&mut sink).with_context(failure)?;
    sink.flush().with_context(failure)?;
    if let Some(bar) = &sink.bar {
        bar.finish_and_clear();
    }
    drop(sink);
    tmp.as_file().sync_all().with_context(failure)?;
    // A temporary file is created private (0600); the result gets a normal file's mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .with_context(failure)?;
    }
    tmp.persist(&args.output)
        .map_err(|e| e.error)
        .with_context(failure)?;

    let written = Input::open(&args.output)?;
    let result = written.parse()?;
    let validates_clean = ModelConfig::from_gguf(&result)
        .map(|cfg| !ggufscope_model::validate(&result, &cfg).has_errors())
        .unwrap_or(false)
        && !result
            .check_layout_with_len(written.file_len())
            .iter()
            .any(|f| f.severity == ggufscope_gguf::Severity::Error);
    let report = LlamafyReport {
        input: input.name(),
        output: written.name(),
        source: plan.source.clone(),
        steps: plan.steps.iter().map(|s| s.describe()).collect(),
        tensors_in: gguf.tensors().len() as u64,
        tensors_out,
        bytes_written,
        validates_clean,
        remaining_differences: plan.remaining_differences.clone(),
    };
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(if validates_clean {
        Status::Success
    } else {
        Status::ProblemsFound
    })
}
