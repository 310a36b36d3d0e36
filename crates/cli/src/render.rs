//! Text rendering helpers shared by the commands: colors, quoting, values, byte sizes and
//! the issue list. Everything is deterministic (fixed float formatting, no clock, no paths).

use std::io::{self, Write};

use crate::report::issues::IssueView;
use crate::report::value::{ArrayView, TextView, ValueView};

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

/// A string in double quotes with control characters escaped; long ones shortened to a prefix
/// followed by `… (N bytes)`; invalid UTF-8 marked `(not UTF-8)`.
pub fn quoted(t: &TextView) -> String {
    let long = t.bytes > LONG_STRING_BYTES;
    let shown = if long {
        t.text
            .chars()
            .take(LONG_STRING_PREFIX_CHARS)
            .collect::<String>()
    } else {
        t.text.clone()
    };
    let mut out = String::with_capacity(shown.len() + 2);
    out.push('"');
    for c in shown.chars() {
        match c {
            // The escaped form of invalid UTF-8 already doubled its backslashes.
            '\\' if t.utf8 => out.push_str("\\\\"),
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
        out.push_str(&format!(" … ({} bytes)", t.bytes));
    }
    if !t.utf8 {
        out.push_str(" (not UTF-8)");
    }
    out
}

/// A value on one line: numbers as they are (floats in Rust's `Debug` form, e.g. `1e-5`,
/// `10000.0`), strings [`quoted`], arrays as `[type; len] [first, …]`.
pub fn value(v: &ValueView) -> String {
    match v {
        ValueView::Unsigned(n) => n.to_string(),
        ValueView::Signed(n) => n.to_string(),
        ValueView::Float(f) => format!("{f:?}"),
        ValueView::NonFinite(s) => (*s).to_owned(),
        ValueView::Bool(b) => b.to_string(),
        ValueView::Text(t) => quoted(t),
        ValueView::Array(a) => array(a),
    }
}

fn array(a: &ArrayView) -> String {
    let mut items: Vec<String> = a.head.iter().map(value).collect();
    if (items.len() as u64) < a.len {
        items.push("…".to_owned());
    }
    format!("[{}; {}] [{}]", a.element_type, a.len, items.join(", "))
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
    list: &[IssueView],
) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "{}: none", paint.heading(title));
    }
    writeln!(out, "{} ({})", paint.heading(title), list.len())?;
    let sev_w = list.iter().map(|i| i.severity.len()).max().unwrap_or(0);
    let code_w = list.iter().map(|i| i.code.len()).max().unwrap_or(0);
    for i in list {
        writeln!(
            out,
            "  {}  {:<code_w$}  at byte {}: {}",
            paint.severity(i.severity, sev_w),
            i.code,
            i.offset,
            i.message
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, utf8: bool, bytes: u64) -> TextView {
        TextView {
            text: s.to_owned(),
            utf8,
            bytes,
        }
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
    fn human_sizes() {
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(3 << 30), "3.00 GiB");
    }
}
