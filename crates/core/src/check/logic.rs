//! $ref, $dynamicRef, $recursiveRef, allOf, anyOf, oneOf, not, if/then/else,
//! unevaluatedProperties, unevaluatedItems: the keywords that apply other
//! schemas to the same value.
//!
//! `unevaluated*` need to know what the other keywords evaluated (their
//! annotations): [`annotate`] collects the property names and item indexes
//! that the node's siblings and in-place subschemas evaluate, on this slower
//! path only.
//!
//! Their compiled form ([`Logic`], [`Ref`], [`Annotations`]) and [`compile`]
//! follow the checks; the compiler resolves the references themselves.

use std::collections::HashSet;
use std::fmt::Write;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::names::Names;
use super::{
    check as check_node, check_target, equal, shorten, valid_in, Cx, First, Scope, Sink, MAX_HOPS,
};
use crate::error::{push_index, Path};
use crate::pattern::Pattern;
use crate::schema::{
    compile_pattern, err, escape_pointer, json_type, Draft, Node, NodeId, Schema, SchemaError,
    Subschemas,
};
use crate::text::same_text;
use crate::value::{EntryKey, Json, Kind, Record, MAX_DEPTH};
use rustc_hash::FxHashMap;

/// Branches an `anyOf`/`oneOf` message explains.
const EXPLAINED_BRANCHES: usize = 4;

/// The node a reference points to in context `cx`.
fn target(r: &Ref, cx: Cx<'_, '_>) -> NodeId {
    match r {
        Ref::Static(id) => *id,
        Ref::Dynamic { target, anchor } => {
            // The outermost resource of the dynamic scope that declares the anchor.
            let mut found = None;
            let mut at = cx.scope;
            while let Some(scope) = at {
                if let Some(&id) = scope
                    .resource()
                    .and_then(|r| cx.schema.resources[r].dynamic_anchors.get(anchor.as_ref()))
                {
                    found = Some(id);
                }
                at = scope.parent;
            }
            found.unwrap_or(*target)
        }
    }
}

pub(super) fn check<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    logic: &'s Logic,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if cx.schema.may_loop && cx.revisits().is_some_and(|r| r.looped().is_some()) {
        return ControlFlow::Break(()); // the record fails where it looped
    }
    // Where a walk nests deepest: references and combinators in place.
    let (cx, low) = cx.nested();
    if let Some(outer) = low {
        return crate::stack::on_new_segment(|| {
            check(node, logic, value, path, depth, outer, sink)
        });
    }
    for (r, keyword) in &logic.refs {
        if cx.hops >= MAX_HOPS {
            if let Some(revisits) = cx.revisits() {
                revisits.loop_met(path, keyword, &node.location);
                return ControlFlow::Break(());
            }
            sink.fail(path, keyword, super::too_many_hops)?;
            continue;
        }
        let next = Cx {
            hops: cx.hops + 1,
            ..cx
        };
        check_target(
            &cx.schema.nodes[target(r, cx)],
            value,
            path,
            depth,
            next,
            sink,
        )?;
    }
    // A string that none of the patterns of an `allOf` of `not`/`pattern` matches passes
    // every branch: one search instead of a walk of each (venvironment's 48 reserved words).
    let none_match = logic.all_of_patterns.as_ref().is_some_and(|any| {
        value.kind() == Kind::String && value.as_str().is_some_and(|s| !any.is_match(s))
    });
    if !none_match && !logic.all_of.is_empty() {
        match &logic.all_of_probes {
            Some(probes) if value.kind() == Kind::Object && depth < MAX_DEPTH => {
                probes.check(&logic.all_of, value, path, depth, cx, sink)?;
            }
            _ => {
                for branch in &logic.all_of {
                    check_node(branch, value, path, depth, cx, sink)?;
                }
            }
        }
    }
    if !logic.any_of.is_empty() {
        if S::FIRST_ONLY {
            let walked = Branches::walk(
                &logic.any_of,
                &logic.any_of_tags,
                value,
                path,
                depth,
                cx,
                1,
                false,
            );
            if walked.n_matched == 0 {
                any_of_unmatched(Some(walked), logic, value, path, depth, cx, sink)?;
            }
        } else if let Some(names) = logic
            .any_of_names
            .as_ref()
            .filter(|_| value.kind() == Kind::Object)
        {
            // Branches that only require names: decided by the names the object holds
            // (untagged: no branch would have been picked alone). Explained as below.
            any_by_names(names, logic, value, path, depth, cx, sink)?;
        } else {
            let tags = logic
                .any_of_tags
                .get_or_init(|| Tags::of(cx.schema, &logic.any_of));
            let tag = tags.read(value);
            let text = tag.as_ref().and_then(Tags::text);
            let absent = tags.absent(value, tag.as_ref());
            let walked = if S::VERDICT_ONLY {
                None
            } else {
                let read = (tag.as_ref(), text, absent);
                Branches::at_most_one(&logic.any_of, tags, read, value, path, depth, cx)
            };
            let failed = match &walked {
                Some(walked) => walked.n_matched == 0,
                None => {
                    let bit = kind_bit(value.kind());
                    !tags
                        .candidates(logic.any_of.len(), tag.is_some(), text, absent)
                        .any(|i| {
                            !tags.wrong_kind(i, bit)
                                && !tags.rejects(i, tag.as_ref(), text, absent, depth)
                                && valid_in(&logic.any_of[i], value, path, depth, cx)
                        })
                }
            };
            if failed {
                any_of_unmatched(walked, logic, value, path, depth, cx, sink)?;
            }
        }
    }
    if let Some(names) = logic
        .one_of_names
        .as_ref()
        .filter(|_| !S::FIRST_ONLY && value.kind() == Kind::Object)
    {
        // Branches that only require names: decided by the names the object holds
        // (untagged: `at_most_one` below would walk them all).
        one_by_names(names, logic, value, path, depth, cx, sink)?;
    } else if !logic.one_of.is_empty() {
        let (matched, n_matched, walked) = if S::FIRST_ONLY {
            let walked = Branches::walk(
                &logic.one_of,
                &logic.one_of_tags,
                value,
                path,
                depth,
                cx,
                2,
                false,
            );
            (walked.matched, walked.n_matched, Some(walked))
        } else {
            // As `anyOf` above, written out again: shared through a function taking the
            // loop as a closure, the verdict walk measured 2-4% slower (typo3, gaspar, dofigen).
            let tags = logic
                .one_of_tags
                .get_or_init(|| Tags::of(cx.schema, &logic.one_of));
            let tag = tags.read(value);
            let text = tag.as_ref().and_then(Tags::text);
            let absent = tags.absent(value, tag.as_ref());
            let walked = if S::VERDICT_ONLY {
                None
            } else {
                let read = (tag.as_ref(), text, absent);
                Branches::at_most_one(&logic.one_of, tags, read, value, path, depth, cx)
            };
            if let Some(walked) = walked {
                (walked.matched, walked.n_matched, Some(walked))
            } else {
                let bit = kind_bit(value.kind());
                // The first two branches that pass (no allocation: this runs per value).
                let mut matched = [usize::MAX; 2];
                let mut n_matched = 0;
                let n = logic.one_of.len();
                for i in tags.candidates(n, tag.is_some(), text, absent) {
                    if !tags.wrong_kind(i, bit)
                        && !tags.rejects(i, tag.as_ref(), text, absent, depth)
                        && valid_in(&logic.one_of[i], value, path, depth, cx)
                    {
                        matched[n_matched] = i;
                        n_matched += 1;
                        if n_matched == 2 {
                            break;
                        }
                    }
                }
                (matched, n_matched, None)
            }
        };
        one_of_outcome(
            &matched[..n_matched],
            walked,
            logic,
            value,
            path,
            depth,
            cx,
            sink,
        )?;
    }
    if let Some(not) = &logic.not {
        if valid_in(not, value, path, depth, cx) {
            sink.fail_with(path, "not", |m| {
                m.push_str("Value is valid against the `not` schema, got ");
                super::push_received(m, value);
            })?;
        }
    }
    if let Some(cond) = &logic.cond {
        let (cond, then, otherwise) = &**cond;
        let holds = match &logic.if_probe {
            Some(probe) => probe.holds(value, depth),
            None => None,
        };
        let branch = if holds.unwrap_or_else(|| valid_in(cond, value, path, depth, cx)) {
            then
        } else {
            otherwise
        };
        if let Some(branch) = branch {
            check_node(branch, value, path, depth, cx, sink)?;
        }
    }
    if logic.unevaluated_properties.is_some() || logic.unevaluated_items.is_some() {
        unevaluated(node, logic, value, path, depth, cx, sink)?;
    }
    ControlFlow::Continue(())
}

/// The failure of a `oneOf` whose passing branches (the first two) are `matched`, if
/// it fails: no branch (explained by `walked`, or a walk made for it), or two.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn one_of_outcome<'s, R: Record, S: Sink<'s>>(
    matched: &[usize],
    walked: Option<Branches>,
    logic: &'s Logic,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    match matched {
        [] => sink.fail_with(path, "oneOf", |m| {
            m.push_str("No branch of `oneOf` matched: ");
            let walked = walked.unwrap_or_else(|| {
                Branches::walk(
                    &logic.one_of,
                    &logic.one_of_tags,
                    value,
                    path,
                    depth,
                    cx,
                    2,
                    true,
                )
            });
            walked.explain(m, &logic.one_of, &logic.one_of_tags, value);
        }),
        [a, b] => sink.fail(path, "oneOf", || {
            format!("More than one branch of `oneOf` matched: {a} and {b}")
        }),
        _ => ControlFlow::Continue(()),
    }
}

/// `oneOf` of branches that only require names (see [`RequiredNames`]), for an object.
/// Out of line, as [`RequiredNames::any`].
#[inline(never)]
fn one_by_names<'s, R: Record, S: Sink<'s>>(
    names: &RequiredNames,
    logic: &'s Logic,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let (matched, n_matched) = names.first_two(value);
    one_of_outcome(
        &matched[..n_matched],
        None,
        logic,
        value,
        path,
        depth,
        cx,
        sink,
    )
}

/// `anyOf` of branches that only require names (see [`RequiredNames`]), for an object.
/// Out of line, as [`RequiredNames::any`].
#[inline(never)]
fn any_by_names<'s, R: Record, S: Sink<'s>>(
    names: &RequiredNames,
    logic: &'s Logic,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if names.any(value) {
        return ControlFlow::Continue(());
    }
    any_of_unmatched(None, logic, value, path, depth, cx, sink)
}

/// The failure of an `anyOf` no branch passed, explained by `walked`, or a walk made
/// for it.
#[inline(always)]
fn any_of_unmatched<'s, R: Record, S: Sink<'s>>(
    walked: Option<Branches>,
    logic: &'s Logic,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    sink.fail_with(path, "anyOf", |m| {
        m.push_str("No branch of `anyOf` matched: ");
        let walked = walked.unwrap_or_else(|| {
            Branches::walk(
                &logic.any_of,
                &logic.any_of_tags,
                value,
                path,
                depth,
                cx,
                1,
                true,
            )
        });
        walked.explain(m, &logic.any_of, &logic.any_of_tags, value);
    })
}

impl Logic {
    /// The branch of `oneOf` that alone can take a value of `kind` (by the branches'
    /// kinds, see [`Tags`]): `Some(None)` when none can, `None` when several can or the
    /// branches give no kinds. A value that branch passes passes the `oneOf`.
    pub(crate) fn one_of_branch_for(&self, schema: &Schema, kind: Kind) -> Option<Option<usize>> {
        let tags = self
            .one_of_tags
            .get_or_init(|| Tags::of(schema, &self.one_of));
        if tags.kinds.is_empty() {
            return None;
        }
        let bit = kind_bit(kind);
        let mut only = None;
        for (i, &kinds) in tags.kinds.iter().enumerate() {
            if kinds & bit != 0 {
                if only.is_some() {
                    return None;
                }
                only = Some(i);
            }
        }
        Some(only)
    }
}

