//! The checks, written once against [`Record`] and run two ways: `is_valid`
//! (stops at the first failure, allocates nothing unless `revisit` remembers) and
//! `collect` (every error, with its path). Both are the same code, monomorphised
//! over a [`Sink`].
//!
//! One module per keyword family holds its compiled form, its `compile`
//! (called by the schema compiler) and its check: `string`, `number`, `array`,
//! `object`, `logic` (references and applicators), `equal` (`const`, `enum`)
//! and `type_` (`type`). The checks every node starts with (`type`, `const`,
//! `enum`) are in [`check_here`], here; `revisit` keeps a record's walk linear where
//! references reach one node at one value along many paths.

pub(crate) mod array;
#[cfg(test)]
mod counted;
pub mod equal;
pub(crate) mod logic;
pub(crate) mod names;
pub(crate) mod number;
pub(crate) mod object;
mod revisit;
pub(crate) mod string;
pub mod type_;

pub use equal::Enum;
pub(crate) use revisit::every_visit;
pub use revisit::remember_every_visit;
pub(crate) use revisit::First;
use revisit::{Revisits, Visit};
pub use string::char_count as char_count_pub;

use std::borrow::Cow;
use std::fmt::Write;
use std::hash::{BuildHasher, RandomState};
use std::ops::ControlFlow;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{push_index, Path, RecordError};
use crate::schema::{types, Node, Schema};
use crate::value::{Defect, EntryKey, Kind, Number, Record, MAX_DEPTH, MAX_EXPONENT};

/// Where failures go. `'s` is the schema's lifetime: a sink may keep the
/// location of the node being checked without copying it.
pub trait Sink<'s> {
    /// Keeps nothing but whether a failure happened: the checks may then test
    /// in any order (only the verdict is seen), and take the cheapest.
    const VERDICT_ONLY: bool = false;

    /// Keeps only the first failure, with its message (explaining a branch of
    /// an `anyOf`/`oneOf`): the walk stops there, so an `anyOf`/`oneOf` walks
    /// its branches once for both their verdicts and their first failures.
    const FIRST_ONLY: bool = false;

    /// Reports one failure, its message written by `message` at the end of the
    /// string it is given (a sink that keeps the message writes it where it
    /// keeps it: no string of its own); `Break` stops the walk.
    fn fail_with(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce(&mut String),
    ) -> ControlFlow<()>;

    /// [`Sink::fail_with`] for a message made as a string of its own.
    #[inline]
    fn fail(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    ) -> ControlFlow<()> {
        self.fail_with(path, keyword, |out| out.push_str(&message()))
    }

    /// The checks enter the node at `location`; returns what [`Sink::leave`] restores.
    #[inline]
    fn enter(&mut self, _location: &'s str) -> &'s str {
        ""
    }

    #[inline]
    fn leave(&mut self, _previous: &'s str) {}

    /// How many failures it was told of (repeats and those past a cap included): a walk
    /// that returns `Continue` failed if this grew. 0 for a sink that stops at its
    /// first failure (its walk breaks instead).
    #[inline]
    fn failures(&self) -> usize {
        0
    }

    /// Whether it holds the errors of a walk of `visit` at `path` already (see
    /// [`revisit`]): they would all be repeats.
    #[inline]
    fn walked(&self, _visit: &Visit, _path: &Path<'_>) -> bool {
        false
    }

    /// Notes that it holds the errors of the failed walk of `visit` at `path`.
    #[inline]
    fn mark_walked(&mut self, _visit: Visit, _path: &Path<'_>) {}

    /// A failure whose errors it holds (a walk [`Sink::walked`] skipped): counted only.
    #[inline]
    fn fail_again(&mut self) {}

    /// How many of its failures were [`Sink::fail_again`]'s: walks skipped, no errors.
    #[inline]
    fn skipped(&self) -> usize {
        0
    }

    /// `failures` found without a walk: a failed walk remembered at another path (one
    /// Python container held twice), whose errors it holds at that path; its `errors`
    /// (the failures but the walks it skipped) counted among those past the cap, not
    /// listed again.
    #[inline]
    fn count_failures(&mut self, _failures: usize, _errors: usize) {}

    /// Whether it lists no more errors (it holds as many as it may): what it is told of
    /// now is only counted.
    #[inline]
    fn full(&self) -> bool {
        false
    }

    /// For a sink that keeps only the first failure ([`Sink::FIRST_ONLY`]): that failure.
    #[inline]
    fn first(&self) -> Option<First> {
        None
    }

    /// For a sink that keeps only the first failure: takes `first`, remembered from a
    /// walk of the value at `path`, as if the walk had found it again.
    #[inline]
    fn fail_first(&mut self, _first: &First, _path: &Path<'_>) -> ControlFlow<()> {
        ControlFlow::Break(())
    }
}

/// The bytes to set aside for a message of `keyword`: most fit in 96; an
/// `anyOf`/`oneOf` explanation quotes its branches' reasons and ran to 150-300
/// (growing the string measured as a share of a failing record of a union).
#[inline]
pub(crate) fn message_capacity(keyword: &str) -> usize {
    match keyword {
        "oneOf" | "anyOf" => 320,
        _ => 96,
    }
}

/// Stops at the first failure and remembers only that there was one.
#[derive(Default)]
pub struct FirstFailure {
    pub failed: bool,
}

impl Sink<'_> for FirstFailure {
    const VERDICT_ONLY: bool = true;

    #[inline]
    fn fail_with(
        &mut self,
        _: &Path<'_>,
        _: &'static str,
        _: impl FnOnce(&mut String),
    ) -> ControlFlow<()> {
        self.failed = true;
        ControlFlow::Break(())
    }

    #[inline]
    fn fail(
        &mut self,
        _: &Path<'_>,
        _: &'static str,
        _: impl FnOnce() -> String,
    ) -> ControlFlow<()> {
        self.failed = true;
        ControlFlow::Break(())
    }
}

/// Records every failure of record `index`, while `errors` is shorter than
/// `cap`; past it, only counts them in `omitted` (no message, no path built).
///
/// A failure the record already has (the same node reached again at the same
/// value: an `allOf` of references to one definition, a `$ref` beside the
/// properties it also declares) is kept once: identical errors said nothing more,
/// and a schema whose `allOf`s of 12 references nest 6 deep made 3 million of one
/// error for one field (1.2 GB), 12 more for each level.
pub struct Collect<'e, 's> {
    pub index: usize,
    pub errors: &'e mut Vec<RecordError>,
    /// The location of the node being checked, borrowed from the schema: a
    /// schema path is formatted only for an error.
    pub at: &'s str,
    cap: usize,
    omitted: usize,
    /// Where this record's errors start in `errors`.
    first: usize,
    /// Past [`Collect::LISTED`] errors of this record, their hashes (see [`Seen`]).
    seen: Option<Box<Seen>>,
    /// Failures reported, repeats and those past the cap included.
    failures: usize,
    /// Of them, walks skipped as repeats ([`Sink::fail_again`]).
    skipped: usize,
    /// The failed walks of shared nodes whose errors it holds, by the visit and the
    /// path as a pointer (one Python object may lie at two paths).
    walked: Option<Box<FxHashSet<(Visit, String)>>>,
    /// The record's revisits, where its walk may loop (see [`Collect::add_loop`]).
    loops: Option<&'e Revisits>,
}

/// A record's errors by the hash of their text, keyed (SipHash, as `HashMap`'s: the
/// texts quote the record, and crafted ones must not collide), to find repeats: where
/// the first of each hash is (others are found by a scan).
struct Seen {
    state: RandomState,
    /// The hashes are random already: hashed again, cheaply.
    by_hash: FxHashMap<u64, usize>,
}

impl<'e> Collect<'e, '_> {
    /// The error of the [`revisit::Looped`] chain the walk it watches met (see
    /// [`Collect::watching`]), if it met one: the walk stopped there, in whatever branch,
    /// and no sink was told.
    fn add_loop(&mut self) {
        let Some(l) = self.loops.and_then(Revisits::looped) else {
            return;
        };
        self.failures += 1;
        if self.full() {
            self.omitted = self.omitted.saturating_add(1);
            return;
        }
        let schema_path = format!("{}/{}", l.location, l.keyword);
        let (text, path_end, message_end) =
            crate::error::one_string(&l.pointer, &too_many_hops(), &schema_path);
        self.errors.push(RecordError::from_parts(
            self.index,
            l.keyword,
            text,
            path_end,
            message_end,
        ));
    }

    pub fn new(index: usize, errors: &'e mut Vec<RecordError>) -> Self {
        Self::capped(index, errors, usize::MAX)
    }

    /// Collects until `errors` holds `cap` errors, then counts.
    pub fn capped(index: usize, errors: &'e mut Vec<RecordError>, cap: usize) -> Self {
        let first = errors.len();
        Collect {
            index,
            errors,
            at: "",
            cap,
            omitted: 0,
            first,
            seen: None,
            failures: 0,
            skipped: 0,
            walked: None,
            loops: None,
        }
    }

    /// Told of no failure once the walk that counts `revisits` has looped: what fails
    /// after is only the walk stopping, in whatever branch (a `not` of the loop reads
    /// as passing).
    fn watching(mut self, schema: &Schema, revisits: Option<&'e Revisits>) -> Self {
        if schema.may_loop {
            self.loops = revisits;
        }
        self
    }

    /// A record's errors compared one by one up to this many; past it, by hash.
    const LISTED: usize = 16;

    /// Whether the record already has the error that `keyword` and `text` make (cut at
    /// `path_end` and `message_end`), which it is about to get otherwise.
    #[inline(never)]
    fn repeats(&mut self, keyword: &str, text: &str, path_end: usize, message_end: usize) -> bool {
        let mine = &self.errors[self.first..];
        if mine.len() < Self::LISTED {
            return mine
                .iter()
                .any(|e| e.is(keyword, text, path_end, message_end));
        }
        self.repeats_by_hash(keyword, text, path_end, message_end)
    }

    /// [`Collect::repeats`] for a record with many errors: by their hashes.
    #[cold]
    #[inline(never)]
    fn repeats_by_hash(
        &mut self,
        keyword: &str,
        text: &str,
        path_end: usize,
        message_end: usize,
    ) -> bool {
        let first = self.first;
        let errors = &*self.errors;
        let seen = self.seen.get_or_insert_with(|| {
            let state = RandomState::new();
            let mine = &errors[first..];
            let mut by_hash =
                FxHashMap::with_capacity_and_hasher(4 * mine.len(), Default::default());
            for (i, e) in mine.iter().enumerate() {
                let (_, keyword, text, path_end, message_end) = e.parts();
                let h = state.hash_one((keyword, text, path_end, message_end));
                by_hash.entry(h).or_insert(first + i);
            }
            Box::new(Seen { state, by_hash })
        });
        let h = seen.state.hash_one((keyword, text, path_end, message_end));
        let same = |e: &RecordError| e.is(keyword, text, path_end, message_end);
        match seen.by_hash.get(&h) {
            None => {
                seen.by_hash.insert(h, errors.len());
                false
            }
            Some(&i) if same(&errors[i]) => true,
            // Another error of the same hash: the exact answer by a scan.
            Some(_) => errors[first..].iter().any(same),
        }
    }
}

