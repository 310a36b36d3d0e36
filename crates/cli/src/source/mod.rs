//! Where a SOURCE's bytes come from: a local file (memory-mapped) or a remote one
//! (`http://`, `https://`, `hf://OWNER/REPO/FILE[@REVISION]`) read over HTTP only as far as its
//! header, metadata and tensor infos ([`http`]); and the shards of a split set ([`split`]).
//!
//! `hf://OWNER/REPO/FILE[@REVISION]` resolves to `$HF_ENDPOINT/OWNER/REPO/resolve/REVISION/FILE`
//! (`HF_ENDPOINT` defaults to `https://huggingface.co`, `REVISION` to `main`), the Hub's download
//! URL; `$HF_TOKEN`, when set, is sent as `Authorization: Bearer` to that host only.

pub mod http;
pub mod split;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use ggufscope_gguf::{HeadError, HeadLimits, LocalFile, Mapped};

use crate::exit::{Failure, Status};

/// The Hub, when `HF_ENDPOINT` is not set.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// Where a SOURCE argument points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file.
    Local(PathBuf),
    /// A file on an HTTP server.
    Remote(RemoteFile),
}

/// A file on an HTTP server, kept in parts so that a sibling (another shard) can be named.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// The URL up to and including the `/` before the file name.
    url_dir: String,
    /// The URL's query (with its `?`), or empty.
    url_query: String,
    /// The source as typed, up to the file name (`hf://owner/repo/` or `url_dir`).
    shown_dir: String,
    /// The source as typed, after the file name (`@revision`, or the query).
    shown_suffix: String,
    /// The file name, as typed.
    file: String,
    /// Whether the file name is percent-encoded into the URL (`hf://` names are typed raw).
    encode: bool,
    /// The `Authorization: Bearer` token (`hf://` only). Never shown.
    token: Option<String>,
}

