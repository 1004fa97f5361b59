//! The checks, written once against [`Record`] and run two ways: `is_valid`
//! (stops at the first failure, allocates nothing) and `collect` (every error,
//! with its path). Both are the same code, monomorphised over a [`Sink`].

mod array;
pub mod equal;
mod logic;
mod number;
mod object;
mod string;

pub use string::char_count as char_count_pub;

use std::borrow::Cow;
use std::ops::ControlFlow;

use crate::error::{Path, RecordError};
use crate::schema::{types, Node, Schema};
use crate::value::{Defect, Kind, Number, Record, MAX_DEPTH};

/// Where failures go. `'s` is the schema's lifetime: a sink may keep the
/// location of the node being checked without copying it.
pub trait Sink<'s> {
    /// Reports one failure; `Break` stops the walk.
    fn fail(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    ) -> ControlFlow<()>;

    /// The checks enter the node at `location`; returns what [`Sink::leave`] restores.
    #[inline]
    fn enter(&mut self, _location: &'s str) -> &'s str {
        ""
    }

    #[inline]
    fn leave(&mut self, _previous: &'s str) {}
}

/// Stops at the first failure and remembers only that there was one.
#[derive(Default)]
pub struct FirstFailure {
    pub failed: bool,
}

impl Sink<'_> for FirstFailure {
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
pub struct Collect<'e, 's> {
    pub index: usize,
    pub errors: &'e mut Vec<RecordError>,
    /// The location of the node being checked, borrowed from the schema: a
    /// schema path is formatted only for an error.
    pub at: &'s str,
}

impl<'e> Collect<'e, '_> {
    pub fn new(index: usize, errors: &'e mut Vec<RecordError>) -> Self {
        Collect {
            index,
            errors,
            at: "",
        }
    }
}

impl<'s> Sink<'s> for Collect<'_, 's> {
    fn fail(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    ) -> ControlFlow<()> {
        // Built by hand: `format!` measured as a visible share of a failing record.
        let mut schema_path = String::with_capacity(self.at.len() + 1 + keyword.len());
        schema_path.push_str(self.at);
        if !matches!(keyword, "false" | "json" | "depth") {
            schema_path.push('/');
            schema_path.push_str(keyword);
        }
        self.errors.push(RecordError {
            index: self.index,
            path: path.to_pointer(),
            keyword,
            message: message(),
            schema_path,
        });
        ControlFlow::Continue(())
    }

    #[inline]
    fn enter(&mut self, location: &'s str) -> &'s str {
        std::mem::replace(&mut self.at, location)
    }

    #[inline]
    fn leave(&mut self, previous: &'s str) {
        self.at = previous;
    }
}

/// References followed in place (without descending into the value) before
/// checking gives up; compiling already rejects static cycles.
pub const MAX_HOPS: u32 = 256;

/// What a check needs besides the node and the value: the schema (for the
/// targets of references), the dynamic scope (the schema resources entered, for
/// `$dynamicRef`), and how many references were followed in place.
#[derive(Clone, Copy)]
pub struct Cx<'s, 'd> {
    pub schema: &'s Schema,
    scope: Option<&'d Scope<'d>>,
    hops: u32,
}

/// The dynamic scope as a linked list on the stack, innermost first.
pub struct Scope<'a> {
    resource: u32,
    parent: Option<&'a Scope<'a>>,
}

impl<'s> Cx<'s, '_> {
    pub fn new(schema: &'s Schema) -> Self {
        Cx {
            schema,
            scope: None,
            hops: 0,
        }
    }

    /// The context for a child value (an item, a property).
    #[inline]
    fn descend(self) -> Self {
        Cx { hops: 0, ..self }
    }
}

/// Whether `record` is valid, without building anything.
#[inline]
pub fn is_valid<R: Record>(schema: &Schema, record: &R) -> bool {
    let mut sink = FirstFailure::default();
    let _ = check(
        &schema.root,
        record,
        &Path::Root,
        0,
        Cx::new(schema),
        &mut sink,
    );
    !sink.failed
}

