//! `verify FILE [--json] [--hash xxh64|sha1|sha256|uuid] [--check MANIFEST] [--tensor NAME]`:
//! every tensor's bytes read once from the memory map, checked with llama.cpp's
//! `ggml_validate_row_data` rules and for bounds, and hashed as `llama-gguf-hash` does
//! (`ggufscope_verify`). Exit 0 clean, 1 on any finding or a manifest mismatch, 2 when the
//! file (or the manifest) cannot be read.
//!
//! With `--hash`, text output starts with the manifest lines exactly as `llama-gguf-hash`
//! prints them (`TYPE  HASH  FILE:TENSOR`, then `TYPE  HASH  FILE`), so `verify --hash xxh64
//! F > m` writes a manifest `llama-gguf-hash --check m F` reads, and the other way round.
//!
//! A remote source is refused unless `--tensor NAME` names what to read: then the head is
//! fetched as for every command, and each named tensor's bytes with one HTTP Range request.

use crate::report::verify::{to_json, write_text};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use ggufscope_gguf::{Gguf, GgufWriter, ParseOptions, TensorData};
use ggufscope_verify::{Algorithm, Options, Outcome, Report};

use crate::exit::{Failure, Status};
use crate::input::Input;
use crate::render::Paint;
use crate::source::{Location, RemoteFile};

/// Arguments of `verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The GGUF file (a local path; an http(s):// or hf:// source only with --tensor).
    #[arg(value_name = "FILE")]
    pub source: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Hash every tensor and the whole model as llama-gguf-hash does (comma-separated or
    /// repeated; `all` is xxh64, sha1 and sha256, as llama-gguf-hash --all).
    #[arg(long, value_enum, value_name = "ALGORITHM", value_delimiter = ',')]
    pub hash: Vec<HashChoice>,

    /// Compare the hashes with a llama-gguf-hash manifest (without --hash: the strongest hash
    /// the manifest has, as llama-gguf-hash --check picks).
    #[arg(long, value_name = "MANIFEST")]
    pub check: Option<PathBuf>,

    /// Read only this tensor (repeatable); no whole-model hash then.
    #[arg(long, value_name = "NAME")]
    pub tensor: Vec<String>,

    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// `--hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashChoice {
    /// xxHash64 (seed 0).
    Xxh64,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// The model's UUIDv5 (whole model only).
    Uuid,
    /// xxh64, sha1 and sha256.
    All,
}

