//! The checks, written once against [`Record`] and run two ways: `is_valid`
//! (stops at the first failure, allocates nothing) and `collect` (every error,
//! with its path). Both are the same code, monomorphised over a [`Sink`].

mod array;
pub mod equal;
mod number;
mod object;
mod string;

pub use string::char_count as char_count_pub;

use std::ops::ControlFlow;

use crate::error::{Path, RecordError};
use crate::schema::{types, Node, Schema};
use crate::value::{Defect, Kind, Record, MAX_DEPTH};

/// Where failures go.
pub trait Sink {
    /// Reports one failure; `Break` stops the walk.
    fn fail(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    ) -> ControlFlow<()>;
}

/// Stops at the first failure and remembers only that there was one.
#[derive(Default)]
pub struct FirstFailure {
    pub failed: bool,
}

impl Sink for FirstFailure {
    #[inline]
    fn fail(
        &mut self,
        _: &Path<'_>,
        _: &'static str,
        _: impl FnOnce() -> String,
    ) -> ControlFlow<()> {
        self.failed = true;
        ControlFlow::Break(())
    }
}

/// Records every failure of record `index`.
pub struct Collect<'e> {
    pub index: usize,
    pub errors: &'e mut Vec<RecordError>,
}

impl Sink for Collect<'_> {
    fn fail(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    ) -> ControlFlow<()> {
        self.errors.push(RecordError {
            index: self.index,
            path: path.to_pointer(),
            keyword,
            message: message(),
        });
        ControlFlow::Continue(())
    }
}

/// Whether `record` is valid, without building anything.
#[inline]
pub fn is_valid<R: Record>(schema: &Schema, record: &R) -> bool {
    let mut sink = FirstFailure::default();
    let _ = check(&schema.root, record, &Path::Root, 0, &mut sink);
    !sink.failed
}

/// Whether `value`, found `depth` levels down a record, passes `node`.
#[inline]
pub fn node_is_valid<R: Record>(node: &Node, value: &R, depth: usize) -> bool {
    let mut sink = FirstFailure::default();
    let _ = check(node, value, &Path::Root, depth, &mut sink);
    !sink.failed
}

/// Whether a string passes the string keywords of a node.
#[inline]
pub fn string_is_valid(checks: &crate::schema::StringChecks, s: &str) -> bool {
    let mut sink = FirstFailure::default();
    let _ = string::check_str(checks, s, &Path::Root, &mut sink);
    !sink.failed
}

/// Whether a number passes the number keywords of a node.
#[inline]
pub fn number_is_valid(checks: &crate::schema::NumberChecks, n: &crate::value::Number) -> bool {
    let mut sink = FirstFailure::default();
    let _ = number::check(checks, n, &Path::Root, &mut sink);
    !sink.failed
}

/// Appends every error of `record` (number `index` of the input) to `errors`.
pub fn collect<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    errors: &mut Vec<RecordError>,
) {
    let mut sink = Collect { index, errors };
    let _ = check(&schema.root, record, &Path::Root, 0, &mut sink);
}

/// Validates one record: the cheap path first, errors only for a failing record.
/// Returns whether it is valid.
#[inline]
pub fn validate<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    errors: &mut Vec<RecordError>,
) -> bool {
    if is_valid(schema, record) {
        return true;
    }
    let before = errors.len();
    collect(schema, record, index, errors);
    debug_assert!(errors.len() > before, "is_valid and collect disagree");
    false
}

/// `1 item`, `2 items`, `1 property`, `0 properties`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

pub(crate) fn type_names(bits: u8) -> String {
    let names: Vec<String> = types::NAMES
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| format!("`{n}`"))
        .collect();
    if names.len() == 1 {
        names[0].clone()
    } else {
        format!("one of {}", names.join(", "))
    }
}