impl std::fmt::Debug for RemoteFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteFile")
            .field("shown", &self.shown())
            .field("url", &self.url())
            .field("token", &self.token.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl RemoteFile {
    /// The URL requested.
    pub fn url(&self) -> String {
        let file = if self.encode {
            percent_encode(&self.file, false)
        } else {
            self.file.clone()
        };
        format!("{}{file}{}", self.url_dir, self.url_query)
    }

    /// The source as the user typed it (what messages show).
    pub fn shown(&self) -> String {
        format!("{}{}{}", self.shown_dir, self.file, self.shown_suffix)
    }

    /// The bearer token to send, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn parse_url(url: &str) -> Option<Self> {
        let url = url.split_once('#').map_or(url, |(u, _)| u);
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, format!("?{q}")),
            None => (url, String::new()),
        };
        let after_scheme = path.find("://")?.checked_add(3)?;
        let slash = path.rfind('/').filter(|&i| i >= after_scheme)?;
        let (dir, file) = path.split_at(slash.checked_add(1)?);
        if file.is_empty() || !dir.get(after_scheme..)?.contains('/') {
            return None;
        }
        Some(Self {
            url_dir: dir.to_owned(),
            url_query: query.clone(),
            shown_dir: dir.to_owned(),
            shown_suffix: query,
            file: file.to_owned(),
            encode: false,
            token: None,
        })
    }

    /// `OWNER/REPO/PATH[@REVISION]` (after `hf://`) against an endpoint.
    fn parse_hf(rest: &str, endpoint: &str, token: Option<String>) -> Option<Self> {
        let (path, revision) = match rest.rsplit_once('@') {
            Some((p, r)) if !r.is_empty() && !r.contains('/') => (p, Some(r)),
            _ => (rest, None),
        };
        let mut parts = path.splitn(3, '/');
        let (owner, repo, file_path) = (parts.next()?, parts.next()?, parts.next()?);
        if owner.is_empty() || repo.is_empty() || file_path.is_empty() || file_path.ends_with('/') {
            return None;
        }
        let (sub, file) = match file_path.rsplit_once('/') {
            Some((d, f)) => (format!("{d}/"), f),
            None => (String::new(), file_path),
        };
        let rev = revision.unwrap_or("main");
        Some(Self {
            url_dir: format!(
                "{}/{}/{}/resolve/{}/{}",
                endpoint.trim_end_matches('/'),
                percent_encode(owner, false),
                percent_encode(repo, false),
                percent_encode(rev, false),
                percent_encode(&sub, true),
            ),
            url_query: String::new(),
            shown_dir: format!("hf://{owner}/{repo}/{sub}"),
            shown_suffix: revision.map(|r| format!("@{r}")).unwrap_or_default(),
            file: file.to_owned(),
            encode: true,
            token,
        })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (and `/` when `keep_slash`).
fn percent_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Location {
    /// Reads a SOURCE argument: a URL (`http://`, `https://`, `hf://`) or a local path. An
    /// `hf://` source is resolved against `$HF_ENDPOINT` here.
    pub fn parse(arg: &Path) -> anyhow::Result<Self> {
        let Some(text) = arg.to_str() else {
            return Ok(Self::Local(arg.to_path_buf()));
        };
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        let bad = |what: &str| {
            Err(anyhow::anyhow!("{what}"))
                .with_context(|| Failure::new(Status::BadInput, format!("reading {text}")))
        };
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return match RemoteFile::parse_url(text) {
                Some(remote) => Ok(Self::Remote(remote)),
                None => bad("the URL names no file (expected http(s)://HOST/.../FILE.gguf)"),
            };
        }
        if let Some(rest) = text.strip_prefix("hf://") {
            let endpoint = env_nonempty("HF_ENDPOINT");
            let endpoint = endpoint.as_deref().unwrap_or(DEFAULT_HF_ENDPOINT);
            return match RemoteFile::parse_hf(rest, endpoint, env_nonempty("HF_TOKEN")) {
                Some(remote) => Ok(Self::Remote(remote)),
                None => bad("expected hf://OWNER/REPO/FILE[@REVISION]"),
            };
        }
        Ok(Self::Local(arg.to_path_buf()))
    }

    /// The source as messages show it: the path, or the URL as typed.
    pub fn shown(&self) -> String {
        match self {
            Self::Local(path) => path.display().to_string(),
            Self::Remote(remote) => remote.shown(),
        }
    }

    /// The file name without directories or host: what reports show.
    pub fn file_name(&self) -> String {
        match self {
            Self::Local(path) => file_name(path),
            Self::Remote(remote) => remote.file.clone(),
        }
    }

    /// The file `name` in the same directory (or URL folder, revision and query).
    pub fn with_file_name(&self, name: &str) -> Self {
        match self {
            Self::Local(path) => Self::Local(path.with_file_name(name)),
            Self::Remote(remote) => Self::Remote(RemoteFile {
                file: name.to_owned(),
                ..remote.clone()
            }),
        }
    }

    /// Whether the bytes come over the network.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote(_))
    }
}

/// The last component of a path (the whole path if it has none).
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The bytes of one file as read.
#[derive(Debug)]
pub enum Bytes {
    /// A whole local file, memory-mapped.
    Mapped(Mapped),
    /// The start of a remote file: its header, metadata and tensor infos (unless the file is
    /// shorter or broken), never its tensor data.
    Head {
        /// The bytes read, from offset 0.
        bytes: Vec<u8>,
        /// The length of the whole file, when the server said it.
        file_len: Option<u64>,
    },
}

impl Bytes {
    /// The bytes held.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map.bytes(),
            Self::Head { bytes, .. } => bytes,
        }
    }

    /// The length of the whole file (for a remote file whose server did not say: the bytes
    /// held).
    pub fn file_len(&self) -> u64 {
        match self {
            Self::Mapped(map) => map.len() as u64,
            Self::Head { bytes, file_len } => file_len.unwrap_or(bytes.len() as u64),
        }
    }

    /// Whether every byte of the file is held (a local file).
    pub fn is_whole_file(&self) -> bool {
        matches!(self, Self::Mapped(_))
    }
}

