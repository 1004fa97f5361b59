//! prefixItems, items (and additionalItems), minItems, maxItems, uniqueItems,
//! contains, minContains, maxContains: their compiled form ([`ArrayChecks`],
//! at the end with [`compile`]) and their check.

use std::ops::ControlFlow;

use serde_json::{Map, Value};

use super::equal::Cut;
use super::plural;
use super::{check as check_node, equal, received, valid_in, Cx, Sink};
use crate::error::Path;
use crate::schema::{
    err, json_type, non_negative, non_negative_with_text, Draft, Node, SchemaError, Subschemas,
};
use crate::value::{Record, MAX_DEPTH};

pub(super) fn check<'s, R: Record, S: Sink<'s>>(
    checks: &'s ArrayChecks,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let len = value.array_len();
    if let Some(min) = checks.min_items {
        if len < min {
            sink.fail(path, "minItems", || match &checks.min_items_text {
                Some(text) => format!("Array has fewer than {text} items, got {len}"),
                None => format!("Array has fewer than {}, got {len}", plural(min, "item")),
            })?;
        }
    }
    if let Some(max) = checks.max_items {
        if len > max {
            sink.fail(path, "maxItems", || {
                format!("Array has more than {}, got {len}", plural(max, "item"))
            })?;
        }
    }
    let n_prefix = checks.prefix_items.len();
    if n_prefix > 0 || checks.items.is_some() {
        if let Some(items) = &checks.items {
            if items.always_false && len > n_prefix {
                sink.fail(path, checks.items_keyword, || {
                    format!(
                        "Array has more than {}, got {len}",
                        plural(n_prefix, "item")
                    )
                })?;
            }
        }
        value.for_each_item(|i, item| {
            let node = if i < n_prefix {
                &checks.prefix_items[i]
            } else {
                match &checks.items {
                    Some(node) if !node.always_false => node,
                    _ => return ControlFlow::Continue(()),
                }
            };
            check_node(
                node,
                item,
                &Path::Index(path, i),
                depth + 1,
                cx.descend(),
                sink,
            )
        })?;
    }
    if let Some(contains) = &checks.contains {
        let mut matched = 0usize;
        let _ = value.for_each_item(|i, item| {
            if valid_in(
                contains,
                item,
                &Path::Index(path, i),
                depth + 1,
                cx.descend(),
            ) {
                matched += 1;
            }
            ControlFlow::Continue(())
        });
        let min = checks.min_contains.unwrap_or(1);
        if matched < min {
            let keyword = if checks.min_contains.is_some() {
                "minContains"
            } else {
                "contains"
            };
            sink.fail(path, keyword, || match (min, &checks.min_contains_text) {
                (_, Some(text)) => {
                    format!("Array has fewer than {text} items valid against `contains`")
                }
                (1, None) => "Array has no item valid against `contains`".to_string(),
                (_, None) => format!(
                    "Array has fewer than {} valid against `contains`",
                    plural(min, "item")
                ),
            })?;
        }
        if let Some(max) = checks.max_contains {
            if matched > max {
                sink.fail(path, "maxContains", || {
                    format!(
                        "Array has more than {} valid against `contains`",
                        plural(max, "item")
                    )
                })?;
            }
        }
    }
    if checks.unique_items && len > 1 {
        // The items are compared whole: a value JSON cannot hold in one is reported,
        // never compared (a set, bytes, a lone surrogate or NaN equalled nothing, not
        // even itself, and two infinities were equal).
        let mut found = 0;
        // One memo for the items' walks: they may share containers.
        let mut shared = equal::Shared::new();
        value.for_each_item(|i, item| {
            let at = Path::Index(path, i);
            match equal::report_non_json_in(item, &at, depth + 1, &mut found, sink, &mut shared) {
                ControlFlow::Break(Cut::Stopped) => ControlFlow::Break(()),
                // Past a value too deep, the next item.
                _ => ControlFlow::Continue(()),
            }
        })?;
        let compared = if found > 0 {
            Ok(None)
        } else {
            equal::first_duplicate(value, depth)
        };
        match compared {
            Ok(None) => {}
            Ok(Some((a, b))) => sink.fail(path, "uniqueItems", || match value.array_item(a) {
                Some(item) => format!("Items {a} and {b} are equal, got {} twice", received(&item)),
                None => format!("Items {a} and {b} are equal"),
            })?,
            Err(equal::TooDeep) => sink.fail(path, "depth", || {
                format!("Nesting deeper than {MAX_DEPTH} levels")
            })?,
        }
    }
    ControlFlow::Continue(())
}