/// The branches of an `anyOf`/`oneOf` walked to explain it: the first
/// [`EXPLAINED_BRANCHES`] candidates keep their first failure. A sink that
/// keeps only the first failure ([`Sink::FIRST_ONLY`], explaining an outer
/// branch) walks the branches this way once, for their verdicts and their
/// reasons (each level of nested `anyOf`/`oneOf` walked its branches twice,
/// the innermost `2^depth` times); other sinks walk for the verdicts first
/// and this way only when no branch passed, so that a branch that passes costs
/// no message of the branches before it.
struct Branches {
    /// The first two branches that pass.
    matched: [usize; 2],
    n_matched: usize,
    /// The candidates (branches the tag does not reject) walked.
    n_candidates: usize,
    /// The first failures of the first failing candidates, with their branch.
    reasons: [Option<(usize, FirstError)>; EXPLAINED_BRANCHES],
}

impl Branches {
    /// The walk of a union whose tag leaves at most one candidate for `value` (a
    /// tagged union: most `oneOf`s over objects), as [`Branches::walk`] explains it:
    /// that branch walked once, for its verdict and its first failure. A collecting
    /// sink otherwise walked it for the verdict, then again for the reason when it
    /// failed (every failing record of such a union paid both). `read`: what
    /// [`Tags::read`], [`Tags::text`] and [`Tags::absent`] found in `value`.
    /// `None` when several branches are candidates.
    fn at_most_one<'s, R: Record>(
        branches: &'s [Node],
        tags: &Tags,
        read: (Option<&R>, Option<TagText<'_>>, bool),
        value: &R,
        path: &Path<'_>,
        depth: usize,
        cx: Cx<'s, '_>,
    ) -> Option<Branches> {
        if tags.name.is_none() && branches.len() > 1 {
            return None; // untagged: every branch is a candidate
        }
        let (tag, text, absent) = read;
        let mut candidates = tags
            .candidates(branches.len(), tag.is_some(), text, absent)
            .filter(|&i| !tags.rejects(i, tag, text, absent, depth));
        let only = candidates.next();
        if candidates.next().is_some() {
            return None;
        }
        let mut walked = Branches {
            matched: [usize::MAX; 2],
            n_matched: 0,
            n_candidates: usize::from(only.is_some()),
            reasons: Default::default(),
        };
        if let Some(i) = only {
            let mut first = FirstError::new(path.segments());
            let _ = check_node(&branches[i], value, path, depth, cx, &mut first);
            if first.message.is_none() {
                walked.matched[0] = i;
                walked.n_matched = 1;
            } else {
                walked.reasons[0] = Some((i, first));
            }
        }
        Some(walked)
    }

    /// Walks the candidates in order until `enough` of them pass; `failing`:
    /// no branch passes (known from a walk for the verdicts), the candidates
    /// past the explained ones are only counted.
    #[allow(clippy::too_many_arguments)]
    fn walk<'s, R: Record>(
        branches: &'s [Node],
        tags: &OnceLock<Tags>,
        value: &R,
        path: &Path<'_>,
        depth: usize,
        cx: Cx<'s, '_>,
        enough: usize,
        failing: bool,
    ) -> Branches {
        let tags = tags.get_or_init(|| Tags::of(cx.schema, branches));
        let tag = tags.read(value);
        let text = tag.as_ref().and_then(Tags::text);
        let absent = tags.absent(value, tag.as_ref());
        let here = path.segments();
        let mut walked = Branches {
            matched: [usize::MAX; 2],
            n_matched: 0,
            n_candidates: 0,
            reasons: Default::default(),
        };
        let mut n_reasons = 0;
        for i in tags.candidates(branches.len(), tag.is_some(), text, absent) {
            if tags.rejects(i, tag.as_ref(), text, absent, depth) {
                continue;
            }
            let branch = &branches[i];
            walked.n_candidates += 1;
            let passed = if n_reasons < EXPLAINED_BRANCHES {
                let mut first = FirstError::new(here);
                let _ = check_node(branch, value, path, depth, cx, &mut first);
                if first.message.is_some() {
                    walked.reasons[n_reasons] = Some((i, first));
                    n_reasons += 1;
                    false
                } else {
                    true
                }
            } else {
                !failing && valid_in(branch, value, path, depth, cx)
            };
            if passed {
                walked.matched[walked.n_matched] = i;
                walked.n_matched += 1;
                if walked.n_matched == enough {
                    break;
                }
            }
        }
        walked
    }

    /// Appends `0: <first error of branch 0>; 1: ...` for the first failing
    /// candidates to `out` (written piece by piece: `write!` measured as a
    /// visible share of a failing record), then how many more, then how many
    /// branches the record's tag rejected: of a tagged union, only the branches
    /// the tag allows are explained, the one it meant. For a walk where no
    /// branch passed.
    fn explain<R: Record>(
        &self,
        out: &mut String,
        branches: &[Node],
        tags: &OnceLock<Tags>,
        value: &R,
    ) {
        let start = out.len();
        for (i, first) in self.reasons.iter().flatten() {
            if out.len() > start {
                out.push_str("; ");
            }
            push_index(out, *i);
            out.push_str(": ");
            match (&first.message, &first.pointer) {
                (None, _) => out.push_str("valid"),
                (Some(message), None) => push_reason(out, message),
                (Some(message), Some(pointer)) => {
                    out.push_str("at `");
                    out.push_str(&shorten(pointer));
                    out.push_str("`: ");
                    push_reason(out, message);
                }
            }
        }
        let separate = |out: &mut String| {
            if out.len() > start {
                out.push_str("; ");
            }
        };
        let n_candidates = self.n_candidates;
        if n_candidates > EXPLAINED_BRANCHES {
            separate(out);
            push_index(out, n_candidates - EXPLAINED_BRANCHES);
            out.push_str(" more");
        }
        let Some(tags) = tags.get() else {
            return;
        };
        let tag = tags.read(value);
        let rejected = branches.len() - n_candidates;
        if let (Some(name), None, true) = (&tags.name, &tag, rejected > 0) {
            // The object lacks the tag property that these branches require.
            let name = shorten(name);
            separate(out);
            if n_candidates == 0 {
                out.push_str("every branch requires `");
            } else {
                push_index(out, rejected);
                out.push_str(if rejected == 1 {
                    " other requires `"
                } else {
                    " others require `"
                });
            }
            out.push_str(&name);
            out.push('`');
        }
        if let (Some(name), Some(tag), true) = (&tags.name, &tag, rejected > 0) {
            let name = shorten(name);
            separate(out);
            if n_candidates == 0 {
                out.push_str("none allows `");
                out.push_str(&name);
                out.push_str("` ");
                super::push_received(out, tag);
            } else if rejected == 1 {
                out.push_str("1 other requires another `");
                out.push_str(&name);
                out.push('`');
            } else {
                push_index(out, rejected);
                out.push_str(" others require another `");
                out.push_str(&name);
                out.push('`');
            }
        }
    }
}

/// The tags of `oneOf`/`anyOf` branches: most such lists over objects are tagged
/// unions, each branch giving one property (`type`, `kind`) a `const`. A branch
/// fails an object that holds the tag property with another value, so one
/// comparison rejects it instead of a walk through its checks (a `oneOf` of 21
/// closed object schemas walked every one of them).
#[derive(Debug, Default)]
pub struct Tags {
    /// The property, when at least two branches are tagged by it.
    name: Option<Box<str>>,
    /// Per branch, the value it requires there (`None`: untagged, always checked).
    values: Vec<Option<Json<'static>>>,
    /// Per branch, the hash of the string it requires ([`text_hash`]; 0 for
    /// other values): a record's tag is hashed once and compared with each
    /// branch's hash, its text only where the hashes agree (a `oneOf` of 21
    /// tags of one length compared the text 21 times).
    hashes: Vec<u64>,
    /// Per branch, whether it requires the tag property (`required`, through its
    /// static references and `allOf`): it fails an object without it, so such a
    /// record is checked against the other branches only (a `oneOf` of 6 closed
    /// objects, 5 requiring `type`, walked all 6 for a record without `type`).
    requires: Vec<bool>,
    /// Per branch, the kinds of value it may accept ([`kind_bit`]s): the `type` of the
    /// branch and of its [`conjuncts`] (a `oneOf` of a string, an array and an object, each
    /// `{"type": ...}`, walked the two the value cannot be); empty when no branch is typed.
    kinds: Vec<u8>,
    /// Of a union of at most 64 branches, the branches a tag of each text may
    /// leave, by the text's hash, with `open` (those not tagged by a string)
    /// included: a record's tag picks its few candidates at once (a `oneOf` of
    /// 21 tagged branches compared its tag with each of them, per record).
    by_hash: FxHashMap<u64, u64>,
    /// The branches not tagged by a string (untagged, or tagged by another
    /// value), as bits (unused past 64 branches).
    open: u64,
    /// The branches that do not require the tag property, as bits.
    not_requiring: u64,
    /// The branches without a tag, as bits (all of them past 64 branches).
    untagged: u64,
}

/// The most branches [`Tags::picks`] gives as bits.
const MASK_BRANCHES: usize = 64;

/// The set bits of a mask, lowest first: the branches [`Tags::picks`] leaves.
struct Bits(u64);

impl Iterator for Bits {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

/// A value's kind as one bit of [`Tags::kinds`].
#[inline]
fn kind_bit(kind: Kind) -> u8 {
    match kind {
        Kind::Null => 1,
        Kind::Bool => 2,
        Kind::String => 4,
        Kind::Array => 8,
        Kind::Object => 16,
        Kind::Number => 32,
        Kind::Unsupported => 64,
    }
}

/// Every kind: a node with no `type` (a trivial node accepts even an unsupported value).
const ANY_KIND: u8 = 127;

/// The kinds `node` and its [`conjuncts`] may accept (an integer is a number: an
/// `"integer"` branch is walked for any number, and decides).
fn kinds_of(schema: &Schema, node: &Node) -> u8 {
    use crate::schema::types;
    let mut kinds = ANY_KIND;
    conjuncts(schema, node, TAG_SEARCH_DEPTH, &mut |n| {
        if n.always_false {
            kinds = 0;
        } else if n.types != 0 {
            let t = n.types;
            let mut allowed = 0;
            for (bit, kind) in [
                (types::NULL, Kind::Null),
                (types::BOOLEAN, Kind::Bool),
                (types::STRING, Kind::String),
                (types::ARRAY, Kind::Array),
                (types::OBJECT, Kind::Object),
                (types::NUMBER | types::INTEGER, Kind::Number),
            ] {
                if t & bit != 0 {
                    allowed |= kind_bit(kind);
                }
            }
            kinds &= allowed;
        }
    });
    kinds
}

/// The tag text with its hash, read once per value.
#[derive(Clone, Copy)]
struct TagText<'a> {
    text: &'a str,
    hash: u64,
}

fn text_hash(s: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(s)
}