pub(crate) fn check<R: Record, S: Sink>(
    node: &Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.trivial {
        return ControlFlow::Continue(());
    }
    if node.always_false {
        return sink.fail(path, "false", || "No value is allowed here".to_string());
    }
    if let Some(defect) = value.defect() {
        return match defect {
            Defect::TooDeep => sink.fail(path, "depth", || {
                format!("Nesting deeper than {MAX_DEPTH} levels")
            }),
            Defect::InvalidString => {
                sink.fail(path, "json", || "String is not valid Unicode".to_string())
            }
        };
    }
    let kind = value.kind();
    if kind == Kind::Unsupported {
        return sink.fail(path, "json", || {
            format!("Expected a JSON value, got `{}`", value.type_name())
        });
    }
    let number = (kind == Kind::Number).then(|| value.as_number());
    if let Some(n) = &number {
        if !n.is_finite() {
            return sink.fail(path, "json", || format!("`{n}` is not a JSON number"));
        }
    }
    if node.types != 0 {
        let matches = match kind {
            Kind::Null => node.types & types::NULL != 0,
            Kind::Bool => node.types & types::BOOLEAN != 0,
            Kind::String => node.types & types::STRING != 0,
            Kind::Array => node.types & types::ARRAY != 0,
            Kind::Object => node.types & types::OBJECT != 0,
            Kind::Number => {
                node.types & types::NUMBER != 0
                    || (node.types & types::INTEGER != 0
                        && number.as_ref().is_some_and(|n| n.is_integer()))
            }
            Kind::Unsupported => false,
        };
        if !matches {
            sink.fail(path, "type", || {
                format!(
                    "Expected {}, got `{}`",
                    type_names(node.types),
                    value.type_name()
                )
            })?;
        }
    }
    if let Some(expected) = &node.const_value {
        match equal::equal(value, &expected, depth) {
            Ok(true) => {}
            Ok(false) => sink.fail(path, "const", || {
                format!("Expected {}", equal::short_repr(expected))
            })?,
            Err(equal::TooDeep) => sink.fail(path, "depth", || {
                format!("Nesting deeper than {MAX_DEPTH} levels")
            })?,
        }
    }
    if let Some(options) = &node.enum_values {
        let mut found = false;
        for option in options {
            match equal::equal(value, &option, depth) {
                Ok(true) => {
                    found = true;
                    break;
                }
                Ok(false) => {}
                Err(equal::TooDeep) => {
                    return sink.fail(path, "depth", || {
                        format!("Nesting deeper than {MAX_DEPTH} levels")
                    })
                }
            }
        }
        if !found {
            sink.fail(path, "enum", || {
                if options.is_empty() {
                    return "No value is allowed: `enum` is empty".to_string();
                }
                let shown: Vec<String> = options.iter().take(8).map(equal::short_repr).collect();
                let more = if options.len() > 8 { ", ..." } else { "" };
                format!("Expected one of {}{more}", shown.join(", "))
            })?;
        }
    }
    match kind {
        Kind::String => match &node.string {
            Some(checks) => string::check(checks, value, path, sink),
            None if !value.is_valid_unicode() => {
                sink.fail(path, "json", || "String is not valid Unicode".to_string())
            }
            None => ControlFlow::Continue(()),
        },
        Kind::Number => match (&node.number, &number) {
            (Some(checks), Some(n)) => number::check(checks, n, path, sink),
            _ => ControlFlow::Continue(()),
        },
        Kind::Array => match &node.array {
            Some(checks) => array::check(checks, value, path, depth, sink),
            None => ControlFlow::Continue(()),
        },
        Kind::Object => match &node.object {
            Some(checks) => object::check(checks, value, path, depth, sink),
            None => ControlFlow::Continue(()),
        },
        _ => ControlFlow::Continue(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::error::RecordError;
    use crate::json::parse_value;
    use crate::schema::Schema;
    use crate::value::MAX_DEPTH;

    fn messages(schema: &str, record: &str) -> Vec<(&'static str, String)> {
        let schema = Schema::from_json_text(schema).unwrap();
        let record = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
        let mut errors: Vec<RecordError> = Vec::new();
        super::validate(&schema, &&record, 0, &mut errors);
        errors.into_iter().map(|e| (e.keyword, e.message)).collect()
    }

    #[test]
    fn bounds_beyond_usize_are_stated_as_written() {
        assert_eq!(
            messages(r#"{"minItems": 18446744073709551616}"#, "[1, 2]"),
            [(
                "minItems",
                "Array has fewer than 18446744073709551616 items".to_string()
            )]
        );
        assert_eq!(
            messages(r#"{"minProperties": 1e30}"#, "{}"),
            [(
                "minProperties",
                "Object has fewer than 1e+30 properties".to_string()
            )]
        );
        assert_eq!(
            messages(r#"{"minItems": 3}"#, "[1]"),
            [("minItems", "Array has fewer than 3 items".to_string())]
        );
    }

    #[test]
    fn an_empty_enum_says_so() {
        assert_eq!(
            messages(r#"{"enum": []}"#, "1"),
            [("enum", "No value is allowed: `enum` is empty".to_string())]
        );
        assert_eq!(
            messages(r#"{"enum": [1, "a"]}"#, "2"),
            [("enum", r#"Expected one of 1, "a""#.to_string())]
        );
    }
}
