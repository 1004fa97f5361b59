//! minLength, maxLength (in code points), pattern, format: their compiled
//! form ([`StringChecks`], at the end with [`compile`]) and their check.

use std::ops::ControlFlow;

use serde_json::{Map, Value};

use super::Sink;
use super::{push_plural, push_quoted, quoted, shorten};
use crate::error::Path;
use crate::format::Format;
use crate::pattern::{Pattern, WorkExceeded};
use crate::schema::{
    compile_pattern, err, json_type, non_negative, non_negative_with_text, Draft, SchemaError,
};
use crate::value::Record;

pub(super) fn check<'s, R: Record, S: Sink<'s>>(
    checks: &StringChecks,
    value: &R,
    path: &Path<'_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let Some(s) = value.as_str() else {
        return sink.fail(path, "json", || "String is not valid Unicode".to_string());
    };
    check_str(checks, s, path, sink)
}

#[inline]
pub(super) fn check_str<'s, S: Sink<'s>>(
    checks: &StringChecks,
    s: &str,
    path: &Path<'_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if checks.min_length.is_some() || checks.max_length.is_some() {
        let length = char_count(s);
        if let Some(min) = checks.min_length {
            if length < min {
                sink.fail_with(path, "minLength", |m| {
                    m.push_str("String shorter than ");
                    match &checks.min_length_text {
                        Some(text) => {
                            m.push_str(text);
                            m.push_str(" characters");
                        }
                        None => push_plural(m, min, "character"),
                    }
                    m.push_str(", got ");
                    push_quoted(m, s);
                })?;
            }
        }
        if let Some(max) = checks.max_length {
            if length > max {
                sink.fail_with(path, "maxLength", |m| {
                    m.push_str("String longer than ");
                    push_plural(m, max, "character");
                    m.push_str(", got ");
                    push_quoted(m, s);
                })?;
            }
        }
    }
    if let Some(re) = &checks.pattern {
        match re.find(s) {
            Ok(true) => {}
            Ok(false) => sink.fail_with(path, "pattern", |m| {
                m.push_str("String does not match `");
                m.push_str(&shorten(re.as_str()));
                m.push_str("`, got ");
                push_quoted(m, s);
            })?,
            Err(WorkExceeded) => sink.fail(path, "pattern", || {
                format!(
                    "Matching `{}` exceeded the work bound, got {}",
                    shorten(re.as_str()),
                    quoted(s)
                )
            })?,
        }
    }
    if let Some(format) = checks.format {
        if !format.is_valid(s) {
            sink.fail_with(path, "format", |m| {
                m.push_str("String is not a valid `");
                m.push_str(format.name());
                m.push_str("`, got ");
                push_quoted(m, s);
            })?;
        }
    }
    ControlFlow::Continue(())
}

/// Code points, counted from the UTF-8 bytes that start one.
#[inline]
pub fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.bytes().filter(|b| (*b as i8) >= -0x40).count()
    }
}

/// Where the code point at index `n` starts in `s`, if `s` has more than `n`:
/// `s.char_indices().nth(n)`, without decoding when its first `n + 1` bytes are
/// ASCII (most received values and messages that get cut: decoding them
/// measured as a visible share of a failing record).
#[inline]
pub fn nth_char_start(s: &str, n: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.len() <= n {
        return None; // at most as many code points as bytes
    }
    if bytes[..=n].is_ascii() {
        return Some(n);
    }
    s.char_indices().nth(n).map(|(i, _)| i)
}

/// The string keywords of a node; `format` only where the draft asserts it.
#[derive(Debug, Default)]
pub struct StringChecks {
    /// `minLength`; both lengths count code points.
    pub min_length: Option<usize>,
    /// The schema's `minLength` when it is beyond `usize::MAX`, as
    /// [`crate::check::array::ArrayChecks::min_items_text`].
    pub min_length_text: Option<Box<str>>,
    pub max_length: Option<usize>,
    /// Boxed: a string node's checks then fit next to its flags (see [`crate::schema::Node`]).
    pub pattern: Option<Box<Pattern>>,
    pub format: Option<Format>,
}

/// Compiles the string keywords of the schema `map`; `None` when there are none.
/// `formats`: the draft whose formats are asserted, `None` when `format` is an annotation.
pub(crate) fn compile(
    map: &Map<String, Value>,
    formats: Option<Draft>,
    location: &str,
) -> Result<Option<StringChecks>, SchemaError> {
    let (min_length, min_length_text) = non_negative_with_text(map, "minLength", location)?.unzip();
    let mut checks = StringChecks {
        min_length,
        min_length_text: min_length_text.flatten(),
        max_length: non_negative(map, "maxLength", location)?,
        ..StringChecks::default()
    };
    match map.get("pattern") {
        None => {}
        Some(Value::String(p)) => {
            checks.pattern = Some(Box::new(compile_pattern(p, "pattern", location)?))
        }
        Some(other) => {
            return err(
                location,
                format!("`pattern` must be a string, got {}", json_type(other)),
            )
        }
    }
    match map.get("format") {
        None => {}
        // Formats the draft does not define are annotations.
        Some(Value::String(name)) => {
            checks.format = formats.and_then(|draft| Format::from_name_in(name, draft));
        }
        Some(other) => {
            return err(
                location,
                format!("`format` must be a string, got {}", json_type(other)),
            )
        }
    }
    let any = checks.min_length.is_some()
        || checks.max_length.is_some()
        || checks.pattern.is_some()
        || checks.format.is_some();
    Ok(any.then_some(checks))
}

#[cfg(test)]
mod tests {
    use crate::schema::{Schema, SchemaError};

    fn compile(text: &str) -> Result<Schema, SchemaError> {
        Schema::from_json_text(text)
    }

    /// The start of the `n`-th code point is what `char_indices` finds, ASCII or not,
    /// at every length around `n`.
    #[test]
    fn nth_char_start_is_the_char_indices_one() {
        for base in ["abcdefghij", "aé€😀b", "€€€€€", "a\u{0}\n\"x"] {
            for len in 0..24 {
                let s: String = base.chars().cycle().take(len).collect();
                for n in 0..12 {
                    let expected = s.char_indices().nth(n).map(|(i, _)| i);
                    assert_eq!(super::nth_char_start(&s, n), expected, "{s:?} {n}");
                }
            }
        }
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            compile(r#"{"minLength": -1}"#).unwrap_err().0,
            "`minLength` must be a non-negative integer, got -1 (at the root)"
        );
        assert!(compile(r#"{"pattern": "("}"#)
            .unwrap_err()
            .0
            .starts_with("`pattern` `(` is not a valid regular expression"));
    }

    #[test]
    fn pattern_refusals() {
        assert_eq!(
            compile(r#"{"properties": {"a": {"pattern": "(?:\\p{L}\\P{L}?){1,100}x"}}}"#)
                .unwrap_err()
                .0,
            "`pattern` `(?:\\p{L}\\P{L}?){1,100}x` is too large: it compiles to more than 1048576 bytes (at /properties/a)"
        );
        let long = format!("{}{}", "\\\\w".repeat(30), "{1,100000}");
        assert_eq!(
            compile(&format!(r#"{{"pattern": "{long}"}}"#)).unwrap_err().0,
            "`pattern` `\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w\\w... (70 characters)` is too large: it compiles to more than 1048576 bytes (at the root)"
        );
        assert_eq!(
            compile(r#"{"pattern": "\\Z"}"#).unwrap_err().0,
            "`pattern` `\\Z` is not a valid regular expression: unrecognized escape sequence `\\Z` (at the root)"
        );
    }
}
