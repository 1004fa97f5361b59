//! properties, required, additionalProperties, minProperties, maxProperties,
//! patternProperties, propertyNames, dependentRequired, dependentSchemas
//! (and draft 4-7 dependencies).
//!
//! Properties are checked in schema order. A record with under half as many
//! entries as a large schema has properties is walked, each key found in the schema's map,
//! and the properties it holds sorted into schema order (its cost follows the
//! keys it has); otherwise each property is looked up in the record (the record
//! decides how: a scan for parsed JSON, a hash lookup with interned keys for a
//! Python dict). Then, only when the schema constrains unknown keys, the
//! record's entries are walked in the record's order.

use std::ops::ControlFlow;

use super::plural;
use super::{check as check_node, shorten, valid_in, Cx, Sink};
use crate::error::Path;
use crate::schema::{Additional, ObjectChecks};
use crate::value::{EntryKey, Json, Record};

/// Lookups for up to this many properties live on the stack.
const STACK_PROPERTIES: usize = 32;
/// Most objects have few properties: a smaller array to clear per object.
const SMALL_PROPERTIES: usize = 8;

pub(super) fn check<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if let Some(min) = checks.min_properties {
        let len = value.object_len();
        if len < min {
            sink.fail(path, "minProperties", || {
                match &checks.min_properties_text {
                    Some(text) => format!("Object has fewer than {text} properties, got {len}"),
                    None => {
                        format!(
                            "Object has fewer than {}, got {len}",
                            plural(min, "property")
                        )
                    }
                }
            })?;
        }
    }
    if let Some(max) = checks.max_properties {
        let len = value.object_len();
        if len > max {
            sink.fail(path, "maxProperties", || {
                format!(
                    "Object has more than {}, got {len}",
                    plural(max, "property")
                )
            })?;
        }
    }
    let n = checks.properties.len();
    let len = value.object_len();
    if checks.walks_record(len) {
        if len <= STACK_PROPERTIES {
            let mut held: [Option<(usize, R)>; STACK_PROPERTIES] = [None; STACK_PROPERTIES];
            walked(checks, value, &mut held[..len], path, depth, cx, sink)?;
        } else {
            let mut held: Vec<Option<(usize, R)>> = vec![None; len];
            walked(checks, value, &mut held, path, depth, cx, sink)?;
        }
    } else if n <= SMALL_PROPERTIES {
        let mut found: [Option<R>; SMALL_PROPERTIES] = [None; SMALL_PROPERTIES];
        properties(checks, value, &mut found[..n], path, depth, cx, sink)?;
    } else if n <= STACK_PROPERTIES {
        let mut found: [Option<R>; STACK_PROPERTIES] = [None; STACK_PROPERTIES];
        properties(checks, value, &mut found[..n], path, depth, cx, sink)?;
    } else {
        let mut found: Vec<Option<R>> = vec![None; n];
        properties(checks, value, &mut found, path, depth, cx, sink)?;
    }
    if !matches!(checks.additional, Additional::Allow)
        || !checks.patterns.is_empty()
        || checks.property_names.is_some()
    {
        additional(checks, value, path, depth, cx, sink)?;
    }
    for (name, required) in &checks.dependent_required {
        if value.object_get(name).is_none() {
            continue;
        }
        for other in required {
            if value.object_get(other).is_none() {
                sink.fail(path, checks.dependent_keyword(false), || {
                    format!(
                        "Missing property `{}` required by `{}`",
                        shorten(other),
                        shorten(name)
                    )
                })?;
            }
        }
    }
    for (name, node) in &checks.dependent_schemas {
        if value.object_get(name).is_some() {
            check_node(node, value, path, depth, cx, sink)?;
        }
    }
    ControlFlow::Continue(())
}

fn properties<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    found: &mut [Option<R>],
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if found.is_empty() {
        return ControlFlow::Continue(());
    }
    value.object_lookup(checks, found);
    for (property, item) in checks.properties.iter().zip(found.iter()) {
        match item {
            Some(item) => {
                if let Some(node) = &property.node {
                    check_node(
                        node,
                        item,
                        &Path::Key(path, &property.name),
                        depth + 1,
                        cx.descend(),
                        sink,
                    )?;
                }
            }
            None if property.required => {
                sink.fail(path, "required", || {
                    format!("Missing required property `{}`", shorten(&property.name))
                })?;
            }
            None => {}
        }
    }
    ControlFlow::Continue(())
}

