//! How long a file's head (header, metadata and tensor infos) probably is, from a prefix of it:
//! for a reader that fetches the head in ranges (a remote file) and wants few requests without
//! reading far past the head.
//!
//! [`Gguf::parse`](crate::Gguf::parse) on a prefix says `Truncated { needed }`: the least it
//! needs to go on, often one string further. [`estimate_head_len`] walks the same prefix and
//! guesses the rest:
//!
//! - inside an array of strings (a vocabulary, merges): the strings not yet seen are as long as
//!   the recent half of those seen, plus half of that again where the budget allows
//!   (vocabularies sorted by rank get longer towards their end: Qwen2's tokens by 20-25%
//!   between the recent ones and the rest);
//! - inside a fixed-size array or any other value: its exact end;
//! - the per-token arrays llama.cpp's converter writes after `tokenizer.ggml.tokens`, while not
//!   yet seen: `token_type` (4 bytes a token), `scores` for SentencePiece and Unigram
//!   vocabularies (`tokenizer.ggml.model` `llama` or `t5`), `merges` for BPE (`gpt2`: as many
//!   merges as tokens, each a token and a space long; llama.cpp refuses a BPE file without them);
//!   these two guesses together no more than a reader may read past the head were the head to
//!   end right after the current item (a quarter of it and [`READ_ALLOWANCE`], less the rest
//!   below, with a sixteenth to spare), so that a file without those arrays stays in the budget;
//! - each other entry still to come: as long as those seen (long arrays aside), or
//!   [`OTHER_KV_BYTES`]; each tensor info: as long as those seen, or [`TENSOR_INFO_BYTES`]; and
//!   [`SLACK_BYTES`] once.
//!
//! The guess is never below `needed`, and only as good as the file is ordinary: a reader should
//! still treat `needed` as the truth and the estimate as a hint.

use crate::cursor::Cursor;
use crate::header::{Endian, Header};
use crate::value::{read_len, ValueType};

/// Bytes assumed for each metadata entry still to come that is not a predicted per-token array
/// (a number, a short string; a chat template is a few KiB, covered by [`SLACK_BYTES`]), until
/// [`MIN_ENTRIES_SEEN`] such entries are seen; then their average.
pub const OTHER_KV_BYTES: u64 = 512;
/// Entries (other than long arrays) that must be seen before their average is trusted.
const MIN_ENTRIES_SEEN: u64 = 8;
/// An array longer than this is not counted in the average entry.
const LONG_ARRAY: u64 = 256;
/// Bytes assumed for each tensor info before one is seen: a name of up to 63 bytes (llama.cpp's
/// limit), four dimensions, the type and the offset take at most 119.
pub const TENSOR_INFO_BYTES: u64 = 128;
/// Added once to every estimate: what the counts above may miss (a long chat template).
pub const SLACK_BYTES: u64 = 64 * 1024;
/// What a reader following [`next_head_len`] may read past the head besides a quarter of it:
/// it reads at most 1.25 × the head + this, in all.
pub const READ_ALLOWANCE: u64 = 1 << 20;
/// Strings that must be seen before their average is trusted; below, a string is assumed to
/// take [`DEFAULT_STRING_BYTES`].
const MIN_STRINGS_SEEN: u64 = 64;
/// Bytes assumed per string (length field included) before [`MIN_STRINGS_SEEN`] are seen.
const DEFAULT_STRING_BYTES: u64 = 24;

/// Where the walk stopped, for lack of bytes.
enum Stop {
    /// Inside an item whose end is exactly known (a fixed-size array) or not guessable beyond
    /// what the parser needs (a key, a scalar, a nested array).
    Exact(u64),
    /// Inside an array of `len` strings, `seen` of them read; the next starts at `pos`.
    /// `recent` are two adjacent windows of the last strings seen, older first: (count, bytes).
    Strings {
        pos: u64,
        len: u64,
        seen: u64,
        recent: [(u64, u64); 2],
        length_field: u64,
    },
}

