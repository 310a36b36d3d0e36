//! Tokens of archc, the C subset the architecture table is written in.

use std::fmt;

/// One token with the (table-relative) line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(&'static str),
    Int(i64),
    Float(f64),
    Str(String),
    /// Punctuation and operators, longest match (`<<=`, `&&`, `::` …).
    Punct(&'static str),
    Eof,
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
    let two = rest.get(..2);
    let three = rest.get(..3);
    if let Some(t) = three {
        if t == b"<<=" || t == b">>=" {
            return PUNCTS.iter().copied().find(|p| p.as_bytes() == t);
        }
    }
    if let Some(t) = two {
        if let Some(p) = PUNCTS
            .iter()
            .copied()
            .find(|p| p.len() == 2 && p.as_bytes() == t)
        {
            return Some(p);
        }
    }
    let c = *rest.first()?;
    PUNCTS
        .iter()
        .copied()
        .find(|p| p.len() == 1 && p.as_bytes().first() == Some(&c))
}

/// A lexing error: line and message.
pub(crate) type LexError = (u32, String);

/// Splits `src` (whose first line is line `first_line`) into tokens; comments are skipped.
pub(crate) fn lex(src: &'static str, first_line: u32) -> Result<Vec<Token>, LexError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    let mut line = first_line;
    while let Some(&c) = bytes.get(i) {
        if c == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
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
            let mut s = String::new();
            loop {
                match bytes.get(i) {
                    None | Some(b'\n') => return Err((line, "unterminated string".into())),
                    Some(&b) if b == quote => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let esc = bytes.get(i + 1).copied().unwrap_or(b'\\');
                        s.push(match esc {
                            b'n' => '\n',
                            b't' => '\t',
                            b'0' => '\0',
                            other => char::from(other),
                        });
                        i += 2;
                    }
                    Some(_) => {
                        // Copy one UTF-8 character.
                        let ch = src
                            .get(i..)
                            .and_then(|r| r.chars().next())
                            .unwrap_or('\u{fffd}');
                        s.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            let kind = if quote == b'\'' {
                Tok::Int(s.chars().next().map_or(0, |ch| i64::from(u32::from(ch))))
            } else {
                Tok::Str(s)
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