/// [`properties`] for a record walked by its keys: `held` has room for one
/// slot per entry of `value`; the same checks and failures in the same order,
/// at a cost that follows the record's entries and the required names.
fn walked<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    held: &mut [Option<(usize, R)>],
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let mut count = 0;
    value.object_find_each(checks, |i, item| {
        if let Some(slot) = held.get_mut(count) {
            *slot = Some((i, item));
            count += 1;
        }
    });
    let held = &mut held[..count];
    // Stable: of duplicate keys (JSON text), the last one stays last.
    held.sort_by_key(|slot| slot.map_or(usize::MAX, |(i, _)| i));
    let mut required = checks.required_indices.iter().copied().peekable();
    let mut next = 0;
    loop {
        // The last of the entries for the next property the record holds.
        let mut found = None;
        while let Some(&Some((i, item))) = held.get(next) {
            if found.is_some_and(|(f, _)| f != i) {
                break;
            }
            found = Some((i, item));
            next += 1;
        }
        let until = found.map_or(usize::MAX, |(i, _)| i);
        while let Some(r) = required.next_if(|&r| r <= until) {
            if r < until {
                let property = &checks.properties[r];
                sink.fail(path, "required", || {
                    format!("Missing required property `{}`", shorten(&property.name))
                })?;
            }
        }
        let Some((i, item)) = found else {
            return ControlFlow::Continue(());
        };
        let property = &checks.properties[i];
        if let Some(node) = &property.node {
            check_node(
                node,
                &item,
                &Path::Key(path, &property.name),
                depth + 1,
                cx.descend(),
                sink,
            )?;
        }
    }
}

