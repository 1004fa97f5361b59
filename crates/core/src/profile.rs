//! Profile features: what the schema costs to check (computed once per
//! compiled schema) and what the call's data looks like (from a small sample).

use std::ops::ControlFlow;

use crate::schema::{Additional, Node, Ref};
use crate::value::{EntryKey, Kind, Number, Record};

/// Records read to detect a profile: a sample, never a pass over the input.
/// Python records are walked (about 0.2 us each), JSON ones parsed, so the
/// two sample sizes differ; detection stays around a microsecond.
pub const SAMPLE_RECORDS: usize = 4;
/// Records of a byte input read to detect a profile.
pub const SAMPLE_SPANS: usize = 8;

/// Leaf fields: properties and array items that are not objects with properties
/// of their own (those count through their leaves).
/// References count through their target, once per schema.
pub fn field_count(root: &Node, nodes: &[Node]) -> usize {
    fn leaves(node: &Node, nodes: &[Node], seen: &mut Vec<bool>) -> usize {
        let mut n = 0;
        if let Some(logic) = &node.logic {
            for (r, _) in &logic.refs {
                let (Ref::Static(id) | Ref::Dynamic { target: id, .. }) = r;
                if !seen[*id] {
                    seen[*id] = true;
                    n += leaves(&nodes[*id], nodes, seen);
                }
            }
            for sub in &logic.all_of {
                n += leaves(sub, nodes, seen);
            }
            n += logic
                .any_of
                .iter()
                .chain(&logic.one_of)
                .map(|sub| leaves(sub, nodes, seen))
                .max()
                .unwrap_or(0);
        }
        if let Some(o) = &node.object {
            for p in &o.properties {
                n += match &p.node {
                    Some(sub) => leaves(sub, nodes, seen).max(1),
                    None => 1,
                };
            }
            if let Additional::Schema(sub) = &o.additional {
                n += leaves(sub, nodes, seen).max(1);
            }
        }
        if let Some(a) = &node.array {
            for p in &a.prefix_items {
                n += leaves(p, nodes, seen).max(1);
            }
            if let Some(items) = &a.items {
                n += leaves(items, nodes, seen).max(1);
            }
        }
        n
    }
    leaves(root, nodes, &mut vec![false; nodes.len()]).max(1)
}