impl<'s> Sink<'s> for Collect<'_, 's> {
    fn fail_with(
        &mut self,
        path: &Path<'_>,
        keyword: &'static str,
        message: impl FnOnce(&mut String),
    ) -> ControlFlow<()> {
        if self.loops.is_some_and(|r| r.looped().is_some()) {
            return ControlFlow::Break(());
        }
        self.failures += 1;
        if self.full() {
            self.omitted = self.omitted.saturating_add(1);
            return ControlFlow::Continue(());
        }
        // Path, message and schema path written by hand into one string, sized
        // for most errors at once (`format!`, a string per part and the string
        // growing measured as most of a failing record's cost).
        let own = !matches!(keyword, "false" | "json" | "depth");
        let schema_len = self.at.len() + if own { 1 + keyword.len() } else { 0 };
        let mut text =
            String::with_capacity(16 * path.segments() + message_capacity(keyword) + schema_len);
        path.write_pointer(&mut text);
        let path_end = text.len();
        message(&mut text);
        let message_end = text.len();
        text.push_str(self.at);
        if own {
            text.push('/');
            text.push_str(keyword);
        }
        if self.errors.len() > self.first && self.repeats(keyword, &text, path_end, message_end) {
            return ControlFlow::Continue(());
        }
        self.errors.push(RecordError::from_parts(
            self.index,
            keyword,
            text,
            path_end,
            message_end,
        ));
        ControlFlow::Continue(())
    }

    #[inline]
    fn enter(&mut self, location: &'s str) -> &'s str {
        std::mem::replace(&mut self.at, location)
    }

    #[inline]
    fn leave(&mut self, previous: &'s str) {
        self.at = previous;
    }

    #[inline]
    fn failures(&self) -> usize {
        self.failures
    }

    fn walked(&self, visit: &Visit, path: &Path<'_>) -> bool {
        self.walked
            .as_ref()
            .is_some_and(|walked| walked.contains(&(*visit, path.to_pointer())))
    }

    fn mark_walked(&mut self, visit: Visit, path: &Path<'_>) {
        self.walked
            .get_or_insert_with(Box::default)
            .insert((visit, path.to_pointer()));
    }

    fn fail_again(&mut self) {
        self.failures += 1;
        self.skipped += 1;
    }

    #[inline]
    fn skipped(&self) -> usize {
        self.skipped
    }

    fn count_failures(&mut self, failures: usize, errors: usize) {
        self.failures = self.failures.saturating_add(failures);
        self.skipped = self.skipped.saturating_add(failures.saturating_sub(errors));
        self.omitted = self.omitted.saturating_add(errors);
    }

    #[inline]
    fn full(&self) -> bool {
        self.errors.len() >= self.cap
    }
}

/// References followed in place (without descending into the value) before
/// checking gives up; compiling already rejects static cycles.
pub const MAX_HOPS: u32 = 256;

/// The error of a chain of more than [`MAX_HOPS`] references followed in place.
fn too_many_hops() -> String {
    format!(
        "References nest deeper than {MAX_HOPS} levels without descending into the value: \
         checking gives up there (references that lead back to where they started never \
         finish)"
    )
}

/// What a check needs besides the node and the value: the schema (for the
/// targets of references), the dynamic scope (the schema resources entered, for
/// `$dynamicRef`) or the record's revisits, and how many references were followed
/// in place.
#[derive(Clone, Copy)]
pub struct Cx<'s, 'd> {
    pub schema: &'s Schema,
    scope: Option<&'d Scope<'d>>,
    hops: u32,
    /// The nodes with references or combinators the walk is in (see
    /// [`crate::stack::low`]); in the padding after `hops`.
    nest: u32,
}

// Three words: a fourth cost 2% of the instructions on netlify's records.
const _: () = assert!(std::mem::size_of::<Cx<'static, 'static>>() == 24);

/// The dynamic scope as a linked list on the stack, innermost first. Each link holds
/// the record's visits of shared nodes (see [`revisit`]): there, so that [`Cx`] stays
/// three words (a fourth cost 2% of the instructions on netlify's records). Only a
/// schema with dynamic references enters resources, and only those that declare a
/// dynamic anchor, once each (see [`Scope::adds`]); the root enters none
/// ([`Scope::NO_RESOURCE`]).
pub struct Scope<'a> {
    resource: u32,
    /// The resources numbered below 64 linked here and outwards, as bits: whether one
    /// is in scope, without a walk (see [`Scope::adds`]).
    linked: u64,
    parent: Option<&'a Scope<'a>>,
    revisits: Option<&'a Revisits>,
}

impl<'a> Scope<'a> {
    /// The resource of a root: none entered.
    const NO_RESOURCE: u32 = u32::MAX;

    /// A record's root, for its revisits (see [`Revisits::of`]).
    fn root(revisits: &'a Revisits) -> Scope<'a> {
        Scope {
            resource: Self::NO_RESOURCE,
            linked: 0,
            parent: None,
            revisits: Some(revisits),
        }
    }

    /// `resource` entered.
    #[inline]
    fn enter(resource: u32, parent: Option<&'a Scope<'a>>) -> Scope<'a> {
        Scope {
            resource,
            linked: parent.map_or(0, |p| p.linked) | 1u64.checked_shl(resource).unwrap_or(0),
            parent,
            revisits: parent.and_then(|p| p.revisits),
        }
    }

    /// Whether entering `resource` with `at` in scope changes what a dynamic reference
    /// resolves to (the outermost resource in scope that declares its anchor): only a
    /// resource that declares a dynamic anchor, entered for the first time. Others are
    /// not linked, so that the scope holds each resource with anchors once: a recursive
    /// schema entered its resource at each level, and each dynamic reference looked the
    /// anchor up in every one (a record 127 levels deep, 40 times the time of `$ref`).
    #[inline]
    fn adds(at: Option<&Scope<'_>>, resource: u32, schema: &Schema) -> bool {
        let anchors = &schema.resources[resource as usize].dynamic_anchors;
        if anchors.is_empty() {
            return false;
        }
        match at {
            Some(scope) if resource < 64 => scope.linked & (1 << resource) == 0,
            _ => Scope::resources(at).all(|r| r != resource as usize),
        }
    }

    /// The part of the dynamic scope from `at` outwards that resolving a dynamic
    /// reference reads: it takes the outermost resource in scope that declares its
    /// anchor, so what counts is the resources of `schema` that declare one, outermost
    /// first, each where it was first entered (a recursive schema enters its resource at
    /// each level: one entry, not the depth).
    pub(crate) fn part(at: Option<&Scope<'_>>, schema: &Schema) -> Vec<u32> {
        let mut entered: Vec<u32> = Scope::resources(at)
            .filter(|&r| !schema.resources[r].dynamic_anchors.is_empty())
            .map(|r| r as u32)
            .collect();
        entered.reverse();
        let mut part: Vec<u32> = Vec::new();
        for r in entered {
            if !part.contains(&r) {
                part.push(r);
            }
        }
        part
    }

    /// The resource this link entered (none at a root).
    #[inline(always)]
    fn resource(&self) -> Option<usize> {
        (self.resource != Self::NO_RESOURCE).then_some(self.resource as usize)
    }

    /// The resources entered, innermost first.
    pub(crate) fn resources<'b>(mut at: Option<&'b Scope<'b>>) -> impl Iterator<Item = usize> + 'b {
        std::iter::from_fn(move || loop {
            let scope = at?;
            at = scope.parent;
            if scope.resource != Self::NO_RESOURCE {
                return Some(scope.resource as usize);
            }
        })
    }
}

impl<'s, 'd> Cx<'s, 'd> {
    /// The context of a walk from a record's root (`root` from [`Scope::root`], for a
    /// schema whose walks have revisits).
    pub fn new(schema: &'s Schema, root: Option<&'d Scope<'d>>) -> Self {
        Cx {
            schema,
            scope: root,
            hops: 0,
            nest: 0,
        }
    }

    /// The record's visits of shared nodes, if its walks count them.
    #[inline(always)]
    fn revisits(&self) -> Option<&'d Revisits> {
        self.scope?.revisits
    }

    /// The scope of a property name's walk (see [`Cx::for_key`]): the dynamic scope
    /// kept, with `revisits` of its own.
    #[inline]
    fn key_scope<'k>(&self, revisits: Option<&'k Revisits>) -> Option<Scope<'k>>
    where
        'd: 'k,
    {
        match self.scope {
            Some(scope) if self.schema.dynamic => Some(Scope {
                resource: scope.resource,
                linked: scope.linked,
                parent: scope.parent,
                revisits,
            }),
            _ => revisits.map(Scope::root),
        }
    }

    /// The context for a property name, checked as a string made for that check and
    /// dropped: its address may be the next name's, so its walk remembers in a scope of
    /// its own (`scope`, from [`Cx::key_scope`]).
    #[inline]
    fn for_key<'k>(self, scope: Option<&'k Scope<'k>>) -> Cx<'s, 'k>
    where
        'd: 'k,
    {
        Cx {
            hops: 0,
            scope,
            ..self
        }
    }

    /// The context inside a node with references or combinators, and `self` again where
    /// the walk should go on from there on a new segment of stack (see
    /// [`crate::stack::low`]: it starts again there).
    #[inline(always)]
    fn nested(self) -> (Self, Option<Self>) {
        let inner = Cx {
            nest: self.nest.wrapping_add(1),
            ..self
        };
        (inner, crate::stack::low(inner.nest).then_some(self))
    }

    /// The context for a child value (an item, a property).
    #[inline]
    fn descend(self) -> Self {
        Cx { hops: 0, ..self }
    }
}