/// The array keywords of a node.
#[derive(Debug, Default)]
pub struct ArrayChecks {
    /// `prefixItems` (2020-12) or the array form of `items` (earlier drafts).
    pub prefix_items: Vec<Node>,
    /// `items` (2020-12) or `additionalItems` after an `items` array, or the
    /// schema form of `items` (earlier drafts).
    pub items: Option<Box<Node>>,
    /// The keyword `items` failures report: `items` or `additionalItems`.
    pub items_keyword: &'static str,
    pub min_items: Option<usize>,
    /// The schema's `minItems` when it is beyond `usize::MAX` (then `min_items`
    /// is `usize::MAX`, which no array reaches), for messages.
    pub min_items_text: Option<Box<str>>,
    pub max_items: Option<usize>,
    pub unique_items: bool,
    pub contains: Option<Box<Node>>,
    pub min_contains: Option<usize>,
    /// The schema's `minContains` beyond `usize::MAX`, as [`ArrayChecks::min_items_text`].
    pub min_contains_text: Option<Box<str>>,
    pub max_contains: Option<usize>,
}

/// Compiles the array keywords of the schema `map`, their subschemas through
/// `compiler`; `None` when there are none.
pub(crate) fn compile<'d>(
    map: &'d Map<String, Value>,
    compiler: &mut Subschemas<'_, 'd>,
) -> Result<Option<ArrayChecks>, SchemaError> {
    let (draft, location) = (compiler.draft, compiler.location);
    let (min_items, min_items_text) = non_negative_with_text(map, "minItems", location)?.unzip();
    let mut checks = ArrayChecks {
        min_items,
        min_items_text: min_items_text.flatten(),
        max_items: non_negative(map, "maxItems", location)?,
        items_keyword: "items",
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
    let (prefix_key, rest_key) = if draft == Draft::Draft202012 {
        ("prefixItems", "items")
    } else {
        ("items", "additionalItems")
    };
    let prefix = match map.get(prefix_key) {
        Some(Value::Array(schemas)) => Some(schemas),
        Some(other) if prefix_key == "prefixItems" => {
            return err(
                location,
                format!("`prefixItems` must be an array, got {}", json_type(other)),
            )
        }
        _ => None,
    };
    if let Some(schemas) = prefix {
        for (i, s) in schemas.iter().enumerate() {
            checks
                .prefix_items
                .push(compiler.compile(s, &format!("{location}/{prefix_key}/{i}"))?);
        }
        if let Some(items) = map.get(rest_key) {
            let node = compiler.compile(items, &format!("{location}/{rest_key}"))?;
            checks.items_keyword = if rest_key == "items" {
                "items"
            } else {
                "additionalItems"
            };
            if !node.trivial {
                checks.items = Some(Box::new(node));
            }
        }
    } else if let Some(items) = map.get("items") {
        // `items` as one schema for every item (2020-12, or earlier drafts).
        let node = compiler.compile(items, &format!("{location}/items"))?;
        if !node.trivial {
            checks.items = Some(Box::new(node));
        }
    }
    if draft >= Draft::Draft6 {
        if let Some(c) = map.get("contains") {
            checks.contains = Some(Box::new(
                compiler.compile(c, &format!("{location}/contains"))?,
            ));
            if draft >= Draft::Draft201909 {
                let (min_contains, min_contains_text) =
                    non_negative_with_text(map, "minContains", location)?.unzip();
                checks.min_contains = min_contains;
                checks.min_contains_text = min_contains_text.flatten();
                checks.max_contains = non_negative(map, "maxContains", location)?;
            }
        }
    }
    let any = checks.min_items.is_some()
        || checks.max_items.is_some()
        || checks.unique_items
        || checks.items.is_some()
        || checks.contains.is_some()
        || checks.prefix_items.iter().any(|n| !n.trivial);
    Ok(any.then_some(checks))
}