/// One file of an input: where it is and its bytes.
#[derive(Debug)]
pub struct Shard {
    /// Where it is.
    pub location: Location,
    /// Its bytes.
    pub bytes: Bytes,
}

/// Reads files, keeping one HTTP client (and its connections) for every remote one.
#[derive(Debug, Default)]
pub struct Opener {
    client: Option<http::Client>,
}

impl Opener {
    /// Maps a local file or fetches the head of a remote one. A failure names the source and
    /// is [`Status::BadInput`].
    pub fn read(&mut self, location: &Location) -> anyhow::Result<Shard> {
        let bytes = match location {
            Location::Local(path) => read_local(path)?,
            Location::Remote(remote) => {
                let failure =
                    || Failure::new(Status::BadInput, format!("fetching {}", remote.shown()));
                let client = match &mut self.client {
                    Some(client) => client,
                    slot => slot.insert(http::Client::from_env().with_context(failure)?),
                };
                let head = client.fetch_head(remote).with_context(failure)?;
                Bytes::Head {
                    bytes: head.bytes,
                    file_len: head.file_len,
                }
            }
        };
        Ok(Shard {
            location: location.clone(),
            bytes,
        })
    }
}

/// Maps a local file. A missing file, a directory or a permission problem is an error that
/// names the path and carries the OS error. A file larger than this process can map (over
/// `isize::MAX` bytes, which only happens on a 32-bit target) is read as a remote one is: its
/// header, metadata and tensor infos, with its length (so its layout is still checked).
fn read_local(path: &Path) -> anyhow::Result<Bytes> {
    let failure = || Failure::new(Status::BadInput, format!("opening {}", path.display()));
    if path.is_dir() {
        return Err(anyhow::anyhow!("it is a directory")).with_context(failure);
    }
    let file = std::fs::File::open(path).with_context(failure)?;
    let len = file.metadata().with_context(failure)?.len();
    if isize::try_from(len).is_ok() {
        match ggufscope_gguf::open(path) {
            Ok(map) => {
                tracing::info!(path = %path.display(), bytes = map.len(), "mapped");
                return Ok(Bytes::Mapped(map));
            }
            // A 32-bit process may find no free stretch of address space for a file under
            // 2 GiB either: read its head instead.
            Err(err) if cfg!(target_pointer_width = "32") => {
                tracing::info!(path = %path.display(), %err, "could not map: reading the head");
            }
            Err(err) => return Err(err).with_context(failure),
        }
    }
    let bytes = read_head(file).with_context(failure)?;
    tracing::info!(
        path = %path.display(),
        bytes = bytes.len(),
        file_bytes = len,
        "too large to map here: read the head only"
    );
    Ok(Bytes::Head {
        bytes,
        file_len: Some(len),
    })
}

/// The most of a file too large to map that is read: far more than any real head (the largest
/// vocabularies take tens of MB), and little enough for a 32-bit address space.
pub const MAX_LOCAL_HEAD_BYTES: u64 = 256 << 20;