/// Whether `value`, found `depth` levels down a record, passes `node` (a node of
/// `schema` that does not depend on the dynamic scope).
#[inline]
pub fn node_is_valid<'s, R: Record>(
    schema: &'s Schema,
    node: &'s Node,
    value: &R,
    depth: usize,
) -> bool {
    let mut sink = FirstFailure::default();
    let _ = check(node, value, &Path::Root, depth, Cx::new(schema), &mut sink);
    !sink.failed
}

/// Whether `value` passes `node` in context `cx`.
#[inline]
pub(crate) fn valid_in<'s, R: Record>(
    node: &'s Node,
    value: &R,
    depth: usize,
    cx: Cx<'s, '_>,
) -> bool {
    let mut sink = FirstFailure::default();
    let _ = check(node, value, &Path::Root, depth, cx, &mut sink);
    !sink.failed
}

/// A value for a message: at most 40 characters, then `...` and the length.
pub fn shorten(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(40) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!(
            "{}... ({} characters)",
            &s[..cut],
            string::char_count(s)
        )),
    }
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
    let mut sink = Collect::new(index, errors);
    let _ = check(
        &schema.root,
        record,
        &Path::Root,
        0,
        Cx::new(schema),
        &mut sink,
    );
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

pub(crate) fn check<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.trivial {
        return ControlFlow::Continue(());
    }
    let previous = sink.enter(&node.location);
    // A number is read once, here, and borrowed by the checks: `Number` owns heap
    // variants, whose drop glue (an out-of-line call) would otherwise run at
    // the end of every node's checks, numbers or not.
    let kind = value.kind();
    let flow = if kind == Kind::Number {
        let n = value.as_number();
        check_here(node, value, Kind::Number, Some(&n), path, depth, cx, sink)
    } else {
        check_here(node, value, kind, None, path, depth, cx, sink)
    };
    sink.leave(previous);
    flow
}

/// The checks of one node; `kind` is the value's, `number` the value when it is one.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn check_here<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    kind: Kind,
    number: Option<&Number>,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.always_false {
        return sink.fail(path, "false", || "No value is allowed here".to_string());
    }
    if depth > MAX_DEPTH {
        // A recursive schema follows a record as deep as it goes: stop where a
        // converted record would have stopped.
        return sink.fail(path, "depth", || {
            format!("Nesting deeper than {MAX_DEPTH} levels")
        });
    }
    let scope;
    let cx = match node.resource {
        Some(resource) if cx.schema.dynamic => {
            scope = Scope {
                resource,
                parent: cx.scope,
            };
            Cx {
                scope: Some(&scope),
                ..cx
            }
        }
        _ => cx,
    };
    // Only strings and unsupported values can have a defect (see [`Record::defect`]).
    if matches!(kind, Kind::String | Kind::Unsupported) {
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
        if kind == Kind::Unsupported {
            return sink.fail(path, "json", || {
                format!("Expected a JSON value, got `{}`", value.type_name())
            });
        }
    }
    if let Some(n) = number {
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
                    || (node.types & types::INTEGER != 0 && number.is_some_and(Number::is_integer))
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
        // A string that is not valid Unicode was reported above, as a defect.
        Kind::String => {
            if let Some(checks) = &node.string {
                string::check(checks, value, path, sink)?;
            }
        }
        Kind::Number => {
            if let (Some(checks), Some(n)) = (&node.number, number) {
                number::check(checks, n, path, sink)?;
            }
        }
        Kind::Array => {
            if let Some(checks) = &node.array {
                array::check(checks, value, path, depth, cx, sink)?;
            }
        }
        Kind::Object => {
            if let Some(checks) = &node.object {
                object::check(checks, value, path, depth, cx, sink)?;
            }
        }
        _ => {}
    }
    match &node.logic {
        Some(logic) => logic::check(node, logic, value, path, depth, cx, sink),
        None => ControlFlow::Continue(()),
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
