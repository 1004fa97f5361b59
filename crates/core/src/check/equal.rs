//! JSON equality for `const`, `enum` and `uniqueItems`: numbers by value
//! (`1 == 1.0`), objects regardless of key order, bounded by [`MAX_DEPTH`].
//! [`compile`] compiles `const` and `enum` (their check sits in `check_here`,
//! `check/mod.rs`).

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::Sink;
use crate::error::Path;
use crate::schema::{err, json_type, Draft, SchemaError};
use crate::text::same_text;
use crate::value::{Defect, EntryKey, Json, Keys, KeysOnce, Kind, Number, Record, MAX_DEPTH};

/// Values nested deeper than [`MAX_DEPTH`]: they cannot be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep;

/// `Err(TooDeep)` when the values nest deeper than [`MAX_DEPTH`].
pub fn equal<A: Record, B: Record>(a: &A, b: &B, depth: usize) -> Result<bool, TooDeep> {
    let kind = a.kind();
    // The common case (a `const`/`enum` string, a tag) first: a string has no
    // `TooDeep` defect to look for.
    if kind == Kind::String && b.kind() == Kind::String && depth <= MAX_DEPTH {
        return Ok(matches!((a.as_str(), b.as_str()), (Some(x), Some(y)) if same_text(x, y)));
    }
    if depth > MAX_DEPTH
        || a.defect() == Some(Defect::TooDeep)
        || b.defect() == Some(Defect::TooDeep)
    {
        return Err(TooDeep);
    }
    if kind != b.kind() {
        return Ok(false);
    }
    Ok(match kind {
        Kind::Null => true,
        Kind::Bool => a.as_bool() == b.as_bool(),
        Kind::Number => a.as_number().equals(&b.as_number()),
        Kind::String => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        Kind::Array => {
            let len = a.array_len();
            if len != b.array_len() {
                return Ok(false);
            }
            for i in 0..len {
                let (Some(x), Some(y)) = (a.array_item(i), b.array_item(i)) else {
                    return Ok(false);
                };
                if !equal(&x, &y, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        Kind::Object => {
            if a.object_len() != b.object_len() {
                return Ok(false);
            }
            let mut result = Ok(true);
            let _ = a.for_each_entry(|key, x| {
                let EntryKey::Str(key) = key else {
                    result = Ok(false);
                    return ControlFlow::Break(());
                };
                match b.object_get(key) {
                    None => result = Ok(false),
                    Some(y) => match equal(x, &y, depth + 1) {
                        Ok(true) => return ControlFlow::Continue(()),
                        other => result = other,
                    },
                }
                ControlFlow::Break(())
            });
            result?
        }
        Kind::Unsupported => false,
    })
}

/// The first pair `(i, j)`, `i < j`, of equal items (smallest `j`, then smallest `i`).
pub fn first_duplicate<R: Record>(
    array: &R,
    depth: usize,
) -> Result<Option<(usize, usize)>, TooDeep> {
    let len = array.array_len();
    let items: Vec<R> = (0..len).filter_map(|i| array.array_item(i)).collect();
    if len <= 16 {
        for j in 1..items.len() {
            for i in 0..j {
                if equal(&items[i], &items[j], depth + 1)? {
                    return Ok(Some((i, j)));
                }
            }
        }
        return Ok(None);
    }
    // Keyed with fresh random keys (SipHash): values crafted to collide
    // cannot be, so the buckets stay small and the check linear.
    let keys = RandomState::new();
    let mut buckets: HashMap<u64, Vec<usize>> = HashMap::with_capacity(len);
    for (j, item) in items.iter().enumerate() {
        let h = canonical_hash(item, depth + 1, &keys)?;
        let bucket = buckets.entry(h).or_default();
        for &i in bucket.iter() {
            if equal(&items[i], item, depth + 1)? {
                return Ok(Some((i, j)));
            }
        }
        bucket.push(j);
    }
    Ok(None)
}

/// Why [`report_non_json`] stopped before the end of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The sink said stop.
    Stopped,
    /// A value nested deeper than [`MAX_DEPTH`] (a cycle reaches one too): the
    /// walk of this value ends there, and the comparison alone says what that is.
    TooDeep,
}

/// Reports, as `json` errors at their paths, the values JSON cannot hold in `value`
/// (NaN or an infinity, a number out of range, a string that is not valid Unicode, a
/// key that is not a string, any other object), as the checks of a node report the
/// value they are given: a keyword that compares whole values reads every part of
/// them. Parts in order, up to the first one nested deeper than [`MAX_DEPTH`], which
/// ends the walk (so that a record that refers to itself ends it early); `found`
/// counts the errors.
pub(crate) fn report_non_json<'s, R: Record, S: Sink<'s>>(
    value: &R,
    path: &Path<'_>,
    depth: usize,
    found: &mut usize,
    sink: &mut S,
) -> ControlFlow<Cut> {
    if depth > MAX_DEPTH {
        return ControlFlow::Break(Cut::TooDeep);
    }
    match value.kind() {
        Kind::Null | Kind::Bool => ControlFlow::Continue(()),
        Kind::Number if value.is_finite_number() => ControlFlow::Continue(()),
        Kind::Number => fail_json(path, found, sink, || {
            super::unreadable_number(&value.as_number())
        }),
        Kind::String if value.is_valid_unicode() => ControlFlow::Continue(()),
        Kind::String => fail_json(path, found, sink, || {
            "String is not valid Unicode".to_string()
        }),
        Kind::Unsupported if value.defect() == Some(Defect::TooDeep) => {
            ControlFlow::Break(Cut::TooDeep)
        }
        Kind::Unsupported => fail_json(path, found, sink, || {
            format!("Expected a JSON value, got `{}`", value.type_name())
        }),
        Kind::Array => {
            let mut cut = None;
            let _ = value.for_each_item(|i, item| {
                let at = Path::Index(path, i);
                match report_non_json(item, &at, depth + 1, found, sink) {
                    ControlFlow::Continue(()) => ControlFlow::Continue(()),
                    ControlFlow::Break(why) => {
                        cut = Some(why);
                        ControlFlow::Break(())
                    }
                }
            });
            cut.map_or(ControlFlow::Continue(()), ControlFlow::Break)
        }
        Kind::Object => {
            let mut cut = None;
            let _ = value.for_each_entry(|key, item| {
                let flow = match key {
                    EntryKey::Str(key) => {
                        report_non_json(item, &Path::Key(path, key), depth + 1, found, sink)
                    }
                    EntryKey::NotString(repr) => fail_json(path, found, sink, || {
                        format!("Object key `{repr}` is not a string")
                    }),
                    EntryKey::InvalidString => fail_json(path, found, sink, || {
                        "Object key is not valid Unicode".to_string()
                    }),
                };
                match flow {
                    ControlFlow::Continue(()) => ControlFlow::Continue(()),
                    ControlFlow::Break(why) => {
                        cut = Some(why);
                        ControlFlow::Break(())
                    }
                }
            });
            cut.map_or(ControlFlow::Continue(()), ControlFlow::Break)
        }
    }
}

/// One error of [`report_non_json`].
fn fail_json<'s, S: Sink<'s>>(
    path: &Path<'_>,
    found: &mut usize,
    sink: &mut S,
    message: impl FnOnce() -> String,
) -> ControlFlow<Cut> {
    *found += 1;
    match sink.fail(path, "json", message) {
        ControlFlow::Continue(()) => ControlFlow::Continue(()),
        ControlFlow::Break(()) => ControlFlow::Break(Cut::Stopped),
    }
}

/// A hash that agrees with [`equal`]: equal values hash alike (numbers by
/// value, objects whatever their key order), keyed by `keys`.
fn canonical_hash<R: Record>(value: &R, depth: usize, keys: &RandomState) -> Result<u64, TooDeep> {
    if depth > MAX_DEPTH || value.defect() == Some(Defect::TooDeep) {
        return Err(TooDeep);
    }
    let mut h = keys.build_hasher();
    match value.kind() {
        Kind::Null => 0u8.hash(&mut h),
        Kind::Bool => (1u8, value.as_bool()).hash(&mut h),
        Kind::Number => {
            2u8.hash(&mut h);
            value.as_number().hash_value(&mut h);
        }
        Kind::String => (3u8, value.as_str()).hash(&mut h),
        Kind::Array => {
            4u8.hash(&mut h);
            for i in 0..value.array_len() {
                if let Some(item) = value.array_item(i) {
                    canonical_hash(&item, depth + 1, keys)?.hash(&mut h);
                }
            }
        }
        Kind::Object => {
            // Order-insensitive: combine entry hashes commutatively.
            let mut sum = 0u64;
            let mut failed = false;
            let _ = value.for_each_entry(|key, item| {
                let mut eh = keys.build_hasher();
                match key {
                    EntryKey::Str(k) => k.hash(&mut eh),
                    EntryKey::NotString(r) => r.hash(&mut eh),
                    EntryKey::InvalidString => 0u8.hash(&mut eh),
                }
                match canonical_hash(item, depth + 1, keys) {
                    Ok(v) => v.hash(&mut eh),
                    Err(TooDeep) => {
                        failed = true;
                        return ControlFlow::Break(());
                    }
                }
                sum = sum.wrapping_add(eh.finish());
                ControlFlow::Continue(())
            });
            if failed {
                return Err(TooDeep);
            }
            (5u8, sum).hash(&mut h);
        }
        Kind::Unsupported => 6u8.hash(&mut h),
    }
    Ok(h.finish())
}

/// Appends a schema literal as compact JSON for a message, cut short when long
/// (written in place: no string of its own).
pub(crate) fn push_short_repr(out: &mut String, value: &Json<'_>) {
    let start = out.len();
    write_json(value, out);
    let shown = &out[start..];
    // At most 40 bytes: at most 40 characters.
    if shown.len() > 40 && shown.chars().count() > 40 {
        let cut = shown
            .char_indices()
            .nth(37)
            .map_or(out.len(), |(i, _)| start + i);
        out.truncate(cut);
        out.push_str("...");
    }
}

fn write_json(value: &Json<'_>, out: &mut String) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => super::push_number(out, n),
        Json::String(s) => super::push_json_string(out, s.as_ref()),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Json::Object(entries, _) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                super::push_json_string(out, k.as_ref());
                out.push_str(": ");
                write_json(v, out);
            }
            out.push('}');
        }
        Json::Unsupported(name) => out.push_str(name),
        Json::InvalidString
        | Json::InvalidKey(_)
        | Json::InvalidStringKey
        | Json::TooDeep
        | Json::Skipped(_) => out.push('?'),
    }
}

