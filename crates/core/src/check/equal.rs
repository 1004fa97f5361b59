//! JSON equality for `const`, `enum` and `uniqueItems`: numbers by value
//! (`1 == 1.0`), objects regardless of key order, bounded by [`MAX_DEPTH`].
//! [`compile`] compiles `const` and `enum` (their check sits in `check_here`,
//! `check/mod.rs`).
//!
//! The walks of whole values ([`equal`], [`report_non_json`], [`canonical_hash`])
//! read a record in place, and a record may share its containers: a Python dict built
//! as `x = {"a": x, "b": x}` 60 times holds 61 dicts and a value of 2^60. Past
//! [`SHARED_AFTER`] containers, a walk remembers what it found of each container by
//! its identity (see [`Record::identity`]) and the depth it was reached at (see
//! [`Shared`]), so that it is linear in the record's object graph, not in its value.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::revisit::LISTED;
use super::Sink;
use crate::error::Path;
use crate::schema::{err, json_type, Draft, SchemaError};
use crate::text::same_text;
use crate::value::{Defect, EntryKey, Json, Keys, KeysOnce, Kind, Number, Record, MAX_DEPTH};

/// Values nested deeper than [`MAX_DEPTH`]: they cannot be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep;

/// Containers (arrays and objects) walks enter before they start remembering them: a
/// real value has tens to a few thousand; one whose containers are shared along
/// exponentially many paths, billions.
const SHARED_AFTER: u64 = 4096;

/// Lookups judged at a time while remembering (see [`Memo::judge`]): a share of
/// the containers counted before ([`Memo::count`] over `JUDGED`), at least
/// `WINDOW`. A large value that shares nothing pays for those lookups; a value
/// whose shared parts lie far apart (each level of a DAG padded with a large part
/// of its own) is counted longer until a window spans the distance.
const JUDGED: u64 = 16;
const WINDOW: u64 = 1024;

/// Where [`Shared::entered`] stops counting the containers that remembered answers
/// stood for (a value shared along 2^64 paths stands for more).
const ENTERED_CAP: u64 = 1 << 62;

/// A value's identity, as [`Record::identity`] gives it.
type Id = (usize, usize);

/// The state of whole-value walks that share it (one walk, or the walks of the items
/// of one array): a count of the containers entered, and, past [`SHARED_AFTER`] of
/// them, what was found of each container by its identity (see [`Memo`]). A value
/// that has no identity is never remembered.
///
/// What is remembered holds of the same container reached again at the same depth or
/// less (one reached deeper may pass [`MAX_DEPTH`] inside, as a container that holds
/// itself does): a walk found it clean at that depth, hashed it, or found it equal to
/// another. Walks that find little to reuse (a large value that shares nothing) stop
/// remembering and count again, twice as long, as `revisit` does.
pub(crate) struct Shared {
    /// Containers entered, plus, for each remembered answer taken, the containers
    /// that answer stood for (so that a container's walk counts what it covered).
    entered: u64,
    /// Remembering while `entered` is past it.
    start_at: u64,
    memo: Option<Box<Memo>>,
}

/// What [`Shared`] remembers, and how well remembering pays.
struct Memo {
    /// The length of the last count: the next one is twice as long.
    count: u64,
    /// Lookups made since remembering (re)started, and the containers that the
    /// answers found stood for.
    lookups: u64,
    saved: u64,
    /// Lookups at which remembering is judged next.
    judge_at: u64,
    /// [`report_non_json`]: containers walked with no error found.
    clean: FxHashMap<Id, Seen>,
    /// [`report_non_json`]: containers walked to their end with errors, and how many.
    failed: FxHashMap<Id, (usize, Seen)>,
    /// [`canonical_hash`]: the hash of each container.
    hashes: FxHashMap<Id, (u64, Seen)>,
    /// [`equal`]: pairs of containers found equal.
    pairs: FxHashMap<(Id, Id), Seen>,
}

/// How a container was found: the deepest it was (what holds at a depth holds at
/// any depth above), and the containers its walk covered.
#[derive(Clone, Copy)]
struct Seen {
    depth: usize,
    weight: u64,
}

/// A container (or a pair) looked up and not found: walked, then remembered by `key`.
#[derive(Clone, Copy)]
struct Pending<K> {
    key: K,
    /// [`Shared::entered`] before its walk.
    before: u64,
}

/// What a lookup found: the answer, or what to remember after the walk (`None`: not
/// remembered, the value has no identity).
enum Recall<T, K> {
    Known(T),
    Walk(Option<Pending<K>>),
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new()
    }
}

impl Shared {
    #[inline]
    pub(crate) fn new() -> Shared {
        Shared {
            entered: 0,
            start_at: SHARED_AFTER,
            memo: None,
        }
    }

    /// For tests: remembers every container from the first, and never stops.
    #[cfg(test)]
    fn eager() -> Shared {
        let mut shared = Shared {
            entered: 0,
            start_at: 0,
            memo: None,
        };
        shared.memo().judge_at = u64::MAX;
        shared
    }

    /// For tests: never remembers (the walks as they were).
    #[cfg(test)]
    fn never() -> Shared {
        Shared {
            entered: 0,
            start_at: u64::MAX,
            memo: None,
        }
    }

    /// Counts a container entered: whether it goes through the memo.
    #[inline(always)]
    fn enter(&mut self) -> bool {
        // Never overflows: what is added otherwise stops at `ENTERED_CAP`.
        self.entered += 1;
        self.entered > self.start_at
    }

    fn memo(&mut self) -> &mut Memo {
        self.memo.get_or_insert_with(|| {
            Box::new(Memo {
                count: SHARED_AFTER,
                lookups: 0,
                saved: 0,
                judge_at: (SHARED_AFTER / JUDGED).max(WINDOW),
                clean: FxHashMap::default(),
                failed: FxHashMap::default(),
                hashes: FxHashMap::default(),
                pairs: FxHashMap::default(),
            })
        })
    }

    /// Counts a lookup of `key` and what it found (`Some`: the answer, and the
    /// containers it stands for); judges whether remembering pays once enough
    /// lookups were made.
    fn looked_up<T, K>(&mut self, key: K, found: Option<(T, u64)>) -> Recall<T, K> {
        if let Some((_, weight)) = found {
            let cap = ENTERED_CAP.max(self.entered);
            self.entered = self.entered.saturating_add(weight).min(cap);
        }
        let entered = self.entered;
        let memo = self.memo();
        memo.lookups += 1;
        if let Some((_, weight)) = found {
            memo.saved = memo.saved.saturating_add(weight);
        }
        if memo.lookups >= memo.judge_at {
            if let Some(start_at) = memo.judge(entered) {
                self.start_at = start_at;
            }
        }
        match found {
            Some((answer, _)) => Recall::Known(answer),
            None => Recall::Walk(Some(Pending {
                key,
                before: entered,
            })),
        }
    }

    /// What to remember of a walk of `pending` at `depth`, if still remembering.
    fn seen<K>(&mut self, pending: &Pending<K>, depth: usize) -> Option<Seen> {
        (self.entered > self.start_at).then(|| Seen {
            depth,
            weight: self.entered.saturating_sub(pending.before),
        })
    }
}