/// Whether `record` is valid, without building anything.
#[inline]
pub fn is_valid<R: Record>(schema: &Schema, record: &R) -> bool {
    let mut sink = FirstFailure::default();
    let revisits = Revisits::of::<R>(schema);
    let root = revisits.as_ref().map(Scope::root);
    let _ = check(
        &schema.root,
        record,
        &Path::Root,
        0,
        Cx::new(schema, root.as_ref()),
        &mut sink,
    );
    !sink.failed && !looped(schema, revisits.as_ref())
}

/// Whether the walk of `schema` that counted `revisits` met a [`revisit::Looped`] chain.
#[inline]
fn looped(schema: &Schema, revisits: Option<&Revisits>) -> bool {
    schema.may_loop && revisits.is_some_and(|r| r.looped().is_some())
}

/// Whether `value`, found `depth` levels down a record, passes `node` (a node of
/// `schema` that does not depend on the dynamic scope).
#[inline]
pub fn node_is_valid<'s, R: Record>(
    schema: &'s Schema,
    node: &'s Node,
    value: &R,
    depth: usize,
) -> bool {
    let mut sink = FirstFailure::default();
    let revisits = Revisits::of::<R>(schema);
    let root = revisits.as_ref().map(Scope::root);
    let cx = Cx::new(schema, root.as_ref());
    let _ = check(node, value, &Path::Root, depth, cx, &mut sink);
    !sink.failed && !looped(schema, revisits.as_ref())
}

/// Whether `value`, at `path` in its record, passes `node` in context `cx` (the path is
/// where a loop met in the walk is reported).
#[inline]
pub(crate) fn valid_in<'s, R: Record>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
) -> bool {
    let mut sink = FirstFailure::default();
    let _ = check(node, value, path, depth, cx, &mut sink);
    !sink.failed
}

/// A value for a message: at most 40 characters, then `...` and the length.
pub fn shorten(s: &str) -> Cow<'_, str> {
    // At most 40 bytes: at most 40 characters (most messages and names).
    if s.len() <= 40 {
        return Cow::Borrowed(s);
    }
    match string::nth_char_start(s, 40) {
        None => Cow::Borrowed(s),
        Some(cut) => Cow::Owned(format!(
            "{}... ({} characters)",
            &s[..cut],
            string::char_count(s)
        )),
    }
}

/// The longest received value a message shows, in characters, before it is cut.
const SHOWN_CHARS: usize = 40;

/// A received value for a message: compact JSON, cut after [`SHOWN_CHARS`]
/// characters (a long string also says its length). Linear in what it shows:
/// the walk stops once the text is long enough.
pub(crate) fn received<R: Record>(value: &R) -> String {
    let mut out = String::new();
    push_received(&mut out, value);
    out
}

/// Appends [`received`] to `out`: messages are written piece by piece into one
/// string (`format!` and the strings of its arguments measured as most of
/// the cost of a failing record's error).
pub(crate) fn push_received<R: Record>(out: &mut String, value: &R) {
    let kind = value.kind();
    match kind {
        Kind::String => {
            if let Some(s) = value.as_str() {
                return push_quoted(out, s);
            }
        }
        Kind::Null => return out.push_str("null"),
        Kind::Bool => return out.push_str(if value.as_bool() { "true" } else { "false" }),
        _ => {}
    }
    // Written in place, then cut: no string of its own (its allocation and growth
    // measured as a visible share of a failing record's `not` error). The walk stops
    // once the text is long enough.
    let start = out.len();
    if kind == Kind::Number {
        // Shortened by its own rule (a long integer: its first 40 digits, `...` and its
        // digit count, as `maximum` says it): cut again here, the count was lost.
        return push_number(out, &value.as_number());
    }
    let _ = write_record(value, out, start + SHOWN_CHARS * 4);
    let written = &out[start..];
    if string::nth_char_start(written, SHOWN_CHARS).is_some() {
        let keep =
            string::nth_char_start(written, SHOWN_CHARS - 3).map_or(out.len(), |i| start + i);
        out.truncate(keep);
        out.push_str("...");
    }
}

/// Appends `n` as its `Display` writes it; an `i64` without the formatter
/// (most numbers in messages are).
pub(crate) fn push_number(out: &mut String, n: &Number) {
    match n {
        Number::Int(i) => {
            if *i < 0 {
                out.push('-');
            }
            match usize::try_from(i.unsigned_abs()) {
                Ok(magnitude) => push_index(out, magnitude),
                Err(_) => {
                    let _ = write!(out, "{}", i.unsigned_abs());
                }
            }
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// A string for a message: JSON-quoted, cut after [`SHOWN_CHARS`] characters
/// with its length stated.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(64) + 2);
    push_quoted(&mut out, s);
    out
}

/// Appends [`quoted`] to `out`.
pub(crate) fn push_quoted(out: &mut String, s: &str) {
    match string::nth_char_start(s, SHOWN_CHARS) {
        None => push_json_string(out, s),
        Some(cut) => {
            push_json_string(out, &s[..cut]);
            out.push_str("... (");
            push_index(out, string::char_count(s));
            out.push_str(" characters)");
        }
    }
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it (`"`,
/// `\\` and the control characters), without a string of its own.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII: `i` and `i + 1` are character boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Writes `value` as compact JSON until `out` is longer than `limit` bytes
/// (`Break` then).
fn write_record<R: Record>(value: &R, out: &mut String, limit: usize) -> ControlFlow<()> {
    if out.len() > limit {
        return ControlFlow::Break(());
    }
    match value.kind() {
        Kind::Null => out.push_str("null"),
        Kind::Bool => out.push_str(if value.as_bool() { "true" } else { "false" }),
        Kind::Number => push_number(out, &value.as_number()),
        Kind::String => match value.as_str() {
            Some(s) => {
                let shown = s
                    .char_indices()
                    .nth(SHOWN_CHARS + 1)
                    .map_or(s, |(cut, _)| &s[..cut]);
                push_json_string(out, shown);
            }
            None => out.push('?'),
        },
        Kind::Array => {
            out.push('[');
            value.for_each_item(|i, item| {
                if i > 0 {
                    out.push_str(", ");
                }
                write_record(item, out, limit)
            })?;
            out.push(']');
        }
        Kind::Object => {
            out.push('{');
            let mut first = true;
            value.for_each_entry(|key, item| {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                match key {
                    EntryKey::Str(k) => {
                        let shown = k
                            .char_indices()
                            .nth(SHOWN_CHARS + 1)
                            .map_or(k, |(cut, _)| &k[..cut]);
                        push_json_string(out, shown);
                        out.push_str(": ");
                        write_record(item, out, limit)
                    }
                    // The compact form of a Python dict keeps no value under such a key.
                    EntryKey::NotString(repr) => {
                        out.push_str(&shorten(&repr));
                        out.push_str(": ...");
                        ControlFlow::Continue(())
                    }
                    EntryKey::InvalidString => {
                        out.push_str("?: ...");
                        ControlFlow::Continue(())
                    }
                }
            })?;
            out.push('}');
        }
        Kind::Unsupported => out.push_str(&value.type_name()),
    }
    ControlFlow::Continue(())
}

/// Whether a string passes the string keywords of a node.
#[inline]
pub fn string_is_valid(checks: &crate::schema::StringChecks, s: &str) -> bool {
    let mut sink = FirstFailure::default();
    let _ = string::check_str(checks, s, &Path::Root, &mut sink);
    !sink.failed
}

/// Whether a number passes the number keywords of a node.
#[inline]
pub fn number_is_valid(checks: &crate::schema::NumberChecks, n: &crate::value::Number) -> bool {
    let mut sink = FirstFailure::default();
    let _ = number::check(checks, n, &Path::Root, &mut sink);
    !sink.failed
}

/// Appends every error of `record` (number `index` of the input) to `errors`.
pub fn collect<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    errors: &mut Vec<RecordError>,
) {
    let revisits = Revisits::of::<R>(schema);
    let mut sink = Collect::new(index, errors).watching(schema, revisits.as_ref());
    let root = revisits.as_ref().map(Scope::root);
    let _ = check(
        &schema.root,
        record,
        &Path::Root,
        0,
        Cx::new(schema, root.as_ref()),
        &mut sink,
    );
    sink.add_loop();
}

/// Validates one record: the cheap path first, errors only for a failing record.
/// Returns whether it is valid.
#[cfg(test)]
pub fn validate<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    errors: &mut Vec<RecordError>,
) -> bool {
    let mut omitted = 0;
    validate_capped(schema, record, index, errors, usize::MAX, &mut omitted)
}

/// [`validate`], collecting errors only while `errors` is shorter than `cap`;
/// the errors past it are counted in `omitted`, their messages never built.
#[inline]
pub fn validate_capped<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    errors: &mut Vec<RecordError>,
    cap: usize,
    omitted: &mut usize,
) -> bool {
    if is_valid(schema, record) {
        return true;
    }
    let found_none = collect_capped(schema, record, index, errors, cap, omitted);
    debug_assert!(!found_none, "is_valid and collect disagree");
    false
}

/// The collecting walk alone: appends the errors of `record` as
/// [`validate_capped`] does and returns whether it found none (the same verdict
/// as [`is_valid`]). One walk instead of two for a record known or expected to
/// fail; a valid record costs more this way than through [`is_valid`].
#[inline]
pub fn collect_capped<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    errors: &mut Vec<RecordError>,
    cap: usize,
    omitted: &mut usize,
) -> bool {
    let before = errors.len();
    let revisits = Revisits::of::<R>(schema);
    let mut sink = Collect::capped(index, errors, cap).watching(schema, revisits.as_ref());
    let root = revisits.as_ref().map(Scope::root);
    let _ = check(
        &schema.root,
        record,
        &Path::Root,
        0,
        Cx::new(schema, root.as_ref()),
        &mut sink,
    );
    sink.add_loop();
    let counted = sink.omitted;
    *omitted = omitted.saturating_add(counted);
    errors.len() == before && counted == 0
}

