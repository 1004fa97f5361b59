//! properties, required, additionalProperties, minProperties, maxProperties.
//!
//! The record's entries are walked once, in the record's order, and each key is
//! looked up among the names the schema knows; required names are ticked off
//! in a bitset on the stack.

use std::ops::ControlFlow;

use super::{check as check_node, Sink};
use crate::error::Path;
use crate::schema::{Additional, ObjectChecks};
use crate::value::{EntryKey, Record};

/// Names seen so far, without allocating for schemas of up to 256 names.
enum Seen {
    Small([u64; 4]),
    Large(Vec<bool>),
}

impl Seen {
    fn new(n: usize) -> Seen {
        if n <= 256 { Seen::Small([0; 4]) } else { Seen::Large(vec![false; n]) }
    }
    #[inline]
    fn set(&mut self, i: usize) {
        match self {
            Seen::Small(bits) => bits[i / 64] |= 1 << (i % 64),
            Seen::Large(v) => v[i] = true,
        }
    }
    #[inline]
    fn get(&self, i: usize) -> bool {
        match self {
            Seen::Small(bits) => bits[i / 64] & (1 << (i % 64)) != 0,
            Seen::Large(v) => v[i],
        }
    }
}

pub(super) fn check<R: Record, S: Sink>(checks: &ObjectChecks, value: &R, path: &Path<'_>, depth: usize, sink: &mut S) -> ControlFlow<()> {
    let len = value.object_len();
    if let Some(min) = checks.min_properties {
        if len < min {
            sink.fail(path, "minProperties", || format!("Object has fewer than {min} properties"))?;
        }
    }
    if let Some(max) = checks.max_properties {
        if len > max {
            sink.fail(path, "maxProperties", || format!("Object has more than {max} properties"))?;
        }
    }
    let mut seen = Seen::new(if checks.n_required > 0 { checks.properties.len() } else { 0 });
    value.for_each_entry(|key, item| {
        let key = match key {
            EntryKey::Str(k) => k,
            EntryKey::NotString(repr) => {
                return sink.fail(path, "json", || format!("Object key `{repr}` is not a string"));
            }
            EntryKey::InvalidString => return sink.fail(path, "json", || "Object key is not valid Unicode".to_string()),
        };
        match checks.find(key) {
            Some(i) => {
                let property = &checks.properties[i];
                if property.required {
                    seen.set(i);
                }
                match &property.node {
                    Some(node) => check_node(node, item, &Path::Key(path, key), depth + 1, sink),
                    None => ControlFlow::Continue(()),
                }
            }
            None => match &checks.additional {
                Additional::Allow => ControlFlow::Continue(()),
                Additional::Forbid => sink.fail(path, "additionalProperties", || format!("Unexpected property `{key}`")),
                Additional::Schema(node) => check_node(node, item, &Path::Key(path, key), depth + 1, sink),
            },
        }
    })?;
    if checks.n_required > 0 {
        for (i, property) in checks.properties.iter().enumerate() {
            if property.required && !seen.get(i) {
                sink.fail(path, "required", || format!("Missing required property `{}`", property.name))?;
            }
        }
    }
    ControlFlow::Continue(())
}