/// What the walk learned of the tokenizer.
#[derive(Default)]
struct Tokenizer {
    /// `tokenizer.ggml.model`, when seen.
    model: Option<Vec<u8>>,
    /// The number of tokens and the estimated bytes of one (length field included).
    tokens: Option<(u64, u64)>,
    token_type: bool,
    scores: bool,
    merges: bool,
    /// Entries seen other than long arrays: (count, bytes).
    entries: (u64, u64),
    /// The last value walked was an array longer than [`LONG_ARRAY`].
    long_array: bool,
}

/// A guess of the length of the head of the file `prefix` starts, never below what a parse of
/// `prefix` needs. When `prefix` holds the whole head, its length (the end of the tensor
/// infos). See the module documentation for the rules.
pub fn estimate_head_len(prefix: &[u8]) -> u64 {
    estimate(prefix).max(needed_of(prefix))
}

/// [`estimate_head_len`] without the parse that says what is needed.
fn estimate(prefix: &[u8]) -> u64 {
    let mut cur = Cursor::new(prefix, 0, Endian::Little);
    let header = match Header::read(&mut cur) {
        Ok(h) => h,
        Err(e) => return e.needed().unwrap_or(0).max(prefix.len() as u64),
    };
    let wide = header.wide_lengths();
    let mut tok = Tokenizer::default();
    let mut kv_done = 0u64;
    let mut stop = None;
    while kv_done < header.kv_count {
        let start = cur.offset();
        tok.long_array = false;
        match walk_kv(&mut cur, wide, &mut tok) {
            Ok(()) => {
                kv_done += 1;
                if !tok.long_array {
                    tok.entries.0 += 1;
                    tok.entries.1 += cur.offset() - start;
                }
            }
            Err(s) => {
                stop = Some(s);
                break;
            }
        }
    }
    // The tensor infos: (seen, their bytes).
    let mut infos = (0u64, 0u64);
    if stop.is_none() {
        while infos.0 < header.tensor_count {
            let start = cur.offset();
            match walk_tensor_info(&mut cur, wide) {
                Ok(()) => {
                    infos.0 += 1;
                    infos.1 += cur.offset() - start;
                }
                Err(s) => {
                    stop = Some(s);
                    break;
                }
            }
        }
    }
    let Some(stop) = stop else {
        return cur.offset();
    };

    // The end of the item the walk stopped in.
    // The end of the item the walk stopped in, with the strings not yet seen as long as the
    // recent ones, and those strings' bytes.
    let (item_end, strings_left) = match stop {
        Stop::Exact(end) => (end, 0),
        Stop::Strings {
            pos,
            len,
            seen,
            recent,
            length_field,
        } => {
            let left = len.saturating_sub(seen);
            let left = left.saturating_mul(per_string(seen, left, recent, length_field));
            (pos.saturating_add(left), left)
        }
    };
    // The per-token arrays still to come.
    let (mut predicted, mut predicted_bytes) = (0u64, 0u64);
    if let Some((n, token_bytes)) = tok.tokens {
        let spm = matches!(tok.model.as_deref(), Some(b"llama" | b"t5"));
        let bpe = tok.model.as_deref() == Some(b"gpt2");
        for (missing, bytes) in [
            (!tok.token_type, n.saturating_mul(4)),
            (spm && !tok.scores, n.saturating_mul(4)),
            (bpe && !tok.merges, n.saturating_mul(token_bytes + 2)),
        ] {
            if missing {
                predicted += 1;
                predicted_bytes = predicted_bytes.saturating_add(bytes).saturating_add(64);
            }
        }
    }
    // Entries after the one the walk stopped in, and the tensor infos.
    let kv_after = header
        .kv_count
        .saturating_sub(kv_done.saturating_add(1))
        .saturating_sub(predicted);
    let kv_bytes = if tok.entries.0 >= MIN_ENTRIES_SEEN {
        tok.entries.1 / tok.entries.0 + 1
    } else {
        OTHER_KV_BYTES
    };
    let info_bytes = if infos.0 >= 8 {
        infos.1 / infos.0 + 1
    } else {
        TENSOR_INFO_BYTES
    };
    let infos_after = header
        .tensor_count
        .saturating_sub(infos.0)
        .saturating_sub(u64::from(kv_done == header.kv_count));
    let tail = kv_after
        .saturating_mul(kv_bytes)
        .saturating_add(infos_after.saturating_mul(info_bytes))
        .saturating_add(SLACK_BYTES);
    // Beyond that: half again the strings not yet seen (later strings are longer) and the
    // predicted arrays, as far as a reader may read past the head were the head to end right
    // after this item (a quarter of it and READ_ALLOWANCE, less the tail), with a sixteenth to
    // spare.
    let room = (item_end / 4 + READ_ALLOWANCE).saturating_sub(tail) / 16 * 15;
    let extra = (strings_left / 2).saturating_add(predicted_bytes).min(room);
    item_end.saturating_add(extra).saturating_add(tail)
}