/// `1 item`, `2 items`, `1 property`, `0 properties`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    let mut out = String::with_capacity(noun.len() + 8);
    push_plural(&mut out, n, noun);
    out
}

/// Appends [`plural`] to `out`.
pub(crate) fn push_plural(out: &mut String, n: usize, noun: &str) {
    push_index(out, n);
    out.push(' ');
    match (n, noun.strip_suffix('y')) {
        (1, _) => out.push_str(noun),
        (_, Some(stem)) => {
            out.push_str(stem);
            out.push_str("ies");
        }
        _ => {
            out.push_str(noun);
            out.push('s');
        }
    }
}

/// Appends `` `string` `` or `` one of `integer`, `string` `` to `out`.
pub(crate) fn push_type_names(out: &mut String, bits: u8) {
    // Each name has a bit of its own: the bits count the names.
    if bits.count_ones() == 1 {
        // One name (most `type`s): its quoted form in one piece.
        const QUOTED: [&str; 7] = [
            "`null`",
            "`boolean`",
            "`integer`",
            "`number`",
            "`string`",
            "`array`",
            "`object`",
        ];
        if let Some(quoted) = QUOTED.get(bits.trailing_zeros() as usize) {
            return out.push_str(quoted);
        }
    }
    if bits.count_ones() > 1 {
        out.push_str("one of ");
    }
    let mut first = true;
    for (name, b) in types::NAMES {
        if bits & b == 0 {
            continue;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
}

/// The checks of `node` on `value`. A leaf whose only check is `type` and a value
/// of an allowed kind (most of a record's values) passes here, inlined where the
/// walk reaches it: the full visit is a call and a dozen flag reads (a tenth to
/// a fifth of the time of a record of plain strings).
#[inline(always)]
pub(crate) fn check<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.types_only && depth <= MAX_DEPTH && has_allowed_kind(node.types, value) {
        return ControlFlow::Continue(());
    }
    check_node(node, value, path, depth, cx, sink)
}

/// Whether `value` passes `type` (`types` bits), read without building a number.
#[inline(always)]
fn has_allowed_kind<R: Record>(types: u8, value: &R) -> bool {
    match value.kind() {
        Kind::Null => types & types::NULL != 0,
        Kind::Bool => types & types::BOOLEAN != 0,
        // A string's only defect (see [`Record::defect`]).
        Kind::String => types & types::STRING != 0 && value.is_valid_unicode(),
        Kind::Array => types & types::ARRAY != 0,
        Kind::Object => types & types::OBJECT != 0,
        // NaN and the infinities are not JSON numbers (a defect of their own); an
        // integer is finite.
        Kind::Number => {
            (types & types::NUMBER != 0 && value.is_finite_number())
                || (types & types::INTEGER != 0 && value.is_integer_number())
        }
        Kind::Unsupported => false,
    }
}

#[inline(never)]
fn check_node<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.ref_alone {
        return through_refs(node, value, path, depth, cx, sink);
    }
    if node.trivial {
        return ControlFlow::Continue(());
    }
    visit(node, value, path, depth, cx, sink)
}

/// [`check_node`] for a node that is only a reference: the chain followed, its end
/// remembered if shared. Apart, so that the visit of every other node carries none of
/// it (in `check_node`, the path to `remembered` cost 1.3% of the instructions on the
/// records of a schema with no reference; apart, 0.7% less than before it).
#[inline(never)]
fn through_refs<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let (node, cx, shared) = skip_refs(node, cx);
    if node.trivial {
        return ControlFlow::Continue(());
    }
    if shared {
        if let Some(revisits) = cx.revisits().filter(|r| r.tick()) {
            return revisit::remembered(revisits, node, value, path, depth, cx, sink);
        }
    }
    visit(node, value, path, depth, cx, sink)
}

/// The checks of `node` (not a chain of references, not trivial) on `value`.
///
/// A container of a record whose values may be shared ([`Record::MAY_SHARE`]) is
/// counted, and past the count its verdict remembered by node and container (see
/// [`revisit`]): a Python container held twice, at each of 60 levels, is reached along
/// 2**60 paths, under any schema that descends that deep (nested `items`, definitions
/// one after another, a recursive one). Counted by its entries: a list holding one
/// list 300 times, three deep, made 65,536 visits of 300 entries each before
/// remembering, and failed at every one.
#[inline(always)]
fn visit<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let kind = value.kind();
    // A record's root is reached at depth 0 alone: never along two paths.
    if R::MAY_SHARE && depth > 0 && matches!(kind, Kind::Object | Kind::Array) {
        if let Some(revisits) = cx.revisits() {
            let entries = if kind == Kind::Object {
                value.object_len()
            } else {
                value.array_len()
            };
            if revisits.tick_value(entries) {
                return revisit::remembered(revisits, node, value, path, depth, cx, sink);
            }
        }
    }
    visit_kind(node, value, kind, path, depth, cx, sink)
}

/// [`visit`] without counting, `kind` the value's.
#[inline(always)]
pub(super) fn visit_kind<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    kind: Kind,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    let previous = sink.enter(&node.location);
    // A number is read once, here, and borrowed by the checks: `Number` owns heap
    // variants, whose drop glue (an out-of-line call) would otherwise run at
    // the end of every node's checks, numbers or not.
    let flow = if kind == Kind::Number {
        let n = value.as_number();
        check_here(node, value, Kind::Number, Some(&n), path, depth, cx, sink)
    } else {
        check_here(node, value, kind, None, path, depth, cx, sink)
    };
    sink.leave(previous);
    flow
}

/// The node a chain of nodes that hold only a static `$ref` leads to, the
/// references counted in `cx` as [`logic::check`] counts them. Such a node
/// (`{"$ref": ...}`, often a property's whole schema) reports nothing itself: going
/// straight to its target skips a node's checks per reference (a tenth of a
/// record on schemas made of definitions). A reference past [`MAX_HOPS`] is left
/// to [`logic::check`], which reports it.
/// Also says whether it reached a shared node ([`Node::revisited`]: tested here, on
/// the way through references, not on every visit).
#[inline(always)]
fn skip_refs<'s, 'd>(mut node: &'s Node, mut cx: Cx<'s, 'd>) -> (&'s Node, Cx<'s, 'd>, bool) {
    let mut shared = false;
    while let Some(target) = node.static_target() {
        if cx.schema.dynamic && node.resource.is_some() {
            break; // a dynamic reference may look for the resource it starts
        }
        if cx.hops >= MAX_HOPS {
            break;
        }
        cx.hops += 1;
        node = &cx.schema.nodes[target];
        shared = node.revisited;
    }
    (node, cx, shared)
}

/// [`check`] for the target of a reference: a shared one may be remembered.
#[inline(always)]
fn check_target<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.revisited {
        if let Some(revisits) = cx.revisits().filter(|r| r.tick()) {
            return revisit::remembered(revisits, node, value, path, depth, cx, sink);
        }
    }
    check(node, value, path, depth, cx, sink)
}

/// The checks of one node; `kind` is the value's, `number` the value when it is one.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn check_here<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    kind: Kind,
    number: Option<&Number>,
    path: &Path<'_>,
    depth: usize,
    cx: Cx<'s, '_>,
    sink: &mut S,
) -> ControlFlow<()> {
    if node.always_false {
        return sink.fail(path, "false", || {
            format!("No value is allowed here, got {}", received(value))
        });
    }
    if depth > MAX_DEPTH || (depth == MAX_DEPTH && matches!(kind, Kind::Object | Kind::Array)) {
        // A recursive schema follows a record as deep as it goes: stop where a
        // converted record would have stopped, and where JSON text would have: a
        // container inside 128 others is its 129th level (a Python record one
        // level deeper than the same record as text passed).
        return sink.fail(path, "depth", || {
            format!("Nesting deeper than {MAX_DEPTH} levels")
        });
    }
    let scope;
    // `dynamic` first: the node's `resource` lies in another cache line than its flags.
    let resource = if cx.schema.dynamic {
        node.resource
            .filter(|&r| Scope::adds(cx.scope, r, cx.schema))
    } else {
        None
    };
    let cx = match resource {
        Some(resource) => {
            scope = Scope::enter(resource, cx.scope);
            Cx {
                scope: Some(&scope),
                ..cx
            }
        }
        None => cx,
    };
    // Only strings and unsupported values can have a defect (see [`Record::defect`]).
    if matches!(kind, Kind::String | Kind::Unsupported) {
        if let Some(defect) = value.defect() {
            return match defect {
                Defect::TooDeep => sink.fail(path, "depth", || {
                    format!("Nesting deeper than {MAX_DEPTH} levels")
                }),
                Defect::InvalidString => {
                    sink.fail(path, "json", || "String is not valid Unicode".to_string())
                }
            };
        }
        if kind == Kind::Unsupported {
            return sink.fail(path, "json", || {
                format!("Expected a JSON value, got `{}`", value.type_name())
            });
        }
    }
    if let Some(n) = number {
        if !n.is_finite() {
            return sink.fail(path, "json", || unreadable_number(n));
        }
    }
    if node.types != 0 {
        let matches = match kind {
            Kind::Null => node.types & types::NULL != 0,
            Kind::Bool => node.types & types::BOOLEAN != 0,
            Kind::String => node.types & types::STRING != 0,
            Kind::Array => node.types & types::ARRAY != 0,
            Kind::Object => node.types & types::OBJECT != 0,
            Kind::Number => {
                node.types & types::NUMBER != 0
                    || (node.types & types::INTEGER != 0 && number.is_some_and(Number::is_integer))
            }
            Kind::Unsupported => false,
        };
        if !matches {
            sink.fail_with(path, "type", |m| {
                m.push_str("Expected ");
                push_type_names(m, node.types);
                m.push_str(", got `");
                m.push_str(&value.type_name());
                m.push('`');
                if matches!(kind, Kind::Bool | Kind::Number | Kind::String) {
                    m.push(' ');
                    push_received(m, value);
                }
            })?;
        }
    }
    if node.equality {
        if let Some(flow) = check_equality(node, value, path, depth, sink) {
            return flow;
        }
    }
    match kind {
        // A string that is not valid Unicode was reported above, as a defect.
        Kind::String => {
            if let Some(checks) = &node.string {
                string::check(checks, value, path, sink)?;
            }
        }
        Kind::Number => {
            if let (Some(checks), Some(n)) = (&node.number, number) {
                number::check(checks, n, path, sink)?;
            }
        }
        // A level of the value: where a walk without combinators nests (see
        // `crate::stack`; looked at every few levels, not at a record's root).
        Kind::Array => {
            if let Some(checks) = &node.array {
                crate::stack::at_level(depth as u32 + 1, || {
                    array::check(checks, value, path, depth, cx, sink)
                })?;
            }
        }
        Kind::Object => {
            if let Some(checks) = &node.object {
                crate::stack::at_level(depth as u32 + 1, || {
                    object::check(checks, value, path, depth, cx, sink)
                })?;
            }
        }
        _ => {}
    }
    match &node.logic {
        Some(logic) => logic::check(node, logic, value, path, depth, cx, sink),
        None => ControlFlow::Continue(()),
    }
}

