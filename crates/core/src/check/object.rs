//! properties, required, additionalProperties, minProperties, maxProperties,
//! patternProperties, propertyNames, dependentRequired, dependentSchemas
//! (and draft 4-7 dependencies): their compiled form ([`ObjectChecks`], after
//! the checks with [`compile`]) and their check.
//!
//! Properties are checked in schema order. A record with under half as many
//! entries as a large schema has properties is walked, each key found in the schema's map,
//! and the properties it holds sorted into schema order (its cost follows the
//! keys it has); otherwise each property is looked up in the record (the record
//! decides how: a scan for parsed JSON, a hash lookup with interned keys for a
//! Python dict). Then, only when the schema constrains unknown keys, the
//! record's entries are walked in the record's order.

use std::any::Any;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::names::Names;
use super::plural;
use super::{check as check_node, shorten, valid_in, Cx, Revisits, Sink};
use crate::error::Path;
use crate::pattern::Pattern;
use crate::schema::{
    compile_pattern, err, escape_pointer, json_type, non_negative, non_negative_with_text, Draft,
    Node, SchemaError, Subschemas,
};
use crate::text::same_text;
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
    if S::VERDICT_ONLY && value.object_len() < checks.n_required {
        // Fewer entries than required names: one is missing, whichever it is. Decided
        // before the walk (a record missing one walked its other entries first,
        // patterns and unions included: 4x jsonschema-rs's time to say "invalid").
        return sink.fail_with(path, "required", |_| {});
    }
    if let Some(min) = checks.min_properties {
        let len = value.property_count();
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
        let len = value.property_count();
        if len > max {
            sink.fail(path, "maxProperties", || {
                format!(
                    "Object has more than {}, got {len}",
                    plural(max, "property")
                )
            })?;
        }
    }
    let walks_entries = !matches!(checks.additional, Additional::Allow)
        || !checks.patterns.is_empty()
        || checks.property_names.is_some();
    let plain = checks.patterns.is_empty() && checks.property_names.is_none();
    if S::VERDICT_ONLY
        && (walks_entries || (plain && checks.walk_costs_less(value.object_len())))
        && value.object_keys_unique()
    {
        // Only the verdict counts: one walk over the entries checks the properties
        // the record holds and counts the required names it meets, instead of a
        // lookup per schema property (then a walk, with `additionalProperties`:
        // every `oneOf` branch of closed objects paid both).
        let mut required_met = 0;
        if plain {
            walk_verdict(checks, value, &mut required_met, path, depth, cx, sink)?;
        } else {
            entries(
                checks,
                value,
                Some(&mut required_met),
                path,
                depth,
                cx,
                sink,
            )?;
        }
        if required_met < checks.n_required {
            sink.fail_with(path, "required", |m| {
                let missing = checks
                    .required_indices
                    .iter()
                    .map(|&i| &checks.properties[i].name)
                    .find(|name| value.object_get(name).is_none());
                push_missing_required(m, missing.map_or("", |name| name.as_str()));
            })?;
        }
    } else if plain && walks_entries && value.object_keys_unique() {
        // One walk finds the properties the record holds (in place of a lookup per
        // schema property) and whether a key is left for `additionalProperties`;
        // a second walk reports those keys only when there are some. The same
        // failures in the same order as the lookups then the walk below (the
        // errors of a failing dict of closed objects cost 3x its verdict; parsed
        // JSON, whose lookups are a walk already, measured 0.95x this way).
        with_slots(checks.properties.len(), |found| {
            walk_then_report(checks, value, found, path, depth, cx, sink)
        })?;
    } else {
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
        } else {
            with_slots(n, |found| {
                properties(checks, value, found, path, depth, cx, sink)
            })?;
        }
        if walks_entries {
            entries(checks, value, None, path, depth, cx, sink)?;
        }
    }
    for (name, required, keyword) in &checks.dependent_required {
        if value.object_get(name).is_none() {
            continue;
        }
        for other in required {
            if value.object_get(other).is_none() {
                sink.fail(path, keyword, || {
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
            // In place, as a combinator's subschema (see `crate::stack`).
            let (cx, low) = cx.nested();
            if low.is_some() {
                crate::stack::on_new_segment(|| check_node(node, value, path, depth, cx, sink))?;
            } else {
                check_node(node, value, path, depth, cx, sink)?;
            }
        }
    }
    ControlFlow::Continue(())
}

/// `` Missing required property `name` ``.
fn push_missing_required(m: &mut String, name: &str) {
    m.push_str("Missing required property `");
    m.push_str(&shorten(name));
    m.push('`');
}

/// Runs `f` with `n` empty slots, one per schema property: on the stack for most objects.
#[inline(always)]
fn with_slots<R: Record>(
    n: usize,
    f: impl FnOnce(&mut [Option<R>]) -> ControlFlow<()>,
) -> ControlFlow<()> {
    if n <= SMALL_PROPERTIES {
        let mut found: [Option<R>; SMALL_PROPERTIES] = [None; SMALL_PROPERTIES];
        f(&mut found[..n])
    } else if n <= STACK_PROPERTIES {
        let mut found: [Option<R>; STACK_PROPERTIES] = [None; STACK_PROPERTIES];
        f(&mut found[..n])
    } else {
        f(&mut vec![None; n])
    }
}

/// `` Unexpected property `name` ``.
fn push_unexpected_property(m: &mut String, name: &str) {
    m.push_str("Unexpected property `");
    m.push_str(&shorten(name));
    m.push('`');
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
    report_found(checks, found, path, depth, cx, sink)
}

/// For an object without `patternProperties` or `propertyNames`: its properties
/// found in one walk of its entries (the last of a repeated key, as a lookup finds),
/// reported by [`report_found`], then its keys that no declared property takes
/// (`additionalProperties`, keys that are no strings) by [`entries`], when any.
fn walk_then_report<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    found: &mut [Option<R>],
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let mut left = false;
    let _ = value.for_each_property(checks, |i, key, item| {
        match (i, key) {
            (Some(i), EntryKey::Str(_)) => {
                if let Some(slot) = found.get_mut(i) {
                    *slot = Some(*item);
                }
                left |= !checks.properties[i].declared;
            }
            _ => left = true,
        }
        ControlFlow::Continue(())
    });
    report_found(checks, found, path, depth, cx, sink)?;
    if left {
        entries(checks, value, None, path, depth, cx, sink)?;
    }
    ControlFlow::Continue(())
}

/// The checks of the properties `found` holds (by schema index), and a failure for
/// each required one it lacks, in the schema's order.
fn report_found<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    found: &[Option<R>],
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
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
                sink.fail_with(path, "required", |m| {
                    push_missing_required(m, &property.name)
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
                sink.fail_with(path, "required", |m| {
                    push_missing_required(m, &property.name)
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

/// [`entries`] with `required_met`, lean, for objects without `patternProperties`
/// or `propertyNames` (most): each entry's property, else `additionalProperties`.
fn walk_verdict<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    required_met: &mut usize,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    value.for_each_property(checks, |found, key, item| {
        let EntryKey::Str(key) = key else {
            // What `entries` reports; with every key allowed no walk would see it.
            return match checks.additional {
                Additional::Allow => ControlFlow::Continue(()),
                _ => sink.fail(path, "json", || {
                    "Object key is not valid Unicode".to_string()
                }),
            };
        };
        if let Some(i) = found {
            let property = &checks.properties[i];
            *required_met += usize::from(property.required);
            if property.declared {
                return match &property.node {
                    Some(node) => check_node(
                        node,
                        item,
                        &Path::Key(path, &property.name),
                        depth + 1,
                        cx.descend(),
                        sink,
                    ),
                    None => ControlFlow::Continue(()),
                };
            }
        }
        match &checks.additional {
            Additional::Allow => ControlFlow::Continue(()),
            Additional::Forbid => sink.fail_with(path, "additionalProperties", |m| {
                push_unexpected_property(m, key)
            }),
            Additional::Schema(node) => check_node(
                node,
                item,
                &Path::Key(path, key),
                depth + 1,
                cx.descend(),
                sink,
            ),
        }
    })
}

/// The record's entries in its order: `propertyNames`, `patternProperties` and
/// `additionalProperties`. With `required_met` (keys known unique), also each
/// declared property's schema, counting in `required_met` the required names seen.
fn entries<'s, R: Record, S: Sink<'s>>(
    checks: &'s ObjectChecks,
    value: &R,
    mut required_met: Option<&mut usize>,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    value.for_each_property(checks, |found, key, item| {
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
            let revisits = Revisits::of::<&Json<'_>>(cx.schema);
            let root = cx.key_scope(revisits.as_ref());
            // (A loop met there is the record's, reported at this object: below.)
            let valid = valid_in(
                names,
                &&name,
                &Path::Root,
                depth + 1,
                cx.for_key(root.as_ref()),
            );
            if let Some(looped) = revisits.as_ref().and_then(Revisits::looped) {
                // The name's walk looped: so does the record's, at this object.
                if let Some(record) = cx.revisits() {
                    record.loop_met(path, looped.keyword, &looped.location);
                    return ControlFlow::Break(());
                }
            }
            if !valid {
                sink.fail(path, "propertyNames", || {
                    let why = super::logic::first_reason(
                        names,
                        &&name,
                        path,
                        depth + 1,
                        cx.for_key(root.as_ref()),
                    );
                    match why {
                        Some(why) => format!(
                            "Property name `{}` is not valid against `propertyNames`: {why}",
                            shorten(key)
                        ),
                        None => format!(
                            "Property name `{}` is not valid against `propertyNames`",
                            shorten(key)
                        ),
                    }
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
        let declared = match found {
            Some(i) => {
                let property = &checks.properties[i];
                if let Some(met) = required_met.as_deref_mut() {
                    *met += usize::from(property.required);
                    if let (true, Some(node)) = (property.declared, &property.node) {
                        check_node(node, item, &child, depth + 1, cx.descend(), sink)?;
                    }
                }
                property.declared
            }
            None => false,
        };
        if matched || declared {
            return ControlFlow::Continue(());
        }
        match &checks.additional {
            Additional::Allow => ControlFlow::Continue(()),
            Additional::Forbid => sink.fail_with(path, "additionalProperties", |m| {
                push_unexpected_property(m, key)
            }),
            Additional::Schema(node) => {
                check_node(node, item, &child, depth + 1, cx.descend(), sink)
            }
        }
    })
}

/// `additionalProperties`, compiled.
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
    /// Named by `dependentRequired` where [`ObjectChecks::dependent_masks`] holds it: the
    /// fused JSON walk notes that the object holds it.
    pub dependency: bool,
}

/// The object keywords of a node, the most read first (`repr(C)`: see [`Node`]).
#[derive(Debug)]
#[repr(C)]
pub struct ObjectChecks {
    /// `properties` in document order, then required names that have no schema.
    pub properties: Vec<Property>,
    pub additional: Additional,
    pub n_required: usize,
    /// `patternProperties`: keys matching a pattern are not additional.
    pub patterns: Vec<(Pattern, Option<Node>)>,
    pub property_names: Option<Box<Node>>,
    /// The names of `properties`, in their order, to find a key among them
    /// (scanned, or through a table above 12; see [`Names`]).
    pub names: Names,
    /// A cache the host of the records may fill once (the Python layer keeps
    /// interned key objects here for fast dict lookups).
    pub host_keys: OnceLock<Box<dyn Any + Send + Sync>>,
    /// Indices into `properties` of the required names, ascending.
    pub required_indices: Vec<usize>,
    pub min_properties: Option<usize>,
    pub max_properties: Option<usize>,
    /// `dependentRequired` (or the array form of `dependencies`): the trigger, the names
    /// it needs, and the keyword that says so (errors name it: `dependencies` in drafts
    /// 4-7, and in 2019-09 and later where the schema still writes it).
    pub dependent_required: Vec<(String, Vec<String>, &'static str)>,
    /// `dependent_required` as bits of `properties` (trigger, names it needs), when all
    /// its names are among the first 64 properties: the fused JSON path checks it on
    /// the properties its walk finds (github-workflow's steps, parsed for it, were 40%
    /// of that schema's instructions).
    pub dependent_masks: Option<Box<[(u64, u64)]>>,
    /// `dependentSchemas` (or the schema form of draft 4-7 `dependencies`).
    pub dependent_schemas: Vec<(String, Node)>,
    /// The schema's `minProperties` beyond `usize::MAX`, as [`ArrayChecks::min_items_text`].
    pub min_properties_text: Option<Box<str>>,
}

impl ObjectChecks {
    /// The index of a declared property named `key` (see [`Property::declared`]).
    #[inline]
    pub fn find_declared(&self, key: &str) -> Option<usize> {
        self.find(key).filter(|&i| self.properties[i].declared)
    }

    /// [`ObjectChecks::find`], property `hint` tried first.
    #[inline]
    pub fn find_from(&self, hint: usize, key: &str) -> Option<usize> {
        match self.properties.get(hint) {
            Some(property) if same_text(&property.name, key) => Some(hint),
            _ => self.find(key),
        }
    }

    #[inline]
    pub fn find(&self, key: &str) -> Option<usize> {
        self.names.find(key)
    }

    /// Whether `key` is neither a declared property nor matched by `patternProperties`.
    #[inline]
    pub fn is_additional(&self, key: &str) -> bool {
        self.find_declared(key).is_none() && !self.patterns.iter().any(|(p, _)| p.is_match(key))
    }

    /// Whether finding the properties of an object with `len` entries costs less
    /// by walking its entries (one lookup in `names`' table each) than by looking up
    /// every property in it: only with that table, and under half as many entries
    /// as properties (a key found in the table costs about twice a Python dict
    /// lookup with an interned key: 15 keys of 20 properties walked were slower).
    #[inline]
    pub fn walks_record(&self, len: usize) -> bool {
        self.names.hashed() && len.saturating_mul(2) < self.properties.len()
    }

    /// Whether walking an object of `len` entries (one step each, the next
    /// property tried first) costs less than looking up every property (a
    /// hash lookup with an interned key costs about two steps).
    #[inline]
    pub fn walk_costs_less(&self, len: usize) -> bool {
        len <= self.properties.len().saturating_mul(2)
    }
}

/// Whether object checks decide an object by its named entries alone (`properties`,
/// `required`): nothing that counts its entries or ranges over all of them
/// (`additionalProperties`, `patternProperties`, `propertyNames`, `min/maxProperties`,
/// dependencies). Destructured field by field, as the fused JSON path does: a field
/// added to `ObjectChecks` does not compile until it is decided here.
pub(crate) fn reads_named_entries_only(checks: &ObjectChecks) -> bool {
    let ObjectChecks {
        // Named entries.
        properties: _,
        // Another way to find a property.
        names: _,
        // Counts of what `properties` says.
        n_required: _,
        required_indices: _,
        additional,
        min_properties,
        // Only for messages.
        min_properties_text: _,
        max_properties,
        patterns,
        property_names,
        dependent_required,
        // Says what `dependent_required` holds.
        dependent_masks: _,
        dependent_schemas,
        // The Python host's cache.
        host_keys: _,
    } = checks;
    matches!(additional, Additional::Allow)
        && min_properties.is_none()
        && max_properties.is_none()
        && patterns.is_empty()
        && property_names.is_none()
        && dependent_required.is_empty()
        && dependent_schemas.is_empty()
}

/// Compiles the object keywords of the schema `map`, their subschemas through
/// `compiler`; `None` when there are none.
pub(crate) fn compile<'d>(
    map: &'d Map<String, Value>,
    compiler: &mut Subschemas<'_, 'd>,
) -> Result<Option<ObjectChecks>, SchemaError> {
    let (draft, location) = (compiler.draft, compiler.location);
    let mut properties: Vec<Property> = Vec::new();
    match map.get("properties") {
        None => {}
        Some(Value::Object(props)) => {
            for (name, sub) in props {
                let node = compiler.compile(
                    sub,
                    &format!("{location}/properties/{}", escape_pointer(name)),
                )?;
                properties.push(Property {
                    name: name.clone(),
                    node: (!node.trivial).then_some(node),
                    required: false,
                    declared: true,
                    dependency: false,
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
            // By name, not a scan per name: 100,000 names took 34 s to compile.
            let mut at: HashMap<String, usize> = properties
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.clone(), i))
                .collect();
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
                match at.get(name.as_str()).map(|&i| &mut properties[i]) {
                    Some(p) if p.required => {}
                    Some(p) => {
                        p.required = true;
                        n_required += 1;
                    }
                    None => {
                        at.insert(name.clone(), properties.len());
                        properties.push(Property {
                            name: name.clone(),
                            node: None,
                            required: true,
                            declared: false,
                            dependency: false,
                        });
                        n_required += 1;
                    }
                }
            }
        }
        // Draft 3 style `required: true` inside a property: an annotation here.
        Some(Value::Bool(_)) if draft <= Draft::Draft7 => {}
        Some(other) => {
            return err(
                location,
                format!("`required` must be an array, got {}", json_type(other)),
            )
        }
    }
    let mut patterns = Vec::new();
    match map.get("patternProperties") {
        None => {}
        Some(Value::Object(props)) => {
            for (source, sub) in props {
                let pattern = compile_pattern(source, "patternProperties", location)?;
                let node = compiler.compile(
                    sub,
                    &format!("{location}/patternProperties/{}", escape_pointer(source)),
                )?;
                patterns.push((pattern, (!node.trivial).then_some(node)));
            }
        }
        Some(other) => {
            return err(
                location,
                format!(
                    "`patternProperties` must be an object, got {}",
                    json_type(other)
                ),
            )
        }
    }
    let additional = match map.get("additionalProperties") {
        None | Some(Value::Bool(true)) => Additional::Allow,
        Some(Value::Bool(false)) => Additional::Forbid,
        Some(sub) => {
            let node = compiler.compile(sub, &format!("{location}/additionalProperties"))?;
            if node.trivial {
                Additional::Allow
            } else if node.always_false {
                Additional::Forbid
            } else {
                Additional::Schema(Box::new(node))
            }
        }
    };
    let property_names = match map.get("propertyNames") {
        Some(s) if draft >= Draft::Draft6 => {
            let node = compiler.compile(s, &format!("{location}/propertyNames"))?;
            (!node.trivial).then(|| Box::new(node))
        }
        _ => None,
    };
    let mut dependent_required = Vec::new();
    let mut dependent_schemas = Vec::new();
    let legacy = draft <= Draft::Draft7;
    // `dependencies` is read in 2019-09 and later too, as many schemas keep it.
    let dependency_maps: &[&str] = if legacy {
        &["dependencies"]
    } else {
        &["dependentRequired", "dependentSchemas", "dependencies"]
    };
    for &key in dependency_maps {
        match map.get(key) {
            None => {}
            Some(Value::Object(deps)) => {
                for (name, dep) in deps {
                    match dep {
                        Value::Array(names) if key != "dependentSchemas" => {
                            let mut list = Vec::with_capacity(names.len());
                            for n in names {
                                match n {
                                    Value::String(s) => list.push(s.clone()),
                                    other => {
                                        return err(
                                            location,
                                            format!(
                                                "`{key}` entries must be strings, got {}",
                                                json_type(other)
                                            ),
                                        )
                                    }
                                }
                            }
                            let keyword = if key == "dependencies" {
                                "dependencies"
                            } else {
                                "dependentRequired"
                            };
                            dependent_required.push((name.clone(), list, keyword));
                        }
                        Value::Object(_) | Value::Bool(_) if key != "dependentRequired" => {
                            let node = compiler.compile(
                                dep,
                                &format!("{location}/{key}/{}", escape_pointer(name)),
                            )?;
                            if !node.trivial || compiler.keep_annotations() {
                                dependent_schemas.push((name.clone(), node));
                            }
                        }
                        other => {
                            return err(
                                location,
                                format!(
                                    "`{key}` values must be arrays or schemas, got {}",
                                    json_type(other)
                                ),
                            )
                        }
                    }
                }
            }
            Some(other) => {
                return err(
                    location,
                    format!("`{key}` must be an object, got {}", json_type(other)),
                )
            }
        }
    }
    let (min_properties, min_properties_text) =
        non_negative_with_text(map, "minProperties", location)?.unzip();
    let max_properties = non_negative(map, "maxProperties", location)?;
    let checks_anything = properties.iter().any(|p| p.node.is_some() || p.required)
        || !matches!(additional, Additional::Allow)
        || min_properties.is_some()
        || max_properties.is_some()
        || patterns.iter().any(|(_, n)| n.is_some())
        || property_names.is_some()
        || !dependent_required.is_empty()
        || !dependent_schemas.is_empty();
    if !checks_anything {
        return Ok(None);
    }
    // Properties without a check or a requirement only matter for `additionalProperties`.
    if matches!(additional, Additional::Allow) {
        properties.retain(|p| p.node.is_some() || p.required);
        patterns.retain(|(_, n)| n.is_some());
    }
    let names = Names::new(properties.iter().map(|p| p.name.as_str()));
    let required_indices = (properties.iter().enumerate())
        .filter(|(_, p)| p.required)
        .map(|(i, _)| i)
        .collect();
    let bit = |name: &str| {
        let i = properties.iter().position(|p| p.name == name)?;
        (i < 64).then(|| 1u64 << i)
    };
    let dependent_masks = dependent_required
        .iter()
        .map(|(name, needs, _)| {
            let needs = needs
                .iter()
                .map(|n| bit(n))
                .try_fold(0, |m, b| Some(m | b?))?;
            Some((bit(name)?, needs))
        })
        .collect::<Option<Box<[(u64, u64)]>>>();
    let named = dependent_masks
        .iter()
        .flatten()
        .fold(0, |m, &(name, needs)| m | name | needs);
    for (i, property) in properties.iter_mut().enumerate().take(64) {
        property.dependency = named & (1 << i) != 0;
    }
    Ok(Some(ObjectChecks {
        properties,
        names,
        n_required,
        required_indices,
        additional,
        min_properties,
        min_properties_text: min_properties_text.flatten(),
        max_properties,
        patterns,
        property_names,
        dependent_required,
        dependent_masks,
        dependent_schemas,
        host_keys: OnceLock::new(),
    }))
}

#[cfg(test)]
mod compile_tests {
    use crate::schema::{Schema, SchemaError};

    fn compile(text: &str) -> Result<Schema, SchemaError> {
        Schema::from_json_text(text)
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
}

#[cfg(test)]
mod tests {
    use crate::check::counted::{Counted, Counts};
    use crate::check::{check as check_node, Collect, Cx};
    use crate::error::{Path, RecordError};
    use crate::json::parse_value;
    use crate::schema::Schema;
    use crate::value::MAX_DEPTH;

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
        let counts = Counts::default();
        let record = Counted {
            json: &json,
            counts: &counts,
        };
        let mut errors: Vec<RecordError> = Vec::new();
        let mut sink = Collect::new(0, &mut errors);
        let _ = check_node(
            &schema.root,
            &record,
            &Path::Root,
            0,
            Cx::new(schema, None),
            &mut sink,
        );
        let errors = errors
            .into_iter()
            .map(|e| (e.path().to_string(), e.keyword, e.message().to_string()))
            .collect();
        (errors, counts.probes.get())
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
            object.names.scan_only();
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
        // The properties walk and the `additionalProperties` walk: five keys each (`p3`
        // once, with its last value).
        assert_eq!(probes, 10);
        let (same, probes) = run(&looking_up(schema), record);
        assert_eq!((same, probes), (expected, 1000 + 5));
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

    /// The errors of `record` against `schema` (a record of plain parsed JSON), and the
    /// entries that lookups and walks read.
    fn scanned(schema: &str, record: &str) -> (Vec<String>, usize) {
        let schema = Schema::from_json_text(schema).unwrap();
        let json = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
        crate::value::ENTRIES_READ.with(|c| c.set(0));
        let mut errors: Vec<RecordError> = Vec::new();
        let valid = crate::check::validate(&schema, &&json, 0, &mut errors);
        let scanned = crate::value::ENTRIES_READ.with(|c| c.get());
        assert_eq!(valid, errors.is_empty());
        let errors = errors
            .iter()
            .map(|e| format!("{} {} {}", e.path(), e.keyword, e.message()))
            .collect();
        (errors, scanned)
    }

    #[test]
    fn names_looked_up_one_by_one_scan_a_large_object_a_few_times_only() {
        // Each keyword looks up names one at a time: 2000 of them over 2001 keys scanned
        // the object once per name (millions of entries) before it was indexed.
        let n = 2000;
        let chain = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(",");
        let keys = |skip: usize| {
            let keys: Vec<String> = (0..=n)
                .filter(|&i| i != skip)
                .map(|i| format!(r#""p{i}":1"#))
                .collect();
            format!("{{{}}}", keys.join(","))
        };
        let schemas = [
            format!(
                r#"{{"dependentRequired":{{{}}}}}"#,
                chain(&|i| format!(r#""p{i}":["p{}"]"#, i + 1))
            ),
            format!(
                r#"{{"dependencies":{{{}}}}}"#,
                chain(&|i| format!(r#""p{i}":{{"required":["p{}"]}}"#, i + 1))
            ),
            format!(
                r#"{{"allOf":[{}]}}"#,
                chain(&|i| format!(
                    r#"{{"if":{{"required":["p{i}"]}},"then":{{"required":["p{}"]}}}}"#,
                    i + 1
                ))
            ),
            format!(
                r#"{{"anyOf":[{},{{"required":["p7"]}}]}}"#,
                chain(&|i| format!(r#"{{"required":["q{i}"]}}"#))
            ),
        ];
        let bound = 8 * crate::value::LOOKUPS_BEFORE_INDEX * (n + 1);
        for schema in &schemas {
            let (errors, scanned) = scanned(schema, &keys(usize::MAX));
            assert_eq!(errors, Vec::<String>::new());
            assert!(scanned <= bound, "{scanned} entries scanned");
        }
        // The same failures as before, in the same order.
        let missing = |keyword: &str| format!(" {keyword} Missing property `p5` required by `p4`");
        assert_eq!(
            scanned(&schemas[0], &keys(5)).0,
            vec![missing("dependentRequired")]
        );
        assert_eq!(
            scanned(&schemas[1], &keys(5)).0,
            vec![" required Missing required property `p5`".to_string()]
        );
        assert_eq!(
            scanned(&schemas[2], &keys(5)).0,
            vec![" required Missing required property `p5`".to_string()]
        );
        let (errors, _) = scanned(&schemas[3], &keys(7));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with(" anyOf No branch of `anyOf` matched"),
            "{errors:?}"
        );
    }

    #[test]
    fn an_indexed_object_finds_the_last_of_a_repeated_key() {
        let mut keys: Vec<String> = (0..100).map(|i| format!(r#""p{i}":{i}"#)).collect();
        keys.push(r#""p3":"x""#.to_string());
        let record = format!("{{{}}}", keys.join(","));
        // Many looked-up names: the object is indexed after a few lookups.
        let deps: Vec<String> = (0..50)
            .map(|i| format!(r#""p{i}":{{"properties":{{"p3":{{"type":"integer"}}}}}}"#))
            .collect();
        let schema = format!(r#"{{"dependentSchemas":{{{}}}}}"#, deps.join(","));
        let (errors, scanned) = scanned(&schema, &record);
        assert_eq!(errors.len(), 50);
        assert!(
            errors
                .iter()
                .all(|e| e == "/p3 type Expected `integer`, got `string` \"x\""),
            "{errors:?}"
        );
        assert!(scanned < 50 * 101, "{scanned}");
    }

    #[test]
    fn unevaluated_properties_look_up_a_few_names_in_a_large_object() {
        // 50 `allOf` branches of one property each walked the 2000 keys each.
        let branches: Vec<String> = (0..50)
            .map(|i| format!(r#"{{"properties":{{"p{i}":{{}}}}}}"#))
            .collect();
        let schema = format!(
            r#"{{"allOf":[{}],"unevaluatedProperties":false}}"#,
            branches.join(",")
        );
        let keys: Vec<String> = (0..2000).map(|i| format!(r#""p{i}":1"#)).collect();
        let (errors, read) = scanned(&schema, &format!("{{{}}}", keys.join(",")));
        let expected: Vec<String> = (50..2000)
            .map(|i| format!(" unevaluatedProperties Unevaluated property `p{i}`"))
            .collect();
        assert_eq!(errors, expected);
        assert!(read < 10 * 2000, "{read} entries read");
        // Many names, as many keys: each key found in a table of the names.
        let names: Vec<String> = (0..1000).map(|i| format!(r#""p{i}":{{}}"#)).collect();
        let schema = format!(
            r#"{{"properties":{{{}}},"unevaluatedProperties":false}}"#,
            names.join(",")
        );
        let (errors, _) = scanned(
            &schema,
            &format!(r#"{{{},"zz":0}}"#, keys[..1000].join(",")),
        );
        assert_eq!(
            errors,
            vec![" unevaluatedProperties Unevaluated property `zz`"]
        );
    }
}
