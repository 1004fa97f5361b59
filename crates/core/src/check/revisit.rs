//! A node reached again at the same value: its verdict remembered, not walked again.
//!
//! A definition named by two references or more can be reached at one value along
//! many paths: `allOf`s of 12 references to the next definition, nested 7 deep, reach
//! the last one 12^7 times (each level multiplies the time of a record by 12), and a
//! schema can be written so that each descent into the value multiplies the paths
//! again. Compiling marks the definitions that two paths can reach at one value
//! ([`Node::revisited`], see `crate::sharing`). A record's walk counts its visits of
//! them through references; past [`COUNTED`] of them it starts to remember each one's
//! verdict by the node and the value (see [`Visit`]), so that the walk is linear in the
//! schema and the record. A walk that finds little to reuse (a long record of many
//! items that each reach a shared definition once) stops remembering and counts
//! again, twice as long.
//!
//! With dynamic references a verdict also depends on the dynamic scope: remembered
//! with the part of it that their resolution reads (see [`Memory::scope_id`]). Not
//! remembered: values with no identity. The walk that collects what `unevaluated*`
//! needs takes a shared node's annotations once per value instead (`logic::annotate`);
//! the walk that checks JSON text as it reads it leaves a record it would read too
//! often to this one (see `fused::REREAD_BYTES`).
//!
//! What a verdict lets a walk skip, by sink: one that keeps only a verdict skips a
//! remembered pass or fails at a remembered failure at once; one that keeps the first
//! failure (an `anyOf`/`oneOf` explaining its branches) takes the remembered first
//! failure of the node at the value and the same path; [`super::Collect`] skips a
//! failure it has already walked at the same path (its errors are in its list), and,
//! once the record has [`LISTED`] failures or lists no more errors (`max_errors`),
//! counts a remembered failure at another path (a value held twice) with the errors of
//! its first walk, among the errors omitted, instead of walking it again.
//!
//! A value can be reached along many paths too: a Python record may hold one container
//! twice, at each of 60 levels (2**60 paths to its innermost dict), under any schema
//! that descends that deep (a recursive definition, definitions one after another,
//! `items` nested in `items`). Where a record's values may be shared
//! ([`Record::MAY_SHARE`]), the visits of its containers below the root are counted
//! too, by their entries (a list holding one list 300 times, three deep, is 27 million
//! paths before it is many visits), apart from those of shared nodes, and remembered
//! as theirs are: such a record is walked once per container and node, not once per
//! path: its first [`LISTED`] errors are listed, the rest counted (2**61 of them,
//! exactly, for a record that fails at each of 2**60 paths twice).

use std::cell::{Cell, OnceCell, RefCell};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use rustc_hash::FxHashMap;

use super::{skip_refs, visit_kind, Cx, Scope, Sink};
use crate::error::Path;
use crate::schema::{Node, Schema};
use crate::value::Record;

/// Visits of shared nodes a record makes before its walk starts remembering them.
/// A real record makes tens to a few thousand (an item per visit of a shared
/// definition); the fan-outs that need remembering make millions.
const COUNTED: u32 = 4096;

/// [`COUNTED`] for the entries of the containers of a record whose values may be
/// shared ([`Record::MAY_SHARE`]): a record that holds its containers twice at each
/// level doubles its walk per level, so waiting longer costs it little, and a large
/// tree-shaped record (the usual case, with nothing to reuse) remembered 10% of its
/// visits at 4096 (10,000 nodes: 11% slower), under 2% here.
const COUNTED_VALUES: u32 = 1 << 16;

/// A record's failures found before a failure remembered at another path (a value
/// held twice) is counted instead of walked again: below it, its errors are listed at
/// each path, as the record's copy would list them; past it, a record holding one
/// container twice at each of 60 levels would list 2**60.
pub(crate) const LISTED: usize = 1 << 16;

/// Lookups judged at a time while remembering: the walk keeps remembering while at
/// least one in [`REUSED`] of them found a verdict.
const WINDOW: u32 = 1024;
const REUSED: u32 = 8;