/// Raw cost of the checks of one node and everything below it, in units of
/// one type check. Weights (why): regex and formats run per character and
/// dominate; `uniqueItems` compares items pairwise; `enum` scans its options;
/// bounds and lengths are a comparison each. The applicators cost what they
/// make the engine do: a reference is a jump to another node (a dynamic one
/// also searches the dynamic scope), and its target is counted once however
/// often it is named; `allOf` runs every branch; `anyOf` and `oneOf` try
/// branches, each try starting a fresh first-failure evaluation (`oneOf`
/// always tries them all), so a branch weighs more than an `allOf` branch;
/// `if` runs its condition and then one of two branches; `unevaluated*`
/// collects which keys or items every applicator evaluated before checking the
/// rest; `propertyNames` and `contains` run per key and per item.
fn node_cost(node: &Node, nodes: &[Node], seen: &mut Vec<bool>) -> f64 {
    let mut cost = 0.0;
    if let Some(logic) = &node.logic {
        for (r, _) in &logic.refs {
            cost += match r {
                Ref::Static(_) => REF_COST,
                Ref::Dynamic { .. } => DYNAMIC_REF_COST,
            };
            let (Ref::Static(id) | Ref::Dynamic { target: id, .. }) = r;
            if !seen[*id] {
                seen[*id] = true;
                cost += node_cost(&nodes[*id], nodes, seen);
            }
        }
        for sub in &logic.all_of {
            cost += 1.0 + node_cost(sub, nodes, seen);
        }
        for sub in logic.any_of.iter().chain(&logic.one_of) {
            cost += BRANCH_COST + node_cost(sub, nodes, seen);
        }
        for sub in logic.not.iter() {
            cost += 1.0 + node_cost(sub, nodes, seen);
        }
        if let Some(cond) = &logic.cond {
            let (cond, then, otherwise) = &**cond;
            let then = then.as_ref().map_or(0.0, |n| node_cost(n, nodes, seen));
            let otherwise = otherwise
                .as_ref()
                .map_or(0.0, |n| node_cost(n, nodes, seen));
            cost += BRANCH_COST + node_cost(cond, nodes, seen) + then.max(otherwise);
        }
        for sub in logic
            .unevaluated_properties
            .iter()
            .chain(&logic.unevaluated_items)
        {
            cost += UNEVALUATED_COST + node_cost(sub, nodes, seen);
        }
    }
    if node.types != 0 {
        cost += 1.0;
    }
    if node.const_value.is_some() {
        cost += 1.0;
    }
    if let Some(values) = &node.enum_values {
        cost += 1.0 + (values.len() as f64).log2().max(0.0);
    }
    if let Some(s) = &node.string {
        cost += 1.0 * (s.min_length.is_some() as u8 + s.max_length.is_some() as u8) as f64;
        if s.pattern.is_some() {
            cost += 8.0;
        }
        if let Some(f) = s.format {
            cost += 2.0 * f.cost();
        }
    }
    if let Some(n) = &node.number {
        let bounds = [
            &n.minimum,
            &n.maximum,
            &n.exclusive_minimum,
            &n.exclusive_maximum,
        ];
        cost += bounds.iter().filter(|b| b.is_some()).count() as f64;
        if n.multiple_of.is_some() {
            cost += 2.0;
        }
    }
    if let Some(a) = &node.array {
        cost += (a.min_items.is_some() as u8 + a.max_items.is_some() as u8) as f64;
        if a.unique_items {
            cost += 6.0;
        }
        cost += a
            .prefix_items
            .iter()
            .map(|n| node_cost(n, nodes, seen))
            .sum::<f64>();
        if let Some(items) = &a.items {
            // Items repeat; assume a handful per record.
            cost += REPEATS * node_cost(items, nodes, seen);
        }
        if let Some(contains) = &a.contains {
            cost += 1.0 + REPEATS * node_cost(contains, nodes, seen);
        }
    }
    if let Some(o) = &node.object {
        cost += o.n_required as f64 * 0.5;
        if !matches!(o.additional, Additional::Allow) {
            cost += 1.0;
        }
        cost += o
            .properties
            .iter()
            .filter_map(|p| p.node.as_ref())
            .map(|n| node_cost(n, nodes, seen))
            .sum::<f64>();
        if let Additional::Schema(sub) = &o.additional {
            cost += node_cost(sub, nodes, seen);
        }
        for (pattern, sub) in &o.patterns {
            let _ = pattern;
            cost += 8.0 + sub.as_ref().map_or(0.0, |n| node_cost(n, nodes, seen));
        }
        if let Some(names) = &o.property_names {
            cost += REPEATS * node_cost(names, nodes, seen);
        }
        cost += o
            .dependent_required
            .iter()
            .map(|(_, names, _)| 0.5 * names.len() as f64)
            .sum::<f64>();
        for (_, sub) in &o.dependent_schemas {
            cost += 1.0 + node_cost(sub, nodes, seen);
        }
    }
    cost
}

/// A reference: one jump to its target.
const REF_COST: f64 = 1.0;
/// A `$dynamicRef`/`$recursiveRef`: the jump plus a search of the dynamic scope.
const DYNAMIC_REF_COST: f64 = 4.0;
/// One branch of `anyOf`/`oneOf`, or an `if`: an evaluation of its own.
const BRANCH_COST: f64 = 2.0;
/// `unevaluatedProperties`/`unevaluatedItems`: the evaluated keys or items of
/// every applicator are collected per value before the rest is checked.
const UNEVALUATED_COST: f64 = 8.0;
/// How many times a per-item or per-key subschema runs in a record (assumed).
const REPEATS: f64 = 4.0;