fn remember<K: Hash + Eq>(map: &mut FxHashMap<K, Seen>, key: K, seen: Seen) {
    map.entry(key)
        .and_modify(|was| was.depth = was.depth.max(seen.depth))
        .or_insert(seen);
}

impl Memo {
    /// Whether remembering pays: the answers found stood for at least as many
    /// containers as there were lookups. If not, forgets, and returns where
    /// remembering starts again (`entered` plus a count twice as long as the last).
    #[cold]
    fn judge(&mut self, entered: u64) -> Option<u64> {
        if self.saved >= self.lookups {
            self.judge_at = self
                .lookups
                .saturating_add((self.count / JUDGED).max(WINDOW));
            return None;
        }
        self.count = self.count.saturating_mul(2);
        self.lookups = 0;
        self.saved = 0;
        self.judge_at = (self.count / JUDGED).max(WINDOW);
        self.clean.clear();
        self.failed.clear();
        self.hashes.clear();
        self.pairs.clear();
        Some(entered.saturating_add(self.count).min(ENTERED_CAP))
    }
}

/// `Err(TooDeep)` when the values nest deeper than [`MAX_DEPTH`].
#[inline]
pub fn equal<A: Record, B: Record>(a: &A, b: &B, depth: usize) -> Result<bool, TooDeep> {
    equal_in(a, b, depth, &mut Shared::new())
}

/// [`equal`], remembering in `shared` the pairs of containers found equal.
fn equal_in<A: Record, B: Record>(
    a: &A,
    b: &B,
    depth: usize,
    shared: &mut Shared,
) -> Result<bool, TooDeep> {
    let kind = a.kind();
    // The common case (a `const`/`enum` string, a tag) first: a string has no
    // `TooDeep` defect to look for.
    if kind == Kind::String && b.kind() == Kind::String && depth <= MAX_DEPTH {
        return Ok(matches!((a.as_str(), b.as_str()), (Some(x), Some(y)) if same_text(x, y)));
    }
    if depth > MAX_DEPTH
        || a.defect() == Some(Defect::TooDeep)
        || b.defect() == Some(Defect::TooDeep)
    {
        return Err(TooDeep);
    }
    if kind != b.kind() {
        return Ok(false);
    }
    Ok(match kind {
        Kind::Null => true,
        Kind::Bool => a.as_bool() == b.as_bool(),
        Kind::Number => a.as_number().equals(&b.as_number()),
        Kind::String => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        Kind::Array | Kind::Object => {
            let mut pending = None;
            if shared.enter() {
                match recall_pair(a, b, depth, shared) {
                    Recall::Known(()) => return Ok(true),
                    Recall::Walk(p) => pending = p,
                }
            }
            let result = equal_containers(a, b, kind, depth, shared);
            if let (Some(pending), Ok(true)) = (pending, result) {
                remember_pair(pending, depth, shared);
            }
            return result;
        }
        Kind::Unsupported => false,
    })
}

/// Whether the pair `a`, `b` was found equal at this depth or deeper.
#[cold]
#[inline(never)]
fn recall_pair<A: Record, B: Record>(
    a: &A,
    b: &B,
    depth: usize,
    shared: &mut Shared,
) -> Recall<(), (Id, Id)> {
    let (Some(x), Some(y)) = (a.identity(), b.identity()) else {
        return Recall::Walk(None);
    };
    let found = shared.memo().pairs.get(&(x, y)).copied();
    let found = found.filter(|seen| depth <= seen.depth);
    shared.looked_up((x, y), found.map(|seen| ((), seen.weight)))
}

#[cold]
#[inline(never)]
fn remember_pair(pending: Pending<(Id, Id)>, depth: usize, shared: &mut Shared) {
    if let Some(seen) = shared.seen(&pending, depth) {
        remember(&mut shared.memo().pairs, pending.key, seen);
    }
}