/// For tests: schemas compiled while it is set share every node a reference names,
/// and walks remember every visit of them from the first (and never stop). Verdicts
/// and errors must be the same as without.
static EVERY_VISIT: AtomicBool = AtomicBool::new(false);

/// Sets [`EVERY_VISIT`] (for tests; it applies to schemas compiled afterwards).
pub fn remember_every_visit(on: bool) {
    EVERY_VISIT.store(on, Ordering::Relaxed);
}

pub(crate) fn every_visit() -> bool {
    EVERY_VISIT.load(Ordering::Relaxed)
}

/// A visit, as remembered: the node, the value's identity (see
/// [`Record::identity`]), its depth, the references followed in place to it
/// where a chain of them may reach [`super::MAX_HOPS`] (the walk fails there: see
/// [`Schema::hops_matter`]), and, for a schema with dynamic references, the part of
/// the dynamic scope they read (see [`Memory::scope_id`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Visit {
    node: usize,
    value: (usize, usize),
    depth: usize,
    hops: u32,
    scope: usize,
}

/// One record's visits of shared nodes (those [`Node::revisited`] marks) and, where
/// its values may be shared, of its containers: counters on the stack of each walk,
/// the rest made when a count first runs out (most records never get there).
pub struct Revisits {
    /// Visits of shared nodes left to count before the walk starts remembering; 0
    /// while it does.
    left: Cell<u32>,
    /// The same for visits of containers of a record whose values may be shared
    /// ([`Record::MAY_SHARE`]), counted apart, from [`COUNTED_VALUES`]: a large
    /// tree-shaped record makes many, and counted with the others it would start
    /// remembering at [`COUNTED`].
    values_left: Cell<u32>,
    /// The count [`Revisits::counting`] started with.
    count: u32,
    memory: OnceCell<Box<Memory>>,
    /// Where the walk met a chain of more than [`super::MAX_HOPS`] references in place
    /// (see [`Looped`]).
    looped: OnceCell<Box<Looped>>,
}

/// A chain of more than [`super::MAX_HOPS`] references followed in place, met at run
/// time: a dynamic reference that resolves back to a schema it started from, in a
/// schema too large for compiling to follow every walk with its scope (see
/// `Schema::may_loop`). By the spec such a walk never ends, so the record fails there,
/// whatever branch met it: read as the failure of a branch, it made a `not` pass, and
/// each of the 256 steps of the chain walked the value below again (256 times more work
/// per level of the record: a record 3 levels deep never finished).
pub(crate) struct Looped {
    /// The value's path, as a pointer.
    pub(crate) pointer: String,
    /// The keyword of the reference that went past the limit, and its node's location.
    pub(crate) keyword: &'static str,
    pub(crate) location: String,
}

/// What a walk remembers, and how well remembering pays.
struct Memory {
    /// The next count, doubled each time remembering stops.
    next_count: Cell<u32>,
    remembering: Cell<bool>,
    /// Remembers however little it finds (see [`EVERY_VISIT`]).
    always: bool,
    lookups: Cell<u32>,
    found: Cell<u32>,
    /// Whether the node passed at the value.
    verdicts: RefCell<FxHashMap<Visit, bool>>,
    /// The first failures found by sinks that keep only that, by the visit and its
    /// path as a pointer (one Python object may lie at two paths).
    firsts: RefCell<FxHashMap<(Visit, String), First>>,
    /// The failures a collecting sink counted in the failed walk of each visit, and of
    /// them its errors (the walks it skipped as repeats left out): what the visit
    /// counts, unwalked, at another path (a Python container held twice at each of 60
    /// levels fails at 2**60 paths).
    failures: RefCell<FxHashMap<Visit, (usize, usize)>>,
    /// The parts of dynamic scopes met (see [`Memory::scope_id`]), numbered from 1.
    scopes: RefCell<FxHashMap<Vec<u32>, usize>>,
}

/// A node's first failure at a value, as a sink that keeps only that found it.
#[derive(Clone)]
pub struct First {
    pub message: String,
    /// How deep it lies (segments of its path).
    pub segments: usize,
    /// Its path as a pointer; `None` when it lies at the visited value.
    pub pointer: Option<String>,
}

