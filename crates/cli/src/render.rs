//! Rendering helpers shared by the commands: colors, quoting, values, sizes and counts, text and
//! markdown tables, the issue list. Everything is deterministic (fixed float formatting, no
//! clock, no paths).
//!
//! This module knows no report structure (`report` builds on it, not the other way round): a
//! string, a value or an issue is read through the small traits [`Text`], [`OneLine`] and
//! [`IssueLine`], which the report views implement (in the `views` module).

use std::io::{self, Write};

/// Strings longer than this many bytes are shortened in text output (never in JSON).
pub const LONG_STRING_BYTES: u64 = 200;
/// How many characters of a long string the text output shows.
pub const LONG_STRING_PREFIX_CHARS: usize = 60;

/// Whether and how to color stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    /// Colors on or off.
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    /// No colors.
    #[cfg(test)]
    pub fn plain() -> Self {
        Self::new(false)
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A section heading.
    pub fn heading(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// A severity word, colored by severity (padded before coloring, so columns stay aligned).
    pub fn severity(self, severity: &str, width: usize) -> String {
        let padded = format!("{severity:<width$}");
        match severity {
            "error" => self.wrap("31;1", &padded),
            "warning" => self.wrap("33", &padded),
            _ => self.wrap("36", &padded),
        }
    }
}

/// A string value as [`quoted`] reads it.
pub trait Text {
    /// The text (for invalid UTF-8: its valid runs, each invalid byte as `\xNN` and each
    /// backslash doubled).
    fn text(&self) -> &str;
    /// Whether the bytes were valid UTF-8.
    fn is_utf8(&self) -> bool;
    /// The raw string's length in bytes.
    fn byte_len(&self) -> u64;
}

/// A metadata value as [`value`] lays it out on one line.
#[derive(Debug, Clone, Copy)]
pub enum Shown<'a, V: OneLine> {
    /// An unsigned integer.
    Unsigned(u64),
    /// A signed integer.
    Signed(i64),
    /// A finite float (`Debug` form: `1e-5`, `10000.0`).
    Float(f64),
    /// NaN or an infinity, as it is to be written.
    NonFinite(&'a str),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(&'a V::Text),
    /// An array: its element type, its length and the elements shown.
    Array {
        /// The element type's name.
        element_type: &'a str,
        /// Elements in the file.
        len: u64,
        /// The elements shown.
        head: &'a [V],
    },
}

/// A metadata value [`value`] can lay out.
pub trait OneLine: Sized {
    /// Its strings.
    type Text: Text;
    /// What it is.
    fn shown(&self) -> Shown<'_, Self>;
}

/// One line of an [`issues`] list.
pub trait IssueLine {
    /// `info`, `warning` or `error`.
    fn severity(&self) -> &str;
    /// The stable code.
    fn code(&self) -> &str;
    /// Where it is (`byte N`, `byte N of SHARD`).
    fn place(&self) -> String;
    /// What was found.
    fn message(&self) -> &str;
}

