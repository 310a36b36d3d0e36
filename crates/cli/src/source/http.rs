//! Reading the head of a remote GGUF file: a [`RangeRead`] over HTTP `Range` requests, read by
//! the format crate's one head reader ([`ggufscope_gguf::read_head`], the same loop that reads
//! a local file too large to map), never the tensor data.
//!
//! The first request asks for [`ggufscope_gguf::FIRST_HEAD_READ_BYTES`]. While the parser
//! answers `Truncated { needed }`, the next request asks for exactly the missing range, extended
//! to [`ggufscope_gguf::next_head_len`]: the head's length estimated from what is held (the rest
//! of a long string array from the strings already seen, the per-token arrays a tokenizer still
//! has to come, the tensor infos), at least `needed` and a quarter more than is held. So a head
//! under 64 MiB costs at most three requests and 1.25 × its length + 1 MiB (the Qwen2 vocab
//! file, 5.9 MB: three requests, 5.9 MB; with tensor data after it, 6.7 MB), one request when it
//! fits the first; it never asks past the file's end, which the first answer's `Content-Range`
//! tells. A server that ignores `Range` (200 with the whole file) is read only as far as needed
//! and the connection is then dropped. Redirects are followed (an `Authorization` header only to
//! the same host); 4xx/5xx answers, a body shorter than promised and timeouts are errors.
//! `-v` logs the number of requests and bytes.

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Context};
use ggufscope_gguf::{HeadError, HeadLimits, RangeRead};
use ureq::config::RedirectAuthHeaders;

use super::RemoteFile;

/// The most a remote source is read for its metadata; a file that needs more is refused.
pub const MAX_HEAD_BYTES: u64 = 1 << 30;
/// The environment variable that sets the connect and read timeouts, in seconds.
pub const TIMEOUT_ENV: &str = "GGUFSCOPE_HTTP_TIMEOUT";
/// The connect and read timeouts when [`TIMEOUT_ENV`] is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A blocking HTTP client (one connection pool for every remote file of a run).
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
}

/// The head of a remote file.
#[derive(Debug)]
pub struct Head {
    /// The bytes read, from offset 0.
    pub bytes: Vec<u8>,
    /// The length of the whole file, when the server said it.
    pub file_len: Option<u64>,
}