impl Revisits {
    /// The revisits of a record of type `R`, for a schema that has shared nodes, or
    /// any where `R`'s values may be shared.
    #[inline]
    pub fn of<R: Record>(schema: &Schema) -> Option<Revisits> {
        // A schema whose walks may loop needs them for [`Looped`].
        if !(schema.revisits || R::MAY_SHARE || schema.may_loop) {
            return None;
        }
        Some(if schema.remembers_every_visit {
            Revisits::counting(0, true)
        } else if schema.revisits && !schema.dynamic {
            Revisits::counting(COUNTED, false)
        } else {
            // With dynamic references a lookup also reads the dynamic scope (see
            // `Memory::scope_id`): remembering from COUNTED, 400 SchemaStore schemas
            // checked against the 2020-12 meta-schema took 5.4% more instructions than
            // when such schemas remembered nothing; from here, 2.6%.
            Revisits::counting(COUNTED_VALUES, false)
        })
    }

    /// Revisits that start remembering after `count` visits (0: at once), and stop
    /// when it finds little unless `always`.
    #[inline]
    pub(crate) fn counting(count: u32, always: bool) -> Revisits {
        let revisits = Revisits {
            left: Cell::new(count),
            values_left: Cell::new(if always { 0 } else { COUNTED_VALUES }),
            count,
            memory: OnceCell::new(),
            looped: OnceCell::new(),
        };
        if always {
            let _ = revisits.memory.set(Box::new(Memory::new(count, true)));
        }
        revisits
    }

    /// Notes the first [`Looped`] chain of the walk.
    #[cold]
    pub(crate) fn loop_met(&self, path: &Path<'_>, keyword: &'static str, location: &str) {
        let _ = self.looped.get_or_init(|| {
            let mut pointer = String::new();
            path.write_pointer(&mut pointer);
            Box::new(Looped {
                pointer,
                keyword,
                location: location.to_string(),
            })
        });
    }

    /// The walk's [`Looped`] chain, once it met one: the walk stops.
    #[inline]
    pub(crate) fn looped(&self) -> Option<&Looped> {
        self.looped.get().map(|l| &**l)
    }

    /// Counts a visit of a shared node: whether it goes through [`remembered`].
    #[inline(always)]
    pub fn tick(&self) -> bool {
        let left = self.left.get();
        if left == 0 {
            return true;
        }
        self.left.set(left - 1);
        false
    }

    /// [`Revisits::tick`] for a visit of a container of `entries` entries of a record
    /// whose values may be shared (see `check::visit`), counted as one visit
    /// per entry and one for the container.
    #[inline(always)]
    pub fn tick_value(&self, entries: usize) -> bool {
        let left = self.values_left.get();
        if left == 0 {
            return true;
        }
        let visits = u32::try_from(entries).unwrap_or(u32::MAX).saturating_add(1);
        self.values_left.set(left.saturating_sub(visits));
        false
    }

    fn memory(&self) -> &Memory {
        self.memory
            .get_or_init(|| Box::new(Memory::new(self.count, false)))
    }
}

impl Memory {
    fn new(count: u32, always: bool) -> Memory {
        Memory {
            next_count: Cell::new(count.max(1).saturating_mul(2)),
            remembering: Cell::new(false),
            always,
            lookups: Cell::new(0),
            found: Cell::new(0),
            verdicts: RefCell::default(),
            firsts: RefCell::default(),
            failures: RefCell::default(),
            scopes: RefCell::default(),
        }
    }

    /// The part of the dynamic scope of `cx` that a verdict depends on
    /// ([`Scope::part`]), numbered.
    fn scope_id(&self, cx: &Cx<'_, '_>) -> usize {
        let part = Scope::part(cx.scope, cx.schema);
        let mut scopes = self.scopes.borrow_mut();
        let next = scopes.len() + 1;
        *scopes.entry(part).or_insert(next)
    }