/// What a parse of `prefix` needs (0 when it parses or fails otherwise).
fn needed_of(prefix: &[u8]) -> u64 {
    match crate::Gguf::parse_with(prefix, crate::ParseOptions::lenient()) {
        Ok(_) => 0,
        Err(e) => e.needed().unwrap_or(0),
    }
}

/// Estimated bytes of each of the `left` strings still to come: the average of the recent
/// ones; when the newer window's strings are shorter than the older one's, the average that
/// trend leads to over the strings left (never below a length field).
fn per_string(seen: u64, left: u64, [older, newer]: [(u64, u64); 2], length_field: u64) -> u64 {
    let (count, bytes) = (older.0 + newer.0, older.1 + newer.1);
    if seen < MIN_STRINGS_SEEN || count == 0 {
        return DEFAULT_STRING_BYTES;
    }
    let recent = bytes.div_ceil(count).max(1);
    if older.0 < MIN_STRINGS_SEEN / 2 || newer.0 < MIN_STRINGS_SEEN / 2 {
        return recent;
    }
    // Averages a (older) and b (newer), their centres (a.0 + b.0) / 2 strings apart, and the
    // strings left centred (b.0 + left) / 2 after b's: b - (a - b) (b.0 + left) / (a.0 + b.0).
    let (a0, a1, b0, b1) = (
        u128::from(older.0),
        u128::from(older.1),
        u128::from(newer.0),
        u128::from(newer.1),
    );
    let (cross_a, cross_b) = (a1 * b0, b1 * a0);
    if cross_b >= cross_a {
        return recent;
    }
    let drop = (cross_a - cross_b) * (b0 + u128::from(left)) / (a0 * b0 * (a0 + b0));
    let newer_avg = b1 / b0;
    let trend = newer_avg.saturating_sub(drop);
    u64::try_from(trend)
        .unwrap_or(u64::MAX)
        .max(length_field)
        .min(recent)
}

fn exact(e: &crate::Error) -> Stop {
    Stop::Exact(e.needed().unwrap_or(u64::MAX))
}

/// Reads one length-prefixed string; its bytes.
fn string<'a>(cur: &mut Cursor<'a>, wide: bool) -> Result<&'a [u8], Stop> {
    let len = read_len(cur, wide).map_err(|e| exact(&e))?;
    cur.bytes(len).map_err(|e| exact(&e))
}

fn walk_kv(cur: &mut Cursor<'_>, wide: bool, tok: &mut Tokenizer) -> Result<(), Stop> {
    let key = string(cur, wide)?;
    let type_id = cur.u32().map_err(|e| exact(&e))?;
    let ty = ValueType::from_id(type_id).ok_or(Stop::Exact(cur.offset()))?;
    match key {
        b"tokenizer.ggml.model" if ty == ValueType::String => {
            tok.model = Some(string(cur, wide)?.to_vec());
            return Ok(());
        }
        b"tokenizer.ggml.token_type" => tok.token_type = true,
        b"tokenizer.ggml.scores" => tok.scores = true,
        b"tokenizer.ggml.merges" => tok.merges = true,
        _ => {}
    }
    let tokens = key == b"tokenizer.ggml.tokens";
    if ty == ValueType::Array {
        return walk_array(cur, wide, 1, Some(tok), tokens);
    }
    walk_value(cur, wide, ty, 1)
}

