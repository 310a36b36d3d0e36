//! Python's `json.dumps` over template values, as transformers' `tojson` filter calls it
//! (`ensure_ascii=False`, `indent=None`, `separators=None`, `sort_keys=False` unless the template
//! passes them): `", "` and `": "` between items without an indent, `","` and `": "` with one,
//! keys in insertion order, floats as Python's `repr`.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// The options of `json.dumps` a template can pass to `tojson`.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// `ensure_ascii`: escape every non-ASCII character as `\uXXXX`.
    pub ensure_ascii: bool,
    /// `indent`: `None` for one line; else the string put before each level.
    pub indent: Option<String>,
    /// `separators`: (item, key) separators.
    pub separators: (String, String),
    /// `sort_keys`.
    pub sort_keys: bool,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            ensure_ascii: false,
            indent: None,
            separators: (", ".into(), ": ".into()),
            sort_keys: false,
        }
    }
}

/// `json.dumps(value, **options)`.
pub fn dumps(value: &Value, options: &DumpOptions) -> Result<String, Error> {
    if let Some(plain) = crate::track::untracked(value) {
        crate::track::mark_deep(value);
        return dumps(&plain, options);
    }
    let mut out = String::new();
    write_value(&mut out, value, options, 0)?;
    Ok(out)
}

fn newline(out: &mut String, options: &DumpOptions, depth: usize) {
    if let Some(indent) = &options.indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    }
}

fn write_value(
    out: &mut String,
    value: &Value,
    options: &DumpOptions,
    depth: usize,
) -> Result<(), Error> {
    if depth > 500 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "RecursionError: tojson nesting too deep",
        ));
    }
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => write_number(out, value),
        ValueKind::String => write_string(
            out,
            value.as_str().unwrap_or_default(),
            options.ensure_ascii,
        ),
        ValueKind::Iterable => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "TypeError: Object of type generator is not JSON serializable",
            ))
        }
        ValueKind::Plain if crate::pyobj::is_py_none(value) => out.push_str("null"),
        ValueKind::Seq => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&options.separators.0);
                }
                newline(out, options, depth + 1);
                write_value(out, item, options, depth + 1)?;
            }
            newline(out, options, depth);
            out.push(']');
        }
        ValueKind::Map => {
            let mut pairs: Vec<(Value, Value)> = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                pairs.push((key, item));
            }
            if pairs.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if options.sort_keys {
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (key, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(&options.separators.0);
                }
                newline(out, options, depth + 1);
                write_key(out, key, options)?;
                out.push_str(&options.separators.1);
                write_value(out, item, options, depth + 1)?;
            }
            newline(out, options, depth);
            out.push('}');
        }
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "TypeError: Object of type Undefined is not JSON serializable",
            ))
        }
        other => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("TypeError: Object of type {other} is not JSON serializable"),
            ))
        }
    }
    Ok(())
}

fn write_key(out: &mut String, key: &Value, options: &DumpOptions) -> Result<(), Error> {
    match key.kind() {
        ValueKind::String => {
            write_string(out, key.as_str().unwrap_or_default(), options.ensure_ascii)
        }
        ValueKind::Number => {
            let mut s = String::new();
            write_number(&mut s, key);
            write_string(out, &s, options.ensure_ascii);
        }
        ValueKind::Bool => out.push_str(if key.is_true() {
            "\"true\""
        } else {
            "\"false\""
        }),
        ValueKind::None => out.push_str("\"null\""),
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "TypeError: keys must be str, int, float, bool or None",
            ))
        }
    }
    Ok(())
}

fn write_number(out: &mut String, value: &Value) {
    if value.is_integer() {
        out.push_str(&value.to_string());
        return;
    }
    match f64::try_from(value.clone()) {
        Ok(f) => out.push_str(&python_float_repr(f)),
        Err(_) => out.push_str(&value.to_string()),
    }
}

/// Python's `float.__repr__` (and so `json.dumps` of a float): the shortest round-trip digits,
/// scientific notation below 1e-4 and from 1e16, `Infinity`/`NaN` as `json.dumps` writes them.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: d.ddddde±x.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
        if exp >= n - 1 {
            // Integer-valued: digits then zeros, ".0".
            let zeros = "0".repeat(usize::try_from(exp - (n - 1)).unwrap_or(0));
            format!("{sign}{digits}{zeros}.0")
        } else if exp >= 0 {
            let split = usize::try_from(exp + 1).unwrap_or(0);
            let (a, b) = digits.split_at(split.min(digits.len()));
            format!("{sign}{a}.{b}")
        } else {
            let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{rest}e{esign}{:02}", exp.abs())
    }
}

/// A JSON string as Python's encoder writes it.
pub fn write_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
            (1.5e-7, "1.5e-07"),
        ] {
            assert_eq!(python_float_repr(f), s);
        }
    }
}
