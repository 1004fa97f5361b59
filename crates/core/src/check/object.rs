//! properties, required, additionalProperties, minProperties, maxProperties,
//! patternProperties, propertyNames, dependentRequired, dependentSchemas
//! (and draft 4-7 dependencies).
//!
//! Properties are checked in schema order, each looked up in the record (the
//! record decides how: a scan for parsed JSON, a hash lookup with interned keys
//! for a Python dict); then, only when the schema constrains unknown keys, the
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
    if n <= SMALL_PROPERTIES {
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