/// [`equal`] of two arrays or two objects (`kind`), item by item.
#[inline(always)]
fn equal_containers<A: Record, B: Record>(
    a: &A,
    b: &B,
    kind: Kind,
    depth: usize,
    shared: &mut Shared,
) -> Result<bool, TooDeep> {
    if kind == Kind::Array {
        let len = a.array_len();
        if len != b.array_len() {
            return Ok(false);
        }
        for i in 0..len {
            let (Some(x), Some(y)) = (a.array_item(i), b.array_item(i)) else {
                return Ok(false);
            };
            if !equal_in(&x, &y, depth + 1, shared)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if a.property_count() != b.property_count() {
        return Ok(false);
    }
    let mut result = Ok(true);
    let _ = a.for_each_entry(|key, x| {
        let EntryKey::Str(key) = key else {
            result = Ok(false);
            return ControlFlow::Break(());
        };
        match b.object_get(key) {
            None => result = Ok(false),
            Some(y) => match equal_in(x, &y, depth + 1, shared) {
                Ok(true) => return ControlFlow::Continue(()),
                other => result = other,
            },
        }
        ControlFlow::Break(())
    });
    result
}

/// The first pair `(i, j)`, `i < j`, of equal items (smallest `j`, then smallest `i`).
pub fn first_duplicate<R: Record>(
    array: &R,
    depth: usize,
) -> Result<Option<(usize, usize)>, TooDeep> {
    // One memo for every comparison and hash: items may share containers.
    first_duplicate_in(array, depth, &mut Shared::new())
}

fn first_duplicate_in<R: Record>(
    array: &R,
    depth: usize,
    shared: &mut Shared,
) -> Result<Option<(usize, usize)>, TooDeep> {
    let len = array.array_len();
    let items: Vec<R> = (0..len).filter_map(|i| array.array_item(i)).collect();
    if len <= 16 {
        for j in 1..items.len() {
            for i in 0..j {
                if equal_in(&items[i], &items[j], depth + 1, shared)? {
                    return Ok(Some((i, j)));
                }
            }
        }
        return Ok(None);
    }
    // Keyed with fresh random keys (SipHash): values crafted to collide
    // cannot be, so the buckets stay small and the check linear.
    let keys = RandomState::new();
    let mut buckets: HashMap<u64, Vec<usize>> = HashMap::with_capacity(len);
    for (j, item) in items.iter().enumerate() {
        let h = canonical_hash(item, depth + 1, &keys, shared)?;
        let bucket = buckets.entry(h).or_default();
        for &i in bucket.iter() {
            if equal_in(&items[i], item, depth + 1, shared)? {
                return Ok(Some((i, j)));
            }
        }
        bucket.push(j);
    }
    Ok(None)
}

/// Why [`report_non_json`] stopped before the end of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The sink said stop.
    Stopped,
    /// A value nested deeper than [`MAX_DEPTH`] (a cycle reaches one too): the
    /// walk of this value ends there, and the comparison alone says what that is.
    TooDeep,
}

/// Reports, as `json` errors at their paths, the values JSON cannot hold in `value`
/// (NaN or an infinity, a number out of range, a string that is not valid Unicode, a
/// key that is not a string, any other object), as the checks of a node report the
/// value they are given: a keyword that compares whole values reads every part of
/// them. Parts in order, up to the first one nested deeper than [`MAX_DEPTH`], which
/// ends the walk (so that a record that refers to itself ends it early); `found`
/// counts the errors.
pub(crate) fn report_non_json<'s, R: Record, S: Sink<'s>>(
    value: &R,
    path: &Path<'_>,
    depth: usize,
    found: &mut usize,
    sink: &mut S,
) -> ControlFlow<Cut> {
    report_non_json_in(value, path, depth, found, sink, &mut Shared::new())
}

/// [`report_non_json`], remembering in `shared` the containers found clean (the
/// walks of the items of one array share it: items may share containers). Inlined:
/// a scalar is read where its container walks, without a call.
#[inline(always)]
pub(crate) fn report_non_json_in<'s, R: Record, S: Sink<'s>>(
    value: &R,
    path: &Path<'_>,
    depth: usize,
    found: &mut usize,
    sink: &mut S,
    shared: &mut Shared,
) -> ControlFlow<Cut> {
    if depth > MAX_DEPTH {
        return ControlFlow::Break(Cut::TooDeep);
    }
    match value.kind() {
        Kind::Null | Kind::Bool => ControlFlow::Continue(()),
        Kind::Number if value.is_finite_number() => ControlFlow::Continue(()),
        Kind::Number => fail_json(path, found, sink, || {
            super::unreadable_number(&value.as_number())
        }),
        Kind::String if value.is_valid_unicode() => ControlFlow::Continue(()),
        Kind::String => fail_json(path, found, sink, || {
            "String is not valid Unicode".to_string()
        }),
        Kind::Unsupported if value.defect() == Some(Defect::TooDeep) => {
            ControlFlow::Break(Cut::TooDeep)
        }
        Kind::Unsupported => fail_json(path, found, sink, || {
            format!("Expected a JSON value, got `{}`", value.type_name())
        }),
        kind @ (Kind::Array | Kind::Object) => {
            non_json_container(value, kind, path, depth, found, sink, shared)
        }
    }
}

/// Whether `value` was found clean at this depth or deeper (`Some(0)`), or, once
/// `listed` (the walk found [`LISTED`] errors), walked to its end with `n` errors
/// (`Some(n)`: counted, not walked again).
#[cold]
#[inline(never)]
fn recall_clean<R: Record>(
    value: &R,
    depth: usize,
    listed: bool,
    shared: &mut Shared,
) -> Recall<usize, Id> {
    let Some(id) = value.identity() else {
        return Recall::Walk(None);
    };
    let memo = shared.memo();
    let mut found = memo
        .clean
        .get(&id)
        .filter(|seen| depth <= seen.depth)
        .map(|seen| (0, seen.weight));
    if found.is_none() && listed {
        found = memo
            .failed
            .get(&id)
            .filter(|(_, seen)| depth <= seen.depth)
            .map(|&(n, seen)| (n, seen.weight));
    }
    shared.looked_up(id, found)
}

/// Remembers the walk of `pending` at `depth`: clean, or with `errors` errors.
#[cold]
#[inline(never)]
fn remember_clean(pending: Pending<Id>, depth: usize, errors: usize, shared: &mut Shared) {
    if let Some(seen) = shared.seen(&pending, depth) {
        let memo = shared.memo();
        if errors == 0 {
            remember(&mut memo.clean, pending.key, seen);
        } else {
            memo.failed.insert(pending.key, (errors, seen));
        }
    }
}

/// [`report_non_json`] of an array or an object (`kind`): its parts, unless it was
/// found clean.
#[inline(never)]
fn non_json_container<'s, R: Record, S: Sink<'s>>(
    value: &R,
    kind: Kind,
    path: &Path<'_>,
    depth: usize,
    found: &mut usize,
    sink: &mut S,
    shared: &mut Shared,
) -> ControlFlow<Cut> {
    let mut pending = None;
    if shared.enter() {
        match recall_clean(value, depth, *found >= LISTED, shared) {
            Recall::Known(0) => return ControlFlow::Continue(()),
            Recall::Known(n) => {
                // Its errors at another path (the container is held twice): past the
                // first `LISTED`, counted as the record's other errors are, not listed.
                *found = found.saturating_add(n);
                sink.count_failures(n, n);
                return ControlFlow::Continue(());
            }
            Recall::Walk(p) => pending = p,
        }
    }
    let errors = *found;
    let flow = non_json_parts(value, kind, path, depth, found, sink, shared);
    if let Some(pending) = pending {
        if flow.is_continue() {
            remember_clean(pending, depth, *found - errors, shared);
        }
    }
    flow
}

/// The walk of [`non_json_container`].
#[inline(always)]
fn non_json_parts<'s, R: Record, S: Sink<'s>>(
    value: &R,
    kind: Kind,
    path: &Path<'_>,
    depth: usize,
    found: &mut usize,
    sink: &mut S,
    shared: &mut Shared,
) -> ControlFlow<Cut> {
    let mut cut = None;
    if kind == Kind::Array {
        let _ = value.for_each_item(|i, item| {
            let at = Path::Index(path, i);
            match report_non_json_in(item, &at, depth + 1, found, sink, shared) {
                ControlFlow::Continue(()) => ControlFlow::Continue(()),
                ControlFlow::Break(why) => {
                    cut = Some(why);
                    ControlFlow::Break(())
                }
            }
        });
    } else {
        let _ = value.for_each_entry(|key, item| {
            let flow = match key {
                EntryKey::Str(key) => {
                    let at = Path::Key(path, key);
                    report_non_json_in(item, &at, depth + 1, found, sink, shared)
                }
                EntryKey::NotString(repr) => fail_json(path, found, sink, || {
                    format!("Object key `{repr}` is not a string")
                }),
                EntryKey::InvalidString => fail_json(path, found, sink, || {
                    "Object key is not valid Unicode".to_string()
                }),
            };
            match flow {
                ControlFlow::Continue(()) => ControlFlow::Continue(()),
                ControlFlow::Break(why) => {
                    cut = Some(why);
                    ControlFlow::Break(())
                }
            }
        });
    }
    cut.map_or(ControlFlow::Continue(()), ControlFlow::Break)
}

/// One error of [`report_non_json`].
fn fail_json<'s, S: Sink<'s>>(
    path: &Path<'_>,
    found: &mut usize,
    sink: &mut S,
    message: impl FnOnce() -> String,
) -> ControlFlow<Cut> {
    *found = found.saturating_add(1);
    match sink.fail(path, "json", message) {
        ControlFlow::Continue(()) => ControlFlow::Continue(()),
        ControlFlow::Break(()) => ControlFlow::Break(Cut::Stopped),
    }
}

/// A hash that agrees with [`equal`]: equal values hash alike (numbers by
/// value, objects whatever their key order), keyed by `keys`; the hashes of
/// containers remembered in `shared`. Inlined: a scalar is hashed where its
/// container walks, without a call.
#[inline(always)]
fn canonical_hash<R: Record>(
    value: &R,
    depth: usize,
    keys: &RandomState,
    shared: &mut Shared,
) -> Result<u64, TooDeep> {
    if depth > MAX_DEPTH || value.defect() == Some(Defect::TooDeep) {
        return Err(TooDeep);
    }
    let kind = value.kind();
    if matches!(kind, Kind::Array | Kind::Object) {
        return hash_container(value, kind, depth, keys, shared);
    }
    let mut h = keys.build_hasher();
    match kind {
        Kind::Null => 0u8.hash(&mut h),
        Kind::Bool => (1u8, value.as_bool()).hash(&mut h),
        Kind::Number => {
            2u8.hash(&mut h);
            value.as_number().hash_value(&mut h);
        }
        Kind::String => (3u8, value.as_str()).hash(&mut h),
        // (Containers are hashed above.)
        Kind::Unsupported | Kind::Array | Kind::Object => 6u8.hash(&mut h),
    }
    Ok(h.finish())
}

/// The hash of `value`, if it was hashed at this depth or deeper.
#[cold]
#[inline(never)]
fn recall_hash<R: Record>(value: &R, depth: usize, shared: &mut Shared) -> Recall<u64, Id> {
    let Some(id) = value.identity() else {
        return Recall::Walk(None);
    };
    let found = shared.memo().hashes.get(&id).copied();
    let found = found.filter(|(_, seen)| depth <= seen.depth);
    shared.looked_up(id, found.map(|(hash, seen)| (hash, seen.weight)))
}

#[cold]
#[inline(never)]
fn remember_hash(pending: Pending<Id>, depth: usize, hash: u64, shared: &mut Shared) {
    if let Some(seen) = shared.seen(&pending, depth) {
        shared
            .memo()
            .hashes
            .entry(pending.key)
            .and_modify(|(_, was)| was.depth = was.depth.max(depth))
            .or_insert((hash, seen));
    }
}

/// [`canonical_hash`] of an array or an object (`kind`), unless it is known.
#[inline(never)]
fn hash_container<R: Record>(
    value: &R,
    kind: Kind,
    depth: usize,
    keys: &RandomState,
    shared: &mut Shared,
) -> Result<u64, TooDeep> {
    let mut pending = None;
    if shared.enter() {
        match recall_hash(value, depth, shared) {
            Recall::Known(hash) => return Ok(hash),
            Recall::Walk(p) => pending = p,
        }
    }
    let hash = hash_parts(value, kind, depth, keys, shared)?;
    if let Some(pending) = pending {
        remember_hash(pending, depth, hash, shared);
    }
    Ok(hash)
}

/// The walk of [`hash_container`].
#[inline(always)]
fn hash_parts<R: Record>(
    value: &R,
    kind: Kind,
    depth: usize,
    keys: &RandomState,
    shared: &mut Shared,
) -> Result<u64, TooDeep> {
    let mut h = keys.build_hasher();
    if kind == Kind::Array {
        4u8.hash(&mut h);
        for i in 0..value.array_len() {
            if let Some(item) = value.array_item(i) {
                canonical_hash(&item, depth + 1, keys, shared)?.hash(&mut h);
            }
        }
        return Ok(h.finish());
    }
    // Order-insensitive: combine entry hashes commutatively.
    let mut sum = 0u64;
    let mut failed = false;
    let _ = value.for_each_entry(|key, item| {
        let mut eh = keys.build_hasher();
        match key {
            EntryKey::Str(k) => k.hash(&mut eh),
            EntryKey::NotString(r) => r.hash(&mut eh),
            EntryKey::InvalidString => 0u8.hash(&mut eh),
        }
        match canonical_hash(item, depth + 1, keys, shared) {
            Ok(v) => v.hash(&mut eh),
            Err(TooDeep) => {
                failed = true;
                return ControlFlow::Break(());
            }
        }
        sum = sum.wrapping_add(eh.finish());
        ControlFlow::Continue(())
    });
    if failed {
        return Err(TooDeep);
    }
    (5u8, sum).hash(&mut h);
    Ok(h.finish())
}

/// Appends a schema literal as compact JSON for a message, cut short when long
/// (written in place: no string of its own).
pub(crate) fn push_short_repr(out: &mut String, value: &Json<'_>) {
    let start = out.len();
    write_json(value, out);
    let shown = &out[start..];
    // At most 40 bytes: at most 40 characters.
    if shown.len() > 40 && shown.chars().count() > 40 {
        let cut = shown
            .char_indices()
            .nth(37)
            .map_or(out.len(), |(i, _)| start + i);
        out.truncate(cut);
        out.push_str("...");
    }
}

fn write_json(value: &Json<'_>, out: &mut String) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => super::push_number(out, n),
        Json::String(s) => super::push_json_string(out, s.as_ref()),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Json::Object(entries, _) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                super::push_json_string(out, k.as_ref());
                out.push_str(": ");
                write_json(v, out);
            }
            out.push('}');
        }
        Json::Unsupported(name) => out.push_str(name),
        Json::InvalidString
        | Json::InvalidKey(_)
        | Json::InvalidStringKey
        | Json::TooDeep
        | Json::Skipped(_) => out.push('?'),
    }
}