fn algorithms(choices: &[HashChoice]) -> Vec<Algorithm> {
    let mut out: Vec<Algorithm> = choices
        .iter()
        .flat_map(|c| match c {
            HashChoice::Xxh64 => vec![Algorithm::Xxh64],
            HashChoice::Sha1 => vec![Algorithm::Sha1],
            HashChoice::Sha256 => vec![Algorithm::Sha256],
            HashChoice::Uuid => vec![Algorithm::Uuid],
            HashChoice::All => vec![Algorithm::Xxh64, Algorithm::Sha1, Algorithm::Sha256],
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Runs `verify`.
pub fn run(args: &VerifyArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let shown = args.source.display().to_string();
    let manifest = match &args.check {
        Some(path) => {
            let text = std::fs::read(path).with_context(|| {
                Failure::new(
                    Status::BadInput,
                    format!("reading the manifest {}", path.display()),
                )
            })?;
            let entries = ggufscope_verify::parse_manifest(&String::from_utf8_lossy(&text));
            if ggufscope_verify::hash::strongest_in(&entries).is_none() {
                return Err(anyhow::anyhow!(
                    "no line of a known hash (xxh64, sha1, sha256, uuid) in it"
                ))
                .with_context(|| {
                    Failure::new(
                        Status::BadInput,
                        format!("reading the manifest {}", path.display()),
                    )
                });
            }
            Some((path.display().to_string(), entries))
        }
        None => None,
    };
    let mut algorithms = algorithms(&args.hash);
    if algorithms.is_empty() {
        if let Some(strongest) = manifest
            .as_ref()
            .and_then(|(_, e)| ggufscope_verify::hash::strongest_in(e))
        {
            algorithms.push(strongest);
        }
    }

    let location = Location::parse(&args.source)?;
    let (report, elapsed) = match &location {
        Location::Remote(remote) => {
            if args.tensor.is_empty() {
                return Err(anyhow::anyhow!(
                    "verify reads every byte of every tensor, and will not download a whole \
                     remote model: pass --tensor NAME to verify named tensors over HTTP ranges, \
                     or download the file and verify it locally"
                ))
                .with_context(|| Failure::new(Status::BadInput, format!("verifying {shown}")));
            }
            verify_remote(args, remote, &algorithms)?
        }
        Location::Local(path) => {
            let failure = || Failure::new(Status::BadInput, format!("opening {shown}"));
            if path.is_dir() {
                return Err(anyhow::anyhow!("it is a directory")).with_context(failure);
            }
            let map = ggufscope_gguf::open(path).with_context(failure)?;
            let gguf = Gguf::parse_with(map.bytes(), ParseOptions::lenient())
                .with_context(|| Failure::new(Status::BadInput, format!("parsing {shown}")))?;
            let select = select(&gguf, &args.tensor, &shown)?;
            let options = Options {
                algorithms: algorithms.clone(),
                select,
                ..Options::default()
            };
            timed_verify(&gguf, &options, args.no_progress)
        }
    };
    tracing::info!(
        tensors = report.tensors.len(),
        bytes_scanned = report.bytes_scanned,
        bytes_hashed = report.bytes_hashed,
        seconds = elapsed.as_secs_f64(),
        "verified"
    );
    let checked = manifest
        .as_ref()
        .map(|(path, entries)| (path, ggufscope_verify::check(&report, entries, &shown)));

    let findings = report.finding_count();
    let check_ok = checked
        .as_ref()
        .is_none_or(|(_, c)| c.outcome == Outcome::Success);
    let status = if findings == 0 && check_ok {
        Status::Success
    } else {
        Status::ProblemsFound
    };
    if args.json {
        super::write_json(out, &to_json(&shown, &report, checked.as_ref()))?;
    } else {
        write_text(out, paint, &shown, &report, checked.as_ref(), &algorithms)?;
    }
    Ok(status)
}

/// The tensor indices `--tensor` names (all when none is named); an unknown name is exit 2.
fn select(gguf: &Gguf<'_>, names: &[String], shown: &str) -> anyhow::Result<Option<Vec<usize>>> {
    if names.is_empty() {
        return Ok(None);
    }
    names
        .iter()
        .map(|name| {
            gguf.tensors()
                .iter()
                .position(|t| t.name() == name)
                .ok_or_else(|| anyhow::anyhow!("no tensor named `{name}`"))
                .with_context(|| Failure::new(Status::BadInput, format!("verifying {shown}")))
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Some)
}

fn timed_verify(gguf: &Gguf<'_>, options: &Options, no_progress: bool) -> (Report, Duration) {
    let bar = (std::io::stderr().is_terminal() && !no_progress).then(|| {
        let bar = indicatif::ProgressBar::new(ggufscope_verify::work_bytes(gguf, options));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let started = Instant::now();
    let report = ggufscope_verify::verify(gguf, options, &|n| {
        if let Some(bar) = &bar {
            bar.inc(n);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    (report, started.elapsed())
}

/// `--tensor` on a remote source: the head as every command fetches it, then each named
/// tensor's bytes by one Range request, verified as a small GGUF holding just those tensors
/// (same types, shapes and byte order); offsets in the report are the remote file's.
fn verify_remote(
    args: &VerifyArgs,
    remote: &RemoteFile,
    algorithms: &[Algorithm],
) -> anyhow::Result<(Report, Duration)> {
    let shown = remote.shown();
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let indices = select(&gguf, &args.tensor, &shown)?.unwrap_or_default();
    let failure = || Failure::new(Status::BadInput, format!("fetching {shown}"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut writer = GgufWriter::new().endian(gguf.endian());
    let mut starts = Vec::new();
    for &i in &indices {
        let Some(t) = gguf.tensors().get(i) else {
            continue;
        };
        let start = input.data_offset(&gguf).saturating_add(t.offset());
        starts.push(start);
        let bytes = match t.n_bytes() {
            Ok(n) if n > 0 => fetch_range(&agent, remote, start, n).with_context(failure)?,
            _ => Vec::new(),
        };
        let data = match t.n_bytes() {
            Ok(n) if n == bytes.len() as u64 => TensorData::Bytes(bytes),
            // Cut short (or of unknown size): write zeros, and say so below.
            _ => TensorData::Zeros,
        };
        writer.add_tensor(t.name(), t.ggml_type(), t.dims(), data);
    }
    let mut file = Vec::new();
    writer
        .write(&mut file)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(failure)?;
    let local = Gguf::parse(&file)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(failure)?;
    let options = Options {
        algorithms: algorithms.to_vec(),
        select: Some((0..local.tensors().len()).collect()),
        ..Options::default()
    };
    let (mut report, elapsed) = timed_verify(&local, &options, args.no_progress);
    for (t, start) in report.tensors.iter_mut().zip(starts) {
        t.start = start;
    }
    Ok((report, elapsed))
}

/// `len` bytes from `start` of a remote file, by one Range request.
fn fetch_range(
    agent: &ureq::Agent,
    remote: &RemoteFile,
    start: u64,
    len: u64,
) -> anyhow::Result<Vec<u8>> {
    let last = start.saturating_add(len).saturating_sub(1);
    let mut request = agent
        .get(&remote.url())
        .header("Range", &format!("bytes={start}-{last}"));
    if let Some(token) = remote.token() {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call()?;
    if response.status().as_u16() != 206 {
        anyhow::bail!(
            "the server answered {} to a Range request, not 206 Partial Content",
            response.status()
        );
    }
    let bytes = response.body_mut().with_config().limit(len).read_to_vec()?;
    tracing::info!(url = %remote.shown(), start, bytes = bytes.len(), "fetched a tensor's bytes");
    Ok(bytes)
}
