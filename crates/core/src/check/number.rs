//! minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf: exact for
//! integers of any size. Their compiled form ([`NumberChecks`], at the end
//! with [`compile`]) and their check.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use serde_json::{Map, Value};

use super::Sink;
use crate::error::Path;
use crate::schema::{err, json_type, Draft, SchemaError};
use crate::value::{Divisor, Number, MAX_EXPONENT};

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
        if !d.divides(n) {
            sink.fail(path, "multipleOf", || {
                format!("Must be a multiple of {d}, got {n}")
            })?;
        }
    }
    ControlFlow::Continue(())
}

/// The number keywords of a node; a bound made exclusive by draft 4's boolean
/// `exclusiveMinimum`/`exclusiveMaximum` moves to `exclusive_*`.
#[derive(Debug, Default)]
pub struct NumberChecks {
    pub minimum: Option<Number>,
    pub maximum: Option<Number>,
    pub exclusive_minimum: Option<Number>,
    pub exclusive_maximum: Option<Number>,
    /// Taken apart once, here: each check then costs a remainder (see [`Divisor`]).
    pub multiple_of: Option<Divisor>,
}

/// Compiles the number keywords of the schema `map`; `None` when there are none.
pub(crate) fn compile(
    map: &Map<String, Value>,
    draft: Draft,
    location: &str,
) -> Result<Option<NumberChecks>, SchemaError> {
    let mut checks = NumberChecks {
        minimum: number(map, "minimum", location)?,
        maximum: number(map, "maximum", location)?,
        ..NumberChecks::default()
    };
    let multiple_of = number(map, "multipleOf", location)?;
    if draft == Draft::Draft4 {
        // Draft 4: booleans that make `minimum`/`maximum` exclusive.
        for (key, bound, exclusive) in [
            (
                "exclusiveMinimum",
                &mut checks.minimum,
                &mut checks.exclusive_minimum,
            ),
            (
                "exclusiveMaximum",
                &mut checks.maximum,
                &mut checks.exclusive_maximum,
            ),
        ] {
            match map.get(key) {
                None | Some(Value::Bool(false)) => {}
                Some(Value::Bool(true)) => *exclusive = bound.take(),
                Some(other) => {
                    return err(
                        location,
                        format!(
                            "`{key}` must be a boolean in draft 4, got {}",
                            json_type(other)
                        ),
                    )
                }
            }
        }
    } else {
        checks.exclusive_minimum = number(map, "exclusiveMinimum", location)?;
        checks.exclusive_maximum = number(map, "exclusiveMaximum", location)?;
    }
    if let Some(m) = multiple_of {
        if m.compare(&Number::Int(0)) != Some(std::cmp::Ordering::Greater) {
            return err(
                location,
                format!("`multipleOf` must be greater than 0, got {m}"),
            );
        }
        // A finite number greater than 0 always makes one.
        match Divisor::new(m.clone()) {
            Some(d) => checks.multiple_of = Some(d),
            None => return err(location, format!("`multipleOf` is not supported, got {m}")),
        }
    }
    let any = checks.minimum.is_some()
        || checks.maximum.is_some()
        || checks.exclusive_minimum.is_some()
        || checks.exclusive_maximum.is_some()
        || checks.multiple_of.is_some();
    Ok(any.then_some(checks))
}

/// A finite number keyword.
fn number(
    map: &Map<String, Value>,
    key: &str,
    location: &str,
) -> Result<Option<Number>, SchemaError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Number(n)) => match Number::parse(&n.to_string()) {
            Some(num) if num.is_finite() => Ok(Some(num)),
            Some(Number::OutOfRange(_)) => err(
                location,
                format!(
                    "`{key}` has an exponent beyond ±{MAX_EXPONENT}, which is not supported, got {n}"
                ),
            ),
            _ => err(
                location,
                format!("`{key}` must be a finite number, got {n}"),
            ),
        },
        Some(other) => err(
            location,
            format!("`{key}` must be a number, got {}", json_type(other)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::{Schema, SchemaError};

    fn compile(text: &str) -> Result<Schema, SchemaError> {
        Schema::from_json_text(text)
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            compile(r#"{"multipleOf": 0}"#).unwrap_err().0,
            "`multipleOf` must be greater than 0, got 0 (at the root)"
        );
    }
}
