//! Tokens of archc, the C subset the architecture table is written in.

use std::fmt;

/// One token with the (table-relative) line it starts on.
/// One token with the (table-relative) line it starts on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok {
    Ident(&'static str),
    Int(i64),
    Float(f64),
    /// A string literal's text between the quotes, escapes not yet resolved (see
    /// [`unescape`]).
    Str(&'static str),
    /// Punctuation and operators, longest match (`<<=`, `&&`, `::` …).
    Punct(&'static str),
    Eof,
}

/// A string literal's value: `\n`, `\t`, `\0` and `\x` (any other `x`) resolved.
pub(crate) fn unescape(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains('\\') {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut s = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            s.push(c);
            continue;
        }
        s.push(match chars.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('0') => '\0',
            Some(other) => other,
            None => '\\',
        });
    }
    std::borrow::Cow::Owned(s)
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Int(v) => write!(f, "`{v}`"),
            Tok::Float(v) => write!(f, "`{v}`"),
            Tok::Str(s) => write!(f, "\"{s}\""),
            Tok::Punct(p) => write!(f, "`{p}`"),
            Tok::Eof => f.write_str("end of body"),
        }
    }
}

const PUNCTS: &[&str] = &[
    "<<=", ">>=", "::", "->", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<",
    ">>", "<=", ">=", "==", "!=", "&&", "||", "(", ")", "{", "}", "[", "]", ";", ",", ".", "?",
    ":", "+", "-", "*", "/", "%", "<", ">", "=", "!", "~", "&", "|", "^",
];

/// The longest punctuation token at the start of `rest`.
fn punct(rest: &[u8]) -> Option<&'static str> {
    let c = *rest.first()?;
    let n = rest.get(1).copied().unwrap_or(0);
    let n2 = rest.get(2).copied().unwrap_or(0);
    Some(match (c, n) {
        (b'<', b'<') if n2 == b'=' => "<<=",
        (b'>', b'>') if n2 == b'=' => ">>=",
        (b':', b':') => "::",
        (b'-', b'>') => "->",
        (b'+', b'+') => "++",
        (b'-', b'-') => "--",
        (b'+', b'=') => "+=",
        (b'-', b'=') => "-=",
        (b'*', b'=') => "*=",
        (b'/', b'=') => "/=",
        (b'%', b'=') => "%=",
        (b'&', b'=') => "&=",
        (b'|', b'=') => "|=",
        (b'^', b'=') => "^=",
        (b'<', b'<') => "<<",
        (b'>', b'>') => ">>",
        (b'<', b'=') => "<=",
        (b'>', b'=') => ">=",
        (b'=', b'=') => "==",
        (b'!', b'=') => "!=",
        (b'&', b'&') => "&&",
        (b'|', b'|') => "||",
        _ => {
            let i = PUNCTS
                .iter()
                .position(|p| p.len() == 1 && p.as_bytes().first() == Some(&c))?;
            PUNCTS.get(i).copied()?
        }
    })
}

/// A lexing error: line and message.
pub(crate) type LexError = (u32, String);

/// Splits `src` (whose first line is line `first_line`) into tokens; comments are skipped.
pub(crate) fn lex(src: &'static str, first_line: u32) -> Result<Vec<Token>, LexError> {
    let bytes = src.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 5 + 1);
    let mut i = 0usize;
    let mut line = first_line;
    while let Some(&c) = bytes.get(i) {
        if c == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c == b' ' || c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let rest = bytes.get(i..).unwrap_or(&[]);
        // A `#` at the start of a line is a comment line of the table.
        if c == b'#' && (i == 0 || bytes.get(i - 1) == Some(&b'\n')) {
            while bytes.get(i).is_some_and(|&b| b != b'\n') {
                i += 1;
            }
            continue;
        }
        if rest.starts_with(b"//") {
            while bytes.get(i).is_some_and(|&b| b != b'\n') {
                i += 1;
            }
            continue;
        }
        if rest.starts_with(b"/*") {
            i += 2;
            while i < bytes.len() && !bytes.get(i..).unwrap_or(&[]).starts_with(b"*/") {
                if bytes.get(i) == Some(&b'\n') {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        let start_line = line;
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                i += 1;
            }
            let word = src.get(s..i).unwrap_or_default();
            out.push(Token {
                kind: Tok::Ident(word),
                line: start_line,
            });
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let s = i;
            let mut is_float = false;
            if rest.starts_with(b"0x") || rest.starts_with(b"0X") {
                i += 2;
                while bytes.get(i).is_some_and(u8::is_ascii_hexdigit) {
                    i += 1;
                }
                let digits = src.get(s + 2..i).unwrap_or_default();
                let v = i64::from_str_radix(digits, 16)
                    .map_err(|e| (line, format!("bad hex literal: {e}")))?;
                while bytes
                    .get(i)
                    .is_some_and(|b| matches!(b, b'u' | b'U' | b'l' | b'L'))
                {
                    i += 1;
                }
                out.push(Token {
                    kind: Tok::Int(v),
                    line: start_line,
                });
                continue;
            }
            while let Some(&b) = bytes.get(i) {
                if b.is_ascii_digit() {
                    i += 1;
                } else if b == b'.' || b == b'e' || b == b'E' {
                    is_float = true;
                    i += 1;
                    if (b == b'e' || b == b'E')
                        && bytes.get(i).is_some_and(|x| *x == b'-' || *x == b'+')
                    {
                        i += 1;
                    }
                } else {
                    break;
                }
            }
            let text = src.get(s..i).unwrap_or_default();
            // Suffixes: 1.0f, 10u, 1ULL.
            while bytes
                .get(i)
                .is_some_and(|b| matches!(b, b'f' | b'F' | b'u' | b'U' | b'l' | b'L'))
            {
                if matches!(bytes.get(i), Some(b'f' | b'F')) {
                    is_float = true;
                }
                i += 1;
            }
            let kind = if is_float {
                Tok::Float(
                    text.parse::<f64>()
                        .map_err(|e| (line, format!("bad number `{text}`: {e}")))?,
                )
            } else {
                Tok::Int(
                    text.parse::<i64>()
                        .map_err(|e| (line, format!("bad number `{text}`: {e}")))?,
                )
            };
            out.push(Token {
                kind,
                line: start_line,
            });
            continue;
        }
        if c == b'"' || c == b'\'' {
            let quote = c;
            i += 1;
            let s = i;
            loop {
                match bytes.get(i) {
                    None | Some(b'\n') => return Err((line, "unterminated string".into())),
                    Some(&b) if b == quote => break,
                    Some(b'\\') => i += 2,
                    Some(_) => i += 1,
                }
            }
            let raw = src.get(s..i).unwrap_or_default();
            i += 1;
            let kind = if quote == b'\'' {
                Tok::Int(
                    unescape(raw)
                        .chars()
                        .next()
                        .map_or(0, |ch| i64::from(u32::from(ch))),
                )
            } else {
                Tok::Str(raw)
            };
            out.push(Token {
                kind,
                line: start_line,
            });
            continue;
        }
        let Some(p) = punct(rest) else {
            return Err((line, format!("unexpected character `{}`", char::from(c))));
        };
        i += p.len();
        out.push(Token {
            kind: Tok::Punct(p),
            line: start_line,
        });
    }
    out.push(Token {
        kind: Tok::Eof,
        line,
    });
    Ok(out)
}