/// Walks one value.
fn walk_value(cur: &mut Cursor<'_>, wide: bool, ty: ValueType, depth: u32) -> Result<(), Stop> {
    if let Some(size) = ty.fixed_size() {
        return cur.bytes(size).map(|_| ()).map_err(|e| exact(&e));
    }
    if ty == ValueType::String {
        return string(cur, wide).map(|_| ());
    }
    walk_array(cur, wide, depth, None, false)
}

/// Walks an array (after its value type). `tok` is given for an entry's own array, which it
/// marks long or not; `tokens` says it is `tokenizer.ggml.tokens`, whose count and string size
/// it records.
fn walk_array(
    cur: &mut Cursor<'_>,
    wide: bool,
    depth: u32,
    mut tok: Option<&mut Tokenizer>,
    tokens: bool,
) -> Result<(), Stop> {
    if depth > crate::limits::MAX_ARRAY_DEPTH {
        return Err(Stop::Exact(cur.offset()));
    }
    let type_id = cur.u32().map_err(|e| exact(&e))?;
    let et = ValueType::from_id(type_id).ok_or(Stop::Exact(cur.offset()))?;
    let len = read_len(cur, wide).map_err(|e| exact(&e))?;
    if let Some(t) = tok.as_deref_mut() {
        t.long_array = len > LONG_ARRAY;
    }
    let tokens = if tokens { tok } else { None };
    if let Some(size) = et.fixed_size() {
        return cur
            .bytes(len.saturating_mul(size))
            .map(|_| ())
            .map_err(|e| exact(&e));
    }
    if et != ValueType::String {
        for _ in 0..len {
            walk_value(cur, wide, et, depth + 1)?;
        }
        return Ok(());
    }
    // Strings: count them, with the bytes of the recent ones: the window of the strings since
    // the last power of two and the one before it, so from half to three quarters of those seen.
    let start = cur.offset();
    let (mut before, mut window, mut next_reset) = ((0u64, 0u64), (0u64, 0u64), 1u64);
    let mut seen = 0u64;
    while seen < len {
        let pos = cur.offset();
        if seen == next_reset {
            before = window;
            window = (0, 0);
            next_reset = next_reset.saturating_mul(2);
        }
        if string(cur, wide).is_err() {
            let recent = [before, window];
            let length_field = if wide { 8 } else { 4 };
            if let Some(tok) = tokens {
                let left = len.saturating_sub(seen);
                tok.tokens = Some((len, per_string(seen, left, recent, length_field)));
            }
            return Err(Stop::Strings {
                pos,
                len,
                seen,
                recent,
                length_field,
            });
        }
        seen += 1;
        window.0 += 1;
        window.1 += cur.offset() - pos;
    }
    if let Some(tok) = tokens {
        let bytes = cur.offset() - start;
        tok.tokens = Some((len, bytes.checked_div(len).map_or(0, |b| b + 1)));
    }
    Ok(())
}

fn walk_tensor_info(cur: &mut Cursor<'_>, wide: bool) -> Result<(), Stop> {
    string(cur, wide)?;
    let n_dims = cur.u32().map_err(|e| exact(&e))?;
    if n_dims > crate::limits::MAX_DIMS {
        return Err(Stop::Exact(cur.offset()));
    }
    let dim_bytes = if wide { 8 } else { 4 };
    cur.bytes(u64::from(n_dims) * dim_bytes + 4 + 8)
        .map(|_| ())
        .map_err(|e| exact(&e))
}

/// The length a range reader holding `prefix` should extend it to, when a parse of `prefix`
/// says `Truncated { needed }`: [`estimate_head_len`], at least `needed`, and at least a quarter
/// more than is held (so that a head the estimate cannot foresee still takes few requests, each
/// reading at most a quarter past the head).
pub fn next_head_len(prefix: &[u8], needed: u64) -> u64 {
    let held = prefix.len() as u64;
    estimate(prefix)
        .max(needed)
        .max(held.saturating_add(held / 4))
}