fn additional<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    value.for_each_entry(|key, item| {
        let key = match key {
            EntryKey::Str(k) => k,
            EntryKey::NotString(repr) => {
                return sink.fail(path, "json", || {
                    format!("Object key `{repr}` is not a string")
                })
            }
            EntryKey::InvalidString => {
                return sink.fail(path, "json", || {
                    "Object key is not valid Unicode".to_string()
                })
            }
        };
        if let Some(names) = &checks.property_names {
            let name = Json::String(key.into());
            if !valid_in(names, &&name, depth + 1, cx.descend()) {
                sink.fail(path, "propertyNames", || {
                    format!(
                        "Property name `{}` is not valid against `propertyNames`",
                        shorten(key)
                    )
                })?;
            }
        }
        let child = Path::Key(path, key);
        let mut matched = false;
        for (pattern, node) in &checks.patterns {
            match pattern.find(key) {
                Ok(true) => {
                    matched = true;
                    if let Some(node) = node {
                        check_node(node, item, &child, depth + 1, cx.descend(), sink)?;
                    }
                }
                Ok(false) => {}
                Err(_) => {
                    // Not knowing whether the key matches, neither the
                    // pattern's schema nor `additionalProperties` decides it.
                    matched = true;
                    sink.fail(&child, "patternProperties", || {
                        format!(
                            "Matching `{}` exceeded the work bound, got {}",
                            super::shorten(pattern.as_str()),
                            super::quoted(key)
                        )
                    })?;
                }
            }
        }
        if matched || checks.find_declared(key).is_some() {
            return ControlFlow::Continue(());
        }
        match &checks.additional {
            Additional::Allow => ControlFlow::Continue(()),
            Additional::Forbid => sink.fail(path, "additionalProperties", || {
                format!("Unexpected property `{}`", shorten(key))
            }),
            Additional::Schema(node) => {
                check_node(node, item, &child, depth + 1, cx.descend(), sink)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::ops::ControlFlow;

    use crate::check::{check as check_node, Collect, Cx};
    use crate::error::{Path, RecordError};
    use crate::json::parse_value;
    use crate::schema::{ObjectChecks, Schema};
    use crate::value::{EntryKey, Json, Kind, Number, Record, MAX_DEPTH};

    /// Parsed JSON that counts the keys the object checks look at: one per
    /// property looked up in it, one per entry walked.
    #[derive(Clone, Copy)]
    struct Counted<'a> {
        json: &'a Json<'a>,
        probes: &'a Cell<usize>,
    }

    impl<'a> Counted<'a> {
        fn wrap(&self, json: &'a Json<'a>) -> Self {
            Counted {
                json,
                probes: self.probes,
            }
        }
    }

    impl Record for Counted<'_> {
        fn kind(&self) -> Kind {
            self.json.kind()
        }
        fn as_bool(&self) -> bool {
            self.json.as_bool()
        }
        fn as_number(&self) -> Number {
            self.json.as_number()
        }
        fn as_str(&self) -> Option<&str> {
            self.json.as_str()
        }
        fn array_len(&self) -> usize {
            self.json.array_len()
        }
        fn array_item(&self, i: usize) -> Option<Self> {
            self.json.array_item(i).map(|j| self.wrap(j))
        }
        fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(
            &self,
            mut f: F,
        ) -> ControlFlow<()> {
            self.json.for_each_item(|i, j| f(i, &self.wrap(j)))
        }
        fn object_len(&self) -> usize {
            self.json.object_len()
        }
        fn object_get(&self, key: &str) -> Option<Self> {
            self.probes.set(self.probes.get() + 1);
            self.json.object_get(key).map(|j| self.wrap(j))
        }
        fn object_lookup(&self, checks: &ObjectChecks, found: &mut [Option<Self>]) {
            // As a Python dict: one hash lookup per property.
            for (slot, property) in found.iter_mut().zip(&checks.properties) {
                self.probes.set(self.probes.get() + 1);
                *slot = self.json.object_get(&property.name).map(|j| self.wrap(j));
            }
        }
        fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
            &self,
            mut f: F,
        ) -> ControlFlow<()> {
            self.json.for_each_entry(|k, j| {
                self.probes.set(self.probes.get() + 1);
                f(k, &self.wrap(j))
            })
        }
        fn type_name(&self) -> Cow<'_, str> {
            self.json.type_name()
        }
    }

    fn many_properties(n: usize, extra: &str) -> Schema {
        let properties: Vec<String> = (0..n)
            .map(|i| format!(r#""p{i}":{{"type":"integer"}}"#))
            .collect();
        Schema::from_json_text(&format!(
            r#"{{"type":"object","properties":{{{}}},"required":["p3","p1","p900"]{extra}}}"#,
            properties.join(",")
        ))
        .unwrap()
    }

    /// The errors and the number of keys looked at.
    fn run(schema: &Schema, record: &str) -> (Vec<(String, &'static str, String)>, usize) {
        let json = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
        let probes = Cell::new(0);
        let record = Counted {
            json: &json,
            probes: &probes,
        };
        let mut errors: Vec<RecordError> = Vec::new();
        let mut sink = Collect::new(0, &mut errors);
        let _ = check_node(
            &schema.root,
            &record,
            &Path::Root,
            0,
            Cx::new(schema),
            &mut sink,
        );
        let errors = errors
            .into_iter()
            .map(|e| (e.path, e.keyword, e.message))
            .collect();
        (errors, probes.get())
    }

    fn error(path: &str, keyword: &'static str, message: &str) -> (String, &'static str, String) {
        (path.to_string(), keyword, message.to_string())
    }

    fn not_integer(path: &str, value: &str) -> (String, &'static str, String) {
        error(
            path,
            "type",
            &format!("Expected `integer`, got `string` \"{value}\""),
        )
    }

    /// `schema`, with each property looked up in the record whatever its size.
    fn looking_up(mut schema: Schema) -> Schema {
        if let Some(object) = schema.root.object.as_mut() {
            object.lookup = None;
        }
        schema
    }

    #[test]
    fn a_small_record_costs_its_keys_not_the_declared_properties() {
        let schema = many_properties(100_000, "");
        let (errors, probes) = run(&schema, r#"{"p1":1,"p3":2}"#);
        assert_eq!(
            errors,
            vec![error("", "required", "Missing required property `p900`")]
        );
        assert_eq!(probes, 2);
        // Looked up, the same record costs one probe per declared property.
        let (same, probes) = run(&looking_up(schema), r#"{"p1":1,"p3":2}"#);
        assert_eq!((same, probes), (errors, 100_000));
    }

    #[test]
    fn a_walked_record_fails_in_schema_order() {
        let schema = many_properties(1000, r#","additionalProperties":false"#);
        // Out of schema order, a duplicate key (the last one counts), an unknown key.
        let record = r#"{"p950":"x","zz":0,"p3":"a","p2":"b","p3":"c","p0":0}"#;
        let (errors, probes) = run(&schema, record);
        let expected = vec![
            error("", "required", "Missing required property `p1`"),
            not_integer("/p2", "b"),
            not_integer("/p3", "c"),
            error("", "required", "Missing required property `p900`"),
            not_integer("/p950", "x"),
            error("", "additionalProperties", "Unexpected property `zz`"),
        ];
        assert_eq!(errors, expected);
        // The properties walk and the `additionalProperties` walk: six entries each.
        assert_eq!(probes, 12);
        let (same, probes) = run(&looking_up(schema), record);
        assert_eq!((same, probes), (expected, 1000 + 6));
    }

    #[test]
    fn a_record_with_many_keys_looks_up_the_properties() {
        // Half as many keys as names (20 properties and the required `p900`) or
        // more: today's direction, and the same errors as the walk.
        let schema = many_properties(20, r#","additionalProperties":false"#);
        let mut keys: Vec<String> = (0..10).rev().map(|i| format!(r#""p{i}":"s{i}""#)).collect();
        keys.push(r#""p900":"x""#.to_string());
        let record = format!("{{{}}}", keys.join(","));
        let (errors, probes) = run(&schema, &record);
        let expected: Vec<_> = (0..10)
            .map(|i| not_integer(&format!("/p{i}"), &format!("s{i}")))
            .chain([error(
                "",
                "additionalProperties",
                "Unexpected property `p900`",
            )])
            .collect();
        assert_eq!(errors, expected);
        // 21 lookups, then the `additionalProperties` walk.
        assert_eq!(probes, 21 + 11);
        // Without `p900`, 10 keys: walked, the same errors but for `required`.
        keys.pop();
        let (errors, probes) = run(&schema, &format!("{{{}}}", keys.join(",")));
        let mut expected = expected;
        expected.pop();
        expected.push(error("", "required", "Missing required property `p900`"));
        assert_eq!((errors, probes), (expected, 10 + 10));
    }
}
