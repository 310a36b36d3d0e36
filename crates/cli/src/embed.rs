//! The command for other programs (the Python package, `crates/python`): [`run`] runs a
//! command line and hands back its output and status instead of printing them; [`open`] reads
//! a SOURCE the way every command does (a local file memory-mapped, a remote one up to the end
//! of its tensor infos); [`fetch_range`] reads bytes of a remote file (a tensor's data). Errors
//! are [`EmbedError`]: the command's exit status, its one-line message, and the format error
//! (offset, key or tensor) when one caused it.

use std::ffi::OsString;
use std::path::Path;

use clap::Parser;

use crate::cli::Cli;
use crate::exit::{status_of, Failure, Status};
use crate::render::Paint;
use crate::source::{Location, Opener};

pub use crate::source::Bytes;

/// What a command printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The exit code the command would have (0 ok, 1 findings).
    pub status: u8,
    /// What it wrote to stdout (JSON when `--json` was given).
    pub stdout: Vec<u8>,
}

/// Why a command or a read failed.
#[derive(Debug, Clone)]
pub struct EmbedError {
    /// The exit code the command would have: 1 (the configuration cannot be read), 2 (the
    /// input cannot be read or parsed, or the arguments are wrong), 3 (unsupported
    /// architecture).
    pub status: u8,
    /// The message the command prints on stderr (without the `ggufscope: ` prefix).
    pub message: String,
    /// The format error that caused it, when one did (its kind, offset, key or tensor).
    pub format: Option<ggufscope_gguf::Error>,
    /// The I/O error kind, when an I/O error caused it (a missing file: `NotFound`).
    pub io: Option<std::io::ErrorKind>,
    /// The arguments were refused (unknown option, bad value): clap's message.
    pub usage: bool,
}

impl std::fmt::Display for EmbedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EmbedError {}

impl From<anyhow::Error> for EmbedError {
    fn from(err: anyhow::Error) -> Self {
        let format = err
            .chain()
            .find_map(|c| c.downcast_ref::<ggufscope_gguf::Error>())
            .cloned();
        let io = err
            .chain()
            .find_map(|c| c.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind);
        Self {
            status: status_of(&err).code(),
            message: format!("{err:#}").replace('\n', " "),
            format,
            io,
            usage: false,
        }
    }
}

/// Runs `ggufscope ARGS…` (without the program name) and returns what it printed, with colours
/// off. Its logs go wherever the embedding program sent `tracing`'s events (nowhere, unless it
/// installed a subscriber).
pub fn run<I, T>(args: I) -> Result<Output, EmbedError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv = std::iter::once(OsString::from("ggufscope")).chain(args.into_iter().map(Into::into));
    let cli = Cli::try_parse_from(argv).map_err(|err| EmbedError {
        status: Status::BadInput.code(),
        message: err.to_string().trim().to_owned(),
        format: None,
        io: None,
        usage: true,
    })?;
    let mut stdout = Vec::new();
    let status = crate::cmd::run(&cli.command, &mut stdout, Paint::new(false))?;
    Ok(Output {
        status: status.code(),
        stdout,
    })
}

/// Reads a SOURCE as the commands do: a local file memory-mapped whole, a remote one
/// (`http(s)://`, `hf://OWNER/REPO/FILE[@REVISION]`) up to the end of its tensor infos. The
/// bytes are not parsed here.
pub fn open(source: &Path) -> Result<Bytes, EmbedError> {
    let location = Location::parse(source)?;
    Ok(Opener::default().read(&location)?.bytes)
}

/// Whether a SOURCE names a remote file.
pub fn is_remote(source: &Path) -> bool {
    Location::parse(source).is_ok_and(|l| l.is_remote())
}

/// Reads `len` bytes from `offset` of a remote SOURCE (one `Range` request). Fewer bytes than
/// asked (the file ends before) is an error.
pub fn fetch_range(source: &Path, offset: u64, len: u64) -> Result<Vec<u8>, EmbedError> {
    let Location::Remote(remote) = Location::parse(source)? else {
        return Err(anyhow::anyhow!("not a remote source")
            .context(Failure::new(Status::BadInput, source.display().to_string()))
            .into());
    };
    let bytes = crate::source::http::Client::from_env()
        .and_then(|client| client.fetch_range(&remote, offset, len))
        .map_err(|err| {
            err.context(Failure::new(
                Status::BadInput,
                format!("fetching {}", remote.shown()),
            ))
        })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_returns_the_json_and_the_status() {
        let phi3 = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/real/ggml-vocab-phi-3.gguf"
        );
        let out = run(["config", phi3, "--json"]).unwrap();
        assert_eq!(out.status, 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["architecture"], "phi3");
        assert_eq!(v["embedding_length"], 3072);
        let err = run(["config", "no-such-file.gguf", "--json"]).unwrap_err();
        assert_eq!(
            (err.status, err.io),
            (2, Some(std::io::ErrorKind::NotFound))
        );
        let err = run(["config", "--no-such-flag"]).unwrap_err();
        assert!(err.usage && err.status == 2, "{err:?}");
    }
}
