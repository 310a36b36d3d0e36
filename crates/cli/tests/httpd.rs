//! A small HTTP/1.1 file server on 127.0.0.1 (port 0) for the remote-source tests, with the
//! misbehaviours the reader must survive. It counts requests and the body bytes it wrote, and
//! records each request's path and headers. It stops (and its threads end) when dropped;
//! connections time out after a few seconds, so nothing outlives a test for long.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Honours `Range` (206 with `Content-Range`, 416 past the end), 200 without one.
    Range,
    /// Ignores `Range`: 200 with the whole file, every time.
    IgnoreRange,
    /// Answers every request with this status.
    Status(u16),
    /// Answers `/moved/PATH` as [`Mode::Range`] and anything else with a 302 to `/moved/PATH`.
    Redirect,
    /// As [`Mode::Range`], but sends half of the promised body, then closes the connection.
    ShortBody,
    /// Reads the request and never answers.
    Silent,
}

/// One request, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The path (with any query).
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
}

#[derive(Default)]
struct Shared {
    requests: AtomicU64,
    body_bytes: AtomicU64,
    log: Mutex<Vec<Request>>,
    stop: AtomicBool,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `files` (URL path → bytes, paths starting with `/`).
    pub fn start(mode: Mode, files: Vec<(String, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let files: Arc<BTreeMap<String, Vec<u8>>> = Arc::new(files.into_iter().collect());
        let s = Arc::clone(&shared);
        let accept = std::thread::spawn(move || {
            while !s.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (s, files) = (Arc::clone(&s), Arc::clone(&files));
                        std::thread::spawn(move || serve(stream, mode, &files, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base())
    }

    /// Requests answered so far (redirects and errors included).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Body bytes written so far (a dropped connection stops the count).
    pub fn body_bytes(&self) -> u64 {
        self.shared.body_bytes.load(Ordering::SeqCst)
    }

    /// Every request received, in order.
    pub fn log(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Serves one connection until the client closes it (keep-alive) or the server stops.
fn serve(stream: TcpStream, mode: Mode, files: &BTreeMap<String, Vec<u8>>, s: &Shared) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        s.log.lock().unwrap().push(request.clone());
        if mode == Mode::Silent {
            while !s.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        s.requests.fetch_add(1, Ordering::SeqCst);
        if !answer(&mut out, mode, &request, files, s) {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    Some(Request { path, headers })
}

/// Writes one answer; `false` when the connection must close.
fn answer(
    out: &mut TcpStream,
    mode: Mode,
    request: &Request,
    files: &BTreeMap<String, Vec<u8>>,
    s: &Shared,
) -> bool {
    let head = |out: &mut TcpStream, status: &str, extra: &[String], len: usize| {
        let mut text = format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\n");
        for e in extra {
            text.push_str(e);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        out.write_all(text.as_bytes()).is_ok()
    };
    let path = match mode {
        Mode::Status(code) => {
            let status = match code {
                404 => "404 Not Found",
                500 => "500 Internal Server Error",
                403 => "403 Forbidden",
                _ => "418 I'm a teapot",
            };
            let body = b"no";
            return head(out, status, &[], body.len()) && send(out, body, s);
        }
        Mode::Redirect => match request.path.strip_prefix("/moved") {
            Some(p) => p.to_owned(),
            None => {
                let to = format!("Location: /moved{}", request.path);
                return head(out, "302 Found", &[to], 0);
            }
        },
        _ => request.path.clone(),
    };
    let Some(file) = files.get(&path) else {
        return head(out, "404 Not Found", &[], 0);
    };
    let total = file.len();
    let range = request
        .headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
    match (mode, range) {
        (Mode::IgnoreRange, _) | (_, None) => head(out, "200 OK", &[], total) && send(out, file, s),
        (_, Some((first, _))) if first >= total => {
            let cr = format!("Content-Range: bytes */{total}");
            head(out, "416 Range Not Satisfiable", &[cr], 0)
        }
        (_, Some((first, last))) => {
            let last = last.min(total - 1);
            let body = &file[first..=last];
            let cr = format!("Content-Range: bytes {first}-{last}/{total}");
            if !head(out, "206 Partial Content", &[cr], body.len()) {
                return false;
            }
            if mode == Mode::ShortBody {
                send(out, &body[..body.len() / 2], s);
                return false;
            }
            send(out, body, s)
        }
    }
}

/// Writes a body in chunks, counting each before it goes out (so that a client that has read
/// it never sees a count short of it; a failed write overstates the count by one chunk at
/// most); `false` once the client is gone.
fn send(out: &mut TcpStream, body: &[u8], s: &Shared) -> bool {
    for chunk in body.chunks(64 * 1024) {
        s.body_bytes.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        if out.write_all(chunk).is_err() {
            return false;
        }
    }
    out.flush().is_ok()
}
