//! Room on the stack for the walks that recurse through a schema.
//!
//! A walk recurses once per node it enters: each in-place subschema and reference
//! followed, and each level of the value. A recursive definition reached through an
//! `allOf` (or `dependentSchemas`) of 45 levels, on a record 126 levels deep, is some
//! 6,000 nested nodes, and a chain of references in place may be 256 long at each level.
//! That outgrew the 2 MiB stack of a pool thread (the process died of a segmentation
//! fault on two threads, and answered on one), and a plain recursive schema on a record
//! 127 levels deep outgrew a Python thread of 128 KiB. The walks count the nodes with
//! references or combinators they are in, and every few of those levels, and every few
//! levels of the value, look at the stack ([`low`]): past
//! [`RED_ZONE`] from its end, the rest of the walk runs on a new segment of [`SEGMENT`]
//! bytes (mapped, freed on return), so no schema and no record can overflow it, on any
//! thread, whatever its stack.

/// What a walk may use between two looks ([`low`]): [`EVERY`] levels of nodes with
/// combinators and [`EVERY`] levels of the value, a few frames each, with a wide margin.
const RED_ZONE: usize = 1 << 20;

/// The size of each segment a deep walk adds.
const SEGMENT: usize = 16 << 20;

/// How many levels a walk goes between two looks at the stack ([`low`]): a look is a
/// call into `stacker` and a thread-local read, at every node with references or
/// combinators 3-14% of the time of ref-heavy SchemaStore schemas (and counting every
/// node, 7-11% of plain records given as dicts).
const EVERY: u32 = 8;

/// Whether a walk `nest` levels deep (in nodes with combinators, or in the value) should
/// go on on a new segment ([`on_new_segment`]): looked at every [`EVERY`] levels.
#[inline(always)]
pub(crate) fn low(nest: u32) -> bool {
    nest.is_multiple_of(EVERY) && stacker::remaining_stack().is_none_or(|left| left < RED_ZONE)
}

/// `f`, on a new segment where a walk `level` levels deep is [`low`].
#[inline(always)]
pub(crate) fn at_level<T>(level: u32, f: impl FnOnce() -> T) -> T {
    if low(level) {
        on_new_segment(f)
    } else {
        f()
    }
}

/// `f` on a new segment of [`SEGMENT`] bytes.
#[cold]
#[inline(never)]
pub(crate) fn on_new_segment<T>(f: impl FnOnce() -> T) -> T {
    stacker::grow(SEGMENT, f)
}