/// Of the names in `per_branch` (each branch's tags, see [`tags_of`]), the one that tags
/// the most branches, with their number; of names that tag as many, the first met, branch
/// by branch. Counted in one pass with a map: counting each name over every branch took a
/// `oneOf` of 16,000 tagged branches seconds at its first record.
fn most_tagging<'s>(per_branch: &[Vec<(&'s str, &Json<'static>)>]) -> Option<(&'s str, usize)> {
    // Per name: the branches it tags, and the last one counted (a branch may give
    // the same name twice, through its `allOf`: it counts once).
    let mut counts: FxHashMap<&str, (usize, usize)> = FxHashMap::default();
    for (i, tags) in per_branch.iter().enumerate() {
        for &(name, _) in tags {
            let (count, last) = counts.entry(name).or_insert((0, usize::MAX));
            if *last != i {
                *count += 1;
                *last = i;
            }
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for &(name, _) in per_branch.iter().flatten() {
        let count = counts.get(name).map_or(0, |&(count, _)| count);
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((name, count));
        }
    }
    best
}

/// References followed (and `allOf` entered) looking for a branch's tag.
const TAG_SEARCH_DEPTH: usize = 8;

impl Tags {
    pub(crate) fn of(schema: &Schema, branches: &[Node]) -> Tags {
        let mut kinds: Vec<u8> = branches.iter().map(|b| kinds_of(schema, b)).collect();
        if kinds.iter().all(|&k| k == ANY_KIND) {
            kinds = Vec::new();
        }
        let per_branch: Vec<Vec<(&str, &Json<'static>)>> = branches
            .iter()
            .map(|b| {
                let mut found = Vec::new();
                tags_of(schema, b, &mut found);
                found
            })
            .collect();
        let best = most_tagging(&per_branch);
        let Some((name, _)) = best.filter(|&(_, count)| count >= 2) else {
            return Tags {
                kinds,
                ..Tags::default()
            };
        };
        let values: Vec<Option<Json<'static>>> = per_branch
            .iter()
            .map(|tags| {
                tags.iter()
                    .find(|&&(n, _)| n == name)
                    .map(|&(_, v)| v.clone())
            })
            .collect();
        let hashes = values
            .iter()
            .map(|v| match v {
                Some(Json::String(expected)) => text_hash(expected.as_ref()),
                _ => 0,
            })
            .collect();
        let requires: Vec<bool> = branches
            .iter()
            .map(|b| requires_property(schema, b, name))
            .collect();
        let (mut by_hash, mut open, mut not_requiring) = (FxHashMap::default(), u64::MAX, u64::MAX);
        let mut untagged = u64::MAX;
        if branches.len() <= MASK_BRANCHES {
            open = 0;
            not_requiring = 0;
            untagged = 0;
            for (i, (value, &hash)) in values.iter().zip(&hashes).enumerate() {
                match value {
                    Some(Json::String(_)) => *by_hash.entry(hash).or_insert(0) |= 1 << i,
                    _ => open |= 1 << i,
                }
                if value.is_none() {
                    untagged |= 1 << i;
                }
                if !requires[i] {
                    not_requiring |= 1 << i;
                }
            }
            for mask in by_hash.values_mut() {
                *mask |= open;
            }
        }
        Tags {
            name: Some(name.into()),
            values,
            hashes,
            requires,
            kinds,
            by_hash,
            open,
            not_requiring,
            untagged,
        }
    }

    /// The tag property, when at least two branches are tagged by it.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether every branch of `mask` requires a value of the tag property (a branch that
    /// passes checked each entry of a repeated tag against it).
    pub(crate) fn all_tagged(&self, mask: u64) -> bool {
        mask & self.untagged == 0
    }

    /// Of a tagged union of at most 64 branches, the branches that an object may pass
    /// whose tag property holds `tag` (`None`: it lacks it), as bits: the others fail it
    /// for certain ([`Tags::rejects`], or a `type` that takes no object). `None` past 64
    /// branches, or untagged. For the fused JSON path, which reads the tag from the text.
    pub(crate) fn object_candidates<R: Record>(
        &self,
        n: usize,
        tag: Option<&R>,
        depth: usize,
    ) -> Option<u64> {
        let text = tag.and_then(Tags::text);
        let absent = tag.is_none();
        let bit = kind_bit(Kind::Object);
        let mask = self.picks(n, tag.is_some(), text, absent)?;
        Some(
            Bits(mask)
                .filter(|&i| !self.wrong_kind(i, bit) && !self.rejects(i, tag, text, absent, depth))
                .fold(0, |m, i| m | 1 << i),
        )
    }

    /// The branches of a union of `n` to ask [`Tags::rejects`] about, in order: those
    /// [`Tags::picks`] leaves, else all.
    #[inline]
    fn candidates(
        &self,
        n: usize,
        tag: bool,
        text: Option<TagText<'_>>,
        absent: bool,
    ) -> std::iter::Chain<Bits, std::ops::Range<usize>> {
        match self.picks(n, tag, text, absent) {
            Some(mask) => Bits(mask).chain(0..0),
            None => Bits(0).chain(0..n),
        }
    }

    /// Of a tagged union of at most 64 branches, the branches that [`Tags::rejects`]
    /// may leave for a value whose tag [`Tags::read`], [`Tags::text`] and
    /// [`Tags::absent`] found, as bits: a superset, each still to be asked, picked by
    /// the tag text's hash. `None`: every branch is a candidate.
    #[inline]
    fn picks(&self, n: usize, tag: bool, text: Option<TagText<'_>>, absent: bool) -> Option<u64> {
        if n > MASK_BRANCHES || self.name.is_none() {
            return None;
        }
        if absent {
            Some(self.not_requiring)
        } else if !tag {
            None
        } else if let Some(t) = text {
            Some(self.by_hash.get(&t.hash).copied().unwrap_or(self.open))
        } else {
            // A tag that is no string (or not valid Unicode): string tags reject it.
            Some(self.open)
        }
    }

    /// Whether branch `i` fails for certain a value of kind `bit` ([`kind_bit`]).
    #[inline]
    fn wrong_kind(&self, i: usize, bit: u8) -> bool {
        self.kinds.get(i).is_some_and(|&k| k & bit == 0)
    }

    /// Whether `value` is an object without the tag property (`tag`: what
    /// [`Tags::read`] found).
    #[inline]
    fn absent<R: Record>(&self, value: &R, tag: Option<&R>) -> bool {
        tag.is_none() && self.name.is_some() && value.kind() == Kind::Object
    }

    /// The value of the tag property in `value`, if it is an object that holds it.
    #[inline]
    fn read<R: Record>(&self, value: &R) -> Option<R> {
        match &self.name {
            Some(name) if value.kind() == Kind::Object => value.object_get(name),
            _ => None,
        }
    }

    /// The tag as text, when it is a string of valid Unicode.
    #[inline]
    fn text<R: Record>(tag: &R) -> Option<TagText<'_>> {
        if tag.kind() == Kind::String {
            tag.as_str().map(|text| TagText {
                text,
                hash: text_hash(text),
            })
        } else {
            None
        }
    }

    /// Whether branch `i` fails for certain, the object holding `tag` under the tag
    /// property, or, when `absent`, an object without it.
    #[inline]
    fn rejects<R: Record>(
        &self,
        i: usize,
        tag: Option<&R>,
        text: Option<TagText<'_>>,
        absent: bool,
        depth: usize,
    ) -> bool {
        if absent {
            return self.requires.get(i) == Some(&true);
        }
        match (tag, self.values.get(i)) {
            // Most tags are strings: compared as text read once (`text`, see
            // [`Tags::text`]), without the general equality.
            (Some(_), Some(Some(Json::String(expected)))) => match text {
                Some(t) => self.hashes.get(i) != Some(&t.hash) || t.text != expected.as_ref(),
                None => true,
            },
            (Some(tag), Some(Some(expected))) => {
                matches!(equal::equal(tag, &expected, depth + 1), Ok(false))
            }
            _ => false,
        }
    }
}

/// Visits `node` and the nodes a value must also pass with it (its static
/// references, its `allOf`), up to `budget` levels deep.
fn conjuncts<'s>(
    schema: &'s Schema,
    node: &'s Node,
    budget: usize,
    visit: &mut dyn FnMut(&'s Node),
) {
    if budget == 0 {
        return;
    }
    visit(node);
    if let Some(logic) = &node.logic {
        for (r, _) in &logic.refs {
            if let Ref::Static(id) = r {
                if let Some(target) = schema.nodes.get(*id) {
                    conjuncts(schema, target, budget - 1, visit);
                }
            }
        }
        for branch in &logic.all_of {
            conjuncts(schema, branch, budget - 1, visit);
        }
    }
}

/// The `(property, value)` pairs `node` requires of an object holding the property:
/// its `properties` whose schema is a `const` (or a one-value `enum`), and those of
/// its [`conjuncts`].
fn tags_of<'s>(schema: &'s Schema, node: &'s Node, out: &mut Vec<(&'s str, &'s Json<'static>)>) {
    conjuncts(schema, node, TAG_SEARCH_DEPTH, &mut |n| {
        let Some(object) = &n.object else { return };
        for property in object.properties.iter().filter(|p| p.declared) {
            let Some(sub) = &property.node else { continue };
            let required = match (&sub.const_value, &sub.enum_values) {
                (Some(value), _) => value,
                (None, Some(values)) if values.len() == 1 => &values[0],
                _ => continue,
            };
            out.push((property.name.as_str(), required));
        }
    });
}

/// Whether `node` requires an object to hold `name`: its `required`, or that of
/// one of its [`conjuncts`].
fn requires_property(schema: &Schema, node: &Node, name: &str) -> bool {
    let mut found = false;
    conjuncts(schema, node, TAG_SEARCH_DEPTH, &mut |n| {
        found |= n
            .object
            .as_ref()
            .is_some_and(|o| o.properties.iter().any(|p| p.required && p.name == name));
    });
    found
}

/// Keeps the first failure of a branch for [`Branches::explain`]: its message, and its
/// pointer only when it lies below the explained value (`here` segments deep);
/// no schema path, no error record.
struct FirstError {
    here: usize,
    message: Option<String>,
    pointer: Option<String>,
    /// How deep the failure lies (segments of its path).
    segments: usize,
}

impl FirstError {
    fn new(here: usize) -> FirstError {
        FirstError {
            here,
            message: None,
            pointer: None,
            segments: 0,
        }
    }
}

impl Sink<'_> for FirstError {
    const FIRST_ONLY: bool = true;

    fn first(&self) -> Option<First> {
        Some(First {
            message: self.message.clone()?,
            segments: self.segments,
            pointer: self.pointer.clone(),
        })
    }

    fn fail_first(&mut self, first: &First, path: &Path<'_>) -> ControlFlow<()> {
        if self.message.is_none() {
            if first.segments != self.here {
                // No pointer: the failure lay `here` for the sink it was found by, at
                // the value of the visit (a walk only descends), at `path`.
                self.pointer = Some(first.pointer.clone().unwrap_or_else(|| path.to_pointer()));
            }
            self.segments = first.segments;
            self.message = Some(first.message.clone());
        }
        ControlFlow::Break(())
    }

    fn fail_with(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce(&mut String),
    ) -> ControlFlow<()> {
        if self.message.is_none() {
            self.segments = path.segments();
            if self.segments != self.here {
                self.pointer = Some(path.to_pointer());
            }
            // Sized for most messages: growing it measured as a share of an explanation.
            let mut m = String::with_capacity(super::message_capacity(keyword));
            message(&mut m);
            self.message = Some(m);
        }
        ControlFlow::Break(())
    }

    fn fail(
        &mut self,
        path: &Path<'_>,
        _: &'static str,
        message: impl FnOnce() -> String,
    ) -> ControlFlow<()> {
        if self.message.is_none() {
            self.segments = path.segments();
            if self.segments != self.here {
                self.pointer = Some(path.to_pointer());
            }
            self.message = Some(message());
        }
        ControlFlow::Break(())
    }
}

/// The longest reason a branch gives, in characters: room for a message with its
/// location and its received value (itself cut after 40 characters), so that a
/// reason is seldom cut and never loses the value it names.
const REASON_CHARS: usize = 120;

/// The longest nested explanation a branch's reason quotes, in characters.
const NESTED_CHARS: usize = 160;

