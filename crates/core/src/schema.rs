//! Compiling a JSON Schema document (the draft 2020-12 subset we support) into
//! an immutable tree of [`Node`]s. Only compiling can fail.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::format::Format;
use crate::pattern::{Pattern, PatternError};
use crate::value::{Json, Number};

/// Bits of [`Node::types`].
pub mod types {
    pub const NULL: u8 = 1;
    pub const BOOLEAN: u8 = 2;
    pub const INTEGER: u8 = 4;
    pub const NUMBER: u8 = 8;
    pub const STRING: u8 = 16;
    pub const ARRAY: u8 = 32;
    pub const OBJECT: u8 = 64;
    pub const NAMES: [(&str, u8); 7] = [
        ("null", NULL),
        ("boolean", BOOLEAN),
        ("integer", INTEGER),
        ("number", NUMBER),
        ("string", STRING),
        ("array", ARRAY),
        ("object", OBJECT),
    ];
}

/// Keywords that carry no assertion; accepted and ignored by design.
const ANNOTATIONS: [&str; 9] = [
    "$schema",
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
];

#[derive(Debug)]
pub struct SchemaError(pub String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Default)]
pub struct StringChecks {
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<Pattern>,
    pub format: Option<Format>,
}

#[derive(Debug, Default)]
pub struct NumberChecks {
    pub minimum: Option<Number>,
    pub maximum: Option<Number>,
    pub exclusive_minimum: Option<Number>,
    pub exclusive_maximum: Option<Number>,
    pub multiple_of: Option<Number>,
}

#[derive(Debug, Default)]
pub struct ArrayChecks {
    pub prefix_items: Vec<Node>,
    pub items: Option<Box<Node>>,
    pub min_items: Option<usize>,
    /// The schema's `minItems` when it is beyond `usize::MAX` (then `min_items`
    /// is `usize::MAX`, which no array reaches), for messages.
    pub min_items_text: Option<Box<str>>,
    pub max_items: Option<usize>,
    pub unique_items: bool,
}

#[derive(Debug)]
pub enum Additional {
    Allow,
    Forbid,
    Schema(Box<Node>),
}

/// A name the object checks know: a property, a required name, or both.
#[derive(Debug)]
pub struct Property {
    pub name: String,
    pub node: Option<Node>,
    pub required: bool,
    /// Named in `properties` (not only in `required`): keys that are not
    /// declared fall under `additionalProperties`.
    pub declared: bool,
}

#[derive(Debug)]
pub struct ObjectChecks {
    /// `properties` in document order, then required names that have no schema.
    pub properties: Vec<Property>,
    /// Name -> index into `properties`, only built when a linear scan would be slow.
    pub lookup: Option<HashMap<String, usize>>,
    pub n_required: usize,
    pub additional: Additional,
    pub min_properties: Option<usize>,
    /// The schema's `minProperties` beyond `usize::MAX`, as [`ArrayChecks::min_items_text`].
    pub min_properties_text: Option<Box<str>>,
    pub max_properties: Option<usize>,
    /// A cache the host of the records may fill once (the Python layer keeps
    /// interned key objects here for fast dict lookups).
    pub host_keys: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl ObjectChecks {
    /// The index of a declared property named `key` (see [`Property::declared`]).
    #[inline]
    pub fn find_declared(&self, key: &str) -> Option<usize> {
        self.find(key).filter(|&i| self.properties[i].declared)
    }

    #[inline]
    pub fn find(&self, key: &str) -> Option<usize> {
        match &self.lookup {
            Some(map) => map.get(key).copied(),
            None => self.properties.iter().position(|p| p.name == key),
        }
    }
}

/// One compiled (sub)schema. Keyword families apply to the kinds they concern.
#[derive(Debug, Default)]
pub struct Node {
    /// The `false` schema: nothing is valid.
    pub always_false: bool,
    /// `{}`/`true`, or only annotations: everything is valid, nothing to look at.
    pub trivial: bool,
    /// Allowed types as [`types`] bits; 0 = any.
    pub types: u8,
    pub const_value: Option<Json<'static>>,
    pub enum_values: Option<Vec<Json<'static>>>,
    pub string: Option<StringChecks>,
    pub number: Option<NumberChecks>,
    pub array: Option<ArrayChecks>,
    pub object: Option<ObjectChecks>,
}

/// A compiled schema, immutable and shared between calls and threads.
#[derive(Debug)]
pub struct Schema {
    pub root: Node,
    /// Leaf fields: properties and array items that are not objects with properties.
    pub field_count: usize,
    /// 0..1, see [`crate::profile::constraint_complexity`].
    pub constraint_complexity: f64,
}

/// How deeply a schema document may nest objects and arrays (the root is level 1).
pub const MAX_SCHEMA_DEPTH: usize = 100;

fn too_deep_error() -> SchemaError {
    SchemaError(format!(
        "the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels"
    ))
}

impl Schema {
    /// Compiles a JSON Schema document given as JSON text.
    pub fn from_json_text(text: &str) -> Result<Schema, SchemaError> {
        if text_depth_exceeds(text.as_bytes(), MAX_SCHEMA_DEPTH) {
            return Err(too_deep_error());
        }
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| SchemaError(format!("the schema is not valid JSON: {e}")))?;
        Schema::compile(&doc)
    }

