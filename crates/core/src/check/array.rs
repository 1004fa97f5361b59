//! prefixItems, items (and additionalItems), minItems, maxItems, uniqueItems,
//! contains, minContains, maxContains.

use std::ops::ControlFlow;

use super::plural;
use super::{check as check_node, equal, valid_in, Cx, Sink};
use crate::error::Path;
use crate::schema::ArrayChecks;
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
                    format!("Array has more than {}", plural(n_prefix, "item"))
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
        let _ = value.for_each_item(|_, item| {
            if valid_in(contains, item, depth + 1, cx.descend()) {
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
            sink.fail(path, keyword, || match min {
                1 => "Array has no item valid against `contains`".to_string(),
                _ => format!(
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
        match equal::first_duplicate(value, depth) {
            Ok(None) => {}
            Ok(Some((a, b))) => sink.fail(path, "uniqueItems", || {
                format!("Items {a} and {b} are equal")
            })?,
            Err(equal::TooDeep) => sink.fail(path, "depth", || {
                format!("Nesting deeper than {MAX_DEPTH} levels")
            })?,
        }
    }
    ControlFlow::Continue(())
}