/// A string in double quotes with control characters escaped; long ones shortened to a prefix
/// followed by `… (N bytes)`; invalid UTF-8 marked `(not UTF-8)`.
pub fn quoted(t: &impl Text) -> String {
    let (text, bytes, utf8) = (t.text(), t.byte_len(), t.is_utf8());
    let long = bytes > LONG_STRING_BYTES;
    let shown = if long {
        text.chars()
            .take(LONG_STRING_PREFIX_CHARS)
            .collect::<String>()
    } else {
        text.to_owned()
    };
    let mut out = String::with_capacity(shown.len() + 2);
    out.push('"');
    for c in shown.chars() {
        match c {
            // The escaped form of invalid UTF-8 already doubled its backslashes.
            '\\' if utf8 => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    if long {
        out.push_str(&format!(" … ({bytes} bytes)"));
    }
    if !utf8 {
        out.push_str(" (not UTF-8)");
    }
    out
}

/// A value on one line: numbers as they are (floats in Rust's `Debug` form, e.g. `1e-5`,
/// `10000.0`), strings [`quoted`], arrays as `[type; len] [first, …]`.
pub fn value<V: OneLine>(v: &V) -> String {
    match v.shown() {
        Shown::Unsigned(n) => n.to_string(),
        Shown::Signed(n) => n.to_string(),
        Shown::Float(f) => format!("{f:?}"),
        Shown::NonFinite(s) => s.to_owned(),
        Shown::Bool(b) => b.to_string(),
        Shown::Text(t) => quoted(t),
        Shown::Array {
            element_type,
            len,
            head,
        } => {
            let mut items: Vec<String> = head.iter().map(value).collect();
            if (items.len() as u64) < len {
                items.push("…".to_owned());
            }
            format!("[{element_type}; {len}] [{}]", items.join(", "))
        }
    }
}

/// `1234 B`, `2.50 KiB`, `3.56 GiB`: a rough size for people next to the exact count.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    #[allow(clippy::cast_precision_loss)] // a rough figure for people
    let mut size = n as f64 / 1024.0;
    let mut unit = "KiB";
    for next in UNITS.iter().skip(1) {
        if size < 1024.0 {
            break;
        }
        size /= 1024.0;
        unit = next;
    }
    format!("{size:.2} {unit}")
}

/// Writes a titled list of issues: `  severity  code  at byte N: message`.
pub fn issues(
    out: &mut dyn Write,
    paint: Paint,
    title: &str,
    list: &[impl IssueLine],
) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "{}: none", paint.heading(title));
    }
    writeln!(out, "{} ({})", paint.heading(title), list.len())?;
    let sev_w = list.iter().map(|i| i.severity().len()).max().unwrap_or(0);
    let code_w = list.iter().map(|i| i.code().len()).max().unwrap_or(0);
    for i in list {
        writeln!(
            out,
            "  {}  {:<code_w$}  at {}: {}",
            paint.severity(i.severity(), sev_w),
            i.code(),
            i.place(),
            i.message()
        )?;
    }
    Ok(())
}

/// How a table column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

fn column_widths(header: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(slot) => *slot = (*slot).max(w),
                None => widths.push(w),
            }
        }
    }
    widths
}

fn pad(cell: &str, width: usize, align: Align) -> String {
    match align {
        Align::Left => format!("{cell:<width$}"),
        Align::Right => format!("{cell:>width$}"),
    }
}

/// Rows as aligned lines: columns two spaces apart, right-trimmed. Columns without an
/// alignment in `align` are left-aligned.
pub fn aligned(rows: &[Vec<String>], align: &[Align]) -> Vec<String> {
    let widths = column_widths(&[], rows);
    rows.iter()
        .map(|row| {
            let parts: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let a = align.get(i).copied().unwrap_or(Align::Left);
                    pad(c, widths.get(i).copied().unwrap_or(0), a)
                })
                .collect();
            parts.join("  ").trim_end().to_owned()
        })
        .collect()
}

/// Writes an aligned text table: the header as a heading (omitted when empty), then one line
/// per row, each line indented by `indent` (see [`aligned`]).
pub fn table(
    out: &mut dyn Write,
    paint: Paint,
    indent: &str,
    header: &[&str],
    rows: &[Vec<String>],
    align: &[Align],
) -> io::Result<()> {
    let mut all: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    if !header.is_empty() {
        all.push(header.iter().map(|h| (*h).to_owned()).collect());
    }
    all.extend(rows.iter().cloned());
    let mut lines = aligned(&all, align).into_iter();
    if !header.is_empty() {
        if let Some(h) = lines.next() {
            writeln!(out, "{}", paint.heading(&format!("{indent}{h}")))?;
        }
    }
    for line in lines {
        writeln!(out, "{}", format!("{indent}{line}").trim_end())?;
    }
    Ok(())
}