    /// The verdict of `visit` if it is known; counts the lookup, and decides at the end
    /// of each window whether remembering pays. `None` also when the count has just
    /// run out (remembering starts).
    fn look_up(&self, visit: &Visit, revisits: &Revisits) -> Option<bool> {
        if !self.remembering.get() {
            self.remembering.set(true);
            return None;
        }
        let known = self.verdicts.borrow().get(visit).copied();
        let lookups = self.lookups.get() + 1;
        let found = self.found.get() + u32::from(known.is_some());
        if lookups < WINDOW {
            self.lookups.set(lookups);
            self.found.set(found);
        } else if found * REUSED >= lookups || self.always {
            self.lookups.set(0);
            self.found.set(0);
        } else {
            self.stop(revisits);
        }
        known
    }

    /// Forgets and counts again, twice as long as last time.
    #[cold]
    fn stop(&self, revisits: &Revisits) {
        self.remembering.set(false);
        self.lookups.set(0);
        self.found.set(0);
        self.verdicts.borrow_mut().clear();
        self.firsts.borrow_mut().clear();
        self.failures.borrow_mut().clear();
        let count = self.next_count.get();
        revisits.left.set(count);
        revisits.values_left.set(count.max(COUNTED_VALUES));
        self.next_count.set(count.saturating_mul(2));
    }

    fn remember(&self, visit: Visit, passed: bool) {
        self.verdicts.borrow_mut().insert(visit, passed);
    }
}

/// The checks of shared `node` on `value`, the target of a reference (reached when
/// [`Revisits::tick`] says so): a remembered verdict when there is one, otherwise the
/// walk, remembered.
#[cold]
#[inline(never)]
pub(super) fn remembered<'s, R: Record, S: Sink<'s>>(
    revisits: &Revisits,
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    // The target of a reference may be a reference itself: the end of the chain is
    // what is remembered.
    let (node, cx, _) = skip_refs(node, cx);
    if node.trivial {
        return ControlFlow::Continue(());
    }
    let Some(identity) = value.identity() else {
        return visit_kind(node, value, value.kind(), path, depth, cx, sink);
    };
    let memory = revisits.memory();
    let at = Visit {
        node: node as *const Node as usize,
        value: identity,
        depth,
        hops: if cx.schema.hops_matter { cx.hops } else { 0 },
        scope: if cx.schema.dynamic {
            memory.scope_id(&cx)
        } else {
            0
        },
    };
    match memory.look_up(&at, revisits) {
        Some(true) => return ControlFlow::Continue(()),
        Some(false) if S::VERDICT_ONLY => {
            return sink.fail(path, "$ref", String::new);
        }
        Some(false) if S::FIRST_ONLY => {
            let first = memory
                .firsts
                .borrow()
                .get(&(at, path.to_pointer()))
                .cloned();
            if let Some(first) = first {
                return sink.fail_first(&first, path);
            }
        }
        Some(false) if sink.walked(&at, path) => {
            sink.fail_again();
            return ControlFlow::Continue(());
        }
        Some(false) if sink.failures() >= LISTED || sink.full() => {
            // Failed at another path: the value is held twice (see the module's doc).
            // A sink that lists no more errors would only count those of a walk again,
            // and each walk would keep its path (see `Sink::mark_walked`).
            let counted = memory.failures.borrow().get(&at).copied();
            if let Some((failures, errors)) = counted {
                sink.count_failures(failures, errors);
                // A repeat here is then skipped, as after a walk.
                sink.mark_walked(at, path);
                return ControlFlow::Continue(());
            }
        }
        _ => {}
    }
    let (before, skipped_before) = (sink.failures(), sink.skipped());
    let flow = visit_kind(node, value, value.kind(), path, depth, cx, sink);
    if !memory.remembering.get() {
        return flow; // it stopped remembering during the walk
    }
    match flow {
        // Only a sink that stops at its first failure breaks.
        ControlFlow::Break(()) if S::VERDICT_ONLY => memory.remember(at, false),
        ControlFlow::Break(()) if S::FIRST_ONLY => {
            memory.remember(at, false);
            if let Some(first) = sink.first() {
                let mut firsts = memory.firsts.borrow_mut();
                firsts.insert((at, path.to_pointer()), first);
            }
        }
        ControlFlow::Break(()) => {}
        ControlFlow::Continue(()) => {
            let failures = sink.failures() - before;
            memory.remember(at, failures == 0);
            if failures > 0 {
                sink.mark_walked(at, path);
                let errors = failures.saturating_sub(sink.skipped() - skipped_before);
                memory.failures.borrow_mut().insert(at, (failures, errors));
            }
        }
    }
    flow
}