/// Reads the head of a local file the way [`http`] fetches a remote one, with the format
/// crate's head reader ([`ggufscope_gguf::read_head`]) over the file, never more than
/// [`MAX_LOCAL_HEAD_BYTES`]. A head that needs more than the file holds, or than that limit, is
/// an error with the parse error; one the read cannot extend is returned as it is, for its
/// parse to report.
pub fn read_head(file: std::fs::File) -> anyhow::Result<Vec<u8>> {
    let mut file = LocalFile::new(file)?;
    match ggufscope_gguf::read_head(&mut file, HeadLimits::new(MAX_LOCAL_HEAD_BYTES)) {
        Ok(head) => Ok(head.bytes),
        Err(HeadError::Read { source, .. }) => Err(source.into()),
        Err(err) => bail!("parsing the head: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(arg: &str) -> RemoteFile {
        match Location::parse(Path::new(arg)).unwrap() {
            Location::Remote(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_keep_their_query_and_name_their_file() {
        let r = remote("https://example.invalid/a/b/model.gguf?sig=1#frag");
        assert_eq!(r.url(), "https://example.invalid/a/b/model.gguf?sig=1");
        assert_eq!(r.file, "model.gguf");
        let loc = Location::Remote(r).with_file_name("m-00002-of-00003.gguf");
        assert_eq!(
            loc.shown(),
            "https://example.invalid/a/b/m-00002-of-00003.gguf?sig=1"
        );
    }

    #[test]
    fn hf_sources_resolve_to_the_download_url() {
        let r = RemoteFile::parse_hf("o/r/sub dir/x.gguf@v1.0", "http://h:1/", None).unwrap();
        assert_eq!(r.url(), "http://h:1/o/r/resolve/v1.0/sub%20dir/x.gguf");
        assert_eq!(r.shown(), "hf://o/r/sub dir/x.gguf@v1.0");
        let r = RemoteFile::parse_hf("o/r/x.gguf", DEFAULT_HF_ENDPOINT, None).unwrap();
        assert_eq!(r.url(), "https://huggingface.co/o/r/resolve/main/x.gguf");
        assert!(RemoteFile::parse_hf("o/r", DEFAULT_HF_ENDPOINT, None).is_none());
        assert!(RemoteFile::parse_hf("o//x.gguf", DEFAULT_HF_ENDPOINT, None).is_none());
    }

    #[test]
    fn malformed_urls_and_plain_paths() {
        assert!(Location::parse(Path::new("http://host-only")).is_err());
        assert!(Location::parse(Path::new("hf://just-owner")).is_err());
        assert_eq!(
            Location::parse(Path::new("dir/x.gguf")).unwrap(),
            Location::Local(PathBuf::from("dir/x.gguf"))
        );
    }

    /// What a 32-bit process does with a model over 2 GiB, run here on a file of any size (the
    /// reads themselves: `ggufscope_gguf`'s `tests/head.rs`).
    #[test]
    fn a_file_too_large_to_map_is_read_up_to_its_tensor_infos() {
        let tmp = ggufscope_testkit::presets::qwen2_5_0_5b().write_sparse_temp();
        let len = std::fs::metadata(tmp.path()).unwrap().len();
        let head = read_head(std::fs::File::open(tmp.path()).unwrap()).unwrap();
        let g = ggufscope_gguf::Gguf::parse(&head).unwrap();
        assert_eq!(g.tensors().len(), 290);
        let head_len = g.tensor_infos_end();
        assert!(head_len <= head.len() as u64);
        assert!(head.len() as u64 <= head_len + head_len / 4 + ggufscope_gguf::READ_ALLOWANCE);
        let codes = |remote| {
            crate::report::issues::FormatIssues::of(&g, Some(len), remote, None)
                .layout
                .iter()
                .map(|i| i.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(false), ["tensor_data_not_read"]);
        assert_eq!(codes(true), ["tensor_data_not_downloaded"]);
        // A file cut inside its head is refused with the parse error and the file's length.
        let qwen2 = ggufscope_testkit::read_real("ggml-vocab-qwen2.gguf");
        let cut = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(cut.path(), &qwen2[..1_048_586]).unwrap();
        let err = read_head(std::fs::File::open(cut.path()).unwrap()).unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("truncated") && err.contains("the whole file has 1048586 bytes"),
            "{err}"
        );
    }

    #[test]
    fn the_token_is_never_shown() {
        let r = RemoteFile::parse_hf("o/r/x.gguf", "http://h", Some("secret".into())).unwrap();
        assert!(!format!("{r:?}").contains("secret"));
        assert!(!r.shown().contains("secret"));
    }
}