/// `1 warning`, `2 warnings`, `0 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Escapes a cell for a markdown table (`|` and line breaks).
pub fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Writes a markdown table (cells escaped with [`md_cell`]).
pub fn markdown_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
    align: &[Align],
) -> io::Result<()> {
    let cells = |row: &mut dyn Iterator<Item = &str>| -> String {
        let parts: Vec<String> = row.map(md_cell).collect();
        format!("| {} |", parts.join(" | "))
    };
    writeln!(out, "{}", cells(&mut header.iter().copied()))?;
    let rule: Vec<&str> = (0..header.len())
        .map(|i| match align.get(i) {
            Some(Align::Right) => "---:",
            _ => "---",
        })
        .collect();
    writeln!(out, "|{}|", rule.join("|"))?;
    for row in rows {
        writeln!(out, "{}", cells(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

/// An integer with thousands separators: `3,821,079,552`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A parameter count as llama.cpp prints it: `3.82 B`, `494.03 M`, `1.20 K`.
pub fn approx_count(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a rough figure for people
    let x = n as f64;
    if n >= 1_000_000_000 {
        format!("{:.2} B", x / 1e9)
    } else if n >= 1_000_000 {
        format!("{:.2} M", x / 1e6)
    } else if n >= 1_000 {
        format!("{:.2} K", x / 1e3)
    } else {
        n.to_string()
    }
}

/// A shape in ggml `ne` order: `[3072, 9216]`.
pub fn shape(dims: &[u64]) -> String {
    let parts: Vec<String> = dims.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// A shape when known, `?` otherwise.
pub fn shape_opt(dims: Option<&[u64]>) -> String {
    dims.map_or_else(|| "?".to_owned(), shape)
}

/// A count when known, `?` otherwise.
pub fn count_opt(n: Option<u64>) -> String {
    n.map_or_else(|| "?".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Raw(String, bool, u64);

    impl Text for Raw {
        fn text(&self) -> &str {
            &self.0
        }
        fn is_utf8(&self) -> bool {
            self.1
        }
        fn byte_len(&self) -> u64 {
            self.2
        }
    }

    fn text(s: &str, utf8: bool, bytes: u64) -> Raw {
        Raw(s.to_owned(), utf8, bytes)
    }

    #[test]
    fn quoting_escapes_controls_and_marks_invalid_utf8() {
        assert_eq!(quoted(&text("a\"b\\\n", true, 5)), r#""a\"b\\\n""#);
        assert_eq!(
            quoted(&text("a\\\\\\xff", false, 3)),
            r#""a\\\xff" (not UTF-8)"#
        );
    }

    #[test]
    fn long_strings_show_a_prefix_and_their_size() {
        let long = "x".repeat(300);
        let shown = quoted(&text(&long, true, 300));
        assert_eq!(shown, format!("\"{}\" … (300 bytes)", "x".repeat(60)));
    }

    #[test]
    fn counts_are_grouped_and_approximated() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(3_821_079_552), "3,821,079,552");
        assert_eq!(approx_count(3_821_079_552), "3.82 B");
        assert_eq!(approx_count(494_032_768), "494.03 M");
        assert_eq!(approx_count(12), "12");
    }

    #[test]
    fn tables_align_and_trim() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["a".to_owned(), "1".to_owned(), String::new()],
            vec!["long name".to_owned(), "1234".to_owned(), "x".to_owned()],
        ];
        let align = [Align::Left, Align::Right];
        table(
            &mut out,
            Paint::plain(),
            "  ",
            &["name", "n", "note"],
            &rows,
            &align,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  name          n  note\n  a             1\n  long name  1234  x\n"
        );
        let mut md = Vec::new();
        markdown_table(
            &mut md,
            &["a|b", "n"],
            &[vec!["x".into(), "1".into()]],
            &align,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(md).unwrap(),
            "| a\\|b | n |\n|---|---:|\n| x | 1 |\n"
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(3 << 30), "3.00 GiB");
    }
}
