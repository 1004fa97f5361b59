//! minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf: exact for
//! integers of any size.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use super::Sink;
use crate::error::Path;
use crate::schema::NumberChecks;
use crate::value::Number;

pub(super) fn check<'s, S: Sink<'s>>(
    checks: &NumberChecks,
    n: &Number,
    path: &Path<'_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if let Some(min) = &checks.minimum {
        if n.compare(min) == Some(Ordering::Less) {
            sink.fail(path, "minimum", || format!("Must be >= {min}, got {n}"))?;
        }
    }
    if let Some(max) = &checks.maximum {
        if n.compare(max) == Some(Ordering::Greater) {
            sink.fail(path, "maximum", || format!("Must be <= {max}, got {n}"))?;
        }
    }
    if let Some(min) = &checks.exclusive_minimum {
        if n.compare(min) != Some(Ordering::Greater) {
            sink.fail(path, "exclusiveMinimum", || {
                format!("Must be > {min}, got {n}")
            })?;
        }
    }
    if let Some(max) = &checks.exclusive_maximum {
        if n.compare(max) != Some(Ordering::Less) {
            sink.fail(path, "exclusiveMaximum", || {
                format!("Must be < {max}, got {n}")
            })?;
        }
    }
    if let Some(d) = &checks.multiple_of {
        if !n.is_multiple_of(d) {
            sink.fail(path, "multipleOf", || {
                format!("Must be a multiple of {d}, got {n}")
            })?;
        }
    }
    ControlFlow::Continue(())
}
