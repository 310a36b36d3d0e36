//! Typed exit statuses, and the error wrapper that carries one.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also: the reader of stdout went away, `BrokenPipe`) |
//! | 1 | the analysis ran and found problems |
//! | 2 | the input could not be read or parsed (and any unclassified failure) |
//! | 3 | the architecture is not supported by a command that needs architecture knowledge |
//!
//! How the commands use them:
//! - `validate` exits 1 when any finding is an error (format or schema), 0 otherwise. On an
//!   unsupported architecture it still runs the format checks and exits 0/1 by them (a
//!   `schema_not_checked` warning says why the schema was skipped), never 3.
//! - `config`, `tensors --expected`, `compare` and `report` need the architecture: an
//!   unsupported one is exit 3 and the message lists the supported ones. A file that parses
//!   but whose configuration cannot be extracted (a missing or mistyped key, hyper-parameters
//!   that contradict each other, no `general.architecture`) is exit 1: the file is readable,
//!   the analysis found it unusable. Schema findings do not change their status: `report` and
//!   `compare` show them and exit 0.
//! - `inspect` and `tensors` work on any GGUF (0, or 2 when unreadable).
//!
//! Commands return `anyhow::Result<Status>`. A failure names its status by carrying a
//! [`Failure`] as the context of its error: `.with_context(|| Failure::new(Status::BadInput,
//! ..))`. `anyhow` can downcast to a context type through further contexts added above it.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 1: the analysis ran and found problems (`validate` errors, a configuration that
    /// cannot be extracted).
    ProblemsFound,
    /// Exit 2: the input could not be read or parsed.
    BadInput,
    /// Exit 3: the model's architecture is not supported.
    Unsupported,
}

impl Status {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::ProblemsFound => 1,
            Status::BadInput => 2,
            Status::Unsupported => 3,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status.code())
    }
}

/// The context of an error that decides the exit status; its `Display` is the message shown
/// before the cause (`opening x.gguf: No such file or directory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    status: Status,
    what: String,
}

impl Failure {
    /// A failure with this status, described by `what`.
    pub fn new(status: Status, what: impl Into<String>) -> Self {
        Self {
            status,
            what: what.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// Whether the error (anywhere in its chain) is a broken pipe: the reader of our output left.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The status an error maps to: the one its [`Failure`] names, else [`Status::BadInput`].
pub fn status_of(err: &anyhow::Error) -> Status {
    err.downcast_ref::<Failure>()
        .map_or(Status::BadInput, |f| f.status)
}

/// Prints `ggufscope: {err:#}` as one line (no backtrace) and returns the status; a broken pipe
/// prints nothing and is a success.
pub fn report_error(err: &anyhow::Error, stderr: &mut dyn Write) -> Status {
    if is_broken_pipe(err) {
        return Status::Success;
    }
    let line = format!("{err:#}").replace('\n', " ");
    // Nothing sensible is left to do if stderr itself cannot be written.
    let _ = writeln!(stderr, "ggufscope: {line}");
    status_of(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    fn failing(status: Status) -> anyhow::Result<()> {
        Err(io::Error::from(io::ErrorKind::NotFound))
            .with_context(|| Failure::new(status, "opening x.gguf"))
    }

    #[test]
    fn codes_are_the_documented_ones() {
        let codes = [
            Status::Success,
            Status::ProblemsFound,
            Status::BadInput,
            Status::Unsupported,
        ]
        .map(Status::code);
        assert_eq!(codes, [0, 1, 2, 3]);
    }

    #[test]
    fn failure_status_survives_further_context() {
        let err = failing(Status::Unsupported)
            .context("while checking")
            .unwrap_err();
        assert_eq!(status_of(&err), Status::Unsupported);
    }

    #[test]
    fn unclassified_errors_are_bad_input() {
        let err = anyhow::anyhow!("something else");
        assert_eq!(status_of(&err), Status::BadInput);
    }

    #[test]
    fn error_is_reported_on_one_line_with_its_cause() {
        let err = failing(Status::BadInput).unwrap_err();
        let mut buf = Vec::new();
        assert_eq!(report_error(&err, &mut buf), Status::BadInput);
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("ggufscope: opening x.gguf: "), "{text}");
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn broken_pipe_anywhere_in_the_chain_is_quiet_success() {
        let err = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("writing the report")
            .context(Failure::new(Status::BadInput, "outer"));
        let mut buf = Vec::new();
        assert_eq!(report_error(&err, &mut buf), Status::Success);
        assert!(buf.is_empty());
    }
}