impl Client {
    /// A client with the timeouts of [`TIMEOUT_ENV`] (default [`DEFAULT_TIMEOUT`]).
    pub fn from_env() -> anyhow::Result<Self> {
        let timeout = match std::env::var(TIMEOUT_ENV) {
            Ok(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| *s > 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .with_context(|| {
                    format!("{TIMEOUT_ENV} must be a positive number of seconds, not `{text}`")
                })?,
            Err(_) => DEFAULT_TIMEOUT,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_per_read(Some(timeout))
            .redirect_auth_headers(RedirectAuthHeaders::SameHost)
            .user_agent(format!("ggufscope/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self { agent })
    }

    /// Reads the file up to the end of its tensor infos (or all of it, if it is shorter or
    /// broken: parsing what was read then tells what is wrong).
    pub fn fetch_head(&self, file: &RemoteFile) -> anyhow::Result<Head> {
        let (url, head) = (file.url(), self.fetch(file));
        if url == file.shown() {
            head
        } else {
            // An `hf://` source's messages also show the URL it resolved to.
            head.with_context(|| format!("GET {url}"))
        }
    }

    /// Reads `len` bytes from `offset` (a tensor's data): one `Range` request (a server that
    /// ignores `Range` is read up to the end of the range). Fewer bytes than asked is an error.
    pub fn fetch_range(&self, file: &RemoteFile, offset: u64, len: u64) -> anyhow::Result<Vec<u8>> {
        let mut t = Transfer {
            agent: &self.agent,
            url: file.url(),
            token: file.token(),
            held: offset,
            file_len: None,
            stream: None,
            at_end: false,
            requests: 0,
            received: 0,
        };
        let mut buf = Vec::new();
        let room = usize::try_from(len)
            .ok()
            .filter(|&room| buf.try_reserve_exact(room).is_ok())
            .with_context(|| format!("could not reserve {len} bytes"))?;
        t.read_at(offset, len, &mut buf)?;
        if buf.len() < room {
            bail!(
                "asked for {len} bytes from byte {offset}, the file has only {}",
                buf.len()
            );
        }
        tracing::info!(url = %file.shown(), offset, bytes = len, requests = t.requests, "read a range of a remote file");
        Ok(buf)
    }

    fn fetch(&self, file: &RemoteFile) -> anyhow::Result<Head> {
        let mut t = Transfer {
            agent: &self.agent,
            url: file.url(),
            token: file.token(),
            held: 0,
            file_len: None,
            stream: None,
            at_end: false,
            requests: 0,
            received: 0,
        };
        let head =
            ggufscope_gguf::read_head(&mut t, HeadLimits::new(MAX_HEAD_BYTES)).map_err(|err| {
                match err {
                    HeadError::Read { source, .. } => source,
                    other => anyhow::anyhow!("parsing the file's head: {other}"),
                }
            })?;
        tracing::info!(
            url = %file.shown(),
            requests = t.requests,
            bytes = t.received,
            file_bytes = t.file_len,
            "read the head of a remote file"
        );
        Ok(Head {
            bytes: head.bytes,
            file_len: head.file_len,
        })
    }
}

/// The state of reading one file: a [`RangeRead`] for [`ggufscope_gguf::read_head`], which
/// asks for the bytes right after those it holds.
struct Transfer<'c> {
    agent: &'c ureq::Agent,
    url: String,
    token: Option<&'c str>,
    /// The bytes read so far (the head reader holds them).
    held: u64,
    file_len: Option<u64>,
    /// The body of an answer that ignored `Range`, positioned at `held`.
    stream: Option<ureq::BodyReader<'static>>,
    /// No byte follows the ones held.
    at_end: bool,
    requests: u32,
    received: u64,
}

impl RangeRead for Transfer<'_> {
    type Error = anyhow::Error;

    fn len(&self) -> Option<u64> {
        self.file_len
    }

    /// Reads `len` bytes from `offset` (the end of those held) into `buf`: a Range request,
    /// or more of a whole-file answer.
    fn read_at(&mut self, offset: u64, len: u64, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        if offset != self.held {
            bail!(
                "asked for byte {offset} of a transfer at byte {}",
                self.held
            );
        }
        let want = offset.saturating_add(len);
        let want = self.file_len.map_or(want, |len| want.min(len));
        if want <= self.held || self.at_end {
            return Ok(());
        }
        if self.stream.is_some() {
            return self.read_stream(want, buf);
        }
        self.request(want, buf)
    }
}

impl Transfer<'_> {
    fn request(&mut self, want: u64, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        let (start, last) = (self.held, want.saturating_sub(1));
        let mut request = self
            .agent
            .get(&self.url)
            .header("Range", format!("bytes={start}-{last}"));
        if let Some(token) = self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.call()?;
        self.requests = self.requests.saturating_add(1);
        let status = response.status();
        tracing::debug!(url = %self.url, range = %format!("{start}-{last}"), %status, "response");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        match status.as_u16() {
            206 => {
                let range = header("content-range")
                    .as_deref()
                    .and_then(ContentRange::parse)
                    .context("a 206 answer without a valid Content-Range header")?;
                let (Some((first, end)), total) = (range.span, range.total) else {
                    bail!("a 206 answer with an unsatisfied Content-Range");
                };
                if first != start || end <= first {
                    bail!(
                        "asked for bytes {start}-{last}, the server sent bytes {first}-{}",
                        end.saturating_sub(1)
                    );
                }
                self.file_len = total.or(self.file_len);
                let promised = end - first;
                let mut body = response.into_body().into_reader();
                let got = self.read_from(&mut body, promised, buf)?;
                if got < promised {
                    bail!(
                        "the server promised bytes {first}-{} and sent only {got} of those {promised}",
                        end - 1
                    );
                }
                if self.file_len.is_none() && end < want {
                    self.at_end = true;
                }
                Ok(())
            }
            200 => {
                tracing::info!(url = %self.url, "the server ignored Range: reading its whole-file answer only as far as needed");
                self.file_len = response.body().content_length().or(self.file_len);
                let mut body = response.into_body().into_reader();
                // The answer starts at byte 0; skip what is held already.
                let skipped = std::io::copy(&mut (&mut body).take(start), &mut std::io::sink())
                    .context("reading the answer")?;
                self.received = self.received.saturating_add(skipped);
                if skipped < start {
                    bail!("the whole-file answer has {skipped} bytes, fewer than the {start} sent before");
                }
                self.stream = Some(body);
                self.read_stream(want, buf)
            }
            416 => {
                // Nothing at or after `start`: the file ends there.
                self.at_end = true;
                self.file_len = header("content-range")
                    .as_deref()
                    .and_then(ContentRange::parse)
                    .and_then(|r| r.total)
                    .or(Some(start));
                Ok(())
            }
            _ => {
                let reason = status.canonical_reason().unwrap_or("");
                bail!("the server answered {} {reason}", status.as_u16())
            }
        }
    }

    /// Reads on from a whole-file answer up to `want`.
    fn read_stream(&mut self, want: u64, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        let Some(mut body) = self.stream.take() else {
            return Ok(());
        };
        let need = want.saturating_sub(self.held);
        let got = self.read_from(&mut body, need, buf)?;
        if got < need {
            self.at_end = true;
            if let Some(len) = self.file_len.filter(|&len| self.held < len) {
                bail!(
                    "the answer ended after {} of the {len} bytes promised",
                    self.held
                );
            }
        } else {
            self.stream = Some(body);
        }
        Ok(())
    }

    /// Appends up to `n` bytes from `body` to `out`; returns how many came before its end. A
    /// connection that closes before the promised `Content-Length` is an end, reported by the
    /// caller.
    fn read_from(
        &mut self,
        body: &mut impl Read,
        n: u64,
        out: &mut Vec<u8>,
    ) -> anyhow::Result<u64> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0u64;
        while got < n {
            let room = usize::try_from(n - got)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let chunk = buf.get_mut(..room).unwrap_or_default();
            let read = match body.read(chunk) {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e).context("reading the answer"),
            };
            out.extend_from_slice(chunk.get(..read).unwrap_or_default());
            got = got.saturating_add(read as u64);
        }
        self.held = self.held.saturating_add(got);
        self.received = self.received.saturating_add(got);
        Ok(got)
    }
}