/// A branch's first error for its `anyOf`/`oneOf` explanation: cut after
/// [`REASON_CHARS`] characters, except a nested `anyOf`/`oneOf` explanation, whose
/// useful part comes after its prefix: `no branch of `oneOf` matched (0: ...; ...)`,
/// the inner explanation cut after [`NESTED_CHARS`] characters (each level quotes
/// a bounded text, so the message stays bounded however deep the nesting). A cut
/// ends in `...` alone: a count of characters there read as the value's length.
fn push_reason(out: &mut String, message: &str) {
    for (prefix, short) in [
        (
            "No branch of `oneOf` matched: ",
            "no branch of `oneOf` matched",
        ),
        (
            "No branch of `anyOf` matched: ",
            "no branch of `anyOf` matched",
        ),
    ] {
        if let Some(inner) = message.strip_prefix(prefix) {
            out.push_str(short);
            out.push_str(" (");
            push_cut(out, inner, NESTED_CHARS);
            out.push(')');
            return;
        }
    }
    push_cut(out, message, REASON_CHARS);
}

/// Why `value` fails `node`: its first error, cut as a branch's reason is, for a keyword
/// whose own message would otherwise only say that a subschema failed (`propertyNames`
/// said "is not valid against `propertyNames`", never which check of it failed).
pub(super) fn first_reason<'s, R: Record>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
) -> Option<String> {
    let mut first = FirstError::new(path.segments());
    let _ = check_node(node, value, path, depth, cx, &mut first);
    let message = first.message?;
    let mut out = String::new();
    if let Some(pointer) = &first.pointer {
        let _ = write!(out, "at `{pointer}`: ");
    }
    push_reason(&mut out, &message);
    Some(out)
}

/// `text`, cut after `most` characters with `...`.
fn push_cut(out: &mut String, text: &str, most: usize) {
    match super::string::nth_char_start(text, most) {
        None => out.push_str(text),
        Some(cut) => {
            out.push_str(&text[..cut]);
            out.push_str("...");
        }
    }
}

/// What the keywords of a node (and its in-place subschemas) evaluated.
#[derive(Default)]
struct Evaluated {
    keys: HashSet<String>,
    all_keys: bool,
    items: Vec<bool>,
    all_items: bool,
    /// Shared nodes (see [`Node::revisited`]) whose annotations are in already, with the
    /// references followed to them where that matters ([`Schema::hops_matter`]): what a
    /// node evaluates at the value is the same each time, and `allOf`s of references to
    /// one definition, nested, reach it along millions of paths.
    /// (With dynamic references, the part of the dynamic scope they read too, see
    /// [`Scope::part`].)
    annotated: HashSet<(usize, u32, Vec<u32>)>,
}

fn unevaluated<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    logic: &'s Logic,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let kind = value.kind();
    let wanted = match kind {
        Kind::Object => logic.unevaluated_properties.as_ref(),
        Kind::Array => logic.unevaluated_items.as_ref(),
        _ => None,
    };
    let Some(rest) = wanted else {
        return ControlFlow::Continue(());
    };
    let mut ev = Evaluated::default();
    if kind == Kind::Array {
        ev.items = vec![false; value.array_len()];
    }
    annotate(node, value, path, depth, cx, &mut ev, false);
    let cx_child = Cx { hops: 0, ..cx };
    if kind == Kind::Object {
        if ev.all_keys {
            return ControlFlow::Continue(());
        }
        value.for_each_entry(|key, item| {
            let EntryKey::Str(key) = key else {
                return ControlFlow::Continue(());
            };
            if ev.keys.contains(key) {
                return ControlFlow::Continue(());
            }
            if rest.always_false {
                return sink.fail(path, "unevaluatedProperties", || {
                    format!("Unevaluated property `{}`", shorten(key))
                });
            }
            check_node(rest, item, &Path::Key(path, key), depth + 1, cx_child, sink)
        })
    } else {
        if ev.all_items {
            return ControlFlow::Continue(());
        }
        value.for_each_item(|i, item| {
            if ev.items.get(i).copied().unwrap_or(false) {
                return ControlFlow::Continue(());
            }
            if rest.always_false {
                return sink.fail(path, "unevaluatedItems", || {
                    format!("Unevaluated item {i}, got {}", super::received(item))
                });
            }
            check_node(rest, item, &Path::Index(path, i), depth + 1, cx_child, sink)
        })
    }
}

/// Adds what `node` evaluates on `value` to `ev`, for a node that `value` is
/// valid against (branches that fail contribute nothing). `own_unevaluated`:
/// whether the node's own `unevaluated*` count (not for the node asking).
fn annotate<'s, R: Record>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    ev: &mut Evaluated,
    own_unevaluated: bool,
) {
    let (cx, low) = cx.nested();
    if let Some(outer) = low {
        return crate::stack::on_new_segment(|| {
            annotate(node, value, path, depth, outer, ev, own_unevaluated)
        });
    }
    if node.always_false || node.trivial && node.annotations.is_none() {
        return;
    }
    let scope;
    let cx = match node.resource {
        // Linked as `check_here` links it (see `Scope::adds`).
        Some(resource) if cx.schema.dynamic && Scope::adds(cx.scope, resource, cx.schema) => {
            scope = Scope::enter(resource, cx.scope);
            Cx {
                scope: Some(&scope),
                ..cx
            }
        }
        _ => cx,
    };
    if cx.hops >= MAX_HOPS {
        return;
    }
    let kind = value.kind();
    if let Some(a) = &node.annotations {
        match kind {
            Kind::Object if a.additional => ev.all_keys = true,
            Kind::Object
                if a.patterns.is_empty() && a.properties.len() * 4 < value.object_len() =>
            {
                // A few names in a large object: looked up, not a walk of every key per
                // node (100 one-property `allOf` branches on a million keys: 0.85 s).
                // A name found only as a key that is no string is never read back.
                for name in a.properties.texts() {
                    if value.object_get(name).is_some() {
                        ev.keys.insert(name.to_string());
                    }
                }
            }
            Kind::Object if !a.properties.is_empty() || !a.patterns.is_empty() => {
                let _ = value.for_each_entry(|key, _| {
                    if let EntryKey::Str(k) = key {
                        if a.properties.find(k).is_some()
                            || a.patterns.iter().any(|p| p.is_match(k))
                        {
                            ev.keys.insert(k.to_string());
                        }
                    }
                    ControlFlow::Continue(())
                });
            }
            Kind::Array if a.items => ev.all_items = true,
            Kind::Array => {
                for slot in ev.items.iter_mut().take(a.prefix) {
                    *slot = true;
                }
            }
            _ => {}
        }
    }
    if kind == Kind::Array {
        if let Some(contains) = node.array.as_ref().and_then(|a| a.contains.as_ref()) {
            let _ = value.for_each_item(|i, item| {
                if valid_in(
                    contains,
                    item,
                    &Path::Index(path, i),
                    depth + 1,
                    Cx { hops: 0, ..cx },
                ) {
                    if let Some(slot) = ev.items.get_mut(i) {
                        *slot = true;
                    }
                }
                ControlFlow::Continue(())
            });
        }
    }
    if kind == Kind::Object {
        if let Some(o) = &node.object {
            for (name, sub) in &o.dependent_schemas {
                if value.object_get(name).is_some() && valid_in(sub, value, path, depth, cx) {
                    annotate(sub, value, path, depth, cx, ev, true);
                }
            }
        }
    }
    let Some(logic) = &node.logic else {
        return;
    };
    if own_unevaluated {
        if logic.unevaluated_properties.is_some() && kind == Kind::Object {
            ev.all_keys = true;
        }
        if logic.unevaluated_items.is_some() && kind == Kind::Array {
            ev.all_items = true;
        }
    }
    let next = Cx {
        hops: cx.hops + 1,
        ..cx
    };
    for (r, _) in &logic.refs {
        let to = &cx.schema.nodes[target(r, cx)];
        if to.revisited {
            let hops = if cx.schema.hops_matter { next.hops } else { 0 };
            // With dynamic references, what a node evaluates depends on the scope too.
            let part = if cx.schema.dynamic {
                Scope::part(cx.scope, cx.schema)
            } else {
                Vec::new()
            };
            if !ev
                .annotated
                .insert((to as *const Node as usize, hops, part))
            {
                continue;
            }
        }
        annotate(to, value, path, depth, next, ev, true);
    }
    for branch in &logic.all_of {
        annotate(branch, value, path, depth, cx, ev, true);
    }
    for branch in logic.any_of.iter().chain(&logic.one_of) {
        if valid_in(branch, value, path, depth, cx) {
            annotate(branch, value, path, depth, cx, ev, true);
        }
    }
    if let Some(cond) = &logic.cond {
        let (cond, then, otherwise) = &**cond;
        if valid_in(cond, value, path, depth, cx) {
            annotate(cond, value, path, depth, cx, ev, true);
            if let Some(t) = then {
                annotate(t, value, path, depth, cx, ev, true);
            }
        } else if let Some(e) = otherwise {
            annotate(e, value, path, depth, cx, ev, true);
        }
    }
}

/// A reference, resolved at compile time except for the dynamic part.
#[derive(Debug, Clone)]
pub enum Ref {
    /// `$ref`, or a `$dynamicRef`/`$recursiveRef` whose target has no dynamic anchor.
    Static(NodeId),
    /// `$dynamicRef` (2020-12) or `$recursiveRef` (2019-09, anchor `""`): the
    /// outermost resource of the dynamic scope that declares `anchor` wins,
    /// `target` otherwise.
    Dynamic { target: NodeId, anchor: Box<str> },
}

/// `if`, `then`, `else`.
pub type Conditional = (Node, Option<Node>, Option<Node>);

/// An `if` that compares one property of an object with strings:
/// `{"properties": {"kind": {"const": "x"}}}`, with an `enum` instead, with
/// `"required": ["kind"]`, or an `anyOf` of such on one property. Real schemas
/// chain them (one `if`/`then` per value of a tag in an `allOf`), and each was
/// a visit of the object; this is one lookup and a comparison.
#[derive(Debug)]
pub struct Probe {
    name: Box<str>,
    /// The strings the property may equal for the `if` to hold.
    texts: Vec<Box<str>>,
    /// An object without the property fails the `if`.
    required: bool,
}

/// An `allOf` of which 2 branches or more are each only an `if` that probes the same
/// property ([`Probe`]), with `then` or `else`: a tagged union written as one `if`/`then`
/// per tag (typo3's route enhancers, 3, and their aspects, 5). Each branch was a
/// node visited and the property looked up again; here the property is looked up once
/// for all of them, and each branch checks the `then` or `else` it picks, in order.
#[derive(Debug)]
pub struct AllOfProbes {
    /// The property the branches probe.
    name: Box<str>,
    /// Per branch of the `allOf`: whether it is such a branch (the others are checked as
    /// any branch is).
    probed: Box<[bool]>,
}

impl AllOfProbes {
    fn of(branches: &[Node]) -> Option<AllOfProbes> {
        let name = branches.iter().find_map(Self::probe)?.name.clone();
        let probed: Box<[bool]> = branches
            .iter()
            .map(|b| Self::probe(b).is_some_and(|p| p.name == name))
            .collect();
        (probed.iter().filter(|&&p| p).count() >= 2).then_some(AllOfProbes { name, probed })
    }