    pub fn compile(doc: &Value) -> Result<Schema, SchemaError> {
        if value_depth_exceeds(doc, MAX_SCHEMA_DEPTH) {
            return Err(too_deep_error());
        }
        let root = compile_node(doc, "")?;
        let field_count = crate::profile::field_count(&root);
        let constraint_complexity = crate::profile::constraint_complexity(&root);
        Ok(Schema {
            root,
            field_count,
            constraint_complexity,
        })
    }
}

/// Whether the objects and arrays of JSON `text` nest deeper than `max` (a
/// scan that skips strings; malformed text is left to the parser).
fn text_depth_exceeds(text: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Whether the objects and arrays of `doc` nest deeper than `max` (no recursion).
fn value_depth_exceeds(doc: &Value, max: usize) -> bool {
    let mut stack = vec![(doc, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

fn err<T>(location: &str, message: impl std::fmt::Display) -> Result<T, SchemaError> {
    let at = if location.is_empty() {
        "the root"
    } else {
        location
    };
    Err(SchemaError(format!("{message} (at {at})")))
}

fn compile_node(doc: &Value, location: &str) -> Result<Node, SchemaError> {
    let map = match doc {
        Value::Bool(true) => {
            return Ok(Node {
                trivial: true,
                ..Node::default()
            })
        }
        Value::Bool(false) => {
            return Ok(Node {
                always_false: true,
                ..Node::default()
            })
        }
        Value::Object(map) => map,
        other => {
            return err(
                location,
                format!(
                    "a schema must be an object or a boolean, got {}",
                    json_type(other)
                ),
            )
        }
    };
    for key in map.keys() {
        if !is_supported(key) {
            return err(location, format!("unsupported keyword `{}`", shorten(key)));
        }
    }
    let mut node = Node::default();
    if let Some(t) = map.get("type") {
        node.types = compile_types(t, location)?;
    }
    if let Some(c) = map.get("const") {
        node.const_value = Some(to_json(c));
    }
    if let Some(e) = map.get("enum") {
        match e {
            Value::Array(values) => node.enum_values = Some(values.iter().map(to_json).collect()),
            other => {
                return err(
                    location,
                    format!("`enum` must be an array, got {}", json_type(other)),
                )
            }
        }
    }
    node.string = compile_string(map, location)?;
    node.number = compile_number(map, location)?;
    node.array = compile_array(map, location)?;
    node.object = compile_object(map, location)?;
    node.trivial = node.types == 0
        && node.const_value.is_none()
        && node.enum_values.is_none()
        && node.string.is_none()
        && node.number.is_none()
        && node.array.is_none()
        && node.object.is_none();
    Ok(node)
}

fn is_supported(key: &str) -> bool {
    ANNOTATIONS.contains(&key)
        || matches!(
            key,
            "type"
                | "const"
                | "enum"
                | "minLength"
                | "maxLength"
                | "pattern"
                | "format"
                | "minimum"
                | "maximum"
                | "exclusiveMinimum"
                | "exclusiveMaximum"
                | "multipleOf"
                | "items"
                | "prefixItems"
                | "minItems"
                | "maxItems"
                | "uniqueItems"
                | "properties"
                | "required"
                | "additionalProperties"
                | "minProperties"
                | "maxProperties"
        )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn compile_types(t: &Value, location: &str) -> Result<u8, SchemaError> {
    let one = |name: &str| -> Result<u8, SchemaError> {
        match types::NAMES.iter().find(|(n, _)| *n == name) {
            Some((_, bit)) => Ok(*bit),
            None => err(location, format!("unknown type `{}`", shorten(name))),
        }
    };
    match t {
        Value::String(name) => one(name),
        Value::Array(names) if !names.is_empty() => {
            let mut bits = 0;
            for name in names {
                match name {
                    Value::String(n) => bits |= one(n)?,
                    other => {
                        return err(
                            location,
                            format!("`type` entries must be strings, got {}", json_type(other)),
                        )
                    }
                }
            }
            Ok(bits)
        }
        other => err(
            location,
            format!(
                "`type` must be a string or a non-empty array of strings, got {}",
                json_type(other)
            ),
        ),
    }
}

fn non_negative(
    map: &Map<String, Value>,
    key: &str,
    location: &str,
) -> Result<Option<usize>, SchemaError> {
    Ok(non_negative_with_text(map, key, location)?.map(|(n, _)| n))
}

/// A count and, when it is beyond `usize::MAX`, the schema's spelling of it.
type Count = (usize, Option<Box<str>>);

/// A non-negative integer keyword; a value beyond `usize::MAX` (no array or
/// object has that many entries) is `usize::MAX`, with the schema's spelling.
fn non_negative_with_text(
    map: &Map<String, Value>,
    key: &str,
    location: &str,
) -> Result<Option<Count>, SchemaError> {
    let Some(v) = map.get(key) else {
        return Ok(None);
    };
    let beyond = || {
        Some((
            usize::MAX,
            Some(shorten(&v.to_string()).into_owned().into_boxed_str()),
        ))
    };
    // Draft 2020-12 allows integral floats such as 2.0 here.
    #[allow(clippy::cast_precision_loss)]
    let parsed = match v {
        Value::Number(n) => match Number::parse(&n.to_string()) {
            Some(Number::Int(i)) if i >= 0 => usize::try_from(i).ok().map(|n| (n, None)),
            Some(Number::Float(f)) if f >= 0.0 && f.is_finite() && f.fract() == 0.0 => {
                if f >= usize::MAX as f64 {
                    beyond()
                } else {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Some((f as usize, None))
                }
            }
            Some(Number::Big(b)) if b.sign() != num_bigint::Sign::Minus => {
                match usize::try_from(b.as_ref()) {
                    Ok(n) => Some((n, None)),
                    Err(_) => beyond(),
                }
            }
            Some(Number::Decimal(d)) if d.is_integer() && !d.neg => beyond(),
            _ => None,
        },
        _ => None,
    };
    match parsed {
        Some(n) => Ok(Some(n)),
        None => err(
            location,
            format!(
                "`{key}` must be a non-negative integer, got {}",
                shorten(&v.to_string())
            ),
        ),
    }
}

fn number(
    map: &Map<String, Value>,
    key: &str,
    location: &str,
) -> Result<Option<Number>, SchemaError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Number(n)) => match Number::parse(&n.to_string()) {
            Some(num) if num.is_finite() => Ok(Some(num)),
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

fn compile_string(
    map: &Map<String, Value>,
    location: &str,
) -> Result<Option<StringChecks>, SchemaError> {
    let mut checks = StringChecks {
        min_length: non_negative(map, "minLength", location)?,
        max_length: non_negative(map, "maxLength", location)?,
        ..StringChecks::default()
    };
    match map.get("pattern") {
        None => {}
        Some(Value::String(p)) => match Pattern::new(p) {
            Ok(re) => checks.pattern = Some(re),
            Err(PatternError::Syntax(reason)) => {
                return err(
                    location,
                    format!("`pattern` is not a valid regular expression: {reason}"),
                )
            }
            Err(PatternError::TooLarge { limit }) => {
                return err(
                    location,
                    format!(
                        "`pattern` `{}` is too large: it compiles to more than {limit} bytes",
                        shorten(p)
                    ),
                )
            }
        },
        Some(other) => {
            return err(
                location,
                format!("`pattern` must be a string, got {}", json_type(other)),
            )
        }
    }
    match map.get("format") {
        None => {}
        Some(Value::String(name)) => match Format::from_name(name) {
            Some(f) => checks.format = Some(f),
            None => {
                return err(
                    location,
                    format!(
                    "unsupported format `{}` (supported: email, uri, uuid, date, date-time, ipv4)",
                    shorten(name)
                ),
                )
            }
        },
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

/// Characters of a schema value quoted in a message before it is cut short.
const QUOTE_CHARS: usize = 40;

/// `s` for a message: whole if short, else its first [`QUOTE_CHARS`]
/// characters, `...` and its length.
pub fn shorten(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(QUOTE_CHARS) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!(
            "{}... ({} characters)",
            &s[..end],
            s.chars().count()
        )),
    }
}

fn compile_number(
    map: &Map<String, Value>,
    location: &str,
) -> Result<Option<NumberChecks>, SchemaError> {
    let checks = NumberChecks {
        minimum: number(map, "minimum", location)?,
        maximum: number(map, "maximum", location)?,
        exclusive_minimum: number(map, "exclusiveMinimum", location)?,
        exclusive_maximum: number(map, "exclusiveMaximum", location)?,
        multiple_of: number(map, "multipleOf", location)?,
    };
    if let Some(m) = &checks.multiple_of {
        if m.compare(&Number::Int(0)) != Some(std::cmp::Ordering::Greater) {
            return err(
                location,
                format!("`multipleOf` must be greater than 0, got {m}"),
            );
        }
    }
    let any = checks.minimum.is_some()
        || checks.maximum.is_some()
        || checks.exclusive_minimum.is_some()
        || checks.exclusive_maximum.is_some()
        || checks.multiple_of.is_some();
    Ok(any.then_some(checks))
}

fn compile_array(
    map: &Map<String, Value>,
    location: &str,
) -> Result<Option<ArrayChecks>, SchemaError> {
    let (min_items, min_items_text) = non_negative_with_text(map, "minItems", location)?.unzip();
    let mut checks = ArrayChecks {
        min_items,
        min_items_text: min_items_text.flatten(),
        max_items: non_negative(map, "maxItems", location)?,
        ..ArrayChecks::default()
    };
    match map.get("uniqueItems") {
        None => {}
        Some(Value::Bool(b)) => checks.unique_items = *b,
        Some(other) => {
            return err(
                location,
                format!("`uniqueItems` must be a boolean, got {}", json_type(other)),
            )
        }
    }
    match map.get("prefixItems") {
        None => {}
        Some(Value::Array(schemas)) => {
            for (i, s) in schemas.iter().enumerate() {
                checks
                    .prefix_items
                    .push(compile_node(s, &format!("{location}/prefixItems/{i}"))?);
            }
        }
        Some(other) => {
            return err(
                location,
                format!("`prefixItems` must be an array, got {}", json_type(other)),
            )
        }
    }
    if let Some(items) = map.get("items") {
        let node = compile_node(items, &format!("{location}/items"))?;
        if !node.trivial {
            checks.items = Some(Box::new(node));
        }
    }
    let any = checks.min_items.is_some()
        || checks.max_items.is_some()
        || checks.unique_items
        || checks.items.is_some()
        || checks.prefix_items.iter().any(|n| !n.trivial);
    Ok(any.then_some(checks))
}

fn compile_object(
    map: &Map<String, Value>,
    location: &str,
) -> Result<Option<ObjectChecks>, SchemaError> {
    let mut properties: Vec<Property> = Vec::new();
    match map.get("properties") {
        None => {}
        Some(Value::Object(props)) => {
            for (name, sub) in props {
                let node = compile_node(
                    sub,
                    &format!("{location}/properties/{}", escape_pointer(name)),
                )?;
                properties.push(Property {
                    name: name.clone(),
                    node: (!node.trivial).then_some(node),
                    required: false,
                    declared: true,
                });
            }
        }
        Some(other) => {
            return err(
                location,
                format!("`properties` must be an object, got {}", json_type(other)),
            )
        }
    }
    let mut n_required = 0;
    match map.get("required") {
        None => {}
        Some(Value::Array(names)) => {
            for name in names {
                let Value::String(name) = name else {
                    return err(
                        location,
                        format!(
                            "`required` entries must be strings, got {}",
                            json_type(name)
                        ),
                    );
                };
                match properties.iter_mut().find(|p| &p.name == name) {
                    Some(p) if p.required => {}
                    Some(p) => {
                        p.required = true;
                        n_required += 1;
                    }
                    None => {
                        properties.push(Property {
                            name: name.clone(),
                            node: None,
                            required: true,
                            declared: false,
                        });
                        n_required += 1;
                    }
                }
            }
        }
        Some(other) => {
            return err(
                location,
                format!("`required` must be an array, got {}", json_type(other)),
            )
        }
    }
    let additional = match map.get("additionalProperties") {
        None | Some(Value::Bool(true)) => Additional::Allow,
        Some(Value::Bool(false)) => Additional::Forbid,
        Some(sub) => {
            let node = compile_node(sub, &format!("{location}/additionalProperties"))?;
            if node.trivial {
                Additional::Allow
            } else if node.always_false {
                Additional::Forbid
            } else {
                Additional::Schema(Box::new(node))
            }
        }
    };
    let (min_properties, min_properties_text) =
        non_negative_with_text(map, "minProperties", location)?.unzip();
    let max_properties = non_negative(map, "maxProperties", location)?;
    let checks_anything = properties.iter().any(|p| p.node.is_some() || p.required)
        || !matches!(additional, Additional::Allow)
        || min_properties.is_some()
        || max_properties.is_some();
    if !checks_anything {
        return Ok(None);
    }
    // Properties without a check or a requirement only matter for `additionalProperties`.
    if matches!(additional, Additional::Allow) {
        properties.retain(|p| p.node.is_some() || p.required);
    }
    let lookup = (properties.len() > 12).then(|| {
        properties
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect()
    });
    Ok(Some(ObjectChecks {
        properties,
        lookup,
        n_required,
        additional,
        min_properties,
        min_properties_text: min_properties_text.flatten(),
        max_properties,
        host_keys: OnceLock::new(),
    }))
}

/// RFC 6901 escaping of one pointer token.
pub fn escape_pointer(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Converts a schema literal (`const`, `enum`) into the value type records are compared with.
fn to_json(v: &Value) -> Json<'static> {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => {
            Json::Number(Number::parse(&n.to_string()).unwrap_or(Number::Float(f64::NAN)))
        }
        Value::String(s) => Json::String(Cow::Owned(s.clone())),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Result<Schema, SchemaError> {
        Schema::from_json_text(text)
    }

    #[test]
    fn unsupported_keyword_is_named() {
        let e = compile(r##"{"properties": {"a": {"$ref": "#"}}}"##).unwrap_err();
        assert_eq!(e.0, "unsupported keyword `$ref` (at /properties/a)");
    }

    #[test]
    fn annotations_are_trivial() {
        let s = compile(r#"{"title": "x", "description": "y", "default": 1}"#).unwrap();
        assert!(s.root.trivial);
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            compile(r#"{"minLength": -1}"#).unwrap_err().0,
            "`minLength` must be a non-negative integer, got -1 (at the root)"
        );
        assert_eq!(
            compile(r#"{"type": "strin"}"#).unwrap_err().0,
            "unknown type `strin` (at the root)"
        );
        assert_eq!(
            compile(r#"{"multipleOf": 0}"#).unwrap_err().0,
            "`multipleOf` must be greater than 0, got 0 (at the root)"
        );
        assert!(compile(r#"{"pattern": "("}"#)
            .unwrap_err()
            .0
            .starts_with("`pattern` is not a valid regular expression"));
        assert_eq!(compile(r#"{"format": "hostname"}"#).unwrap_err().0, "unsupported format `hostname` (supported: email, uri, uuid, date, date-time, ipv4) (at the root)");
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
            "`pattern` is not a valid regular expression: error: unrecognized escape sequence `\\Z` (at the root)"
        );
    }

    #[test]
    fn shortens_long_values() {
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"é".repeat(40)), "é".repeat(40));
        assert_eq!(
            shorten(&"é".repeat(41)),
            format!("{}... (41 characters)", "é".repeat(40))
        );
        let name = "x".repeat(100_000);
        let quoted = format!("{}... (100000 characters)", "x".repeat(40));
        for (doc, message) in [
            (format!(r#"{{"{name}": 1}}"#), format!("unsupported keyword `{quoted}` (at the root)")),
            (format!(r#"{{"type": "{name}"}}"#), format!("unknown type `{quoted}` (at the root)")),
            (
                format!(r#"{{"format": "{name}"}}"#),
                format!("unsupported format `{quoted}` (supported: email, uri, uuid, date, date-time, ipv4) (at the root)"),
            ),
        ] {
            assert_eq!(compile(&doc).unwrap_err().0, message);
        }
    }

    #[test]
    fn required_without_property() {
        let s = compile(r#"{"properties": {"a": {"type": "string"}}, "required": ["a", "b"]}"#)
            .unwrap();
        let o = s.root.object.as_ref().unwrap();
        assert_eq!(o.properties.len(), 2);
        assert_eq!(o.n_required, 2);
        assert_eq!(o.find("b"), Some(1));
    }

    #[test]
    fn nesting_beyond_the_limit_is_one_error() {
        let nested =
            |n: usize| format!("{}{{}}{}", r#"{"items":"#.repeat(n - 1), "}".repeat(n - 1));
        assert!(compile(&nested(MAX_SCHEMA_DEPTH)).is_ok());
        for n in [MAX_SCHEMA_DEPTH + 1, 128, 600, 100_000] {
            assert_eq!(
                compile(&nested(n)).unwrap_err().0,
                "the schema is nested deeper than 100 levels"
            );
        }
        // Brackets inside strings do not count.
        let text = format!(r#"{{"enum": ["{}"]}}"#, "[{".repeat(200));
        assert!(compile(&text).is_ok());
        // A document built in memory is held to the same limit.
        let mut doc = serde_json::json!({});
        for _ in 0..MAX_SCHEMA_DEPTH {
            doc = serde_json::json!({ "items": doc });
        }
        assert_eq!(
            Schema::compile(&doc).unwrap_err().0,
            "the schema is nested deeper than 100 levels"
        );
    }

    #[test]
    fn counts_beyond_usize_keep_their_spelling() {
        let s = compile(r#"{"minItems": 18446744073709551616, "minProperties": 1e30}"#);
        let s = s.unwrap();
        let a = s.root.array.as_ref().unwrap();
        assert_eq!(a.min_items, Some(usize::MAX));
        assert_eq!(a.min_items_text.as_deref(), Some("18446744073709551616"));
        let o = s.root.object.as_ref().unwrap();
        assert_eq!(o.min_properties, Some(usize::MAX));
        assert_eq!(o.min_properties_text.as_deref(), Some("1e+30"));
        let s = compile(r#"{"minItems": 18446744073709551615, "maxItems": 2.0}"#).unwrap();
        let a = s.root.array.as_ref().unwrap();
        assert_eq!(
            (a.min_items, a.min_items_text.as_deref()),
            (Some(usize::MAX), None)
        );
        assert_eq!(a.max_items, Some(2));
        assert_eq!(
            compile(r#"{"minItems": -18446744073709551616}"#)
                .unwrap_err()
                .0,
            "`minItems` must be a non-negative integer, got -18446744073709551616 (at the root)"
        );
        let long = format!(r#"{{"minItems": -{}}}"#, "9".repeat(100));
        assert_eq!(
            compile(&long).unwrap_err().0,
            format!(
                "`minItems` must be a non-negative integer, got -{}... (101 characters) (at the root)",
                "9".repeat(39)
            )
        );
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }
}