/// `const` and `enum` as compiled: the values records are compared with.
pub(crate) type Literals = (Option<Json<'static>>, Option<Enum>);

/// An `enum` with at least this many strings finds a string by its hash.
const INDEXED_STRINGS: usize = 16;

/// The values of an `enum`, in schema order (its messages quote them so); a
/// long one also keeps its strings in a hash set, so that a string is found
/// with one lookup instead of a comparison per value (SchemaStore has enums of
/// hundreds of names, each checked for every record).
#[derive(Debug)]
pub struct Enum {
    values: Vec<Json<'static>>,
    /// The string values, when there are at least [`INDEXED_STRINGS`].
    strings: Option<rustc_hash::FxHashSet<Box<str>>>,
    /// With `strings`, the indexes of the other values, compared one by one (a
    /// string equals no value of another kind); without, every value is.
    others: Vec<usize>,
    /// The start of its error message, written at the first failure and kept: the
    /// quoted values measured as most of an `enum` error's cost, the same each time.
    message: OnceLock<Box<str>>,
}

impl Enum {
    pub fn new(values: Vec<Json<'static>>) -> Enum {
        let n_strings = values
            .iter()
            .filter(|v| matches!(v, Json::String(_)))
            .count();
        if n_strings < INDEXED_STRINGS {
            return Enum {
                values,
                strings: None,
                others: Vec::new(),
                message: OnceLock::new(),
            };
        }
        let mut strings = rustc_hash::FxHashSet::default();
        let mut others = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Json::String(s) => {
                    strings.insert(Box::from(s.as_ref()));
                }
                _ => others.push(i),
            }
        }
        Enum {
            values,
            strings: Some(strings),
            others,
            message: OnceLock::new(),
        }
    }

    /// The start of the message of a value that is not one of the values, up to
    /// the received value: `Expected one of 1, "a", ..., got `.
    pub fn message_start(&self) -> &str {
        self.message.get_or_init(|| {
            if self.values.is_empty() {
                return Box::from("No value is allowed: `enum` is empty");
            }
            let mut m = String::from("Expected one of ");
            for (i, option) in self.values.iter().take(8).enumerate() {
                if i > 0 {
                    m.push_str(", ");
                }
                push_short_repr(&mut m, option);
            }
            if self.values.len() > 8 {
                m.push_str(", ...");
            }
            m.push_str(", got ");
            m.into_boxed_str()
        })
    }

    /// Whether `value` equals one of the values (`Err(TooDeep)` as [`equal`]).
    #[inline]
    pub fn contains<R: Record>(&self, value: &R, depth: usize) -> Result<bool, TooDeep> {
        let Some(strings) = &self.strings else {
            for option in &self.values {
                if equal(value, &option, depth)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        };
        if value.kind() == Kind::String {
            if depth > MAX_DEPTH {
                return Err(TooDeep); // as `equal` answers
            }
            // A string with a defect has no text: it equals no value.
            return Ok(value.as_str().is_some_and(|s| strings.contains(s)));
        }
        for &i in &self.others {
            if equal(value, &&self.values[i], depth)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl std::ops::Deref for Enum {
    type Target = [Json<'static>];

    fn deref(&self) -> &[Json<'static>] {
        &self.values
    }
}

/// Compiles `const` (draft 6 and later) and `enum`.
pub(crate) fn compile(
    map: &Map<String, Value>,
    draft: Draft,
    location: &str,
) -> Result<Literals, SchemaError> {
    let mut const_value = None;
    let mut enum_values = None;
    if draft >= Draft::Draft6 {
        if let Some(c) = map.get("const") {
            const_value = Some(to_json(c));
        }
    }
    if let Some(e) = map.get("enum") {
        match e {
            Value::Array(values) => {
                enum_values = Some(Enum::new(values.iter().map(to_json).collect()))
            }
            other => {
                return err(
                    location,
                    format!("`enum` must be an array, got {}", json_type(other)),
                )
            }
        }
    }
    Ok((const_value, enum_values))
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
        // A map's keys are unique.
        Value::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), to_json(v)))
                .collect(),
            KeysOnce::known(Keys::Unique),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;
    use num_bigint::BigInt;

    /// A long `enum` finds strings by hash and compares its other values one by
    /// one: the same answers as comparing every value, for strings listed and
    /// not, values of every kind, and a short `enum` (never indexed).
    #[test]
    fn an_indexed_enum_answers_as_comparing_every_value() {
        let listed: Vec<Value> = (0..40)
            .map(|i| Value::String(format!("name{i}")))
            .chain([
                serde_json::json!(1),
                serde_json::json!(null),
                serde_json::json!({"a": [1, "name3"]}),
                serde_json::json!(["name1"]),
                serde_json::json!(""),
                serde_json::json!("é"),
            ])
            .collect();
        let long = Enum::new(listed.iter().map(to_json).collect());
        let short = Enum::new(listed[35..].iter().map(to_json).collect());
        assert!(long.strings.is_some() && short.strings.is_none());
        let probes = [
            r#""name0""#,
            r#""name39""#,
            r#""name40""#,
            r#""name""#,
            r#""""#,
            r#""é""#,
            r#""e""#,
            "1",
            "1.0",
            "2",
            "null",
            "false",
            r#"{"a": [1.0, "name3"]}"#,
            r#"{"a": [1, "name4"]}"#,
            r#"["name1"]"#,
            r#"["name2"]"#,
            "[]",
            "{}",
        ];
        for text in probes {
            let value = crate::json::parse_value(text.as_bytes(), MAX_DEPTH).unwrap();
            for e in [&long, &short] {
                let every = e.iter().any(|v| equal(&&value, &v, 0) == Ok(true));
                assert_eq!(e.contains(&&value, 0), Ok(every), "{text}");
            }
        }
        assert_eq!(
            long.contains(&&to_json(&serde_json::json!("name7")), 0),
            Ok(true)
        );
        // Too deep to compare, as `equal` says of any value.
        let deep = to_json(&serde_json::json!("name7"));
        assert_eq!(long.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
        assert_eq!(short.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
        let strings_only = Enum::new(listed[..40].iter().map(to_json).collect());
        assert_eq!(strings_only.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
        assert_eq!(strings_only.contains(&&deep, 0), Ok(true));
    }

    /// 128-bit integers `hi·2^64 + lo` with `hi = lo.rotate_left(7) ^ 0x1234`:
    /// all distinct, and all alike under the old unkeyed fold of their 64-bit
    /// digits (`lo.rotate_left(7) ^ hi`), which put them in one bucket.
    fn crafted(n: u64) -> Vec<Json<'static>> {
        (1..=n)
            .map(|i| {
                let lo = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let hi = lo.rotate_left(7) ^ 0x1234;
                let v = (BigInt::from(hi) << 64) + BigInt::from(lo);
                Json::Number(Number::from_bigint(v))
            })
            .collect()
    }

    #[test]
    fn crafted_integers_do_not_collide() {
        let items = crafted(16_000);
        let keys = RandomState::new();
        let mut hashes: Vec<u64> = items
            .iter()
            .map(|v| canonical_hash(&v, 0, &keys).unwrap())
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 16_000);
        let array = Json::Array(items);
        assert_eq!(first_duplicate(&&array, 0), Ok(None));
    }

    #[test]
    fn duplicates_across_representations() {
        let mut items = crafted(20);
        items.push(Json::Number(Number::Float(1.5)));
        items.push(Json::Number(Number::parse("3e0").unwrap()));
        items.push(items[4].clone());
        items.push(Json::Number(Number::Int(3)));
        let array = Json::Array(items);
        assert_eq!(first_duplicate(&&array, 0), Ok(Some((4, 22))));
        let array = Json::Array(
            [
                "1", "2", "1e400", "1e-400", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                "14", "15", "16", "0.1e-399",
            ]
            .iter()
            .map(|t| Json::Number(Number::parse(t).unwrap()))
            .collect(),
        );
        assert_eq!(first_duplicate(&&array, 0), Ok(Some((3, 17))));
    }
}