    /// The probe of a branch that is only an `if` (a [`Probe`]) with `then`/`else`: a node
    /// whose checks are all in that `if`, so that checking the branch is checking the
    /// `then` or `else` the probe picks. Destructured field by field: a keyword added to
    /// `Node` or `Logic` does not compile until it is decided here.
    fn probe(branch: &Node) -> Option<&Probe> {
        let Node {
            always_false,
            trivial,
            types,
            const_value,
            enum_values,
            // Says whether `const_value` or `enum_values` is there.
            equality: _,
            // Says what `logic` holds.
            ref_alone: _,
            // Says what the other fields hold.
            types_only: _,
            // How walks visit it, not what it checks.
            revisited: _,
            string,
            number,
            array,
            object,
            logic,
            // Read by the `unevaluated*` of the node that holds the `allOf`, from the
            // schema, whatever this path does.
            annotations: _,
            resource,
            // Only for errors: a failure comes from the `then` or `else`, at its own.
            location: _,
        } = branch;
        let own = *always_false
            || *trivial
            || *types != 0
            || const_value.is_some()
            || enum_values.is_some()
            || string.is_some()
            || number.is_some()
            || array.is_some()
            || object.is_some()
            // A resource enters the dynamic scope.
            || resource.is_some();
        let Logic {
            refs,
            all_of,
            all_of_patterns,
            all_of_probes,
            any_of,
            one_of,
            not,
            cond,
            if_probe,
            unevaluated_properties,
            unevaluated_items,
            // Found from `any_of` and `one_of`.
            any_of_tags: _,
            one_of_tags: _,
            any_of_names: _,
            one_of_names: _,
            one_of_shapes: _,
            // For the fused JSON path only.
            on_names: _,
            keep_heavy: _,
        } = logic.as_deref()?;
        let only_if = refs.is_empty()
            && all_of.is_empty()
            && all_of_patterns.is_none()
            && all_of_probes.is_none()
            && any_of.is_empty()
            && one_of.is_empty()
            && not.is_none()
            && unevaluated_properties.is_none()
            && unevaluated_items.is_none()
            && cond.is_some();
        if own || !only_if {
            return None;
        }
        if_probe.as_ref()
    }