/// For a value that `const` or `enum` found equal to none of its values: the `json`
/// errors of the values JSON cannot hold inside it, which stand for the keyword's error
/// (the keyword read the value whole, and such a value equals no value of a schema).
/// `None` when it holds none, or when only the verdict is kept (it is the same).
fn non_json_inside<'s, R: Record, S: Sink<'s>>(
    value: &R,
    path: &Path<'_>,
    depth: usize,
    sink: &mut S,
) -> Option<ControlFlow<()>> {
    if S::VERDICT_ONLY {
        return None;
    }
    let mut found = 0;
    match equal::report_non_json(value, path, depth, &mut found, sink) {
        ControlFlow::Break(equal::Cut::Stopped) => Some(ControlFlow::Break(())),
        _ if found > 0 => Some(ControlFlow::Continue(())),
        _ => None,
    }
}

/// The message of a `json` error on a number no check reads (see [`Number::is_finite`]).
#[cold]
fn unreadable_number(n: &Number) -> String {
    match n {
        Number::OutOfRange(_) => {
            format!("Numbers with an exponent beyond ±{MAX_EXPONENT} are not supported, got `{n}`")
        }
        _ => format!("`{n}` is not a JSON number"),
    }
}

/// `const` and `enum` (see [`Node::equality`]): `Some(flow)` when the node's checks end
/// here with `flow` (a value too deep to compare, or a sink that stops at its first failure).
fn check_equality<'s, R: Record, S: Sink<'s>>(
    node: &'s Node,
    value: &R,
    path: &Path<'_>,
    depth: usize,
    sink: &mut S,
) -> Option<ControlFlow<()>> {
    let too_deep = || format!("Nesting deeper than {MAX_DEPTH} levels");
    if let Some(expected) = &node.const_value {
        let flow = match equal::equal(value, &expected, depth) {
            Ok(true) => ControlFlow::Continue(()),
            Ok(false) => match non_json_inside(value, path, depth, sink) {
                Some(flow) => flow,
                None => sink.fail_with(path, "const", |m| {
                    m.push_str("Expected ");
                    equal::push_short_repr(m, expected);
                    m.push_str(", got ");
                    push_received(m, value);
                }),
            },
            Err(equal::TooDeep) => sink.fail(path, "depth", too_deep),
        };
        if flow.is_break() {
            return Some(flow);
        }
    }
    if let Some(options) = &node.enum_values {
        let found = match options.contains(value, depth) {
            Ok(found) => found,
            Err(equal::TooDeep) => return Some(sink.fail(path, "depth", too_deep)),
        };
        if !found {
            let flow = match non_json_inside(value, path, depth, sink) {
                Some(flow) => flow,
                None => sink.fail_with(path, "enum", |m| {
                    m.push_str(options.message_start());
                    if !options.is_empty() {
                        push_received(m, value);
                    }
                }),
            };
            if flow.is_break() {
                return Some(flow);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::error::RecordError;
    use crate::json::parse_value;
    use crate::schema::Schema;
    use crate::value::MAX_DEPTH;

    fn messages(schema: &str, record: &str) -> Vec<(&'static str, String)> {
        let schema = Schema::from_json_text(schema).unwrap();
        let record = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
        let mut errors: Vec<RecordError> = Vec::new();
        super::validate(&schema, &&record, 0, &mut errors);
        errors
            .into_iter()
            .map(|e| (e.keyword, e.message().to_string()))
            .collect()
    }

    /// A walk nests past its thread's stack only on segments of its own (`crate::stack`):
    /// 45 nested `allOf`s around a definition reached again at each of 126 levels of a
    /// record (some 6,000 nested nodes) on a thread of 256 KiB. The 2 MiB of a pool
    /// thread overflowed before (SIGSEGV).
    #[test]
    fn a_deep_walk_fits_a_small_stack() {
        let mut node =
            r##"{"type": "object", "properties": {"c": {"$ref": "#/$defs/d"}}}"##.to_string();
        for _ in 0..45 {
            node = format!(r#"{{"allOf": [{node}, {{"type": "object"}}]}}"#);
        }
        let schema = format!(r##"{{"$ref": "#/$defs/d", "$defs": {{"d": {node}}}}}"##);
        let schema = Schema::from_json_text(&schema).unwrap();
        let valid = format!("{}{{}}{}", r#"{"c": "#.repeat(126), "}".repeat(126));
        let invalid = format!("{}1{}", r#"{"c": "#.repeat(126), "}".repeat(126));
        let verdicts = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                [valid, invalid].map(|text| {
                    let value = parse_value(text.as_bytes(), MAX_DEPTH).unwrap();
                    let mut errors: Vec<RecordError> = Vec::new();
                    (
                        super::is_valid(&schema, &&value),
                        super::validate(&schema, &&value, 0, &mut errors),
                        errors.len(),
                        crate::fused::is_valid(&schema, text.as_bytes()),
                    )
                })
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(verdicts, [(true, true, 0, true), (false, false, 46, false)]);
    }

    /// Every error of `record`: (path, keyword, message, schema path).
    fn errors(schema: &Schema, record: &str) -> Vec<(String, &'static str, String, String)> {
        let record = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
        let mut errors: Vec<RecordError> = Vec::new();
        let valid = super::validate(schema, &&record, 0, &mut errors);
        assert_eq!(valid, errors.is_empty());
        assert_eq!(super::is_valid(schema, &&record), valid);
        errors
            .into_iter()
            .map(|e| {
                (
                    e.path().to_string(),
                    e.keyword,
                    e.message().to_string(),
                    e.schema_path().to_string(),
                )
            })
            .collect()
    }

    /// A branch of `oneOf`/`anyOf` whose `type` (or that of what it references or
    /// must also pass) excludes the value's kind is not walked for the verdict; the
    /// verdicts and the explanations are those of walking every branch.
    #[test]
    fn branches_of_another_type_give_the_verdicts_and_messages_of_a_walk() {
        let schema = Schema::from_json_text(
            r##"{
                "$defs": {"obj": {"type": "object", "required": ["a"]},
                          "int": {"allOf": [{"type": "integer"}, {"minimum": 2}]}},
                "properties": {
                    "one": {"oneOf": [{"type": "string"}, {"type": "array", "maxItems": 1},
                                      {"$ref": "#/$defs/obj"}, {"$ref": "#/$defs/int"},
                                      {"type": ["number", "null"], "maximum": 1.5}]},
                    "any": {"anyOf": [{"type": "string", "minLength": 2}, {"$ref": "#/$defs/int"},
                                      false, {"type": "boolean", "const": true}]}
                }
            }"##,
        )
        .unwrap();
        let cases = [
            (r#"{"one": "x", "any": "xy"}"#, vec![]),
            (r#"{"one": [1], "any": 3}"#, vec![]),
            (r#"{"one": {"a": 1}, "any": true}"#, vec![]),
            (r#"{"one": 3, "any": 1}"#, vec![("/any", "anyOf")]),
            (r#"{"one": 1, "any": 2}"#, vec![]),
            (r#"{"one": 2, "any": 2.5}"#, vec![("/any", "anyOf")]),
            (r#"{"one": 1.2, "any": false}"#, vec![("/any", "anyOf")]),
            (r#"{"one": null, "any": null}"#, vec![("/any", "anyOf")]),
            (
                r#"{"one": [1, 2], "any": "x"}"#,
                vec![("/one", "oneOf"), ("/any", "anyOf")],
            ),
            (
                r#"{"one": {}, "any": {}}"#,
                vec![("/one", "oneOf"), ("/any", "anyOf")],
            ),
            (r#"{"one": true}"#, vec![("/one", "oneOf")]),
        ];
        for (record, want) in cases {
            let got = errors(&schema, record);
            let got: Vec<(&str, &str)> = got.iter().map(|e| (e.0.as_str(), e.1)).collect();
            assert_eq!(got, want, "{record}");
        }
        // Every failing branch is still explained (none is left out as of another type).
        let got = errors(&schema, r#"{"one": true}"#);
        assert_eq!(
            got[0].2,
            "No branch of `oneOf` matched: 0: Expected `string`, got `boolean` true; \
             1: Expected `array`, got `boolean` true; 2: Expected `object`, got `boolean` true; \
             3: Expected `integer`, got `boolean` true; 1 more"
        );
    }

    /// A tagged union whose tag leaves one candidate (or none) has that branch
    /// walked once by a collecting sink, for its verdict and its reason: the
    /// verdicts and messages are those of walking it for the verdict, then for the
    /// reason (these messages were written by that walk), nested or not, for
    /// `oneOf` and `anyOf`, and a union that passes inside a failing record reports
    /// nothing.
    #[test]
    fn a_tagged_unions_only_candidate_gives_the_verdict_and_the_reason_of_two_walks() {
        let schema = Schema::from_json_text(
            r##"{
                "$defs": {
                    "a": {"type": "object", "required": ["kind", "n"], "additionalProperties": false,
                          "properties": {"kind": {"const": "a"}, "n": {"type": "integer"}}},
                    "b": {"type": "object", "required": ["kind"], "additionalProperties": false,
                          "properties": {"kind": {"const": "b"}, "s": {"type": "string"}}},
                    "inner": {"oneOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}]},
                    "c": {"allOf": [{"required": ["kind"], "properties": {
                        "kind": {"const": "c"},
                        "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}}}]},
                    "item": {"oneOf": [{"$ref": "#/$defs/inner"}, {"$ref": "#/$defs/c"}]},
                    "any": {"anyOf": [
                        {"properties": {"kind": {"const": "a"}}, "required": ["kind"], "minProperties": 2},
                        {"properties": {"kind": {"const": "z"}}}]}
                },
                "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                               "other": {"type": "string"}, "any": {"$ref": "#/$defs/any"}}
            }"##,
        )
        .unwrap();
        let one_of = |path: &str, message: &str| {
            (
                path.to_string(),
                "oneOf",
                format!("No branch of `oneOf` matched: {message}"),
                "/properties/items/items/$ref/oneOf".to_string(),
            )
        };
        let cases = [
            (
                r#"{"items": [{"kind": "a", "n": 1}, {"kind": "b"}], "other": 5}"#,
                vec![(
                    "/other".to_string(),
                    "type",
                    "Expected `string`, got `integer` 5".to_string(),
                    "/properties/other/type".to_string(),
                )],
            ),
            (
                r#"{"items": [{"kind": "b", "s": 1}, {"kind": "q"}, {"n": 1}]}"#,
                vec![
                    one_of(
                        "/items/0",
                        "0: no branch of `oneOf` matched (1: at `/items/0/s`: Expected `string`, \
                         got `integer` 1; 1 other requires another `kind`); \
                         1: at `/items/0/kind`: Expected \"c\", got \"b\"",
                    ),
                    one_of(
                        "/items/1",
                        "0: no branch of `oneOf` matched (none allows `kind` \"q\"); \
                         1: at `/items/1/kind`: Expected \"c\", got \"q\"",
                    ),
                    one_of(
                        "/items/2",
                        "0: no branch of `oneOf` matched (every branch requires `kind`); \
                         1: Missing required property `kind`",
                    ),
                ],
            ),
            (
                r#"{"items": [{"kind": "c", "items": [{"kind": "a"}]}]}"#,
                vec![one_of(
                    "/items/0",
                    "0: no branch of `oneOf` matched (none allows `kind` \"c\"); \
                     1: at `/items/0/items/0`: no branch of `oneOf` matched (0: no branch of \
                     `oneOf` matched (0: Missing required property `n`; 1 other requires another \
                     `kind`); 1: at `/items/0/items/0/kind`: Expected \"c\", got \"a\")",
                )],
            ),
            (
                r#"{"any": {"kind": "a"}}"#,
                vec![(
                    "/any".to_string(),
                    "anyOf",
                    "No branch of `anyOf` matched: 0: Object has fewer than 2 properties, \
                     got 1; 1 other requires another `kind`"
                        .to_string(),
                    "/properties/any/$ref/anyOf".to_string(),
                )],
            ),
            (
                r#"{"any": {"kind": "q"}}"#,
                vec![(
                    "/any".to_string(),
                    "anyOf",
                    "No branch of `anyOf` matched: none allows `kind` \"q\"".to_string(),
                    "/properties/any/$ref/anyOf".to_string(),
                )],
            ),
            (r#"{"any": {"kind": "z", "x": 1}}"#, vec![]),
        ];
        for (record, want) in cases {
            assert_eq!(errors(&schema, record), want, "{record}");
        }
    }

    /// Nodes that are only a `$ref` are passed straight to their target: the
    /// errors, their paths and schema paths are those of the target's checks (a
    /// target's schema path is where it was first reached: `z` reports through `x`).
    #[test]
    fn chains_of_references_report_at_their_target() {
        let schema = Schema::from_json_text(
            r##"{
                "$defs": {
                    "a": {"$ref": "#/$defs/b", "description": "only a reference"},
                    "b": {"$ref": "#/$defs/c"},
                    "c": {"type": "string", "minLength": 2},
                    "d": {"$ref": "#/$defs/c", "maxLength": 3}
                },
                "properties": {
                    "x": {"$ref": "#/$defs/a"},
                    "y": {"$ref": "#/$defs/d"},
                    "z": {"items": {"$ref": "#/$defs/a"}},
                    "w": {"anyOf": [{"$ref": "#/$defs/b"}, {"type": "null"}]},
                    "v": {"not": {"$ref": "#/$defs/a"}}
                }
            }"##,
        )
        .unwrap();
        assert_eq!(
            errors(
                &schema,
                r##"{"x": "ab", "y": "abc", "z": ["ab"], "w": null}"##
            ),
            []
        );
        let s = |x: &str| x.to_string();
        assert_eq!(
            errors(
                &schema,
                r##"{"x": 1, "y": "abcd", "z": ["ab", "a"], "w": 2, "v": "ab"}"##
            ),
            [
                (s("/x"), "type", s("Expected `string`, got `integer` 1"), s("/properties/x/$ref/$ref/$ref/type")),
                (s("/y"), "maxLength", s("String longer than 3 characters, got \"abcd\""), s("/properties/y/$ref/maxLength")),
                (s("/z/1"), "minLength", s("String shorter than 2 characters, got \"a\""), s("/properties/x/$ref/$ref/$ref/minLength")),
                (s("/w"), "anyOf", s("No branch of `anyOf` matched: 0: Expected `string`, got `integer` 2; 1: Expected `null`, got `integer` 2"), s("/properties/w/anyOf")),
                (s("/v"), "not", s("Value is valid against the `not` schema, got \"ab\""), s("/properties/v/not")),
            ]
        );
    }

    /// A chain of more references in place than a walk follows (`MAX_HOPS`) is refused
    /// when compiled (the dict path failed such a record, the JSON text path passed it);
    /// a chain of `MAX_HOPS` is followed to its end.
    #[test]
    fn a_reference_chain_past_the_hop_limit_is_refused() {
        let chain = |n: usize| {
            let defs: Vec<String> = (0..n)
                .map(|i| match i + 1 {
                    next if next < n => format!(r##""d{i}": {{"$ref": "#/$defs/d{next}"}}"##),
                    _ => format!(r##""d{i}": {{"type": "string"}}"##),
                })
                .collect();
            Schema::from_json_text(&format!(
                r##"{{"$defs": {{{}}}, "$ref": "#/$defs/d0"}}"##,
                defs.join(", ")
            ))
        };
        let refused = chain(super::MAX_HOPS as usize + 1).unwrap_err().to_string();
        assert!(
            refused.starts_with("references followed one after another"),
            "{refused}"
        );
        assert!(
            refused.ends_with("are more than 256: refused, as a loop is (at the root)"),
            "{refused}"
        );
        // Reached through references in place, its location is shortened (it repeated
        // `/allOf/0/$ref` 257 times).
        let defs: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    r##""a{i}": {{"allOf": [{{"$ref": "#/$defs/a{}"}}]}}"##,
                    i + 1
                )
            })
            .chain([r#""a300": {"type": "integer"}"#.to_string()])
            .collect();
        let refused = Schema::from_json_text(&format!(
            r##"{{"$defs": {{{}}}, "$ref": "#/$defs/a0"}}"##,
            defs.join(", ")
        ))
        .unwrap_err()
        .to_string();
        assert!(refused.ends_with("steps)"), "{refused}");
        assert!(refused.len() < 400, "{refused}");
        let longest = chain(super::MAX_HOPS as usize).unwrap();
        let found = errors(&longest, "1");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0.as_str(), found[0].1), ("", "type"));
        assert_eq!(found[0].3, format!("{}/type", "/$ref".repeat(256)));
        let short = Schema::from_json_text(
            r##"{"$defs": {"d0": {"$ref": "#/$defs/d1"}, "d1": {"type": "string"}}, "$ref": "#/$defs/d0"}"##,
        )
        .unwrap();
        assert_eq!(
            errors(&short, "1"),
            [(
                String::new(),
                "type",
                "Expected `string`, got `integer` 1".to_string(),
                "/$ref/$ref/type".to_string()
            )]
        );
    }

    #[test]
    fn bounds_beyond_usize_are_stated_as_written() {
        assert_eq!(
            messages(r#"{"minItems": 18446744073709551616}"#, "[1, 2]"),
            [(
                "minItems",
                "Array has fewer than 18446744073709551616 items, got 2".to_string()
            )]
        );
        assert_eq!(
            messages(r#"{"minProperties": 1e30}"#, "{}"),
            [(
                "minProperties",
                "Object has fewer than 1e+30 properties, got 0".to_string()
            )]
        );
        assert_eq!(
            messages(r#"{"minItems": 3}"#, "[1]"),
            [(
                "minItems",
                "Array has fewer than 3 items, got 1".to_string()
            )]
        );
        // Not `usize::MAX` (18446744073709551615), which the schema did not say.
        assert_eq!(
            messages(
                r#"{"minLength": 1000000000000000000000000000000}"#,
                r#""a""#
            ),
            [(
                "minLength",
                r#"String shorter than 1000000000000000000000000000000 characters, got "a""#
                    .to_string()
            )]
        );
        assert_eq!(
            messages(
                r#"{"minContains": 18446744073709551616, "contains": {}}"#,
                "[1]"
            ),
            [(
                "minContains",
                "Array has fewer than 18446744073709551616 items valid against `contains`"
                    .to_string()
            )]
        );
        assert_eq!(
            messages(
                r#"{"minLength": 2, "minContains": 2, "contains": {}}"#,
                "[1]"
            ),
            [(
                "minContains",
                "Array has fewer than 2 items valid against `contains`".to_string()
            )]
        );
        assert_eq!(
            messages(r#"{"minLength": 2}"#, r#""a""#),
            [(
                "minLength",
                r#"String shorter than 2 characters, got "a""#.to_string()
            )]
        );
    }

    /// `uniqueItems`, `const` and `enum` read values whole: what JSON cannot hold in them
    /// (as the compact form of a Python record holds it) is a `json` error at its path and
    /// is never compared (bytes and NaN equalled nothing, not even themselves, so their
    /// duplicates passed; two infinities were a `uniqueItems` error). Same verdicts without
    /// the errors.
    #[test]
    fn values_compared_whole_report_what_json_cannot_hold() {
        use crate::value::{Json, KeysOnce, Number};
        fn run(schema: &str, record: &Json<'_>) -> Vec<(String, &'static str, String)> {
            let schema = Schema::from_json_text(schema).unwrap();
            let mut errors: Vec<RecordError> = Vec::new();
            let valid = super::validate(&schema, &record, 0, &mut errors);
            assert_eq!(valid, errors.is_empty());
            assert_eq!(super::is_valid(&schema, &record), valid);
            errors
                .into_iter()
                .map(|e| (e.path().to_string(), e.keyword, e.message().to_string()))
                .collect()
        }
        let error = |path: &str, message: &str| (path.to_string(), "json", message.to_string());
        let bytes = || Json::Unsupported("bytes".to_string());
        let number = |f: f64| Json::Number(Number::Float(f));
        let unique = r#"{"uniqueItems": true}"#;
        let not_json = "Expected a JSON value, got `bytes`";
        assert_eq!(
            run(unique, &Json::Array(vec![bytes(), bytes()])),
            [error("/0", not_json), error("/1", not_json)]
        );
        assert_eq!(
            run(
                unique,
                &Json::Array(vec![number(f64::NAN), number(f64::NAN)])
            ),
            [
                error("/0", "`NaN` is not a JSON number"),
                error("/1", "`NaN` is not a JSON number")
            ]
        );
        assert_eq!(
            run(unique, &Json::Array(vec![number(f64::INFINITY); 2])),
            [
                error("/0", "`inf` is not a JSON number"),
                error("/1", "`inf` is not a JSON number")
            ]
        );
        // Read whole though the items differ before it; keys as the object checks say.
        let object = Json::Object(
            vec![
                ("a".into(), Json::InvalidString),
                ("1".into(), Json::InvalidKey("1".to_string())),
                ("".into(), Json::InvalidStringKey),
            ],
            KeysOnce::default(),
        );
        assert_eq!(
            run(
                unique,
                &Json::Array(vec![Json::Array(vec![Json::Null, object]), Json::Null])
            ),
            [
                error("/0/1/a", "String is not valid Unicode"),
                error("/0/1", "Object key `1` is not a string"),
                error("/0/1", "Object key is not valid Unicode"),
            ]
        );
        // Past a value too deep the walk of that item ends: the comparison decides.
        let cut = Json::Array(vec![Json::Array(vec![Json::TooDeep, bytes()]), Json::Null]);
        assert_eq!(run(unique, &cut), []);
        // One item: nothing is compared.
        assert_eq!(run(unique, &Json::Array(vec![bytes()])), []);
        let pair = Json::Array(vec![Json::Number(Number::Int(1)), bytes()]);
        assert_eq!(run(r#"{"const": [1, 2]}"#, &pair), [error("/1", not_json)]);
        assert_eq!(
            run(r#"{"enum": [[1, 2], 3]}"#, &pair),
            [error("/1", not_json)]
        );
        assert_eq!(
            run(
                r#"{"const": [1, 2]}"#,
                &Json::Array(vec![Json::Null, Json::Null])
            ),
            [(
                String::new(),
                "const",
                "Expected [1, 2], got [null, null]".to_string()
            )]
        );
    }

    /// A number whose exponent is beyond the ones kept exact is a `json` error where a
    /// check reads it, never a clamped value that equals another or is shown for it.
    #[test]
    fn numbers_out_of_range_are_json_errors() {
        let beyond = "Numbers with an exponent beyond ±1152921504606846976 are not supported";
        assert_eq!(
            messages(r#"{"type": "integer"}"#, "1e-99999999999999999999"),
            [("json", format!("{beyond}, got `1e-99999999999999999999`"))]
        );
        assert_eq!(
            messages(
                r#"{"uniqueItems": true}"#,
                "[1e1152921504606846976, 1e1152921504606846977]"
            ),
            [("json", format!("{beyond}, got `1e1152921504606846977`"))]
        );
        // At the bound: exact, and compared exactly.
        assert_eq!(
            messages(
                r#"{"uniqueItems": true}"#,
                "[1e1152921504606846976, 10e1152921504606846975, 1e1152921504606846975]"
            ),
            [(
                "uniqueItems",
                format!(
                    "Items 0 and 1 are equal, got 1{}... (1152921504606846977 digits) twice",
                    "0".repeat(39)
                )
            )]
        );
        let long = format!("1{}e-1152921504606846977", "0".repeat(100));
        assert_eq!(
            messages(r#"{"not": {"type": "string"}}"#, &long),
            [(
                "json",
                format!(
                    "{beyond}, got `1{}... ({} characters)`",
                    "0".repeat(39),
                    long.len()
                )
            )]
        );
        // Unread, as any value no check reads.
        assert_eq!(
            messages(r#"{"type": "array"}"#, "[1e1152921504606846977]"),
            []
        );
    }

    #[test]
    fn an_empty_enum_says_so() {
        assert_eq!(
            messages(r#"{"enum": []}"#, "1"),
            [("enum", "No value is allowed: `enum` is empty".to_string())]
        );
        assert_eq!(
            messages(r#"{"enum": [1, "a"]}"#, "2"),
            [("enum", r#"Expected one of 1, "a", got 2"#.to_string())]
        );
    }

    /// Integers are written without the formatter: as their `Display` writes
    /// them, and a received number past 40 characters is cut as before.
    #[test]
    fn numbers_are_written_as_display_writes_them() {
        use crate::value::Number;
        let numbers = [
            Number::Int(0),
            Number::Int(7),
            Number::Int(-1),
            Number::Int(1_000_000),
            Number::Int(i64::MIN),
            Number::Int(i64::MAX),
            Number::Float(1.5),
            Number::Float(-0.25),
            Number::Float(1e300),
        ];
        for n in &numbers {
            let mut out = String::from("<");
            super::push_number(&mut out, n);
            assert_eq!(out, format!("<{n}"));
        }
        assert_eq!(
            messages(r#"{"type": "string"}"#, "-9223372036854775808"),
            [(
                "type",
                "Expected `string`, got `integer` -9223372036854775808".to_string()
            )]
        );
        assert_eq!(
            messages(r#"{"type": "string"}"#, "1e300"),
            [("type", "Expected `string`, got `number` 1e300".to_string())]
        );
        assert_eq!(
            messages(r#"{"const": -12}"#, "[-3, 4.5, {\"k\": -7}]"),
            [(
                "const",
                r#"Expected -12, got [-3, 4.5, {"k": -7}]"#.to_string()
            )]
        );
    }

    #[test]
    fn messages_name_the_received_value() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                r#"{"type": "integer"}"#,
                r#""abc""#,
                "type",
                r#"Expected `integer`, got `string` "abc""#,
            ),
            (
                r#"{"type": "string"}"#,
                "1.5",
                "type",
                "Expected `string`, got `number` 1.5",
            ),
            (
                r#"{"type": "string"}"#,
                "[1]",
                "type",
                "Expected `string`, got `array`",
            ),
            (r#"{"const": 5}"#, "6", "const", "Expected 5, got 6"),
            (
                r#"{"const": [1]}"#,
                r#"{"a": [true, null]}"#,
                "const",
                r#"Expected [1], got {"a": [true, null]}"#,
            ),
            (
                r#"{"enum": ["a", "b"]}"#,
                r#""c""#,
                "enum",
                r#"Expected one of "a", "b", got "c""#,
            ),
            (
                r#"{"minLength": 3}"#,
                r#""ab""#,
                "minLength",
                r#"String shorter than 3 characters, got "ab""#,
            ),
            (
                r#"{"maxLength": 1}"#,
                r#""ab""#,
                "maxLength",
                r#"String longer than 1 character, got "ab""#,
            ),
            (
                r#"{"pattern": "^x"}"#,
                r#""y\n""#,
                "pattern",
                r#"String does not match `^x`, got "y\n""#,
            ),
            (
                r#"{"format": "email"}"#,
                r#""nope""#,
                "format",
                r#"String is not a valid `email`, got "nope""#,
            ),
            (
                r#"{"maxItems": 1}"#,
                "[1, 2]",
                "maxItems",
                "Array has more than 1 item, got 2",
            ),
            (
                r#"{"maxProperties": 0}"#,
                r#"{"a": 1}"#,
                "maxProperties",
                "Object has more than 0 properties, got 1",
            ),
            (
                r#"{"minProperties": 2}"#,
                r#"{"a": 1}"#,
                "minProperties",
                "Object has fewer than 2 properties, got 1",
            ),
        ];
        for (schema, record, keyword, message) in cases {
            assert_eq!(
                messages(schema, record),
                [(*keyword, (*message).to_string())],
                "{schema} {record}"
            );
        }
    }

    /// The messages are written piece by piece; these hold them to what
    /// `format!` and `serde_json` wrote before.
    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = (0u8..0x80)
            .map(|b| format!("a{}b", char::from(b)))
            .collect();
        cases.extend(
            [
                "",
                "plain",
                "\"q\"",
                "back\\slash",
                "é\u{1F600}\u{7f}\u{2028}",
                "\u{0}\u{1f}x",
            ]
            .iter()
            .map(|s| (*s).to_string()),
        );
        for case in &cases {
            let mut out = String::from("<");
            super::push_json_string(&mut out, case);
            assert_eq!(
                out,
                format!("<{}", serde_json::to_string(case).unwrap()),
                "{case:?}"
            );
        }
    }

    #[test]
    fn quoted_strings_cut_at_forty_characters() {
        assert_eq!(super::quoted("ab\n"), r#""ab\n""#);
        let forty = "é".repeat(40);
        assert_eq!(super::quoted(&forty), format!("\"{forty}\""));
        let long = format!("{forty}\"z");
        assert_eq!(
            super::quoted(&long),
            format!("\"{forty}\"... (42 characters)")
        );
        let mut out = String::from("got ");
        super::push_plural(&mut out, 2, "property");
        out.push(' ');
        super::push_plural(&mut out, 1, "item");
        out.push(' ');
        super::push_plural(&mut out, 0, "character");
        assert_eq!(out, "got 2 properties 1 item 0 characters");
    }

    /// A single type name comes from its own table: it agrees with `NAMES`.
    #[test]
    fn single_type_names_agree_with_the_names() {
        for (name, bit) in crate::schema::types::NAMES {
            let mut out = String::new();
            super::push_type_names(&mut out, bit);
            assert_eq!(out, format!("`{name}`"));
        }
        let mut out = String::new();
        super::push_type_names(&mut out, 1 | 64);
        assert_eq!(out, "one of `null`, `object`");
    }

    #[test]
    fn type_messages() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"{"type": ["integer", "string"]}"#,
                "true",
                "Expected one of `integer`, `string`, got `boolean` true",
            ),
            (
                r#"{"type": ["null", "array", "object"]}"#,
                "1.5",
                "Expected one of `null`, `array`, `object`, got `number` 1.5",
            ),
            (
                r#"{"type": "object"}"#,
                "null",
                "Expected `object`, got `null`",
            ),
            (
                r#"{"type": "object"}"#,
                "false",
                "Expected `object`, got `boolean` false",
            ),
            (
                r#"{"type": "null"}"#,
                "123456789012345678901234567890123456789012345",
                // (Up to 64 digits a number is shown whole; beyond, by its rule: see Number.)
                "Expected `null`, got `integer` 123456789012345678901234567890123456789012345",
            ),
            (
                r#"{"type": "null"}"#,
                &format!("1{}", "0".repeat(400)),
                &format!(
                    "Expected `null`, got `integer` 1{}... (401 digits)",
                    "0".repeat(39)
                ),
            ),
            (
                r#"{"type": "null"}"#,
                r#""tab\there \"q\" \u0001""#,
                r#"Expected `null`, got `string` "tab\there \"q\" \u0001""#,
            ),
            (
                r#"{"type": "null"}"#,
                r#"{"k": "v"}"#,
                "Expected `null`, got `object`",
            ),
        ];
        for (schema, record, message) in cases {
            assert_eq!(
                messages(schema, record),
                [("type", (*message).to_string())],
                "{schema} {record}"
            );
        }
    }

    #[test]
    fn long_received_values_are_shortened() {
        let long = "x".repeat(1000);
        assert_eq!(
            messages(r#"{"maxLength": 2}"#, &format!("\"{long}\"")),
            [(
                "maxLength",
                format!(
                    "String longer than 2 characters, got \"{}\"... (1000 characters)",
                    "x".repeat(40)
                )
            )]
        );
        let array = format!("[{}]", vec!["123456789"; 1000].join(","));
        let got = messages(r#"{"enum": [1]}"#, &array);
        assert_eq!(
            got,
            [(
                "enum",
                "Expected one of 1, got [123456789, 123456789, 123456789, 123...".to_string()
            )]
        );
        let key = "k".repeat(100);
        assert_eq!(
            messages(
                r#"{"additionalProperties": false}"#,
                &format!("{{\"{key}\": 1}}")
            ),
            [(
                "additionalProperties",
                format!(
                    "Unexpected property `{}... (100 characters)`",
                    "k".repeat(40)
                )
            )]
        );
    }

    /// An `anyOf` branch that accepts everything is tried first (its `anyOf` passes at
    /// once); the other branches still annotate what they evaluate for
    /// `unevaluatedProperties`, and such an `anyOf` inside a branch decides nothing.
    #[test]
    fn an_any_of_with_a_branch_that_accepts_everything() {
        let schema = Schema::from_json_text(
            r#"{"anyOf": [{"properties": {"a": {"type": "integer"}}}, {"description": "any"}],
                "unevaluatedProperties": false}"#,
        )
        .unwrap();
        let logic = schema.root.logic.as_ref().unwrap();
        assert!(logic.any_of[0].trivial && !logic.any_of[1].trivial);
        assert_eq!(errors(&schema, r#"{"a": 1}"#), []);
        // "a" fails its branch there: not evaluated, so unevaluated; the anyOf passes.
        let failing = errors(&schema, r#"{"a": "x"}"#);
        assert_eq!(failing.len(), 1);
        assert_eq!(failing[0].1, "unevaluatedProperties");
        assert_eq!(errors(&schema, r#"{"b": 1}"#).len(), 1);
        let nested = Schema::from_json_text(
            r#"{"oneOf": [{"anyOf": [{"minimum": 5}, true], "type": "string"}, {"type": "null"}]}"#,
        )
        .unwrap();
        assert_eq!(errors(&nested, r#""x""#), []);
        let e = errors(&nested, "3");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].1, "oneOf");
    }

    /// The same node reached again at the same value (an `allOf` of references to one
    /// definition, nested) reports its failure once, with many errors as with few.
    #[test]
    fn a_failure_reached_again_is_reported_once() {
        let fan = |width: usize, depth: usize| {
            let mut defs = Vec::new();
            for level in 0..depth {
                let refs = vec![format!(r##"{{"$ref": "#/$defs/L{}"}}"##, level + 1); width];
                defs.push(format!(r#""L{level}": {{"allOf": [{}]}}"#, refs.join(", ")));
            }
            defs.push(format!(
                r#""L{depth}": {{"properties": {{"a": {{"type": "integer"}}}}}}"#
            ));
            let text = format!(
                r##"{{"$defs": {{{}}}, "$ref": "#/$defs/L0"}}"##,
                defs.join(", ")
            );
            Schema::from_json_text(&text).unwrap()
        };
        // 4 x 4 x 4 = 64 visits of the leaf: past the errors compared one by one.
        for (width, depth) in [(2, 1), (3, 2), (4, 3), (6, 5)] {
            let e = errors(&fan(width, depth), r#"{"a": "x"}"#);
            assert_eq!(e.len(), 1, "{width} x {depth}: {e:?}");
            assert_eq!((e[0].0.as_str(), e[0].1), ("/a", "type"));
            assert!(e[0].3.ends_with("/properties/a/type"), "{e:?}");
        }
        // Many errors of their own (items), each reached twice: each once, in order.
        let twice = Schema::from_json_text(
            r##"{"$defs": {"n": {"items": {"type": "integer"}}}, "allOf": [{"$ref": "#/$defs/n"}, {"$ref": "#/$defs/n"}]}"##,
        )
        .unwrap();
        let items: Vec<String> = (0..40).map(|i| format!(r#""s{i}""#)).collect();
        let e = errors(&twice, &format!("[{}]", items.join(", ")));
        let paths: Vec<String> = e.iter().map(|x| x.0.clone()).collect();
        let expected: Vec<String> = (0..40).map(|i| format!("/{i}")).collect();
        assert_eq!(paths, expected);
        // Errors that differ in any part are all kept (the same message at two paths).
        let e = errors(&twice, r#"["s", "s"]"#);
        assert_eq!(e.len(), 2);
    }

    /// The dynamic scope links a resource that declares dynamic anchors the first time
    /// it is entered, and only then: a recursive schema entered at each level keeps one
    /// link (each dynamic reference looked its anchor up in one per level), a resource
    /// without anchors none, another with anchors (that a dynamic reference names: only
    /// those are compiled) one of its own.
    #[test]
    fn the_dynamic_scope_links_each_resource_with_anchors_once() {
        use super::Scope;
        let schema = Schema::from_json_text(
            r##"{"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://example.com/root", "$dynamicAnchor": "n",
                "properties": {"a": {"$dynamicRef": "#n"},
                               "b": {"$dynamicRef": "https://example.com/other#m"},
                               "plain": {"$id": "https://example.com/plain", "type": "object"},
                               "other": {"$id": "https://example.com/other", "$dynamicAnchor": "m",
                                         "type": "object"}}}"##,
        )
        .unwrap();
        let resource_of = |name: &str| {
            let object = schema.root.object.as_ref().unwrap();
            let property = object.properties.iter().find(|p| p.name == name).unwrap();
            property.node.as_ref().and_then(|n| n.resource).unwrap()
        };
        let root = schema.root.resource.unwrap();
        let (plain, other) = (resource_of("plain"), resource_of("other"));
        assert!(Scope::adds(None, root, &schema));
        let outer = Scope::enter(root, None);
        assert!(!Scope::adds(Some(&outer), root, &schema));
        assert!(!Scope::adds(Some(&outer), plain, &schema));
        assert!(Scope::adds(Some(&outer), other, &schema));
        let inner = Scope::enter(other, Some(&outer));
        assert!(!Scope::adds(Some(&inner), root, &schema));
        assert!(!Scope::adds(Some(&inner), other, &schema));
        let linked: Vec<usize> = Scope::resources(Some(&inner)).collect();
        assert_eq!(linked, [other as usize, root as usize]);
    }

    /// A recursive schema through a dynamic reference gives, on a record 40 levels deep,
    /// the verdicts and errors of the same schema through a static one (the schema paths
    /// name their keyword); and an outer resource that declares the anchor again still
    /// decides what it resolves to at every level.
    #[test]
    fn a_recursive_dynamic_reference_resolves_as_a_static_one_at_every_depth() {
        let tree = |keyword: &str, reference: &str| {
            Schema::from_json_text(&format!(
                r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema",
                    "$id": "https://example.com/tree", "$dynamicAnchor": "node",
                    "type": "object", "properties": {{"a": {{"{keyword}": "{reference}"}},
                                                      "v": {{"type": "integer"}}}}}}"#
            ))
            .unwrap()
        };
        let (dynamic, fixed) = (tree("$dynamicRef", "#node"), tree("$ref", "#"));
        let deep = |leaf: &str| format!("{}{leaf}{}", r#"{"a": "#.repeat(40), "}".repeat(40));
        for record in [
            deep("{}"),
            deep(r#"{"v": "x"}"#),
            deep("1"),
            deep(r#"{"a": 2}"#),
        ] {
            let strip = |e: Vec<(String, &'static str, String, String)>| {
                e.into_iter()
                    .map(|(path, keyword, message, _)| (path, keyword, message))
                    .collect::<Vec<_>>()
            };
            let found = strip(errors(&dynamic, &record));
            assert_eq!(found, strip(errors(&fixed, &record)), "{record}");
        }
        // An outer resource that declares `node` too makes every level's `v` a string.
        let strict = Schema::from_json_text(
            r##"{"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://example.com/strict", "$dynamicAnchor": "node",
                "$ref": "tree", "properties": {"v": {"type": "string"}},
                "$defs": {"tree": {"$id": "tree", "$dynamicAnchor": "node", "type": "object",
                                   "properties": {"a": {"$dynamicRef": "#node"}}}}}"##,
        )
        .unwrap();
        let e = errors(&strict, &deep(r#"{"v": 1}"#));
        assert_eq!(e.len(), 1, "{e:?}");
        let at = format!("{}/v", "/a".repeat(40));
        assert_eq!((e[0].0.as_str(), e[0].1), (at.as_str(), "type"));
        assert!(errors(&strict, &deep(r#"{"v": "s"}"#)).is_empty());
    }
}