/// `constraint_complexity` in 0..1: the mean cost per leaf field `c` (see
/// [`node_cost`]) squashed as `c / (c + 4)`. A field with only a type check
/// scores 0.2, one with a regex about 0.7, a format-and-regex field 0.8.
pub fn constraint_complexity(root: &Node, nodes: &[Node]) -> f64 {
    let cost = node_cost(root, nodes, &mut vec![false; nodes.len()]);
    let per_field = cost / field_count(root, nodes) as f64;
    per_field / (per_field + 4.0)
}

/// The most values of one record [`SampleStats::add`] reads.
pub const WALK_BUDGET: usize = 4096;
/// The deepest value of a record [`SampleStats::add`] reads (the record is at 0).
pub const WALK_DEPTH: usize = 32;

/// Accumulates sampled string lengths and estimated serialised sizes.
#[derive(Default, Debug, Clone, Copy)]
pub struct SampleStats {
    pub records: usize,
    pub strings: usize,
    pub string_chars: usize,
    /// Estimated JSON bytes of the sampled records.
    pub bytes: usize,
}

impl SampleStats {
    pub fn avg_string_length(&self) -> f64 {
        if self.strings == 0 {
            0.0
        } else {
            self.string_chars as f64 / self.strings as f64
        }
    }
    pub fn avg_object_size(&self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.bytes as f64 / self.records as f64
        }
    }

    /// Adds one record; walks at most `budget` values of it so that a huge record
    /// cannot make detection slow.
    pub fn add<R: Record>(&mut self, record: &R) {
        self.records += 1;
        let mut budget = WALK_BUDGET;
        self.bytes += self.walk(record, &mut budget, 0);
    }

    /// Returns the estimated serialised size of `value`.
    fn walk<R: Record>(&mut self, value: &R, budget: &mut usize, depth: usize) -> usize {
        if *budget == 0 || depth > WALK_DEPTH {
            return 0;
        }
        *budget -= 1;
        match value.kind() {
            Kind::Null => 4,
            Kind::Bool => 5,
            Kind::Number => match value.as_number() {
                Number::Int(i) => {
                    (i.unsigned_abs().checked_ilog10().unwrap_or(0) + 1 + (i < 0) as u32) as usize
                }
                // Estimated from the size: printing a huge integer is quadratic.
                Number::Big(b) => (b.bits() as f64 * std::f64::consts::LOG10_2) as usize + 2,
                Number::Decimal(d) => d.digits.len() + 8,
                Number::OutOfRange(text) => text.len(),
                Number::Float(_) => 12,
            },
            Kind::String => {
                let s = value.as_str().unwrap_or("");
                self.strings += 1;
                self.string_chars += crate::check::char_count_pub(s);
                s.len() + 2
            }
            Kind::Array => {
                let mut size = 2;
                let _ = value.for_each_item(|_, item| {
                    size += self.walk(item, budget, depth + 1) + 1;
                    if *budget == 0 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                size
            }
            Kind::Object => {
                let mut size = 2;
                let _ = value.for_each_entry(|key, item| {
                    size += match key {
                        EntryKey::Str(k) => k.len() + 4,
                        _ => 8,
                    };
                    size += self.walk(item, budget, depth + 1);
                    if *budget == 0 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                size
            }
            Kind::Unsupported => 8,
        }
    }
}

/// Indexes of `SAMPLE_RECORDS` records spread evenly over `n` (all when fewer).
pub fn sample_indexes(n: usize) -> impl Iterator<Item = usize> {
    spread_indexes(n, SAMPLE_RECORDS)
}

/// Indexes of `k` records spread evenly over `n` (all when fewer).
pub fn spread_indexes(n: usize, k: usize) -> impl Iterator<Item = usize> {
    let k = n.min(k);
    (0..k).map(move |i| if k <= 1 { 0 } else { i * (n - 1) / (k - 1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn schema(text: &str) -> Schema {
        Schema::from_json_text(text).unwrap()
    }

    #[test]
    fn field_count_counts_leaves() {
        let s = schema(
            r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"object","properties":{"c":{"type":"integer"},"d":{}}},"e":{"type":"array","items":{"type":"integer"}}},"required":["d2"]}"#,
        );
        // a, b.c, e (items count as the array's leaf), d2; `d` is trivial and dropped.
        assert_eq!(s.field_count, 4);
    }

    #[test]
    fn complexity_orders_schemas() {
        let plain = schema(
            r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"#,
        );
        let bounds = schema(
            r#"{"type":"object","properties":{"a":{"type":"string","maxLength":5},"b":{"type":"integer","minimum":0,"maximum":9}}}"#,
        );
        let regex = schema(
            r#"{"type":"object","properties":{"a":{"type":"string","pattern":"^a+$"},"b":{"type":"string","format":"email"}}}"#,
        );
        assert!(plain.constraint_complexity < bounds.constraint_complexity);
        assert!(bounds.constraint_complexity < regex.constraint_complexity);
        assert!(regex.constraint_complexity < 1.0);
    }

    /// Two fields (a string and an integer) written with each applicator: every one
    /// costs more than the plain schema, in the order of the work it makes.
    #[test]
    fn applicators_raise_complexity() {
        let c = |text: &str| schema(text).constraint_complexity;
        let plain =
            c(r##"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"##);
        let reference = c(
            r##"{"$defs":{"s":{"type":"string"}},"type":"object","properties":{"a":{"$ref":"#/$defs/s"},"b":{"type":"integer"}}}"##,
        );
        let any_of = c(
            r##"{"type":"object","properties":{"a":{"anyOf":[{"type":"string"},{"type":"null"}]},"b":{"type":"integer"}}}"##,
        );
        let one_of = c(
            r##"{"type":"object","properties":{"a":{"oneOf":[{"type":"string"},{"type":"null"},{"type":"array"}]},"b":{"type":"integer"}}}"##,
        );
        let unevaluated = c(
            r##"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"unevaluatedProperties":false}"##,
        );
        let dynamic = c(
            r##"{"$dynamicAnchor":"n","type":"object","properties":{"a":{"type":"string"},"b":{"$dynamicRef":"#n"}}}"##,
        );
        let cond = c(
            r##"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"if":{"required":["a"]},"then":{"required":["b"]}}"##,
        );
        assert_eq!(format!("{plain:.4}"), "0.2727");
        assert_eq!(format!("{reference:.4}"), "0.3333");
        assert_eq!(format!("{any_of:.4}"), "0.5000");
        assert_eq!(format!("{one_of:.4}"), "0.5789");
        assert_eq!(format!("{unevaluated:.4}"), "0.5789");
        assert_eq!(format!("{dynamic:.4}"), "0.5000");
        assert_eq!(format!("{cond:.4}"), "0.4286");
        for (name, value) in [
            ("reference", reference),
            ("anyOf", any_of),
            ("oneOf", one_of),
            ("unevaluatedProperties", unevaluated),
            ("$dynamicRef", dynamic),
            ("if", cond),
        ] {
            assert!(value > plain, "{name}: {value} <= {plain}");
        }
        assert!(
            reference < any_of && any_of < one_of,
            "more branches tried cost more"
        );
    }

    #[test]
    fn sample_indexes_spread() {
        assert_eq!(sample_indexes(3).collect::<Vec<_>>(), vec![0, 1, 2]);
        let idx: Vec<_> = sample_indexes(1000).collect();
        assert_eq!(idx.len(), SAMPLE_RECORDS);
        assert_eq!(sample_indexes(2).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(idx[0], 0);
        assert_eq!(*idx.last().unwrap(), 999);
        assert_eq!(sample_indexes(0).count(), 0);
    }
}