    /// The branches of `all_of` (those of this `allOf`) on `value`, an object at a depth
    /// below [`MAX_DEPTH`], as [`check_node`] on each in turn would check them. Out of
    /// line: inlined, it made every node's logic check longer.
    #[inline(never)]
    fn check<'s, R: Record, S: Sink<'s>>(
        &self,
        all_of: &'s [Node],
        value: &R,
        path: &Path<'_>,
        depth: usize,
        cx: Cx<'s, '_>,
        sink: &mut S,
    ) -> ControlFlow<()> {
        let tag = value.object_get(&self.name);
        for (branch, &probed) in all_of.iter().zip(self.probed.iter()) {
            let picked = match (probed, branch.logic.as_deref()) {
                (
                    true,
                    Some(Logic {
                        cond: Some(cond),
                        if_probe: Some(probe),
                        ..
                    }),
                ) => {
                    let (cond, then, otherwise) = &**cond;
                    let holds = probe
                        .holds_with(tag.as_ref())
                        .unwrap_or_else(|| valid_in(cond, value, path, depth, cx));
                    if holds {
                        then
                    } else {
                        otherwise
                    }
                }
                _ => {
                    check_node(branch, value, path, depth, cx, sink)?;
                    continue;
                }
            };
            if let Some(picked) = picked {
                check_node(picked, value, path, depth, cx, sink)?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// Keywords that leave an `if` a [`Probe`]: annotations.
const PROBE_ANNOTATIONS: [&str; 8] = [
    "title",
    "description",
    "$comment",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
];

impl Probe {
    /// Whether `value` passes the `if`, at `depth`; `None` when the probe does
    /// not decide (a value it does not know how to compare, the depth limit):
    /// the `if` is then checked as any schema is.
    #[inline]
    pub(crate) fn holds<R: Record>(&self, value: &R, depth: usize) -> Option<bool> {
        if value.kind() != Kind::Object {
            // `properties` and `required` apply to objects only.
            return Some(true);
        }
        if depth >= MAX_DEPTH {
            return None;
        }
        self.holds_with(value.object_get(&self.name).as_ref())
    }

    /// [`Probe::holds`] for an object whose entry of the probed name is `tag` (`None`:
    /// it has none), at a depth below [`MAX_DEPTH`].
    #[inline]
    fn holds_with<R: Record>(&self, tag: Option<&R>) -> Option<bool> {
        let Some(tag) = tag else {
            return Some(!self.required);
        };
        match tag.kind() {
            // `as_str` is `None` for a string that is not valid Unicode: a failure
            // the checks report as such.
            Kind::String => tag
                .as_str()
                .map(|text| self.texts.iter().any(|t| same_text(t, text))),
            Kind::Unsupported => None,
            // Not a string: no `const`/`enum` string equals it (a non-finite
            // number fails any schema too).
            _ => Some(false),
        }
    }

    /// The probe the `if` schema `doc` is, if it is one.
    fn compile(doc: &Value) -> Option<Probe> {
        let Value::Object(map) = doc else {
            return None;
        };
        let mut probe: Option<Probe> = None;
        let mut required: Option<&str> = None;
        for (key, v) in map {
            match key.as_str() {
                "properties" if probe.is_none() => probe = Some(Probe::of_properties(v)?),
                "anyOf" if probe.is_none() => {
                    let Value::Array(branches) = v else {
                        return None;
                    };
                    let mut union: Option<Probe> = None;
                    for branch in branches {
                        let Value::Object(branch) = branch else {
                            return None;
                        };
                        let mut one = None;
                        for (key, v) in branch {
                            match key.as_str() {
                                "properties" => one = Some(Probe::of_properties(v)?),
                                k if PROBE_ANNOTATIONS.contains(&k) => {}
                                _ => return None,
                            }
                        }
                        let one = one?;
                        match &mut union {
                            None => union = Some(one),
                            Some(u) if u.name == one.name => u.texts.extend(one.texts),
                            Some(_) => return None,
                        }
                    }
                    probe = Some(union?);
                }
                "required" => match v {
                    Value::Array(names) if names.len() == 1 => required = names[0].as_str(),
                    _ => return None,
                },
                k if PROBE_ANNOTATIONS.contains(&k) => {}
                _ => return None,
            }
        }
        let mut probe = probe?;
        if let Some(name) = required {
            if name != &*probe.name {
                return None;
            }
            probe.required = true;
        }
        Some(probe)
    }

    /// `{"kind": {"const": "x"}}` (or `enum` of strings, with `"type": "string"`
    /// or annotations beside): the probe it is, `required` unset.
    fn of_properties(properties: &Value) -> Option<Probe> {
        let Value::Object(properties) = properties else {
            return None;
        };
        let mut entries = properties.iter();
        let (name, Value::Object(tag)) = entries.next()? else {
            return None;
        };
        if entries.next().is_some() {
            return None;
        }
        let mut texts = None;
        for (key, v) in tag {
            match (key.as_str(), v) {
                ("const", Value::String(text)) if texts.is_none() => {
                    texts = Some(vec![text.as_str().into()]);
                }
                ("enum", Value::Array(values)) if texts.is_none() && !values.is_empty() => {
                    let strings: Option<Vec<Box<str>>> =
                        values.iter().map(|v| v.as_str().map(Box::from)).collect();
                    texts = Some(strings?);
                }
                ("type", Value::String(t)) if t == "string" => {}
                (k, _) if PROBE_ANNOTATIONS.contains(&k) => {}
                _ => return None,
            }
        }
        Some(Probe {
            name: name.as_str().into(),
            texts: texts?,
            required: false,
        })
    }
}

/// The applicators that evaluate the value in place, and `unevaluated*`.
#[derive(Debug, Default)]
pub struct Logic {
    /// `(reference, keyword)`: `$ref`, `$dynamicRef` or `$recursiveRef`.
    pub refs: Vec<(Ref, &'static str)>,
    pub all_of: Vec<Node>,
    /// When every branch of `allOf` is only `{"not": {"pattern": p}}` (at least
    /// [`MIN_NOT_PATTERNS`] of them, none backtracking): all the `p` in one pattern.
    pub all_of_patterns: Option<Pattern>,
    pub any_of: Vec<Node>,
    pub one_of: Vec<Node>,
    // Boxed: a node is about 800 bytes, and six of them inline made every
    // `Logic` 5 KiB, its fields read per check pages apart.
    pub not: Option<Box<Node>>,
    /// `if`, `then`, `else`.
    pub cond: Option<Box<Conditional>>,
    /// `if`, when it only compares one property with strings (see [`Probe`]).
    pub if_probe: Option<Probe>,
    /// When branches of `allOf` are each only an `if` probing the same property (see
    /// [`AllOfProbes`]).
    pub all_of_probes: Option<AllOfProbes>,
    pub unevaluated_properties: Option<Box<Node>>,
    pub unevaluated_items: Option<Box<Node>>,
    /// Found on first use: the targets of references are compiled after this node.
    pub any_of_tags: OnceLock<Tags>,
    pub one_of_tags: OnceLock<Tags>,
    /// When every branch of `anyOf`/`oneOf` only requires names: all their names.
    pub any_of_names: Option<RequiredNames>,
    pub one_of_names: Option<RequiredNames>,
    /// Found on first use: what an object's keys say about the `oneOf` branches.
    pub one_of_shapes: OnceLock<Option<KeyShapes>>,
    /// For the fused JSON path, found on first use: the names of an object's entries on
    /// which the verdicts of `not` and `if` depend, when they depend on no others.
    pub on_names: OnceLock<Option<OnNames>>,
    /// For the fused JSON path: records left that it parses whole because the named
    /// entries were most of the object lately (see `fused::with_logic`). A hint only:
    /// either way gives the same results.
    pub keep_heavy: std::sync::atomic::AtomicU8,
}

impl Logic {
    fn is_empty(&self) -> bool {
        let lists = [&self.all_of, &self.any_of, &self.one_of];
        let nodes = [
            &self.not,
            &self.unevaluated_properties,
            &self.unevaluated_items,
        ];
        self.refs.is_empty()
            && lists.iter().all(|list| list.is_empty())
            && nodes.iter().all(|node| node.is_none())
            && self.cond.is_none()
    }
}

/// The names of an object's entries that decide `not` and `if` (and, when `branches`,
/// `then` and `else` too) of a [`Logic`], for the fused JSON path.
#[derive(Debug)]
pub struct OnNames {
    pub names: Box<[Box<str>]>,
    pub branches: bool,
}

/// What a node marks as evaluated whether or not it checks anything; read only
/// by `unevaluatedProperties`/`unevaluatedItems`, kept only where they occur.
#[derive(Debug, Default)]
pub struct Annotations {
    /// The names of `properties`: found through a table when many (a scan per key made
    /// `unevaluatedProperties` cost the names times the keys).
    pub properties: Names,
    pub patterns: Vec<Pattern>,
    /// `additionalProperties` present: every other key is evaluated.
    pub additional: bool,
    /// Items evaluated by `prefixItems` (or an `items` array).
    pub prefix: usize,
    /// `items` (or `additionalItems`) present: every item is evaluated.
    pub items: bool,
}

/// Whether `node` only requires names of an object (and accepts any other value).
/// Destructured field by field, as the fused JSON path does: a keyword added to `Node` or
/// `ObjectChecks` does not compile until it is decided here.
fn only_requires(node: &Node) -> bool {
    let Node {
        always_false,
        // Only says that nothing is checked: a node that requires names is not trivial.
        trivial: _,
        types: kinds,
        const_value,
        enum_values,
        // Says whether `const_value` or `enum_values` is there.
        equality: _,
        // Says what `logic` holds.
        ref_alone: _,
        // Says what the other fields hold.
        types_only: _,
        // How walks visit it, not what it checks.
        revisited: _,
        string,
        number,
        array,
        object,
        logic,
        // Annotations decide nothing here (only `unevaluated*` read them, in `logic`).
        annotations: _,
        // A schema with dynamic references never takes this path.
        resource: _,
        // Only for errors.
        location: _,
    } = node;
    let Some(checks) = object else {
        return false;
    };
    logic.is_none()
        && !always_false
        && (*kinds == 0 || *kinds == crate::schema::types::OBJECT)
        && const_value.is_none()
        && enum_values.is_none()
        && string.is_none()
        && number.is_none()
        && array.is_none()
        && super::object::reads_named_entries_only(checks)
        && !checks.properties.is_empty()
        && checks
            .properties
            .iter()
            .all(|p| p.required && !p.declared && p.node.is_none())
}

/// The most names a [`RequiredNames`] holds (one bit each).
const MAX_REQUIRED_NAMES: usize = 64;

/// The branches of a `oneOf` or `anyOf` that each only require names of an object
/// ([`only_requires`]: `[{"required": ["uses"]}, {"required": ["run"]}]`): an object
/// passes the branches whose names it holds all, found in one walk of its keys.
/// (github-workflow's steps are such a `oneOf` of six: checked as six nodes, each a
/// lookup, it was a quarter of the instructions of that schema's verdicts.)
#[derive(Debug)]
pub struct RequiredNames {
    /// The distinct names, bit `j` for the `j`-th.
    names: Names,
    /// Per branch, the bits of the names it requires (never 0).
    masks: Box<[u64]>,
}

impl RequiredNames {
    /// `None` unless there are two branches or more, each only requiring names, with
    /// at most [`MAX_REQUIRED_NAMES`] distinct names in all.
    pub(crate) fn of(branches: &[Node]) -> Option<RequiredNames> {
        if branches.len() < 2 || !branches.iter().all(only_requires) {
            return None;
        }
        let mut distinct: Vec<&str> = Vec::new();
        let mut masks = Vec::with_capacity(branches.len());
        for branch in branches {
            let mut mask = 0u64;
            for property in branch.object.iter().flat_map(|o| o.properties.iter()) {
                let j = match distinct.iter().position(|&n| n == property.name) {
                    Some(j) => j,
                    None => {
                        distinct.push(&property.name);
                        distinct.len() - 1
                    }
                };
                if j >= MAX_REQUIRED_NAMES {
                    return None;
                }
                mask |= 1 << j;
            }
            masks.push(mask);
        }
        Some(RequiredNames {
            names: Names::new(distinct),
            masks: masks.into(),
        })
    }

    /// The bit of the name `key`, 0 when no branch requires it.
    #[inline]
    pub(crate) fn bit(&self, key: &str) -> u64 {
        self.names.find(key).map_or(0, |j| 1 << j)
    }

    /// The bits of the names the object `value` holds (its string keys); with `one`,
    /// the walk stops once a branch has all its names (an `anyOf`: gaspar's root
    /// `anyOf` of two names walked every key of every record).
    #[inline(always)]
    fn held<R: Record>(&self, value: &R, one: bool) -> u64 {
        let mut held = 0;
        let _ = value.for_each_entry(|key, _| {
            if let EntryKey::Str(k) = key {
                let bit = self.bit(k);
                if bit != 0 {
                    held |= bit;
                    if one && self.passed(held).next().is_some() {
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        });
        held
    }

    /// Whether the object `value` passes a branch. Out of line (as [`one_by_names`] and
    /// [`any_by_names`]): the union checks that cannot take this way pay only the test
    /// that says so (inlined, it cost enonic-xp-mixin's JSON verdicts 0.5% more
    /// instructions, out of line 0.3%).
    #[inline(never)]
    fn any<R: Record>(&self, value: &R) -> bool {
        self.passed(self.held(value, true)).next().is_some()
    }

    /// The first two branches the object `value` passes (`usize::MAX` past the last),
    /// and how many of those there are. Out of line, as [`RequiredNames::any`].
    #[inline(never)]
    fn first_two<R: Record>(&self, value: &R) -> ([usize; 2], usize) {
        let mut matched = [usize::MAX; 2];
        let mut n_matched = 0;
        for i in self.passed(self.held(value, false)).take(2) {
            matched[n_matched] = i;
            n_matched += 1;
        }
        (matched, n_matched)
    }

    /// The branches an object holding the names `held` ([`RequiredNames::bit`]) passes.
    #[inline]
    pub(crate) fn passed(&self, held: u64) -> impl Iterator<Item = usize> + '_ {
        self.masks
            .iter()
            .enumerate()
            .filter(move |&(_, &m)| held & m == m)
            .map(|(i, _)| i)
    }
}

/// What the keys of an object alone say about the branches of a `oneOf` of object
/// schemas: a branch fails an object that holds a name it does not allow
/// (`additionalProperties: false` without `patternProperties`), or that lacks a name it
/// requires, through the branch's static references and `allOf` too ([`conjuncts`]).
/// When the keys leave one branch, the `oneOf` is that branch (github-workflow's jobs are
/// a `oneOf` of two closed objects, one requiring `runs-on`, the other `uses`: the fused
/// path parsed every job to check both branches on it). A key a branch does not allow
/// rules it out for good, so a walk of the keys may stop once one branch is left.
#[derive(Debug)]
pub struct KeyShapes {
    /// The names some branch requires or some closed branch allows.
    names: Names,
    /// Per name of `names`, the branches it rules out (closed ones that do not allow it).
    rules_out: Box<[u64]>,
    /// The branches with a closed conjunct: a key not in `names` rules them out.
    closed: u64,
    /// Per branch, the names it requires, as bits of `names`.
    required: Box<[u64]>,
    /// The branches that may take an object (by their `type`s), as bits.
    pub(crate) objects: u64,
}

impl KeyShapes {
    /// `None` unless there are 2 to 64 branches, each a plain object schema (no other
    /// combinator than `allOf` and references) that is closed or takes no object, no two
    /// of them allowing the same names, with at most [`MAX_REQUIRED_NAMES`] names in all.
    pub(crate) fn of<'s>(schema: &'s Schema, branches: &'s [Node]) -> Option<KeyShapes> {
        if branches.len() < 2 || branches.len() > 64 {
            return None;
        }
        // The branch left is walked in place: worth it only where that walk reads the
        // object once, as a plain object schema (a branch that is itself a `oneOf`, as
        // enonic's form items, was parsed after the keys were read: +13% instructions).
        let mut plain = true;
        for branch in branches {
            conjuncts(schema, branch, TAG_SEARCH_DEPTH, &mut |n| {
                plain &= n.logic.as_deref().is_none_or(|l| {
                    l.any_of.is_empty()
                        && l.one_of.is_empty()
                        && l.not.is_none()
                        && l.cond.is_none()
                        && l.unevaluated_properties.is_none()
                        && l.unevaluated_items.is_none()
                });
            });
        }
        if !plain {
            return None;
        }
        let mut distinct: Vec<&'s str> = Vec::new();
        for branch in branches {
            conjuncts(schema, branch, TAG_SEARCH_DEPTH, &mut |n| {
                let Some(object) = &n.object else { return };
                let closed = is_closed(object);
                for property in &object.properties {
                    let name = property.name.as_str();
                    if (property.required || (closed && property.declared))
                        && !distinct.contains(&name)
                    {
                        distinct.push(name);
                    }
                }
            });
        }
        if distinct.len() > MAX_REQUIRED_NAMES {
            return None;
        }
        let mut rules_out = vec![0u64; distinct.len()];
        let (mut required, mut closed, mut objects) = (Vec::new(), 0u64, 0u64);
        for (i, branch) in branches.iter().enumerate() {
            if kinds_of(schema, branch) & kind_bit(Kind::Object) != 0 {
                objects |= 1 << i;
            }
            let mut need = 0u64;
            conjuncts(schema, branch, TAG_SEARCH_DEPTH, &mut |n| {
                let Some(object) = &n.object else { return };
                let closed_here = is_closed(object);
                if closed_here {
                    closed |= 1 << i;
                }
                for (j, name) in distinct.iter().enumerate() {
                    let property = object.properties.iter().find(|p| p.name == *name);
                    if property.is_some_and(|p| p.required) {
                        need |= 1 << j;
                    }
                    if closed_here && !property.is_some_and(|p| p.declared) {
                        rules_out[j] |= 1 << i;
                    }
                }
            });
            required.push(need);
        }
        // Every branch that takes objects closed: a key rules branches out as soon as it is
        // read. Open ones are told apart by their required names only once every key
        // was read (pyproject's `project`, a `oneOf` of two branches each requiring a
        // name, was read whole for them, then parsed for its `dependencies`: +8%).
        if objects & !closed != 0 {
            return None;
        }
        // And no two of them allow the same names: else only the required names, once
        // every key was read, tell those apart (venvironment's variables, closed objects
        // of the same names but `type`'s `const`: a pass over every key, then the walk,
        // cost 2% more than parsing them).
        let allows = |i: usize| {
            rules_out
                .iter()
                .fold(0u64, |m, &r| m << 1 | u64::from(r & (1 << i) == 0))
        };
        let mut seen_allows: Vec<u64> = Vec::new();
        for i in (0..branches.len()).filter(|&i| objects & (1 << i) != 0) {
            let a = allows(i);
            if seen_allows.contains(&a) {
                return None;
            }
            seen_allows.push(a);
        }
        Some(KeyShapes {
            names: Names::new(distinct),
            rules_out: rules_out.into(),
            closed,
            required: required.into(),
            objects,
        })
    }

    /// The key `key`: its bit among the names (0 when it is none of them), and the
    /// branches it rules out.
    #[inline]
    pub(crate) fn key(&self, key: &str) -> (u64, u64) {
        match self.names.find(key) {
            Some(j) => (1 << j, self.rules_out[j]),
            None => (0, self.closed),
        }
    }

    /// Of the branches `left`, those whose required names are all in `held`.
    pub(crate) fn with_required(&self, left: u64, held: u64) -> u64 {
        let mut out = left;
        for (i, &need) in self.required.iter().enumerate() {
            if held & need != need {
                out &= !(1 << i);
            }
        }
        out
    }
}

/// Whether only declared names are allowed: `additionalProperties: false` with no
/// `patternProperties`.
fn is_closed(object: &super::object::ObjectChecks) -> bool {
    matches!(object.additional, super::object::Additional::Forbid) && object.patterns.is_empty()
}

/// Compiles the applicators of the schema `map` after its references `refs`
/// (resolved by the compiler); `None` when there are none.
pub(crate) fn compile<'d>(
    map: &'d Map<String, Value>,
    compiler: &mut Subschemas<'_, 'd>,
    refs: Vec<(Ref, &'static str)>,
) -> Result<Option<Box<Logic>>, SchemaError> {
    let (draft, location) = (compiler.draft, compiler.location);
    let at = |key: &str| format!("{location}/{}", escape_pointer(key));
    let mut logic = Logic {
        refs,
        ..Logic::default()
    };
    for (key, list) in [("allOf", 0), ("anyOf", 1), ("oneOf", 2)] {
        match map.get(key) {
            None => {}
            Some(Value::Array(schemas)) if !schemas.is_empty() => {
                let mut nodes = Vec::with_capacity(schemas.len());
                for (i, s) in schemas.iter().enumerate() {
                    nodes.push(compiler.compile(s, &format!("{location}/{key}/{i}"))?);
                }
                match list {
                    0 => {
                        logic.all_of_patterns = any_of_patterns(&nodes);
                        logic.all_of_probes = AllOfProbes::of(&nodes);
                        logic.all_of = nodes;
                    }
                    1 => {
                        // A branch that accepts everything makes the `anyOf` pass whatever
                        // the value (dofigen's root `anyOf: [{"oneOf": [...]}, {}]`), and
                        // then it never fails, so no message names a branch. Unless an
                        // `unevaluated*` may read its branches' annotations, it checks
                        // nothing: dropped (the branches stay compiled: a broken one is
                        // still a schema error). Kept, that branch goes first, so the
                        // `anyOf` passes at once; each node keeps its own location.
                        let accepts_all =
                            |n: &Node| n.trivial && !n.always_false && n.annotations.is_none();
                        if !compiler.keep_annotations() && nodes.iter().any(accepts_all) {
                            continue;
                        }
                        nodes.sort_by_key(|n| !n.trivial);
                        logic.any_of_names = RequiredNames::of(&nodes);
                        logic.any_of = nodes;
                    }
                    _ => {
                        logic.one_of_names = RequiredNames::of(&nodes);
                        logic.one_of = nodes;
                    }
                }
            }
            Some(other) => {
                return err(
                    location,
                    format!(
                        "`{key}` must be a non-empty array, got {}",
                        json_short(other)
                    ),
                )
            }
        }
    }
    if let Some(s) = map.get("not") {
        logic.not = Some(Box::new(compiler.compile(s, &at("not"))?));
    }
    if draft >= Draft::Draft7 {
        if let Some(s) = map.get("if") {
            let cond = compiler.compile(s, &at("if"))?;
            let then = match map.get("then") {
                Some(t) => Some(compiler.compile(t, &at("then"))?),
                None => None,
            };
            let otherwise = match map.get("else") {
                Some(t) => Some(compiler.compile(t, &at("else"))?),
                None => None,
            };
            if then.is_some() || otherwise.is_some() || compiler.keep_annotations() {
                logic.cond = Some(Box::new((cond, then, otherwise)));
                logic.if_probe = Probe::compile(s);
            }
        }
    }
    if draft >= Draft::Draft201909 {
        if let Some(s) = map.get("unevaluatedProperties") {
            logic.unevaluated_properties =
                Some(Box::new(compiler.compile(s, &at("unevaluatedProperties"))?));
        }
        if let Some(s) = map.get("unevaluatedItems") {
            logic.unevaluated_items = Some(Box::new(compiler.compile(s, &at("unevaluatedItems"))?));
        }
    }
    Ok((!logic.is_empty()).then(|| Box::new(logic)))
}

/// The fewest `not`/`pattern` branches worth one search of all their patterns.
const MIN_NOT_PATTERNS: usize = 4;

/// One pattern that matches where any of the `{"not": {"pattern": p}}` branches'
/// patterns does; `None` unless every branch is just that (and their patterns run on
/// the linear engine, so a search never gives up half way).
fn any_of_patterns(branches: &[Node]) -> Option<Pattern> {
    if branches.len() < MIN_NOT_PATTERNS {
        return None;
    }
    let mut sources = Vec::with_capacity(branches.len());
    for branch in branches {
        let only_not = |l: &Logic| {
            l.refs.is_empty()
                && l.all_of.is_empty()
                && l.any_of.is_empty()
                && l.one_of.is_empty()
                && l.cond.is_none()
                && l.unevaluated_properties.is_none()
                && l.unevaluated_items.is_none()
        };
        let inner = match &branch.logic {
            Some(l) if only_not(l) && plain(branch) && branch.string.is_none() => {
                l.not.as_deref()?
            }
            _ => return None,
        };
        let pattern = match &inner.string {
            Some(c) if c.min_length.is_none() && c.max_length.is_none() && c.format.is_none() => {
                c.pattern.as_ref()?
            }
            _ => return None,
        };
        if inner.logic.is_some() || !plain(inner) || pattern.is_backtracking() {
            return None;
        }
        sources.push(format!("(?:{})", pattern.as_str()));
    }
    Pattern::new(&sources.join("|"))
        .ok()
        .filter(|p| !p.is_backtracking())
}

/// A node whose only checks are its string checks and logic (none of its own otherwise).
fn plain(node: &Node) -> bool {
    !node.always_false
        && !node.trivial
        && node.types == 0
        && node.const_value.is_none()
        && node.enum_values.is_none()
        && node.number.is_none()
        && node.array.is_none()
        && node.object.is_none()
        && node.annotations.is_none()
        && node.resource.is_none()
}

/// What the schema `map` evaluates, for the `unevaluated*` of the nodes around it.
pub(crate) fn annotations(
    map: &Map<String, Value>,
    draft: Draft,
) -> Result<Annotations, SchemaError> {
    let mut a = Annotations::default();
    if let Some(Value::Object(props)) = map.get("properties") {
        a.properties = Names::new(props.keys().map(String::as_str));
    }
    if let Some(Value::Object(props)) = map.get("patternProperties") {
        for source in props.keys() {
            a.patterns
                .push(compile_pattern(source, "patternProperties", "")?);
        }
    }
    a.additional = map.contains_key("additionalProperties");
    if draft == Draft::Draft202012 {
        if let Some(Value::Array(p)) = map.get("prefixItems") {
            a.prefix = p.len();
        }
        a.items = map.contains_key("items");
    } else {
        match map.get("items") {
            Some(Value::Array(p)) => {
                a.prefix = p.len();
                a.items = map.contains_key("additionalItems");
            }
            Some(_) => a.items = true,
            None => {}
        }
    }
    Ok(a)
}

/// A short description of a JSON value for messages.
fn json_short(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an empty array",
        other => json_type(other),
    }
}

#[cfg(test)]
mod tests {
    use super::Tags;
    use crate::error::RecordError;
    use crate::json::parse_value;
    use crate::schema::Schema;
    use crate::value::MAX_DEPTH;

    /// `fast` (a schema compiled with a shortcut) gives `walked`'s verdicts (also on the
    /// fused JSON path, where it decides) and errors (instance path, keyword, message, in
    /// order) on each of `records`.
    fn same_outcomes(fast: &Schema, walked: &Schema, records: &[&str], label: &str) {
        for r in records {
            let value = parse_value(r.as_bytes(), MAX_DEPTH).unwrap();
            let want = super::super::is_valid(walked, &&value);
            assert_eq!(super::super::is_valid(fast, &&value), want, "{label} {r}");
            if let Some(fused) = crate::fused::verdict(fast, r.as_bytes()) {
                assert_eq!(fused, want, "{label} {r}: fused");
            }
            let errors = |s: &Schema| {
                let mut errors: Vec<RecordError> = Vec::new();
                super::super::validate(s, &&value, 0, &mut errors);
                errors
                    .iter()
                    .map(|e| (e.path().to_string(), e.keyword, e.message().to_string()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(errors(fast), errors(walked), "{label} {r}: errors");
        }
    }

    /// A `oneOf` or `anyOf` whose branches only require names is decided by the names an
    /// object holds: the verdicts (on the parsed value and on the fused JSON path) of the
    /// same union whose branches also say `"minProperties": 0`, which only a walk of every
    /// branch decides; with every error, the walk's errors.
    #[test]
    fn unions_of_required_names_give_the_verdicts_of_a_walk() {
        let unions = [
            r#"{"oneOf": [{"required": ["uses"]}, {"required": ["run"]}, {"required": ["a", "b"]}, {"required": ["b", "c"]}]}"#,
            r#"{"anyOf": [{"required": ["uses"]}, {"required": ["run"]}, {"required": ["a", "b"]}]}"#,
            r#"{"oneOf": [{"type": "object", "required": ["x"]}, {"required": ["y"]}]}"#,
            r#"{"type": "object", "properties": {"s": {"oneOf": [{"required": ["a"]}, {"required": ["a"]}]}}}"#,
        ];
        let records = [
            "{}",
            r#"{"uses": 1}"#,
            r#"{"run": 1}"#,
            r#"{"uses": 1, "run": 2}"#,
            r#"{"a": 1}"#,
            r#"{"a": 1, "b": 2}"#,
            r#"{"b": 1, "c": 2}"#,
            r#"{"a": 1, "b": 2, "c": 3}"#,
            r#"{"uses": 1, "uses": 2}"#,
            r#"{"x": 1}"#,
            r#"{"x": 1, "y": 2}"#,
            r#"{"y": {"x": 1}}"#,
            r#"{"s": {"a": 1}}"#,
            r#"{"s": {}}"#,
            r#"{"s": 1}"#,
            r#"{"ab": 1, "usesx": 2, "": 3}"#,
            // More entries than names.
            r#"{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "b": 1, "c": 2}"#,
            r#"{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "run": 1, "x": 2}"#,
            r#"{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "s": {"a": 1, "k": 2}}"#,
            "[]",
            "1",
            r#""s""#,
            "null",
        ];
        for union in unions {
            let fast = Schema::from_json_text(union).unwrap();
            let walked_text = union.replace(r#"{"required""#, r#"{"minProperties": 0, "required""#);
            let walked = Schema::from_json_text(&walked_text).unwrap();
            let node = |s: &Schema| {
                let root = &s.root;
                let inner = root
                    .object
                    .as_ref()
                    .and_then(|o| o.properties.first())
                    .and_then(|p| p.node.as_ref());
                let logic = inner.unwrap_or(root).logic.as_ref().unwrap();
                logic.one_of_names.is_some() || logic.any_of_names.is_some()
            };
            assert!(node(&fast), "{union}: decided by names");
            assert!(!node(&walked), "{walked_text}: walked");
            same_outcomes(&fast, &walked, &records, union);
        }
        // Not decided by names: one branch, a branch that checks more, too many names.
        for union in [
            r#"{"oneOf": [{"required": ["a"]}]}"#,
            r#"{"oneOf": [{"required": ["a"]}, {"required": ["b"], "properties": {"b": {"type": "string"}}}]}"#,
            r#"{"anyOf": [{"required": ["a"]}, {"required": ["b"], "additionalProperties": false}]}"#,
        ] {
            let s = Schema::from_json_text(union).unwrap();
            let logic = s.root.logic.as_ref().unwrap();
            assert!(
                logic.one_of_names.is_none() && logic.any_of_names.is_none(),
                "{union}"
            );
        }
        let many: Vec<String> = (0..65)
            .map(|i| format!(r#"{{"required": ["n{i}"]}}"#))
            .collect();
        let s = Schema::from_json_text(&format!(r#"{{"oneOf": [{}]}}"#, many.join(","))).unwrap();
        assert!(s.root.logic.as_ref().unwrap().one_of_names.is_none());
        let s =
            Schema::from_json_text(&format!(r#"{{"oneOf": [{}]}}"#, many[..64].join(","))).unwrap();
        assert!(s.root.logic.as_ref().unwrap().one_of_names.is_some());
    }

    /// An `allOf` of `if`/`then` probing one property gives the verdicts and the errors (in
    /// order, with their instance paths and messages) of the same branches each wrapped in
    /// an `allOf` of one, which are visited one by one.
    #[test]
    fn all_of_probes_give_the_verdicts_and_errors_of_each_branch() {
        let branches = [
            r#"{"if": {"properties": {"type": {"const": "a"}}}, "then": {"required": ["x"]}}"#,
            r#"{"if": {"properties": {"type": {"const": "b"}}, "required": ["type"]}, "then": {"properties": {"x": {"type": "string"}}}, "else": {"properties": {"y": {"type": "integer"}}}}"#,
            r#"{"type": "object", "if": {"properties": {"type": {"const": "c"}}}, "then": {"required": ["z"]}}"#,
            r#"{"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["k"]}}"#,
            r#"{"if": {"properties": {"type": {"enum": ["a", "d"]}}}, "then": {"properties": {"x": {"maximum": 3}}}}"#,
            r#"{"if": {"properties": {"type": {"minLength": 3}}}, "then": {"required": ["w"]}}"#,
            r#"{"if": {"anyOf": [{"properties": {"type": {"const": "e"}}}, {"properties": {"type": {"const": "f"}}}]}, "else": {"maxProperties": 3}}"#,
        ];
        let fast_text = format!(r#"{{"allOf": [{}]}}"#, branches.join(", "));
        let wrapped: Vec<String> = branches
            .iter()
            .map(|b| format!(r#"{{"allOf": [{b}]}}"#))
            .collect();
        let walked_text = format!(r#"{{"allOf": [{}]}}"#, wrapped.join(", "));
        let nested = |text: &str| format!(r#"{{"properties": {{"n": {text}}}, "items": {text}}}"#);
        let records = [
            "{}",
            r#"{"type": "a"}"#,
            r#"{"type": "a", "x": 5}"#,
            r#"{"type": "a", "x": "s", "y": "t"}"#,
            r#"{"type": "b", "x": 1}"#,
            r#"{"type": "b", "x": "s", "y": "t"}"#,
            r#"{"type": "c"}"#,
            r#"{"type": "d", "x": 4, "w": 1}"#,
            r#"{"type": "e", "a": 1, "b": 2, "c": 3}"#,
            r#"{"type": 1, "x": 9}"#,
            r#"{"type": null, "y": "t"}"#,
            r#"{"type": "long", "y": 1}"#,
            r#"{"type": "a", "type": "b", "x": 1}"#,
            r#"{"kind": "a", "type": "b"}"#,
            r#"{"y": 1.5, "a": 1, "b": 2, "c": 3}"#,
            r#"{"n": {"type": "a"}}"#,
            r#"[{"type": "c"}, {"type": "b", "y": "t"}, 7]"#,
            "[]",
            "1",
            r#""a""#,
        ];
        for (fast_text, walked_text) in [
            (fast_text.clone(), walked_text.clone()),
            (nested(&fast_text), nested(&walked_text)),
        ] {
            let fast = Schema::from_json_text(&fast_text).unwrap();
            let walked = Schema::from_json_text(&walked_text).unwrap();
            let probes = |s: &Schema| {
                let root = &s.root;
                let logic = root.logic.as_ref().or_else(|| {
                    let n = root.object.as_ref()?.properties.first()?.node.as_ref()?;
                    n.logic.as_ref()
                });
                logic
                    .and_then(|l| l.all_of_probes.as_ref())
                    .map(|p| p.probed.to_vec())
            };
            // The branches probing `type` with `then`/`else` only (not the typed one, the
            // one probing `kind`, or the `if` that is no probe).
            let expected = vec![true, true, false, false, true, false, true];
            assert_eq!(probes(&fast), Some(expected), "{fast_text}");
            assert_eq!(probes(&walked), None, "{walked_text}");
            same_outcomes(&fast, &walked, &records, &fast_text);
        }
        // One probing branch is not enough.
        let one = Schema::from_json_text(&format!(
            r#"{{"allOf": [{}, {}]}}"#,
            branches[0], branches[3]
        ))
        .unwrap();
        assert!(one.root.logic.as_ref().unwrap().all_of_probes.is_none());
    }

    /// A branch's kinds come from its `type` and those of the nodes it must also pass.
    #[test]
    fn branch_kinds_follow_types_references_and_all_of() {
        let schema = Schema::from_json_text(
            r##"{
                "$defs": {"obj": {"type": "object"},
                          "int": {"allOf": [{"type": "integer"}, {"type": ["integer", "string"]}]}},
                "oneOf": [{"type": "string"}, {"$ref": "#/$defs/obj"}, {"$ref": "#/$defs/int"},
                          {"type": ["number", "null"]}, false, {}, {"minimum": 1},
                          {"type": "string", "allOf": [{"type": "array"}]}]
            }"##,
        )
        .unwrap();
        let logic = schema.root.logic.as_ref().unwrap();
        let tags = Tags::of(&schema, &logic.one_of);
        assert_eq!(tags.kinds, [4, 16, 32, 33, 0, 127, 127, 0]);
        let untyped =
            Schema::from_json_text(r#"{"anyOf": [{"maximum": 5}, {"minimum": 1}]}"#).unwrap();
        let logic = untyped.root.logic.as_ref().unwrap();
        assert!(Tags::of(&untyped, &logic.any_of).kinds.is_empty());
    }

    /// An `anyOf` with a branch that accepts everything (`{}`, `true`, annotations only)
    /// checks nothing and is dropped (unless `unevaluated*` reads its branches'
    /// annotations: `check::tests::an_any_of_with_a_branch_that_accepts_everything`).
    #[test]
    fn an_any_of_that_accepts_everything_checks_nothing() {
        for text in [
            r#"{"properties": {"a": {"type": "string"}}, "anyOf": [{"oneOf": [{"required": ["x"]}, {"required": ["y"]}]}, {}]}"#,
            r#"{"properties": {"a": {"type": "string"}}, "anyOf": [{"required": ["x"]}, true]}"#,
            r#"{"properties": {"a": {"type": "string"}}, "anyOf": [{"required": ["x"]}, {"description": "any"}]}"#,
        ] {
            let schema = Schema::from_json_text(text).unwrap();
            assert!(schema.root.logic.is_none(), "{text}");
            for (record, valid) in [
                (r#"{"a": "s"}"#, true),
                (r#"{"x": 1, "y": 2}"#, true),
                (r#"{"a": 1}"#, false),
            ] {
                let value = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
                assert_eq!(
                    super::super::is_valid(&schema, &&value),
                    valid,
                    "{text} {record}"
                );
                assert_eq!(
                    crate::fused::verdict(&schema, record.as_bytes()),
                    Some(valid),
                    "{text} {record}"
                );
            }
        }
        // A `false` branch and a branch with checks do not accept everything.
        let kept = Schema::from_json_text(r#"{"anyOf": [{"required": ["x"]}, false]}"#).unwrap();
        assert_eq!(kept.root.logic.as_ref().unwrap().any_of.len(), 2);
        // A broken branch is still a schema error.
        assert!(Schema::from_json_text(r#"{"anyOf": [{"minimum": "1"}, {}]}"#).is_err());
    }

    /// The branches a tag picks by its hash are, once asked, those a walk asking
    /// every branch keeps: tags of strings (one shared by two branches), of a number, an
    /// untagged branch, a tagged one that does not require the tag; an absent tag, a
    /// tag that is no string, values that are no objects; a union past 64 branches.
    #[test]
    fn tag_picks_keep_the_candidates_of_a_walk_over_every_branch() {
        use crate::json::parse_value;
        for n in [20, 70] {
            let mut branches: Vec<String> = (0..n)
                .map(|i| {
                    format!(
                        r#"{{"properties": {{"type": {{"const": "t{i}"}}}}, "required": ["type"]}}"#
                    )
                })
                .collect();
            branches[5] =
                r#"{"properties": {"type": {"const": "t3"}}, "required": ["type"]}"#.into();
            branches[7] = r#"{"properties": {"type": {"const": 7}}, "required": ["type"]}"#.into();
            branches[9] = r#"{"minProperties": 1}"#.into();
            branches[11] = r#"{"properties": {"type": {"const": "opt"}}}"#.into();
            let text = format!(r#"{{"oneOf": [{}]}}"#, branches.join(", "));
            let schema = Schema::from_json_text(&text).unwrap();
            let logic = schema.root.logic.as_ref().unwrap();
            let tags = Tags::of(&schema, &logic.one_of);
            assert_eq!(tags.name.as_deref(), Some("type"));
            for record in [
                r#"{"type": "t3"}"#,
                r#"{"type": "t19"}"#,
                r#"{"type": "t65"}"#,
                r#"{"type": "opt"}"#,
                r#"{"type": "nothing"}"#,
                r#"{"type": 7}"#,
                r#"{"type": 7.0}"#,
                r#"{"type": null}"#,
                r#"{"type": ["t3"]}"#,
                r#"{}"#,
                r#"{"other": 1}"#,
                r#""t3""#,
                r#"[1]"#,
            ] {
                let parsed = parse_value(record.as_bytes(), 64).unwrap();
                let value = &parsed;
                let tag = tags.read(&value);
                let text = tag.as_ref().and_then(Tags::text);
                let absent = tags.absent(&value, tag.as_ref());
                let kept = |i: &usize| !tags.rejects(*i, tag.as_ref(), text, absent, 0);
                let every: Vec<usize> = (0..n).filter(kept).collect();
                let picked: Vec<usize> = tags
                    .candidates(n, tag.is_some(), text, absent)
                    .filter(kept)
                    .collect();
                assert_eq!(picked, every, "{n} branches, {record}");
            }
            // The picks do narrow a string tag down (not every branch asked).
            let parsed = parse_value(br#"{"type": "t3"}"#, 64).unwrap();
            let tag = tags.read(&&parsed);
            let text = tag.as_ref().and_then(Tags::text);
            let asked = tags.candidates(n, true, text, false).count();
            assert_eq!(asked, if n <= 64 { 4 } else { n }, "{n} branches"); // 3, 5, 7, 9
        }
    }

    /// The tag name counted in one pass is the one that counting each name over every
    /// branch finds (the most branches; of as many, the first met), on lists with ties,
    /// a name given twice by one branch, branches without tags; and a union of 16,000
    /// tagged branches gets its tag and each branch's value.
    #[test]
    fn the_tag_name_counted_in_one_pass_is_the_pairwise_one() {
        use crate::value::Json;
        fn pairwise<'s>(per_branch: &[Vec<(&'s str, &Json<'static>)>]) -> Option<(&'s str, usize)> {
            let mut best: Option<(&str, usize)> = None;
            for tags in per_branch {
                for &(name, _) in tags {
                    let count = per_branch
                        .iter()
                        .filter(|t| t.iter().any(|&(n, _)| n == name))
                        .count();
                    if best.is_none_or(|(_, c)| count > c) {
                        best = Some((name, count));
                    }
                }
            }
            best
        }
        let value = Json::Null;
        let names = ["a", "b", "c", "d", "e"];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % m) as usize
        };
        for _ in 0..2000 {
            let n = next(9);
            let per_branch: Vec<Vec<(&str, &Json<'static>)>> = (0..n)
                .map(|_| (0..next(4)).map(|_| (names[next(5)], &value)).collect())
                .collect();
            assert_eq!(
                super::most_tagging(&per_branch),
                pairwise(&per_branch),
                "{per_branch:?}"
            );
        }
        let n = 16_000;
        let branches: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"properties": {{"kind": {{"const": "k{i}"}}, "v": {{"const": {i}}}}}, "required": ["kind"]}}"#
                )
            })
            .collect();
        let text = format!(r#"{{"oneOf": [{}]}}"#, branches.join(", "));
        let schema = Schema::from_json_text(&text).unwrap();
        let tags = Tags::of(&schema, &schema.root.logic.as_ref().unwrap().one_of);
        assert_eq!(tags.name.as_deref(), Some("kind"));
        assert_eq!(tags.values.len(), n);
        for (i, v) in tags.values.iter().enumerate() {
            assert!(
                matches!(v, Some(Json::String(s)) if *s == format!("k{i}")),
                "{i}"
            );
        }
        assert!(tags.requires.iter().all(|&r| r));
    }

    /// An `allOf` of at least four `{"not": {"pattern": p}}` gets one pattern of them all;
    /// fewer branches, another keyword anywhere in a branch or a backtracking pattern, none.
    #[test]
    fn an_all_of_of_not_patterns_gets_one_pattern() {
        let merged = |branches: &str| {
            let text = format!(r#"{{"allOf": [{branches}]}}"#);
            let schema = Schema::from_json_text(&text).unwrap();
            let logic = schema.root.logic.as_ref().unwrap();
            logic
                .all_of_patterns
                .as_ref()
                .map(|p| p.as_str().to_owned())
        };
        let four = r#"{"not": {"pattern": "^a$"}}, {"not": {"pattern": "b|c"}},
                      {"not": {"pattern": "\\d"}}, {"not": {"pattern": "^$"}}"#;
        assert_eq!(
            merged(four).as_deref(),
            Some(r"(?:^a$)|(?:b|c)|(?:\d)|(?:^$)")
        );
        let three = r#"{"not": {"pattern": "^a$"}}, {"not": {"pattern": "b"}},
                       {"not": {"pattern": "c"}}"#;
        assert_eq!(merged(three), None);
        for other in [
            r#"{"not": {"pattern": "d", "minLength": 1}}"#,
            r#"{"not": {"pattern": "d"}, "type": "string"}"#,
            r#"{"not": {"pattern": "d", "format": "email"}}"#,
            r#"{"not": {"pattern": "(?=d)"}}"#,
            r#"{"not": {"pattern": "d", "not": {}}}"#,
            r#"{"not": {"minLength": 2}}"#,
            r#"{"pattern": "d"}"#,
        ] {
            assert_eq!(merged(&format!("{three}, {other}")), None, "{other}");
        }
    }
}