/// A `Content-Range: bytes FIRST-LAST/TOTAL` header (`*` for an unknown total, or for the span
/// of a 416 answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ContentRange {
    /// `FIRST..LAST+1`, or `None` for `*`.
    span: Option<(u64, u64)>,
    /// The file length, when given.
    total: Option<u64>,
}

impl ContentRange {
    fn parse(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix("bytes")?.trim_start();
        let (span, total) = rest.split_once('/')?;
        let total = match total.trim() {
            "*" => None,
            t => Some(t.parse().ok()?),
        };
        let span = match span.trim() {
            "*" => None,
            s => {
                let (first, last) = s.split_once('-')?;
                let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
                (first <= last).then_some(())?;
                Some((first, last.checked_add(1)?))
            }
        };
        Some(Self { span, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        let r = |t| ContentRange::parse(t);
        assert_eq!(
            r("bytes 0-99/1000"),
            Some(ContentRange {
                span: Some((0, 100)),
                total: Some(1000)
            })
        );
        assert_eq!(
            r("bytes 5-9/*"),
            Some(ContentRange {
                span: Some((5, 10)),
                total: None
            })
        );
        assert_eq!(
            r("bytes */42"),
            Some(ContentRange {
                span: None,
                total: Some(42)
            })
        );
        assert_eq!(r("bytes 9-5/10"), None);
        assert_eq!(r("items 0-1/2"), None);
        assert_eq!(r("bytes 0-x/2"), None);
    }
}
