//! minLength, maxLength (in code points), pattern, format.

use std::ops::ControlFlow;

use super::Sink;
use super::{plural, quoted, shorten};
use crate::error::Path;
use crate::pattern::WorkExceeded;
use crate::schema::StringChecks;
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
                sink.fail(path, "minLength", || {
                    format!(
                        "String shorter than {}, got {}",
                        plural(min, "character"),
                        quoted(s)
                    )
                })?;
            }
        }
        if let Some(max) = checks.max_length {
            if length > max {
                sink.fail(path, "maxLength", || {
                    format!(
                        "String longer than {}, got {}",
                        plural(max, "character"),
                        quoted(s)
                    )
                })?;
            }
        }
    }
    if let Some(re) = &checks.pattern {
        match re.find(s) {
            Ok(true) => {}
            Ok(false) => sink.fail(path, "pattern", || {
                format!(
                    "String does not match `{}`, got {}",
                    shorten(re.as_str()),
                    quoted(s)
                )
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
            sink.fail(path, "format", || {
                format!(
                    "String is not a valid `{}`, got {}",
                    format.name(),
                    quoted(s)
                )
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