/// `const` and `enum` as compiled: the values records are compared with.
pub(crate) type Literals = (Option<Json<'static>>, Option<Enum>);

/// An `enum` with at least this many strings finds a string by its hash; with at
/// least this many numbers, a number.
const INDEXED_STRINGS: usize = 16;

/// The values of an `enum`, in schema order (its messages quote them so); a
/// long one also keeps its strings in a hash set and its numbers by their hash, so
/// that a string or a number is found with one lookup instead of a comparison per
/// value (SchemaStore has enums of hundreds of names, each checked for every record;
/// an enum of 100,000 integers took 3.5 s for 2,000 records).
#[derive(Debug)]
pub struct Enum {
    values: Vec<Json<'static>>,
    /// The string values, when there are at least [`INDEXED_STRINGS`].
    strings: Option<rustc_hash::FxHashSet<Box<str>>>,
    /// The integers and floats (not decimal text), when there are at least
    /// [`INDEXED_STRINGS`]: the indexes of the values of each hash, keyed with fresh
    /// random keys (schemas are input too) by [`Number::hash_value`], which hashes
    /// equal numbers alike (`1`, `1.0`, `10**0`).
    numbers: Option<(RandomState, rustc_hash::FxHashMap<u64, Vec<usize>>)>,
    /// With an index, the indexes of the values in none, compared one by one (a
    /// string equals no value of another kind); without, every value is.
    others: Vec<usize>,
    /// The start of its error message, written at the first failure and kept: the
    /// quoted values measured as most of an `enum` error's cost, the same each time.
    message: OnceLock<Box<str>>,
}

/// A number an `enum` indexes: one [`Number::hash_value`] hashes as it hashes its
/// equals of every other kind a record can hold (an integer, a float, a big integer).
fn indexed_number(v: &Json<'_>) -> bool {
    matches!(
        v,
        Json::Number(Number::Int(_) | Number::Float(_) | Number::Big(_))
    )
}

/// [`Number::hash_value`] keyed by `keys`.
fn number_hash(n: &Number, keys: &RandomState) -> u64 {
    let mut h = keys.build_hasher();
    n.hash_value(&mut h);
    h.finish()
}

impl Enum {
    pub fn new(values: Vec<Json<'static>>) -> Enum {
        let n_strings = values
            .iter()
            .filter(|v| matches!(v, Json::String(_)))
            .count();
        let n_numbers = values.iter().filter(|v| indexed_number(v)).count();
        let by_string = n_strings >= INDEXED_STRINGS;
        let by_number = n_numbers >= INDEXED_STRINGS;
        if !by_string && !by_number {
            return Enum {
                values,
                strings: None,
                numbers: None,
                others: Vec::new(),
                message: OnceLock::new(),
            };
        }
        let mut strings = rustc_hash::FxHashSet::default();
        let keys = RandomState::new();
        let mut numbers: rustc_hash::FxHashMap<u64, Vec<usize>> = Default::default();
        let mut others = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Json::String(s) if by_string => {
                    strings.insert(Box::from(s.as_ref()));
                }
                Json::Number(n) if by_number && indexed_number(v) => {
                    numbers.entry(number_hash(n, &keys)).or_default().push(i);
                }
                _ => others.push(i),
            }
        }
        Enum {
            values,
            strings: by_string.then_some(strings),
            numbers: by_number.then_some((keys, numbers)),
            others,
            message: OnceLock::new(),
        }
    }

    /// The start of the message of a value that is not one of the values, up to
    /// the received value: `Expected one of 1, "a", ..., got `.
    pub fn message_start(&self) -> &str {
        self.message.get_or_init(|| {
            if self.values.is_empty() {
                return Box::from("No value is allowed: `enum` is empty");
            }
            let mut m = String::from("Expected one of ");
            for (i, option) in self.values.iter().take(8).enumerate() {
                if i > 0 {
                    m.push_str(", ");
                }
                push_short_repr(&mut m, option);
            }
            if self.values.len() > 8 {
                m.push_str(", ...");
            }
            m.push_str(", got ");
            m.into_boxed_str()
        })
    }

    /// Whether `value` equals one of the values (`Err(TooDeep)` as [`equal`]).
    #[inline]
    pub fn contains<R: Record>(&self, value: &R, depth: usize) -> Result<bool, TooDeep> {
        if self.strings.is_none() && self.numbers.is_none() {
            for option in &self.values {
                if equal(value, &option, depth)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        match (value.kind(), &self.strings, &self.numbers) {
            (Kind::String, Some(strings), _) => {
                if depth > MAX_DEPTH {
                    return Err(TooDeep); // as `equal` answers
                }
                // A string with a defect has no text: it equals no value.
                return Ok(value.as_str().is_some_and(|s| strings.contains(s)));
            }
            (Kind::Number, _, Some((keys, numbers))) => {
                if depth > MAX_DEPTH {
                    return Err(TooDeep); // as `equal` answers
                }
                let bucket = numbers.get(&number_hash(&value.as_number(), keys));
                for &i in bucket.into_iter().flatten() {
                    if equal(value, &&self.values[i], depth)? {
                        return Ok(true);
                    }
                }
                // (Decimal text and numbers beyond a float are among the others.)
            }
            _ => {}
        }
        for &i in &self.others {
            if equal(value, &&self.values[i], depth)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl std::ops::Deref for Enum {
    type Target = [Json<'static>];

    fn deref(&self) -> &[Json<'static>] {
        &self.values
    }
}

/// Compiles `const` (draft 6 and later) and `enum`.
pub(crate) fn compile(
    map: &Map<String, Value>,
    draft: Draft,
    location: &str,
) -> Result<Literals, SchemaError> {
    let mut const_value = None;
    let mut enum_values = None;
    if draft >= Draft::Draft6 {
        if let Some(c) = map.get("const") {
            const_value = Some(to_json(c));
        }
    }
    if let Some(e) = map.get("enum") {
        match e {
            Value::Array(values) => {
                enum_values = Some(Enum::new(values.iter().map(to_json).collect()))
            }
            other => {
                return err(
                    location,
                    format!("`enum` must be an array, got {}", json_type(other)),
                )
            }
        }
    }
    Ok((const_value, enum_values))
}

/// Converts a schema literal (`const`, `enum`) into the value type records are compared with.
fn to_json(v: &Value) -> Json<'static> {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => {
            Json::Number(Number::parse(&n.to_string()).unwrap_or(Number::Float(f64::NAN)))
        }
        Value::String(s) => Json::String(Cow::Owned(s.clone())),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        // A map's keys are unique.
        Value::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), to_json(v)))
                .collect(),
            KeysOnce::known(Keys::Unique),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;
    use num_bigint::BigInt;

    /// A long `enum` finds strings by hash and compares its other values one by
    /// one: the same answers as comparing every value, for strings listed and
    /// not, values of every kind, and a short `enum` (never indexed).
    #[test]
    fn an_indexed_enum_answers_as_comparing_every_value() {
        let listed: Vec<Value> = (0..40)
            .map(|i| Value::String(format!("name{i}")))
            .chain([
                serde_json::json!(1),
                serde_json::json!(null),
                serde_json::json!({"a": [1, "name3"]}),
                serde_json::json!(["name1"]),
                serde_json::json!(""),
                serde_json::json!("é"),
            ])
            .collect();
        let long = Enum::new(listed.iter().map(to_json).collect());
        let short = Enum::new(listed[35..].iter().map(to_json).collect());
        assert!(long.strings.is_some() && short.strings.is_none());
        let probes = [
            r#""name0""#,
            r#""name39""#,
            r#""name40""#,
            r#""name""#,
            r#""""#,
            r#""é""#,
            r#""e""#,
            "1",
            "1.0",
            "2",
            "null",
            "false",
            r#"{"a": [1.0, "name3"]}"#,
            r#"{"a": [1, "name4"]}"#,
            r#"["name1"]"#,
            r#"["name2"]"#,
            "[]",
            "{}",
        ];
        for text in probes {
            let value = crate::json::parse_value(text.as_bytes(), MAX_DEPTH).unwrap();
            for e in [&long, &short] {
                let every = e.iter().any(|v| equal(&&value, &v, 0) == Ok(true));
                assert_eq!(e.contains(&&value, 0), Ok(every), "{text}");
            }
        }
        assert_eq!(
            long.contains(&&to_json(&serde_json::json!("name7")), 0),
            Ok(true)
        );
        // Too deep to compare, as `equal` says of any value.
        let deep = to_json(&serde_json::json!("name7"));
        assert_eq!(long.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
        assert_eq!(short.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
        let strings_only = Enum::new(listed[..40].iter().map(to_json).collect());
        assert_eq!(strings_only.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
        assert_eq!(strings_only.contains(&&deep, 0), Ok(true));
    }

    #[test]
    fn an_enum_of_numbers_answers_as_comparing_every_value() {
        // Integers, floats, big integers and decimal text, with strings and others.
        let listed: Vec<Value> = (0..30)
            .map(|i| serde_json::json!(i * 7))
            .chain((0..20).map(|i| serde_json::json!(f64::from(i) + 0.5)))
            .chain([
                serde_json::json!(1e300),
                serde_json::json!(-0.0),
                serde_json::from_str("18446744073709551616").unwrap(),
                serde_json::from_str("123456789012345678901234567890").unwrap(),
                serde_json::json!("7"),
                serde_json::json!([7]),
            ])
            .collect();
        let long = Enum::new(listed.iter().map(to_json).collect());
        let short = Enum::new(listed[48..].iter().map(to_json).collect());
        assert!(long.numbers.is_some() && long.strings.is_none() && short.numbers.is_none());
        let probes = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "7",
            "7.0",
            "70e-1",
            "0.7e1",
            "8",
            "203",
            "210",
            "0.5",
            "19.5",
            "20.5",
            "1e300",
            "1E+300",
            "1e301",
            "18446744073709551616",
            "1.8446744073709551616e19",
            "18446744073709551617",
            "123456789012345678901234567890",
            "1.2345678901234567890123456789e29",
            "\"7\"",
            "[7]",
            "[7.0]",
            "null",
            "1e400",
            "-1e400",
            "1e-400",
        ];
        for text in probes {
            let value = crate::json::parse_value(text.as_bytes(), MAX_DEPTH).unwrap();
            for e in [&long, &short] {
                let every = e.iter().any(|v| equal(&&value, &v, 0) == Ok(true));
                assert_eq!(e.contains(&&value, 0), Ok(every), "{text}");
            }
        }
        assert_eq!(
            long.contains(&&to_json(&serde_json::json!(203)), 0),
            Ok(true)
        );
        let deep = to_json(&serde_json::json!(7));
        assert_eq!(long.contains(&&deep, MAX_DEPTH + 1), Err(TooDeep));
    }

    /// 128-bit integers `hi·2^64 + lo` with `hi = lo.rotate_left(7) ^ 0x1234`:
    /// all distinct, and all alike under the old unkeyed fold of their 64-bit
    /// digits (`lo.rotate_left(7) ^ hi`), which put them in one bucket.
    fn crafted(n: u64) -> Vec<Json<'static>> {
        (1..=n)
            .map(|i| {
                let lo = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let hi = lo.rotate_left(7) ^ 0x1234;
                let v = (BigInt::from(hi) << 64) + BigInt::from(lo);
                Json::Number(Number::from_bigint(v))
            })
            .collect()
    }

    #[test]
    fn crafted_integers_do_not_collide() {
        let items = crafted(16_000);
        let keys = RandomState::new();
        let mut hashes: Vec<u64> = items
            .iter()
            .map(|v| canonical_hash(&v, 0, &keys, &mut Shared::new()).unwrap())
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 16_000);
        let array = Json::Array(items);
        assert_eq!(first_duplicate(&&array, 0), Ok(None));
    }

    #[test]
    fn duplicates_across_representations() {
        let mut items = crafted(20);
        items.push(Json::Number(Number::Float(1.5)));
        items.push(Json::Number(Number::parse("3e0").unwrap()));
        items.push(items[4].clone());
        items.push(Json::Number(Number::Int(3)));
        let array = Json::Array(items);
        assert_eq!(first_duplicate(&&array, 0), Ok(Some((4, 22))));
        let array = Json::Array(
            [
                "1", "2", "1e400", "1e-400", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                "14", "15", "16", "0.1e-399",
            ]
            .iter()
            .map(|t| Json::Number(Number::parse(t).unwrap()))
            .collect(),
        );
        assert_eq!(first_duplicate(&&array, 0), Ok(Some((3, 17))));
    }
}

