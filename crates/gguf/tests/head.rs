//! The head reader ([`read_head`]) over its sources: a local file ([`LocalFile`]), a slice, and
//! test sources that count their reads or claim more than they hold. What the CLI runs for a
//! file too large to map (32-bit targets) and, over HTTP ranges, for a remote file.

use std::convert::Infallible;

use ggufscope_gguf::{
    read_head, Gguf, HeadError, HeadLimits, LocalFile, RangeRead, FIRST_HEAD_READ_BYTES,
    READ_ALLOWANCE,
};
use ggufscope_testkit::{presets, read_real};

/// A file of `file_len` bytes: `head`, then zeros (sparse tensor data). Counts its reads.
pub struct HeadThenZeros<'a> {
    head: &'a [u8],
    file_len: u64,
    /// Reads served.
    pub reads: u32,
}

impl<'a> HeadThenZeros<'a> {
    pub fn new(head: &'a [u8], file_len: u64) -> Self {
        Self {
            head,
            file_len,
            reads: 0,
        }
    }
}

impl RangeRead for HeadThenZeros<'_> {
    type Error = Infallible;

    fn len(&self) -> Option<u64> {
        Some(self.file_len)
    }

    fn read_at(&mut self, offset: u64, len: u64, buf: &mut Vec<u8>) -> Result<(), Infallible> {
        self.reads += 1;
        let end = offset.saturating_add(len).min(self.file_len);
        for at in offset..end {
            buf.push(self.head.get(at as usize).copied().unwrap_or(0));
        }
        Ok(())
    }
}

/// A source that says it is `claimed` bytes long and holds `prefix` followed by `k`s; with
/// `claimed` `None`, a source that does not know its length (a server without `Content-Range`
/// totals).
struct Claims<'a> {
    prefix: &'a [u8],
    claimed: Option<u64>,
    served: u64,
}

impl RangeRead for Claims<'_> {
    type Error = Infallible;

    fn len(&self) -> Option<u64> {
        self.claimed
    }

    fn read_at(&mut self, offset: u64, len: u64, buf: &mut Vec<u8>) -> Result<(), Infallible> {
        let end = self.claimed.map_or(offset + len, |c| (offset + len).min(c));
        for at in offset..end {
            buf.push(self.prefix.get(at as usize).copied().unwrap_or(b'k'));
        }
        self.served += end - offset;
        Ok(())
    }
}

/// A file with one string value of 512 MiB: a head no reader should fetch.
fn huge_string_head() -> Vec<u8> {
    let mut huge = b"GGUF".to_vec();
    huge.extend(3u32.to_le_bytes());
    huge.extend(0u64.to_le_bytes()); // tensors
    huge.extend(1u64.to_le_bytes()); // KVs
    huge.extend(1u64.to_le_bytes());
    huge.push(b'k');
    huge.extend(8u32.to_le_bytes()); // string
    huge.extend((1u64 << 29).to_le_bytes());
    huge
}

#[test]
fn a_local_file_is_read_up_to_its_tensor_infos_in_two_reads() {
    // What a 32-bit process does with a model over 2 GiB, run here on a file of any size.
    let tmp = presets::qwen2_5_0_5b().write_sparse_temp();
    let len = std::fs::metadata(tmp.path()).unwrap().len();
    let mut file = LocalFile::open(tmp.path()).unwrap();
    assert_eq!(file.file_len(), len);
    let head = read_head(&mut file, HeadLimits::new(256 << 20)).unwrap();
    assert_eq!(head.file_len, Some(len));
    let g = Gguf::parse(&head.bytes).unwrap();
    assert_eq!(g.tensors().len(), 290);
    assert!(g.check_layout_with_len(len).is_empty());
    // 1 MiB, then the estimated rest (the 2.4 MB vocabulary needs more than the first), within
    // 1.25 × the head + 1 MiB.
    assert_eq!(head.reads, 2);
    let head_len = g.tensor_infos_end();
    assert!(head_len <= head.bytes.len() as u64);
    assert!(head.bytes.len() as u64 <= head_len + head_len / 4 + READ_ALLOWANCE);
    assert!(head.bytes.len() < len as usize);
}

#[test]
fn a_small_file_is_read_whole_and_a_cut_one_as_it_is() {
    let phi3 = read_real("ggml-vocab-phi-3.gguf");
    let head = read_head(&mut phi3.as_slice(), HeadLimits::new(u64::MAX)).unwrap();
    assert_eq!((head.bytes.as_slice(), head.reads), (phi3.as_slice(), 1));
    let mut cut = &phi3[..phi3.len() - 1];
    let head = read_head(&mut cut, HeadLimits::new(u64::MAX)).unwrap();
    assert_eq!(head.bytes, cut);
    // An empty source: no read, nothing held; the caller's parse says it is truncated.
    let head = read_head(&mut &b""[..], HeadLimits::new(u64::MAX)).unwrap();
    assert_eq!(
        (head.bytes.len(), head.reads, head.file_len),
        (0, 0, Some(0))
    );
    // A source of unknown length that ends (a short read) stops there.
    let mut source = Claims {
        prefix: &phi3[..1000],
        claimed: None,
        served: 0,
    };
    let first = FIRST_HEAD_READ_BYTES;
    let limits = HeadLimits::new(u64::MAX).with_first_read(first);
    let head = read_head(&mut source, limits).unwrap();
    assert_eq!(head.bytes.len() as u64, first);
}

#[test]
fn a_head_longer_than_the_limit_is_refused_after_the_first_read() {
    let huge = huge_string_head();
    let mut source = Claims {
        prefix: &huge,
        claimed: Some(4 << 30),
        served: 0,
    };
    let Err(err) = read_head(&mut source, HeadLimits::new(256 << 20)) else {
        panic!("read on");
    };
    assert!(
        matches!(err, HeadError::TooLong { max_bytes, ref parse } if max_bytes == 256 << 20 && parse.needed().is_some()),
        "{err:?}"
    );
    assert_eq!(source.served, FIRST_HEAD_READ_BYTES);
    let text = err.to_string();
    assert!(
        text.contains("more than the 268435456") && text.contains("truncated"),
        "{text}"
    );
    // The same head in a file too short to hold it: cut short, said after one read.
    let mut source = Claims {
        prefix: &huge,
        claimed: Some(3 << 20),
        served: 0,
    };
    let Err(err) = read_head(&mut source, HeadLimits::new(256 << 20)) else {
        panic!("read on");
    };
    assert!(
        matches!(err, HeadError::CutShort { file_len, .. } if file_len == 3 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("the whole file has 3145728 bytes"));
    assert_eq!(source.served, FIRST_HEAD_READ_BYTES);
}

#[test]
fn a_failed_read_is_returned_with_its_offset() {
    struct Broken;
    impl RangeRead for Broken {
        type Error = std::io::Error;
        fn len(&self) -> Option<u64> {
            None
        }
        fn read_at(&mut self, _: u64, _: u64, _: &mut Vec<u8>) -> std::io::Result<()> {
            Err(std::io::Error::other("gone"))
        }
    }
    let Err(err) = read_head(&mut Broken, HeadLimits::new(1 << 30)) else {
        panic!("read");
    };
    assert!(matches!(err, HeadError::Read { offset: 0, .. }), "{err:?}");
    assert_eq!(err.to_string(), "reading from byte 0: gone");
    assert!(std::error::Error::source(&err).is_some());
}