#[cfg(test)]
mod tests {
    use super::{Revisits, COUNTED};
    use crate::check::counted::{Counted, Counts};
    use crate::check::{check, Collect, Cx, FirstFailure, Scope};
    use crate::error::{Path, RecordError};
    use crate::json::parse_value;
    use crate::schema::Schema;
    use crate::value::MAX_DEPTH;

    /// Definitions `L0`..`L{levels}`, each but the last `{keyword: [width x {"$ref": next}]}`
    /// (`wrap` puts each reference in a subschema), the last `last`.
    fn nested(keyword: &str, width: usize, levels: usize, wrap: &str, last: &str) -> Schema {
        let mut defs = Vec::new();
        for i in 0..levels {
            let one = wrap.replace("REF", &format!(r##"{{"$ref": "#/$defs/L{}"}}"##, i + 1));
            let branches = vec![one; width].join(", ");
            defs.push(format!(r#""L{i}": {{"{keyword}": [{branches}]}}"#));
        }
        defs.push(format!(r#""L{levels}": {last}"#));
        Schema::from_json_text(&format!(
            r##"{{"$defs": {{{}}}, "$ref": "#/$defs/L0"}}"##,
            defs.join(", ")
        ))
        .unwrap()
    }

    const FIELD: &str = r#"{"type": "object", "properties": {"a": {"type": "integer"}}}"#;

    type Errors = Vec<(String, &'static str, String, String)>;

    /// The verdict, the errors and the values looked at for `record`, each walk
    /// remembering after `count` visits of shared nodes (`None`: never).
    fn run(schema: &Schema, record: &str, count: Option<u32>) -> (bool, Errors, usize) {
        let json = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
        let counts = Counts::default();
        let record = Counted {
            json: &json,
            counts: &counts,
        };
        let revisits = count.map(|n| Revisits::counting(n, false));
        let root = revisits.as_ref().map(Scope::root);
        let mut first = FirstFailure::default();
        let cx = Cx::new(schema, root.as_ref());
        let _ = check(&schema.root, &record, &Path::Root, 0, cx, &mut first);
        let revisits = count.map(|n| Revisits::counting(n, false));
        let root = revisits.as_ref().map(Scope::root);
        let mut errors: Vec<RecordError> = Vec::new();
        let mut sink = Collect::new(0, &mut errors);
        let cx = Cx::new(schema, root.as_ref());
        let _ = check(&schema.root, &record, &Path::Root, 0, cx, &mut sink);
        let errors = errors
            .iter()
            .map(|e| {
                let (path, message) = (e.path().to_string(), e.message().to_string());
                (path, e.keyword, message, e.schema_path().to_string())
            })
            .collect();
        (!first.failed, errors, counts.reads.get())
    }

    /// The same verdicts and errors remembering from the first visit, after the usual
    /// count, and never.
    fn same_outcomes(schema: &Schema, records: &[&str]) {
        for record in records {
            let never = run(schema, record, None);
            for count in [0, 1, COUNTED] {
                let (valid, errors, _) = run(schema, record, Some(count));
                assert_eq!((valid, &errors), (never.0, &never.1), "{record}, {count}");
            }
        }
    }

    #[test]
    fn remembered_verdicts_give_the_outcomes_of_every_walk() {
        let records = [r#"{"a": 1}"#, r#"{"a": "x"}"#, r#"{"b": [1]}"#, "[1, 2]"];
        let wraps = ["REF", r#"{"allOf": [REF]}"#, r#"{"not": {"not": REF}}"#];
        for keyword in ["allOf", "anyOf", "oneOf"] {
            for wrap in wraps {
                for last in [FIELD, r#"{"required": ["a"]}"#, "false"] {
                    same_outcomes(&nested(keyword, 3, 4, wrap, last), &records);
                }
            }
        }
        // Each descent multiplies the paths to the next definition.
        let deep = r#"{"x": {"x": {"x": {"x": {"a": "x"}}}}}"#;
        let shallow = r#"{"x": {"x": 1}}"#;
        for keyword in ["allOf", "anyOf", "oneOf"] {
            let wrap = r#"{"properties": {"x": REF}}"#;
            same_outcomes(&nested(keyword, 3, 4, wrap, FIELD), &[deep, shallow]);
        }
        // Mixed: unions of `allOf`s, `if` conditions.
        let mixed = nested(
            "anyOf",
            3,
            4,
            r#"{"allOf": [REF, REF], "if": REF, "then": REF}"#,
            FIELD,
        );
        same_outcomes(&mixed, &[r#"{"a": 1}"#, r#"{"a": "x"}"#]);
        // A walk skipped as already reported still fails the nodes above it: `B` fails
        // (through `A`), so `not` passes.
        let skipped = Schema::from_json_text(
            r##"{"$defs": {"A": {"type": "integer"}, "B": {"allOf": [{"$ref": "#/$defs/A"}]}},
                "allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}, {"not": {"$ref": "#/$defs/B"}}]}"##,
        )
        .unwrap();
        same_outcomes(&skipped, &[r#""x""#, "1"]);
        // A branch's first failure found by one union's explanation and taken by another
        // explaining a value above it (it then says where the failure lies), both ways.
        for (inner, outer) in [("properties", "anyOf"), ("anyOf", "properties")] {
            let union = r##"{"anyOf": [{"$ref": "#/$defs/S"}, {"type": "null"}]}"##;
            let branch = r##"{"properties": {"x": {"$ref": "#/$defs/S"}}}"##;
            let text = format!(
                r##"{{"$defs": {{"S": {{"type": "integer"}}}},
                    "{inner}": {}, "{outer}": {}}}"##,
                if inner == "properties" {
                    format!(r#"{{"x": {union}}}"#)
                } else {
                    format!(r#"[{branch}, {{"required": ["z"]}}]"#)
                },
                if outer == "properties" {
                    format!(r#"{{"x": {union}}}"#)
                } else {
                    format!(r#"[{branch}, {{"required": ["z"]}}]"#)
                },
            );
            let schema = Schema::from_json_text(&text).unwrap();
            same_outcomes(&schema, &[r#"{"x": "s"}"#, r#"{"x": 1}"#]);
        }
    }

    #[test]
    fn a_definition_reached_along_many_paths_costs_one_walk_per_value() {
        // 12 references nested 7 deep: 35 million paths to the last definition.
        let wraps = ["REF", r#"{"properties": {"x": REF}, "required": ["x"]}"#];
        for (wrap, valid, invalid) in [
            (wraps[0], r#"{"a": 1}"#, r#"{"a": "x"}"#),
            (
                wraps[1],
                r#"{"x":{"x":{"x":{"x":{"x":{"x":{"x":{"a":1}}}}}}}}"#,
                r#"{"x":{"x":{"x":{"x":{"x":{"x":{"x":{"a":"x"}}}}}}}}"#,
            ),
        ] {
            for keyword in ["allOf", "anyOf"] {
                let schema = nested(keyword, 12, 7, wrap, FIELD);
                let (ok, errors, reads) = run(&schema, valid, Some(COUNTED));
                assert!(ok && errors.is_empty(), "{keyword} {wrap}");
                assert!(reads < 50_000, "{keyword} {wrap}: {reads} values looked at");
                let (ok, errors, reads) = run(&schema, invalid, Some(COUNTED));
                assert!(!ok, "{keyword} {wrap}");
                assert!(reads < 50_000, "{keyword} {wrap}: {reads} values looked at");
                if keyword == "allOf" {
                    // One error, found once.
                    assert_eq!(errors.len(), 1, "{errors:?}");
                    assert_eq!(errors[0].1, "type");
                } else {
                    assert_eq!(errors.len(), 1, "{errors:?}");
                    assert_eq!(errors[0].1, "anyOf");
                }
            }
        }
    }

    #[test]
    fn what_a_shared_node_evaluates_is_collected_once_per_value() {
        // `unevaluatedProperties` collects the properties the in-place subschemas
        // evaluate: through 12 references nested 7 deep, each definition once.
        let unevaluated = |width: usize, levels: usize| {
            let defs: Vec<String> = (0..levels)
                .map(|i| {
                    let one = format!(r##"{{"$ref": "#/$defs/L{}"}}"##, i + 1);
                    format!(r#""L{i}": {{"allOf": [{}]}}"#, vec![one; width].join(", "))
                })
                .collect();
            Schema::from_json_text(&format!(
                r##"{{"$defs": {{{}, "L{levels}": {FIELD}}}, "$ref": "#/$defs/L0",
                    "unevaluatedProperties": false}}"##,
                defs.join(", ")
            ))
            .unwrap()
        };
        let records = [
            r#"{"a": 1}"#,
            r#"{"a": 1, "b": 2}"#,
            r#"{"a": "x", "b": 2}"#,
        ];
        same_outcomes(&unevaluated(3, 4), &records);
        let schema = unevaluated(12, 7);
        for (record, valid) in [(records[0], true), (records[1], false)] {
            let (ok, errors, reads) = run(&schema, record, Some(COUNTED));
            assert_eq!(ok, valid, "{record}");
            assert_eq!(errors.len(), usize::from(!valid), "{errors:?}");
            assert!(reads < 50_000, "{record}: {reads} values looked at");
        }
    }

    #[test]
    fn a_walk_that_finds_little_to_reuse_stops_remembering() {
        // A shared item definition reached once per item: nothing to reuse (`one` may
        // reach it twice, through its name and a pattern: it is remembered).
        let schema = Schema::from_json_text(
            r##"{"$defs": {"item": {"properties": {"n": {"type": "integer"}}, "required": ["n"]}},
                "properties": {"items": {"items": {"$ref": "#/$defs/item"}},
                               "one": {"$ref": "#/$defs/item"}},
                "patternProperties": {"^one$": {"$ref": "#/$defs/item"}}}"##,
        )
        .unwrap();
        assert!(schema.revisits);
        let items: Vec<String> = (0..3 * COUNTED as usize)
            .map(|i| match i % 1000 {
                7 => r#"{"n": "x"}"#.to_string(),
                8 => "{}".to_string(),
                _ => format!(r#"{{"n": {i}}}"#),
            })
            .collect();
        let record = format!(r#"{{"items": [{}], "one": {{}}}}"#, items.join(", "));
        let valid_items: Vec<String> = (0..3 * COUNTED)
            .map(|i| format!(r#"{{"n": {i}}}"#))
            .collect();
        // Every item walked (the failure comes last).
        let walked = format!(r#"{{"items": [{}], "one": {{}}}}"#, valid_items.join(", "));
        let revisits = Revisits::counting(COUNTED, false);
        let json = parse_value(walked.as_bytes(), MAX_DEPTH).unwrap();
        let mut sink = FirstFailure::default();
        let root = Scope::root(&revisits);
        let cx = Cx::new(&schema, Some(&root));
        let _ = check(&schema.root, &&json, &Path::Root, 0, cx, &mut sink);
        assert!(sink.failed);
        // It started remembering, found nothing, and counts again for longer.
        let memory = revisits.memory.get().unwrap();
        assert!(!memory.remembering.get());
        assert!(memory.verdicts.borrow().is_empty());
        assert_eq!(memory.next_count.get(), 4 * COUNTED);
        let never = run(&schema, &record, None);
        let bad = (0..3 * COUNTED)
            .filter(|i| matches!(i % 1000, 7 | 8))
            .count();
        assert_eq!(never.1.len(), bad + 1);
        assert_eq!(run(&schema, &record, Some(COUNTED)).1, never.1);
    }

    #[test]
    fn a_property_name_is_not_taken_for_the_next_one() {
        // Property names are checked as strings made one after another in one place:
        // the same address, not the same value.
        let schema = Schema::from_json_text(
            r##"{"$defs": {"short": {"maxLength": 2}},
                "propertyNames": {"$ref": "#/$defs/short"},
                "properties": {"ab": {"$ref": "#/$defs/short"}}}"##,
        )
        .unwrap();
        let (valid, errors, _) = run(&schema, r#"{"ab": "x", "abc": "y", "a": "z"}"#, Some(0));
        assert!(!valid);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].1, "propertyNames");
    }
}