/// Values whose containers are shared (the object graphs of Python records): the walks
/// give the results of the values' deep copies, in time linear in the graph.
#[cfg(test)]
mod shared_tests {
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::ops::ControlFlow;

    use super::*;
    use crate::check::{Collect, FirstFailure};
    use crate::error::RecordError;

    /// A value of an arena: a node refers to others by index, so that one can be
    /// the child of many (or of itself).
    #[derive(Clone, Debug)]
    enum Node {
        Null,
        Num(f64),
        Str(&'static str),
        Arr(Vec<usize>),
        /// Entries; a key `None` is not a string.
        Obj(Vec<(Option<&'static str>, usize)>),
        /// Not a JSON value.
        Other,
    }

    #[derive(Default)]
    struct Arena {
        nodes: Vec<Node>,
        /// Values looked at (one per kind read).
        reads: Cell<usize>,
        /// More reads between two [`Arena::reads`] fail the test (0: no limit): a walk
        /// that looks at every path of a shared value would not end.
        limit: usize,
    }

    impl Arena {
        fn add(&mut self, node: Node) -> usize {
            self.nodes.push(node);
            self.nodes.len() - 1
        }

        /// `levels` objects `{"a": x, "b": x}` around `leaf`: 2^levels leaves.
        fn dag(&mut self, levels: usize, leaf: Node) -> usize {
            let mut x = self.add(leaf);
            for _ in 0..levels {
                x = self.add(Node::Obj(vec![(Some("a"), x), (Some("b"), x)]));
            }
            x
        }

        /// `levels` arrays `[x, x]` around `leaf`.
        fn array_dag(&mut self, levels: usize, leaf: Node) -> usize {
            let mut x = self.add(leaf);
            for _ in 0..levels {
                x = self.add(Node::Arr(vec![x, x]));
            }
            x
        }

        /// A deep copy of node `i`: the same value, no container shared.
        fn copy(&mut self, i: usize) -> usize {
            let node = match self.nodes[i].clone() {
                Node::Arr(items) => Node::Arr(items.into_iter().map(|j| self.copy(j)).collect()),
                Node::Obj(entries) => Node::Obj(
                    entries
                        .into_iter()
                        .map(|(k, j)| (k, self.copy(j)))
                        .collect(),
                ),
                other => other,
            };
            self.add(node)
        }

        /// The number of values in node `i`'s expansion (saturating).
        fn size(&self, i: usize) -> u64 {
            let mut sizes = vec![0u64; i + 1];
            for n in 0..=i {
                sizes[n] = match &self.nodes[n] {
                    Node::Arr(items) => items.iter().fold(1u64, |s, &j| s.saturating_add(sizes[j])),
                    Node::Obj(entries) => entries
                        .iter()
                        .fold(1u64, |s, &(_, j)| s.saturating_add(sizes[j])),
                    _ => 1,
                };
            }
            sizes[i]
        }

        fn at(&self, i: usize) -> At<'_> {
            At { arena: self, i }
        }

        /// The values looked at since last asked.
        fn reads(&self) -> usize {
            self.reads.replace(0)
        }
    }

    /// xorshift64: the tests' random numbers.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A random graph of `n` nodes, each container holding 1 to 3 of the 6 nodes
    /// made before it (shared, at many depths); leaves are JSON but for 1 in `bad`.
    fn random(arena: &mut Arena, rng: &mut Rng, n: usize, bad: usize) -> usize {
        const KEYS: [&str; 4] = ["a", "b", "c", "d"];
        let start = arena.nodes.len();
        for _ in 0..4 {
            let leaf = match rng.below(5) {
                0 => Node::Null,
                1 => Node::Num(rng.below(3) as f64),
                2 => Node::Str(KEYS[rng.below(2)]),
                _ => Node::Obj(vec![]),
            };
            arena.add(leaf);
        }
        for _ in 4..n {
            let made = arena.nodes.len();
            let pick = |rng: &mut Rng| made - 1 - rng.below(6.min(made - start));
            let node = match rng.below(12) {
                _ if rng.below(bad.max(1)) == 0 && bad > 0 => match rng.below(3) {
                    0 => Node::Num(f64::NAN),
                    1 => Node::Other,
                    _ => Node::Obj(vec![(None, pick(rng))]),
                },
                0 => Node::Num(1.0),
                1..=5 => Node::Arr((0..1 + rng.below(3)).map(|_| pick(rng)).collect()),
                _ => {
                    let len = 1 + rng.below(3);
                    Node::Obj((0..len).map(|k| (Some(KEYS[k]), pick(rng))).collect())
                }
            };
            arena.add(node);
        }
        arena.nodes.len() - 1
    }

    #[derive(Clone, Copy)]
    struct At<'a> {
        arena: &'a Arena,
        i: usize,
    }

    impl At<'_> {
        fn node(&self) -> &Node {
            &self.arena.nodes[self.i]
        }

        fn to(&self, i: usize) -> Self {
            At {
                arena: self.arena,
                i,
            }
        }
    }

    impl Record for At<'_> {
        fn kind(&self) -> Kind {
            let reads = self.arena.reads.get() + 1;
            self.arena.reads.set(reads);
            let limit = self.arena.limit;
            assert!(
                limit == 0 || reads <= limit,
                "over {limit} values looked at"
            );
            match self.node() {
                Node::Null => Kind::Null,
                Node::Num(_) => Kind::Number,
                Node::Str(_) => Kind::String,
                Node::Arr(_) => Kind::Array,
                Node::Obj(_) => Kind::Object,
                Node::Other => Kind::Unsupported,
            }
        }
        fn as_bool(&self) -> bool {
            false
        }
        fn as_number(&self) -> Number {
            match self.node() {
                Node::Num(n) => Number::Float(*n),
                _ => Number::Float(f64::NAN),
            }
        }
        fn as_str(&self) -> Option<&str> {
            match self.node() {
                Node::Str(s) => Some(s),
                _ => None,
            }
        }
        fn array_len(&self) -> usize {
            match self.node() {
                Node::Arr(items) => items.len(),
                _ => 0,
            }
        }
        fn array_item(&self, i: usize) -> Option<Self> {
            match self.node() {
                Node::Arr(items) => items.get(i).map(|&j| self.to(j)),
                _ => None,
            }
        }
        fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(
            &self,
            mut f: F,
        ) -> ControlFlow<()> {
            if let Node::Arr(items) = self.node() {
                for (i, &j) in items.iter().enumerate() {
                    f(i, &self.to(j))?;
                }
            }
            ControlFlow::Continue(())
        }
        fn object_len(&self) -> usize {
            match self.node() {
                Node::Obj(entries) => entries.len(),
                _ => 0,
            }
        }
        fn object_get(&self, key: &str) -> Option<Self> {
            match self.node() {
                Node::Obj(entries) => entries
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == Some(key))
                    .map(|&(_, j)| self.to(j)),
                _ => None,
            }
        }
        fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
            &self,
            mut f: F,
        ) -> ControlFlow<()> {
            if let Node::Obj(entries) = self.node() {
                for &(k, j) in entries {
                    let key = match k {
                        Some(k) => EntryKey::Str(k),
                        None => EntryKey::NotString("1".to_string()),
                    };
                    f(key, &self.to(j))?;
                }
            }
            ControlFlow::Continue(())
        }
        fn type_name(&self) -> Cow<'_, str> {
            Cow::Borrowed("set")
        }
        fn identity(&self) -> Option<(usize, usize)> {
            Some((self.arena as *const Arena as usize, self.i))
        }
    }

    /// Everything the walks say of `value` at `depth` (their errors, verdicts, hash,
    /// whether it equals each of `others`), each walk given a fresh `shared()`; the
    /// values looked at.
    fn outcomes(
        value: At<'_>,
        others: &[At<'_>],
        depth: usize,
        keys: &RandomState,
        shared: fn() -> Shared,
    ) -> (String, usize) {
        let _ = value.arena.reads();
        let mut errors: Vec<RecordError> = Vec::new();
        let mut sink = Collect::new(0, &mut errors);
        let mut found = 0;
        let flow = report_non_json_in(
            &value,
            &Path::Root,
            depth,
            &mut found,
            &mut sink,
            &mut shared(),
        );
        let listed: Vec<(String, String)> = errors
            .iter()
            .map(|e| (e.path().to_string(), e.message().to_string()))
            .collect();
        let mut first = FirstFailure::default();
        let mut first_found = 0;
        let first_flow = report_non_json_in(
            &value,
            &Path::Root,
            depth,
            &mut first_found,
            &mut first,
            &mut shared(),
        );
        let hash = canonical_hash(&value, depth, keys, &mut shared());
        let equals: Vec<_> = others
            .iter()
            .map(|other| {
                (
                    equal_in(&value, other, depth, &mut shared()),
                    equal_in(other, &value, depth, &mut shared()),
                )
            })
            .collect();
        let text = format!(
            "{listed:?} {flow:?} {found} {first_flow:?} {} {first_found} {hash:?} {equals:?}",
            first.failed
        );
        (text, value.arena.reads())
    }

    #[test]
    fn shared_containers_give_the_results_of_their_deep_copies() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut tried = 0;
        let mut cases = 0;
        while cases < 6 {
            tried += 1;
            assert!(tried < 10_000);
            let mut arena = Arena::default();
            let n = 20 + rng.below(40);
            let bad = [0, 0, 50, 400][rng.below(4)];
            let state = rng.0;
            let root = random(&mut arena, &mut rng, n, bad);
            // Large enough to be remembered, small enough to copy.
            let size = arena.size(root);
            if !(2 * SHARED_AFTER..20_000).contains(&size) {
                continue;
            }
            cases += 1;
            let copy = arena.copy(root);
            let near = arena.nodes.len() - 2; // a part of the copy
            let twin = random(&mut arena, &mut Rng(state), n, bad); // built again
            let nums: Vec<usize> = (0..20)
                .map(|k| arena.add(Node::Num(100.0 + k as f64)))
                .collect();
            let mut arrays = Vec::new();
            for items in [vec![near, twin, root, copy, root], vec![near, copy, root]] {
                for long in [false, true] {
                    let mut items = items.clone();
                    if long {
                        items.splice(0..0, nums.iter().copied());
                    }
                    let array = arena.add(Node::Arr(items));
                    arrays.push((array, arena.copy(array)));
                }
            }
            let arena = arena;
            let (dag, tree) = (arena.at(root), arena.at(copy));
            let others = [dag, tree, arena.at(near), arena.at(twin)];
            let keys = RandomState::new();
            for depth in [0, MAX_DEPTH - 12, MAX_DEPTH - 4, MAX_DEPTH] {
                let (expected, _) = outcomes(tree, &others, depth, &keys, Shared::never);
                for shared in [Shared::never, Shared::new, Shared::eager] {
                    for value in [dag, tree] {
                        let (got, _) = outcomes(value, &others, depth, &keys, shared);
                        assert_eq!(got, expected, "{n} nodes, depth {depth}");
                    }
                }
                for &(array, copied) in &arrays {
                    let expected =
                        first_duplicate_in(&arena.at(copied), depth, &mut Shared::never());
                    for shared in [Shared::never, Shared::new, Shared::eager] {
                        for value in [array, copied] {
                            let got = first_duplicate_in(&arena.at(value), depth, &mut shared());
                            assert_eq!(got, expected, "{n} nodes, depth {depth}");
                        }
                    }
                }
            }
        }
    }

    /// Objects `{"a": x, "b": [x]}`: a container is reached at many depths, some of
    /// them past [`MAX_DEPTH`], from the same place.
    #[test]
    fn a_container_found_clean_is_not_taken_for_clean_deeper() {
        for leaf in [Node::Null, Node::Num(f64::NAN)] {
            let mut arena = Arena::default();
            let mut x = arena.add(leaf.clone());
            for _ in 0..14 {
                let wrapped = arena.add(Node::Arr(vec![x]));
                x = arena.add(Node::Obj(vec![(Some("a"), x), (Some("b"), wrapped)]));
            }
            let copy = arena.copy(x);
            let arena = arena;
            let keys = RandomState::new();
            let (dag, tree) = (arena.at(x), arena.at(copy));
            for depth in [0, MAX_DEPTH - 20, MAX_DEPTH - 16, MAX_DEPTH - 3] {
                let (expected, _) = outcomes(tree, &[tree], depth, &keys, Shared::never);
                for shared in [Shared::never, Shared::new, Shared::eager] {
                    let (got, _) = outcomes(dag, &[tree], depth, &keys, shared);
                    assert_eq!(got, expected, "{leaf:?} {depth}");
                }
            }
        }
    }

    #[test]
    fn whole_value_walks_of_a_shared_value_are_linear() {
        let mut arena = Arena::default();
        let x = arena.dag(60, Node::Obj(vec![]));
        let y = arena.dag(60, Node::Obj(vec![])); // built again: shares nothing with `x`
        let z = arena.array_dag(60, Node::Str("s"));
        let w = arena.dag(60, Node::Obj(vec![(Some("c"), 0)])); // differs at every leaf
        let nan = arena.dag(60, Node::Num(f64::NAN));
        // Each level padded with a part of its own, not shared: the walk must not take
        // it for a value that shares nothing.
        let mut padded = arena.add(Node::Null);
        for _ in 0..40 {
            let parts = (0..3000).map(|_| arena.add(Node::Arr(vec![0]))).collect();
            let pad = arena.add(Node::Arr(parts));
            padded = arena.add(Node::Arr(vec![padded, pad, padded]));
        }
        let items = arena.add(Node::Arr(vec![x; 20]));
        let pairs = arena.add(Node::Arr(vec![z, x, y]));
        arena.limit = 20_000_000;
        let arena = arena;
        let [x, y, z, w, nan, padded, items, pairs] =
            [x, y, z, w, nan, padded, items, pairs].map(|i| arena.at(i));
        let bound = 4 * SHARED_AFTER as usize + 10_000;
        let keys = RandomState::new();
        for value in [x, y, z, w] {
            let (text, reads) = outcomes(value, &[x, y, z, w], 0, &keys, Shared::new);
            assert!(reads < 30 * bound, "{text}: {reads} values looked at");
        }
        assert_eq!(equal(&x, &y, 0), Ok(true));
        assert_eq!(equal(&x, &x, 0), Ok(true));
        assert_eq!(equal(&x, &w, 0), Ok(false));
        assert!(arena.reads() < 3 * bound);
        let mut errors: Vec<RecordError> = Vec::new();
        let mut sink = Collect::new(0, &mut errors);
        let mut found = 0;
        let flow = report_non_json(&x, &Path::Root, 0, &mut found, &mut sink);
        assert!(flow.is_continue() && found == 0 && errors.is_empty());
        assert!(arena.reads() < bound);
        // Every path of this one is a failure: a sink that keeps the first stops there.
        let mut first = FirstFailure::default();
        let flow = report_non_json(&nan, &Path::Root, 0, &mut found, &mut first);
        assert_eq!(flow, ControlFlow::Break(Cut::Stopped));
        assert!(arena.reads() < 100);
        // 120,000 containers, up to 2^40 copies of each.
        let mut first = FirstFailure::default();
        let flow = report_non_json(&padded, &Path::Root, 0, &mut found, &mut first);
        assert!(flow.is_continue() && !first.failed);
        let reads = arena.reads();
        assert!(reads < 10_000_000, "{reads} values looked at");
        assert_eq!(equal(&padded, &padded, 0), Ok(true));
        let reads = arena.reads();
        assert!(reads < 10_000_000, "{reads} values looked at");
        let hash = canonical_hash(&padded, 0, &keys, &mut Shared::new());
        assert!(hash.is_ok());
        let reads = arena.reads();
        assert!(reads < 10_000_000, "{reads} values looked at");
        // Arrays of them: compared in pairs, and by their hashes.
        assert_eq!(first_duplicate(&items, 0), Ok(Some((0, 1))));
        assert!(arena.reads() < 3 * bound);
        assert_eq!(first_duplicate(&pairs, 0), Ok(Some((1, 2))));
        assert!(arena.reads() < 6 * bound);
    }

    /// A container that holds itself: every walk ends at [`MAX_DEPTH`], as it did.
    #[test]
    fn a_cycle_ends_too_deep() {
        let mut arena = Arena::default();
        arena.add(Node::Obj(vec![(Some("a"), 0), (Some("b"), 0)]));
        let one = arena.add(Node::Num(1.0));
        let long = arena.add(Node::Arr((0..20).map(|i| i % 2).collect()));
        arena.limit = 100_000;
        let arena = arena;
        let x = arena.at(0);
        let keys = RandomState::new();
        for shared in [Shared::never, Shared::new, Shared::eager] {
            let (text, reads) = outcomes(x, &[x, arena.at(one)], 0, &keys, shared);
            assert_eq!(
                text,
                "[] Break(TooDeep) 0 Break(TooDeep) false 0 Err(TooDeep) \
                 [(Err(TooDeep), Err(TooDeep)), (Ok(false), Ok(false))]"
            );
            assert!(reads < 2_000, "{reads}");
        }
        assert_eq!(first_duplicate(&arena.at(long), 0), Err(TooDeep));
    }
}
