//! JSON reading: a borrowing parser, array element splitting, NDJSON lines.
//!
//! * [`parse_value`] builds a [`Json`] DOM from one complete JSON text. It is
//!   iterative (an explicit frame stack, never recursion), so nesting is
//!   bounded by `max_depth` and never by the thread's stack. Strings without
//!   escapes borrow from the input; every container is allocated once, at its
//!   exact final size (its elements collect on per-thread scratch stacks).
//! * [`ArrayElements`] finds the byte ranges of the elements of a top-level
//!   array without building values, so that a batch of elements can be parsed
//!   (on several threads) and validated while memory stays bounded. Container
//!   elements (the common case: records) are skipped 64 bytes at a time with
//!   bit masks of quotes, backslashes and brackets.
//! * [`NdjsonLines`] finds the non-blank lines of an NDJSON buffer.
//!
//! Unsafe code is limited to `from_utf8_unchecked` on string bytes the scanner
//! saw to be ASCII, and SSE2 loads on x86-64 (part of its baseline); the
//! portable SWAR versions used elsewhere are tested against the SSE2 ones.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use memchr::memchr;

use crate::value::{Json, Number, MAX_DEPTH};

/// Why a JSON text was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the slice that was given to the parser or splitter.
    pub offset: usize,
    pub kind: JsonErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input ended inside a value; `offset` is the input's length.
    UnexpectedEnd,
    /// A byte that the grammar does not allow here (also a raw control
    /// character inside a string).
    UnexpectedByte(u8),
    /// Bytes that are not UTF-8; `offset` is the first bad byte.
    InvalidUtf8,
    /// A bad `\` escape, or a lone surrogate; `offset` is the backslash.
    InvalidEscape,
    /// A number that breaks the JSON grammar (leading zero, missing digits);
    /// `offset` is where the grammar broke.
    InvalidNumber,
    /// Arrays/objects nested deeper than allowed; `offset` is the bracket.
    TooDeep,
    /// Something other than whitespace after the value.
    TrailingCharacters,
    /// The splitter's input does not start with `[`.
    ExpectedArray,
}

impl JsonError {
    #[inline]
    fn new(kind: JsonErrorKind, offset: usize) -> JsonError {
        JsonError { offset, kind }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match self.kind {
            JsonErrorKind::UnexpectedEnd => write!(f, "unexpected end of input at byte {at}"),
            JsonErrorKind::UnexpectedByte(b) if b.is_ascii_graphic() => {
                write!(f, "unexpected character '{}' at byte {at}", b as char)
            }
            JsonErrorKind::UnexpectedByte(b) => write!(f, "unexpected byte 0x{b:02x} at byte {at}"),
            JsonErrorKind::InvalidUtf8 => write!(f, "invalid UTF-8 at byte {at}"),
            JsonErrorKind::InvalidEscape => write!(f, "invalid escape sequence at byte {at}"),
            JsonErrorKind::InvalidNumber => write!(f, "invalid number at byte {at}"),
            // The kind carries no depth; callers use `MAX_DEPTH`.
            JsonErrorKind::TooDeep => {
                write!(f, "nesting deeper than {MAX_DEPTH} levels at byte {at}")
            }
            JsonErrorKind::TrailingCharacters => write!(f, "trailing characters at byte {at}"),
            JsonErrorKind::ExpectedArray => write!(f, "expected a JSON array at byte {at}"),
        }
    }
}

impl std::error::Error for JsonError {}

// ---------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------

/// Bits set at the JSON whitespace bytes (space, tab, LF, CR).
const WS_MASK: u64 = (1 << b' ') | (1 << b'\t') | (1 << b'\n') | (1 << b'\r');

#[inline(always)]
fn is_ws(c: u8) -> bool {
    c <= b' ' && (WS_MASK >> c) & 1 != 0
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !is_ws(c) {
            break;
        }
        i += 1;
    }
    i
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first `"`, `\` or control byte (< 0x20) at or after `i`, or
/// `b.len()`. Sets `*non_ascii` when a byte >= 0x80 lies before that index.
/// 16 bytes at a time with SSE2 (part of the x86-64 baseline).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scan_string(b: &[u8], mut i: usize, non_ascii: &mut bool) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    while let Some(chunk) = b.get(i..i + 16) {
        // SAFETY: SSE2 is always available on x86_64; the load reads exactly
        // the 16 bytes of `chunk` (unaligned loads are fine).
        let (special, high) = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Unsigned `v <= 0x1f`.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let special = _mm_or_si128(_mm_or_si128(quote, backslash), control);
            (
                _mm_movemask_epi8(special) as u32,
                _mm_movemask_epi8(v) as u32,
            )
        };
        if special == 0 {
            *non_ascii |= high != 0;
            i += 16;
            continue;
        }
        let k = special.trailing_zeros();
        *non_ascii |= high & ((1 << k) - 1) != 0;
        return i + k as usize;
    }
    scan_string_swar(b, i, non_ascii)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn scan_string(b: &[u8], i: usize, non_ascii: &mut bool) -> usize {
    scan_string_swar(b, i, non_ascii)
}

/// [`scan_string`] in portable SWAR code, 8 bytes at a time.
#[inline(always)]
fn scan_string_swar(b: &[u8], mut i: usize, non_ascii: &mut bool) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap());
        let q = w ^ (LO * b'"' as u64);
        let s = w ^ (LO * b'\\' as u64);
        // The lowest flagged byte of each term is exact (borrows only travel
        // upwards), so the lowest flagged byte overall is the first special one.
        let special = ((q.wrapping_sub(LO) & !q)
            | (s.wrapping_sub(LO) & !s)
            | (w.wrapping_sub(LO * 0x20) & !w))
            & HI;
        if special == 0 {
            *non_ascii |= w & HI != 0;
            i += 8;
            continue;
        }
        let bit = special.trailing_zeros();
        // High bits of the bytes below the special one.
        let below = w & HI & ((1u64 << (bit - 7)) - 1);
        *non_ascii |= below != 0;
        return i + (bit / 8) as usize;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        *non_ascii |= c >= 0x80;
        i += 1;
    }
    i
}

/// Flags (in the high bit of each byte) the bytes of `w` equal to `byte`.
/// Only the lowest flag is exact (a borrow can flag bytes above a match),
/// which is all the scanners use.
#[inline(always)]
fn eq_mask(w: u64, byte: u8) -> u64 {
    let x = w ^ (LO * byte as u64);
    x.wrapping_sub(LO) & !x & HI
}

#[inline(always)]
fn load8(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..i + 8)
        .map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap()))
}

/// Index of the first `"` or `\` at or after `i`, or at least `b.len()`.
#[inline(always)]
fn find_quote_or_backslash(b: &[u8], mut i: usize) -> usize {
    while let Some(w) = load8(b, i) {
        let m = eq_mask(w, b'"') | eq_mask(w, b'\\');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' {
            return i;
        }
        i += 1;
    }
    i
}

/// Index of the first `"`, `[`, `]`, `{` or `}` at or after `i`, or `b.len()`.
#[inline(always)]
fn find_structural(b: &[u8], mut i: usize) -> usize {
    while let Some(w) = load8(b, i) {
        // `c | 0x20` is `{` exactly for `[` and `{`, `}` exactly for `]` and `}`.
        let y = w | (LO * 0x20);
        let m = eq_mask(w, b'"') | eq_mask(y, b'{') | eq_mask(y, b'}');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if matches!(c, b'"' | b'[' | b']' | b'{' | b'}') {
            return i;
        }
        i += 1;
    }
    i
}

/// `s` as text; `offset` is where `s` starts in the input (for the error).
#[inline(always)]
fn to_str(s: &[u8], offset: usize, non_ascii: bool) -> Result<&str, JsonError> {
    if non_ascii {
        std::str::from_utf8(s)
            .map_err(|e| JsonError::new(JsonErrorKind::InvalidUtf8, offset + e.valid_up_to()))
    } else {
        debug_assert!(s.is_ascii());
        // SAFETY: `scan_string` looked at every byte of `s` and saw none >= 0x80;
        // ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(s) })
    }
}

#[inline]
fn hex_digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as u32),
        b'a'..=b'f' => Some((c - b'a' + 10) as u32),
        b'A'..=b'F' => Some((c - b'A' + 10) as u32),
        _ => None,
    }
}

/// The error for an unexpected byte at `at` (which must be in bounds): bytes
/// that do not start a UTF-8 character are reported as invalid UTF-8.
#[cold]
#[inline(never)]
fn unexpected(b: &[u8], at: usize) -> JsonError {
    let c = b[at];
    if c >= 0x80 {
        let window = &b[at..b.len().min(at + 4)];
        if let Err(e) = std::str::from_utf8(window) {
            if e.valid_up_to() == 0 {
                return JsonError::new(JsonErrorKind::InvalidUtf8, at);
            }
        }
    }
    JsonError::new(JsonErrorKind::UnexpectedByte(c), at)
}

#[cold]
#[inline(never)]
fn err(kind: JsonErrorKind, at: usize) -> JsonError {
    JsonError::new(kind, at)
}

/// Exact powers of ten for the fast float path.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

// ---------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------

/// Parses one complete JSON value (surrounding whitespace allowed).
///
/// Strings without escapes borrow from `input`; strings with escapes are
/// owned. Arrays/objects nested deeper than `max_depth` are a
/// [`JsonErrorKind::TooDeep`] error (the parser never recurses). Invalid UTF-8
/// is rejected everywhere. Numbers follow the JSON grammar strictly and are
/// converted exactly as [`Number::parse`] would. Duplicate keys are kept, in
/// order.
pub fn parse_value<'a>(input: &'a [u8], max_depth: usize) -> Result<Json<'a>, JsonError> {
    let mut scratch = take_scratch();
    let mut p = Parser { b: input, pos: 0 };
    let result = p.parse(max_depth, &mut scratch);
    put_scratch(scratch);
    // A complete value, or one too deep to build that is otherwise JSON:
    // only whitespace may follow either.
    if matches!(
        &result,
        Ok(_)
            | Err(JsonError {
                kind: JsonErrorKind::TooDeep,
                ..
            })
    ) {
        let end = skip_ws(input, p.pos);
        if end < input.len() {
            return Err(err(JsonErrorKind::TrailingCharacters, end));
        }
    }
    result
}

pub(crate) struct Parser<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
}

/// An array or object being read: its finished items (or entries) sit on
/// the scratch stack from `start`; `key` is an object's pending key.
struct Frame<'a> {
    start: usize,
    key: Cow<'a, str>,
    object: bool,
}

type Entry<'a> = (Cow<'a, str>, Json<'a>);

/// The parser's stacks: the open containers, and the finished items/entries
/// of the open arrays/objects. A container, once closed, is split off its
/// stack: one allocation of the exact size and one `memcpy`, which measured
/// about 10% faster than building each container's `Vec` as it is read.
///
/// The stacks are kept per thread between calls (emptied, and re-typed for the
/// next input's lifetime), so parsing a small record allocates only its own
/// containers: about 20% faster than fresh stacks per call.
#[derive(Default)]
struct Scratch<'a> {
    frames: Vec<Frame<'a>>,
    items: Vec<Json<'a>>,
    entries: Vec<Entry<'a>>,
}

/// Stacks with room for more elements than this are freed, not kept.
const SCRATCH_KEEP: usize = 4096;

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Scratch<'static>>> = const { std::cell::Cell::new(None) };
}

/// Empties `v` and gives it another element type of the same layout (here:
/// the same type with another lifetime). The standard library collects a
/// mapped `vec::IntoIter` in place, so the allocation is kept.
fn relabel<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    if v.capacity() > SCRATCH_KEEP {
        return Vec::new();
    }
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

impl<'a> Scratch<'a> {
    fn relabel<'b>(self) -> Scratch<'b> {
        Scratch {
            frames: relabel(self.frames),
            items: relabel(self.items),
            entries: relabel(self.entries),
        }
    }
}

fn take_scratch<'a>() -> Scratch<'a> {
    SCRATCH
        .try_with(|s| s.take())
        .ok()
        .flatten()
        .map(Scratch::relabel)
        .unwrap_or_default()
}

fn put_scratch(scratch: Scratch<'_>) {
    let scratch = scratch.relabel();
    let _ = SCRATCH.try_with(|s| s.set(Some(scratch)));
}

impl<'a> Parser<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Parser { b, pos: 0 }
    }

    /// Parses the value at the cursor (a subtree, for callers that walk the
    /// input themselves) with the per-thread scratch stacks.
    pub(crate) fn parse_here(&mut self, max_depth: usize) -> Result<Json<'a>, JsonError> {
        let mut scratch = take_scratch();
        let result = self.parse(max_depth, &mut scratch);
        put_scratch(scratch);
        result
    }

    /// Skips whitespace and returns the next byte, without consuming it.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Result<u8, JsonError> {
        let b = self.b;
        while let Some(&c) = b.get(self.pos) {
            if !is_ws(c) {
                return Ok(c);
            }
            self.pos += 1;
        }
        Err(err(JsonErrorKind::UnexpectedEnd, b.len()))
    }

    fn parse(
        &mut self,
        max_depth: usize,
        scratch: &mut Scratch<'a>,
    ) -> Result<Json<'a>, JsonError> {
        let Scratch {
            frames,
            items,
            entries,
        } = scratch;
        // Where the first container too deep to build starts.
        let mut too_deep: Option<usize> = None;
        'value: loop {
            // One value (or the opening of a container, then its first value).
            let c = self.peek()?;
            let mut value = match c {
                b'"' => {
                    self.pos += 1;
                    Json::String(self.string()?)
                }
                b'{' | b'[' if frames.len() >= max_depth => {
                    // Too deep to build; the rest must still be JSON, else
                    // the text's own error wins.
                    too_deep.get_or_insert(self.pos);
                    self.skip_deep()?;
                    Json::Null
                }
                b'{' => {
                    self.pos += 1;
                    let c = self.peek()?;
                    if c == b'}' {
                        self.pos += 1;
                        Json::Object(Vec::new())
                    } else {
                        let key = self.key(c)?;
                        frames.push(Frame {
                            start: entries.len(),
                            key,
                            object: true,
                        });
                        continue 'value;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    if self.peek()? == b']' {
                        self.pos += 1;
                        Json::Array(Vec::new())
                    } else {
                        frames.push(Frame {
                            start: items.len(),
                            key: Cow::Borrowed(""),
                            object: false,
                        });
                        continue 'value;
                    }
                }
                b'-' | b'0'..=b'9' => Json::Number(self.number()?),
                b't' => {
                    self.literal(b"true")?;
                    Json::Bool(true)
                }
                b'f' => {
                    self.literal(b"false")?;
                    Json::Bool(false)
                }
                b'n' => {
                    self.literal(b"null")?;
                    Json::Null
                }
                _ => return Err(unexpected(self.b, self.pos)),
            };
            // Hand the finished value to its container; a comma continues the
            // container, a closing bracket completes it (a value of its own).
            loop {
                let Some(frame) = frames.last_mut() else {
                    return match too_deep {
                        Some(at) => Err(err(JsonErrorKind::TooDeep, at)),
                        None => Ok(value),
                    };
                };
                if frame.object {
                    entries.push((std::mem::take(&mut frame.key), value));
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            let c = self.peek()?;
                            frame.key = self.key(c)?;
                            continue 'value;
                        }
                        b'}' => {
                            self.pos += 1;
                            let start = frame.start;
                            frames.pop();
                            value = Json::Object(entries.split_off(start));
                        }
                        _ => return Err(unexpected(self.b, self.pos)),
                    }
                } else {
                    items.push(value);
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            continue 'value;
                        }
                        b']' => {
                            self.pos += 1;
                            let start = frame.start;
                            frames.pop();
                            value = Json::Array(items.split_off(start));
                        }
                        _ => return Err(unexpected(self.b, self.pos)),
                    }
                }
            }
        }
    }

    /// Checks the container at the cursor without building it, however deep
    /// it nests: an explicit stack of one flag per open container, never
    /// recursion; each byte is read once. Its errors are the parser's own.
    fn skip_deep(&mut self) -> Result<(), JsonError> {
        // `true` for an object.
        let mut open: Vec<bool> = Vec::new();
        'value: loop {
            match self.peek()? {
                b'{' => {
                    self.pos += 1;
                    let c = self.peek()?;
                    if c == b'}' {
                        self.pos += 1;
                    } else {
                        self.key(c)?;
                        open.push(true);
                        continue 'value;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    if self.peek()? == b']' {
                        self.pos += 1;
                    } else {
                        open.push(false);
                        continue 'value;
                    }
                }
                b'"' => {
                    self.pos += 1;
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(unexpected(self.b, self.pos)),
            }
            // A value is complete: continue or close its containers.
            loop {
                let Some(&object) = open.last() else {
                    return Ok(());
                };
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            let c = self.peek()?;
                            self.key(c)?;
                        }
                        continue 'value;
                    }
                    b'}' if object => {
                        self.pos += 1;
                        open.pop();
                    }
                    b']' if !object => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return Err(unexpected(self.b, self.pos)),
                }
            }
        }
    }

    /// An object key (`c` is the already peeked next byte) and its colon.
    #[inline(always)]
    pub(crate) fn key(&mut self, c: u8) -> Result<Cow<'a, str>, JsonError> {
        if c != b'"' {
            return Err(unexpected(self.b, self.pos));
        }
        self.pos += 1;
        let key = self.string()?;
        // Fast path for the common `"key":` without whitespace.
        if self.b.get(self.pos) == Some(&b':') {
            self.pos += 1;
            return Ok(key);
        }
        if self.peek()? != b':' {
            return Err(unexpected(self.b, self.pos));
        }
        self.pos += 1;
        Ok(key)
    }

    #[inline(always)]
    pub(crate) fn literal(&mut self, word: &'static [u8]) -> Result<(), JsonError> {
        let b = self.b;
        let end = self.pos + word.len();
        if b.get(self.pos..end) == Some(word) {
            self.pos = end;
            return Ok(());
        }
        Err(self.literal_error(word))
    }

    #[cold]
    #[inline(never)]
    fn literal_error(&self, word: &[u8]) -> JsonError {
        for (k, &w) in word.iter().enumerate() {
            match self.b.get(self.pos + k) {
                None => return err(JsonErrorKind::UnexpectedEnd, self.b.len()),
                Some(&c) if c != w => return unexpected(self.b, self.pos + k),
                _ => {}
            }
        }
        unreachable!("literal matched after all")
    }

    /// A string whose opening quote has been consumed.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let b = self.b;
        let start = self.pos;
        let mut non_ascii = false;
        let i = scan_string(b, start, &mut non_ascii);
        if b.get(i) == Some(&b'"') {
            self.pos = i + 1;
            return Ok(Cow::Borrowed(to_str(&b[start..i], start, non_ascii)?));
        }
        self.string_slow(start, i, non_ascii).map(Cow::Owned)
    }

    /// The rest of a string from `i`, the first escape/quote/control byte.
    #[inline(never)]
    fn string_slow(
        &mut self,
        start: usize,
        mut i: usize,
        mut non_ascii: bool,
    ) -> Result<String, JsonError> {
        let b = self.b;
        let mut out = String::with_capacity(i - start + 16);
        let mut seg = start;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(err(JsonErrorKind::UnexpectedEnd, b.len()));
            };
            out.push_str(to_str(&b[seg..i], seg, non_ascii)?);
            match c {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(out);
                }
                b'\\' => i = self.escape(i, &mut out)?,
                _ => return Err(err(JsonErrorKind::UnexpectedByte(c), i)),
            }
            seg = i;
            non_ascii = false;
            i = scan_string(b, i, &mut non_ascii);
        }
    }

    /// Decodes the escape whose backslash is at `i` into `out`; returns the
    /// index after it.
    fn escape(&self, i: usize, out: &mut String) -> Result<usize, JsonError> {
        let b = self.b;
        let Some(&e) = b.get(i + 1) else {
            return Err(err(JsonErrorKind::UnexpectedEnd, b.len()));
        };
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4(i + 2, i)?;
                let (cp, next) = if (0xD800..0xDC00).contains(&hi) {
                    match (b.get(i + 6), b.get(i + 7)) {
                        (Some(b'\\'), Some(b'u')) => {}
                        (None, _) | (Some(b'\\'), None) => {
                            return Err(err(JsonErrorKind::UnexpectedEnd, b.len()))
                        }
                        _ => return Err(err(JsonErrorKind::InvalidEscape, i)),
                    }
                    let lo = self.hex4(i + 8, i)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(err(JsonErrorKind::InvalidEscape, i));
                    }
                    (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), i + 12)
                } else {
                    (hi, i + 6)
                };
                // `None` exactly for a lone low surrogate.
                let ch = char::from_u32(cp).ok_or_else(|| err(JsonErrorKind::InvalidEscape, i))?;
                out.push(ch);
                return Ok(next);
            }
            _ => return Err(err(JsonErrorKind::InvalidEscape, i)),
        };
        out.push(ch);
        Ok(i + 2)
    }

    /// Four hex digits at `at`; `esc` is the escape's backslash (for errors).
    #[inline]
    fn hex4(&self, at: usize, esc: usize) -> Result<u32, JsonError> {
        let b = self.b;
        let mut v = 0;
        for k in at..at + 4 {
            match b.get(k) {
                None => return Err(err(JsonErrorKind::UnexpectedEnd, b.len())),
                Some(&c) => match hex_digit(c) {
                    Some(d) => v = v << 4 | d,
                    None => return Err(err(JsonErrorKind::InvalidEscape, esc)),
                },
            }
        }
        Ok(v)
    }

    /// A number starting at `self.pos` (a `-` or a digit).
    #[inline(always)]
    pub(crate) fn number(&mut self) -> Result<Number, JsonError> {
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        let neg = b[i] == b'-';
        if neg {
            i += 1;
        }
        let int_start = i;
        let mut m: u64 = 0;
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if matches!(b.get(i), Some(b'0'..=b'9')) {
                    return Err(err(JsonErrorKind::InvalidNumber, i));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&c) = b.get(i) {
                    let d = c.wrapping_sub(b'0');
                    if d > 9 {
                        break;
                    }
                    m = m.wrapping_mul(10).wrapping_add(d as u64);
                    i += 1;
                }
            }
            Some(_) => return Err(err(JsonErrorKind::InvalidNumber, i)),
            None => return Err(err(JsonErrorKind::UnexpectedEnd, b.len())),
        }
        let int_digits = i - int_start;

        let c = b.get(i).copied();
        if !matches!(c, Some(b'.' | b'e' | b'E')) {
            // An integer.
            self.pos = i;
            if int_digits <= 19 {
                // At most 19 digits never overflow a u64.
                if !neg && m <= i64::MAX as u64 {
                    return Ok(Number::Int(m as i64));
                }
                if neg && m <= 1u64 << 63 {
                    return Ok(Number::Int((m as i64).wrapping_neg()));
                }
            }
            return self.number_text(start, i);
        }

        let mut frac_digits = 0;
        if c == Some(b'.') {
            i += 1;
            let frac_start = i;
            while let Some(&c) = b.get(i) {
                let d = c.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                m = m.wrapping_mul(10).wrapping_add(d as u64);
                i += 1;
            }
            frac_digits = i - frac_start;
            if frac_digits == 0 {
                return Err(self.missing_digit(i));
            }
        }
        let mut exp: i64 = 0;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            let exp_neg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let exp_start = i;
            while let Some(&c) = b.get(i) {
                let d = c.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                if exp < 1_000_000 {
                    exp = exp * 10 + d as i64;
                }
                i += 1;
            }
            if i == exp_start {
                return Err(self.missing_digit(i));
            }
            if exp_neg {
                exp = -exp;
            }
        }
        self.pos = i;
        // Clinger's fast path: the mantissa and the power of ten are both exact
        // in f64, so one correctly rounded operation gives the right answer.
        if int_digits + frac_digits <= 19 && m <= 1u64 << 53 {
            let e = exp - frac_digits as i64;
            if (-22..=22).contains(&e) {
                let mut f = m as f64;
                if e < 0 {
                    f /= POW10[(-e) as usize];
                } else {
                    f *= POW10[e as usize];
                }
                return Ok(Number::Float(if neg { -f } else { f }));
            }
        }
        self.number_text(start, i)
    }

    #[cold]
    fn missing_digit(&self, i: usize) -> JsonError {
        if i >= self.b.len() {
            err(JsonErrorKind::UnexpectedEnd, self.b.len())
        } else {
            err(JsonErrorKind::InvalidNumber, i)
        }
    }

    /// The slow path: big integers and hard floats, through `Number::parse`.
    #[cold]
    #[inline(never)]
    fn number_text(&self, start: usize, end: usize) -> Result<Number, JsonError> {
        std::str::from_utf8(&self.b[start..end])
            .ok()
            .and_then(Number::parse)
            .ok_or_else(|| err(JsonErrorKind::InvalidNumber, start))
    }
}

// ---------------------------------------------------------------------------
// Array splitting
// ---------------------------------------------------------------------------

/// Splits a top-level JSON array into the byte ranges of its elements without
/// building values: a structural scan that skips strings (honouring escapes)
/// and counts brackets. Ranges are trimmed of whitespace and come lazily, in
/// order. A structural problem yields one `Err`, after which the iterator
/// ends. Element contents are not validated (parse each range with
/// [`parse_value`]); the scan never recurses and never panics.
pub struct ArrayElements<'a> {
    input: &'a [u8],
    pos: usize,
    state: SplitState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SplitState {
    Start,
    /// After `[` or a comma: an element must follow.
    Element,
    /// After the closing `]`: only whitespace may follow.
    Closed,
    Done,
}

impl<'a> ArrayElements<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        ArrayElements {
            input,
            pos: 0,
            state: SplitState::Start,
        }
    }

    /// The byte offset reached so far.
    pub fn offset(&self) -> usize {
        self.pos
    }

    #[cold]
    fn fail(&mut self, kind: JsonErrorKind, at: usize) -> Option<Result<Range<usize>, JsonError>> {
        self.state = SplitState::Done;
        Some(Err(JsonError::new(kind, at)))
    }

    #[cold]
    fn fail_unexpected(&mut self, at: usize) -> Option<Result<Range<usize>, JsonError>> {
        self.state = SplitState::Done;
        self.pos = at;
        Some(Err(unexpected(self.input, at)))
    }

    /// Index after the closing quote of the string whose content starts at `i`.
    #[inline(always)]
    fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
        loop {
            i = find_quote_or_backslash(b, i);
            match b.get(i) {
                None => return None,
                Some(b'"') => return Some(i + 1),
                Some(_) => i += 2,
            }
        }
    }

    fn element(&mut self) -> Option<Result<Range<usize>, JsonError>> {
        let b = self.input;
        let len = b.len();
        let start = skip_ws(b, self.pos);
        self.pos = start;
        match b.get(start) {
            None => return self.fail(JsonErrorKind::UnexpectedEnd, len),
            Some(b',' | b']' | b'}' | b':') => return self.fail_unexpected(start),
            Some(b'{' | b'[') => {
                // The common case (an array of records): find the matching
                // bracket with the block scanner, then expect `,` or `]`.
                let Some(end) = skip_container(b, start) else {
                    self.pos = len;
                    return self.fail(JsonErrorKind::UnexpectedEnd, len);
                };
                let next = skip_ws(b, end);
                return match b.get(next) {
                    Some(b',') => {
                        self.pos = next + 1;
                        Some(Ok(start..end))
                    }
                    Some(b']') => {
                        self.pos = next + 1;
                        self.state = SplitState::Closed;
                        Some(Ok(start..end))
                    }
                    Some(_) => self.fail_unexpected(next),
                    None => {
                        self.pos = len;
                        self.fail(JsonErrorKind::UnexpectedEnd, len)
                    }
                };
            }
            Some(_) => {}
        }
        // A scalar or a string: a byte loop (scalars are short), which also
        // copes with brackets that a broken input may hold.
        let mut i = start;
        let mut depth: usize = 0;
        // End of the element's content so far (exclusive).
        let mut end = start;
        // Whether the top-level value of the element is complete.
        let mut complete = false;
        loop {
            if depth > 0 {
                i = find_structural(b, i);
            }
            let Some(&c) = b.get(i) else {
                self.pos = len;
                return self.fail(JsonErrorKind::UnexpectedEnd, len);
            };
            match c {
                b'"' => {
                    if depth == 0 && complete {
                        return self.fail_unexpected(i);
                    }
                    match Self::skip_string(b, i + 1) {
                        Some(next) => i = next,
                        None => {
                            self.pos = len;
                            return self.fail(JsonErrorKind::UnexpectedEnd, len);
                        }
                    }
                    if depth == 0 {
                        complete = true;
                        end = i;
                    }
                }
                b'[' | b'{' => {
                    if depth == 0 && complete {
                        return self.fail_unexpected(i);
                    }
                    depth += 1;
                    i += 1;
                }
                b']' | b'}' => {
                    if depth == 0 {
                        if c == b'}' {
                            return self.fail_unexpected(i);
                        }
                        self.pos = i + 1;
                        self.state = SplitState::Closed;
                        return Some(Ok(start..end));
                    }
                    depth -= 1;
                    i += 1;
                    if depth == 0 {
                        complete = true;
                        end = i;
                    }
                }
                b',' => {
                    // Only reached at depth 0: commas are skipped inside containers.
                    self.pos = i + 1;
                    self.state = SplitState::Element;
                    return Some(Ok(start..end));
                }
                _ if is_ws(c) => {
                    complete = true;
                    i += 1;
                }
                _ => {
                    // Part of a number or literal (validated later).
                    if complete {
                        return self.fail_unexpected(i);
                    }
                    i += 1;
                    end = i;
                }
            }
        }
    }
}

impl<'a> Iterator for ArrayElements<'a> {
    type Item = Result<Range<usize>, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.input;
        match self.state {
            SplitState::Done => None,
            SplitState::Element => self.element(),
            SplitState::Start => {
                let i = skip_ws(b, 0);
                self.pos = i;
                if b.get(i) != Some(&b'[') {
                    return self.fail(JsonErrorKind::ExpectedArray, i);
                }
                let i = skip_ws(b, i + 1);
                self.pos = i;
                if b.get(i) == Some(&b']') {
                    self.pos = i + 1;
                    self.state = SplitState::Closed;
                    return self.next();
                }
                self.state = SplitState::Element;
                self.element()
            }
            SplitState::Closed => {
                let i = skip_ws(b, self.pos);
                self.pos = i;
                if i < b.len() {
                    return self.fail(JsonErrorKind::TrailingCharacters, i);
                }
                self.state = SplitState::Done;
                None
            }
        }
    }
}

/// Bit `k` is set where byte `k` of the 64-byte block equals one of the
/// byte classes the container scanner needs.
#[derive(Debug, PartialEq, Eq)]
struct BlockMasks {
    quote: u64,
    backslash: u64,
    /// `[` and `{`.
    open: u64,
    /// `]` and `}`.
    close: u64,
}

/// The high bit of each byte of `x` that is zero (exact, unlike [`eq_mask`]).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HI
}

/// Gathers the high bits of the 8 bytes of `m` into the low 8 bits.
#[inline(always)]
fn pack_high_bits(m: u64) -> u64 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The masks of a 64-byte block, with SSE2 (part of the x86-64 baseline).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_masks(block: &[u8]) -> BlockMasks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let block: &[u8; 64] = block.try_into().unwrap();
    let mut masks = BlockMasks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    // SAFETY: SSE2 is always available on x86_64. Each load reads the 16
    // bytes at `16 * k` (k < 4) of the 64-byte `block`; unaligned loads are fine.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let lower = _mm_set1_epi8(0x20);
        let open = _mm_set1_epi8(b'{' as i8);
        let close = _mm_set1_epi8(b'}' as i8);
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
            // `c | 0x20` is `{` exactly for `[` and `{`, `}` exactly for `]` and `}`.
            let y = _mm_or_si128(v, lower);
            let bits = |m| (_mm_movemask_epi8(m) as u32 as u64) << (16 * k);
            masks.quote |= bits(_mm_cmpeq_epi8(v, quote));
            masks.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
            masks.open |= bits(_mm_cmpeq_epi8(y, open));
            masks.close |= bits(_mm_cmpeq_epi8(y, close));
        }
    }
    masks
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block_masks(block: &[u8]) -> BlockMasks {
    block_masks_swar(block)
}

/// The masks of a 64-byte block, in portable SWAR code.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn block_masks_swar(block: &[u8]) -> BlockMasks {
    let mut masks = BlockMasks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    for (k, word) in block.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(word.try_into().unwrap());
        // `c | 0x20` is `{` exactly for `[` and `{`, `}` exactly for `]` and `}`.
        let y = w | (LO * 0x20);
        let shift = 8 * k;
        masks.quote |= pack_high_bits(zero_bytes(w ^ (LO * b'"' as u64))) << shift;
        masks.backslash |= pack_high_bits(zero_bytes(w ^ (LO * b'\\' as u64))) << shift;
        masks.open |= pack_high_bits(zero_bytes(y ^ (LO * b'{' as u64))) << shift;
        masks.close |= pack_high_bits(zero_bytes(y ^ (LO * b'}' as u64))) << shift;
    }
    masks
}

/// Bit `k` is the XOR of bits `0..=k` of `x`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The index after the bracket that closes the one at `start`, skipping
/// strings (with their escapes); `None` when the input ends first. Works on
/// 64-byte blocks with bit masks (no per-byte branches); brackets are told
/// apart only by nesting, not by kind (`parse_value` checks the contents).
fn skip_container(b: &[u8], start: usize) -> Option<usize> {
    let mut depth: u64 = 0;
    // All ones when the next block starts inside a string.
    let mut in_string: u64 = 0;
    // Bit 0 set when the next block's first byte is escaped.
    let mut escape_carry: u64 = 0;
    let mut i = start;
    let mut padded = [b' '; 64];
    loop {
        let block: &[u8] = match b.get(i..i + 64) {
            Some(block) => block,
            None => {
                let rest = b.get(i..).filter(|rest| !rest.is_empty())?;
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let m = block_masks(block);

        // Escaped bytes: each backslash that is not itself escaped escapes
        // the next byte. Backslashes are rare, so walk them one by one.
        let mut escaped = escape_carry;
        escape_carry = 0;
        let mut backslashes = m.backslash & !escaped;
        while backslashes != 0 {
            let bit = backslashes & backslashes.wrapping_neg();
            if bit == 1 << 63 {
                escape_carry = 1;
            }
            escaped |= bit << 1;
            backslashes &= !(bit | bit << 1);
        }

        // Inside strings: from an opening quote up to (not including) the closing one.
        let strings = prefix_xor(m.quote & !escaped) ^ in_string;
        in_string = ((strings as i64) >> 63) as u64;
        let open = m.open & !strings;
        let close = m.close & !strings;

        let closes = close.count_ones() as u64;
        if depth > closes {
            // The container cannot end in this block.
            depth = depth + open.count_ones() as u64 - closes;
        } else {
            let mut brackets = open | close;
            while brackets != 0 {
                let bit = brackets & brackets.wrapping_neg();
                if open & bit != 0 {
                    depth += 1;
                } else {
                    depth -= 1;
                    if depth == 0 {
                        let end = i + bit.trailing_zeros() as usize + 1;
                        // Padding holds no brackets, so `end` is in the input.
                        return Some(end);
                    }
                }
                brackets &= brackets - 1;
            }
        }
        i += 64;
    }
}

// ---------------------------------------------------------------------------
// NDJSON
// ---------------------------------------------------------------------------

/// Splits an NDJSON buffer into lines (on `\n`, dropping a trailing `\r`),
/// skipping blank lines. Yields `(line_number, range)` with zero-based line
/// numbers that count every line, blank ones included.
pub struct NdjsonLines<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> NdjsonLines<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        NdjsonLines {
            input,
            pos: 0,
            line: 0,
        }
    }
}

impl<'a> Iterator for NdjsonLines<'a> {
    type Item = (usize, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.input;
        while self.pos < b.len() {
            let start = self.pos;
            let (mut end, next) = match memchr(b'\n', &b[start..]) {
                Some(k) => (start + k, start + k + 1),
                None => (b.len(), b.len()),
            };
            self.pos = next;
            let line = self.line;
            self.line += 1;
            if end > start && b[end - 1] == b'\r' {
                end -= 1;
            }
            if b[start..end].iter().all(|&c| is_ws(c)) {
                continue;
            }
            return Some((line, start..end));
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn parse(s: &str) -> Result<Json<'_>, JsonError> {
        parse_value(s.as_bytes(), MAX_DEPTH)
    }

    fn parse_err(input: &[u8]) -> (JsonErrorKind, usize) {
        match parse_value(input, MAX_DEPTH) {
            Ok(v) => panic!("{:?} parsed as {v:?}", String::from_utf8_lossy(input)),
            Err(e) => (e.kind, e.offset),
        }
    }

    fn e(kind: JsonErrorKind, offset: usize) -> (JsonErrorKind, usize) {
        (kind, offset)
    }

    use JsonErrorKind::*;

    fn string_of(v: &Json<'_>) -> (String, bool) {
        match v {
            Json::String(Cow::Borrowed(s)) => (s.to_string(), true),
            Json::String(Cow::Owned(s)) => (s.clone(), false),
            other => panic!("not a string: {other:?}"),
        }
    }

    fn num<'v>(v: &'v Json<'_>) -> &'v Number {
        match v {
            Json::Number(n) => n,
            other => panic!("not a number: {other:?}"),
        }
    }

    /// Structural equality of two numbers, representation included.
    fn same_number(a: &Number, b: &Number) -> bool {
        match (a, b) {
            (Number::Int(x), Number::Int(y)) => x == y,
            (Number::Big(x), Number::Big(y)) => x == y,
            (Number::Float(x), Number::Float(y)) => x.to_bits() == y.to_bits(),
            (Number::Decimal(x), Number::Decimal(y)) => x == y,
            _ => false,
        }
    }

    /// Our DOM against serde_json's (numbers through their text).
    fn same(ours: &Json<'_>, theirs: &Value) -> bool {
        match (ours, theirs) {
            (Json::Null, Value::Null) => true,
            (Json::Bool(a), Value::Bool(b)) => a == b,
            (Json::Number(a), Value::Number(b)) => match Number::parse(&b.to_string()) {
                Some(b) => same_number(a, &b),
                None => false,
            },
            (Json::String(a), Value::String(b)) => a == b,
            (Json::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            (Json::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
            }
            _ => false,
        }
    }

    // -- scalars -----------------------------------------------------------

    #[test]
    fn literals() {
        assert!(matches!(parse("null").unwrap(), Json::Null));
        assert!(matches!(parse("true").unwrap(), Json::Bool(true)));
        assert!(matches!(
            parse(" \t\r\nfalse \n").unwrap(),
            Json::Bool(false)
        ));
        assert_eq!(parse_err(b"nul"), e(UnexpectedEnd, 3));
        assert_eq!(parse_err(b"nulL"), e(UnexpectedByte(b'L'), 3));
        assert_eq!(parse_err(b"tru"), e(UnexpectedEnd, 3));
        assert_eq!(parse_err(b"fals"), e(UnexpectedEnd, 4));
        assert_eq!(parse_err(b"trUe"), e(UnexpectedByte(b'U'), 2));
        assert_eq!(parse_err(b"truex"), e(TrailingCharacters, 4));
        assert_eq!(parse_err(b"True"), e(UnexpectedByte(b'T'), 0));
        assert_eq!(parse_err(b"[truex]"), e(UnexpectedByte(b'x'), 5));
    }

    #[test]
    fn empty_and_whitespace() {
        assert_eq!(parse_err(b""), e(UnexpectedEnd, 0));
        assert_eq!(parse_err(b"  \n "), e(UnexpectedEnd, 4));
        assert_eq!(parse_err(b"\x0c1"), e(UnexpectedByte(0x0c), 0));
        assert_eq!(parse_err(b"1 2"), e(TrailingCharacters, 2));
        assert_eq!(parse_err(b"{} {}"), e(TrailingCharacters, 3));
        assert_eq!(parse_err(b"[]]"), e(TrailingCharacters, 2));
    }

    #[test]
    fn integers() {
        for (text, want) in [
            ("0", 0),
            ("-0", 0),
            ("7", 7),
            ("-7", -7),
            ("1234567890", 1234567890),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("-9223372036854775807", -i64::MAX),
            ("999999999999999999", 999_999_999_999_999_999),
        ] {
            match num(&parse(text).unwrap()) {
                Number::Int(i) => assert_eq!(*i, want, "{text}"),
                other => panic!("{text} -> {other:?}"),
            }
        }
    }

    #[test]
    fn big_integers_stay_big() {
        for text in [
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
            "-9999999999999999999",
            "123456789012345678901234567890123456789",
            "-100000000000000000000000000000000000000000000000000",
        ] {
            let v = parse(text).unwrap();
            match num(&v) {
                Number::Big(b) => assert_eq!(b.to_string(), text),
                other => panic!("{text} -> {other:?}"),
            }
        }
        // Leading-zero-free 20-digit numbers that still fit i64 do not exist,
        // but 19 digits with a sign do: checked above.
    }

    #[test]
    fn floats() {
        for text in [
            "0.0",
            "-0.0",
            "1.5",
            "-1.5",
            "0.1",
            "3.141592653589793",
            "1e10",
            "1E10",
            "1e+10",
            "1e-10",
            "-2.5E-3",
            "0e0",
            "0.000001",
            "123456789.123456789",
            "1.7976931348623157e308",
            "5e-324",
            "2.2250738585072014e-308",
            "9007199254740993.0",
            "0.30000000000000004",
            "123456789012345678901234567890.5",
            "1.00000000000000011102230246251565404236316680908203125",
            "1e22",
            "1e23",
            "4.35e-22",
            "9007199254740992e22",
        ] {
            let want = text.parse::<f64>().unwrap();
            match num(&parse(text).unwrap()) {
                Number::Float(f) => assert_eq!(f.to_bits(), want.to_bits(), "{text}"),
                other => panic!("{text} -> {other:?}"),
            }
            let n = Number::parse(text).unwrap();
            assert!(same_number(num(&parse(text).unwrap()), &n), "{text}");
        }
        // `-0.0` keeps its sign.
        assert!(matches!(num(&parse("-0.0").unwrap()), Number::Float(f) if f.is_sign_negative()));
        // Beyond the range of f64: exact, never infinity or zero.
        for (text, repr) in [
            ("1e400", "Big(1"),
            ("-1e400", "Big(-1"),
            (
                "1e-400",
                "Decimal(Decimal { neg: false, digits: [49], exp: -400 })",
            ),
            (
                "-25e-401",
                "Decimal(Decimal { neg: true, digits: [50, 53], exp: -401 })",
            ),
            (
                "1.0e1000000000000000000000000",
                "Decimal(Decimal { neg: false, digits: [49], exp: 1152921504606846976 })",
            ),
        ] {
            let n = num(&parse(text).unwrap()).clone();
            assert!(format!("{n:?}").starts_with(repr), "{text} -> {n:?}");
            assert!(same_number(&n, &Number::parse(text).unwrap()), "{text}");
        }
    }

    #[test]
    fn number_grammar() {
        assert_eq!(parse_err(b"01"), e(InvalidNumber, 1));
        assert_eq!(parse_err(b"-01"), e(InvalidNumber, 2));
        assert_eq!(parse_err(b"00"), e(InvalidNumber, 1));
        assert_eq!(parse_err(b"-"), e(UnexpectedEnd, 1));
        assert_eq!(parse_err(b"-a"), e(InvalidNumber, 1));
        assert_eq!(parse_err(b"- 1"), e(InvalidNumber, 1));
        assert_eq!(parse_err(b"+1"), e(UnexpectedByte(b'+'), 0));
        assert_eq!(parse_err(b".5"), e(UnexpectedByte(b'.'), 0));
        assert_eq!(parse_err(b"1."), e(UnexpectedEnd, 2));
        assert_eq!(parse_err(b"1.e5"), e(InvalidNumber, 2));
        assert_eq!(parse_err(b"[1.]"), e(InvalidNumber, 3));
        assert_eq!(parse_err(b"1e"), e(UnexpectedEnd, 2));
        assert_eq!(parse_err(b"1e+"), e(UnexpectedEnd, 3));
        assert_eq!(parse_err(b"1e+x"), e(InvalidNumber, 3));
        assert_eq!(parse_err(b"[1E]"), e(InvalidNumber, 3));
        assert_eq!(parse_err(b"NaN"), e(UnexpectedByte(b'N'), 0));
        assert_eq!(parse_err(b"Infinity"), e(UnexpectedByte(b'I'), 0));
        assert_eq!(parse_err(b"-Infinity"), e(InvalidNumber, 1));
        assert_eq!(parse_err(b"1.5.3"), e(TrailingCharacters, 3));
        assert_eq!(parse_err(b"0x10"), e(TrailingCharacters, 1));
        assert_eq!(parse_err(b"[1 2]"), e(UnexpectedByte(b'2'), 3));
        assert_eq!(parse_err(b"[-]"), e(InvalidNumber, 2));
    }

    // -- strings -----------------------------------------------------------

    #[test]
    fn plain_strings_borrow() {
        let input = br#""hello, world""#;
        let v = parse_value(input, MAX_DEPTH).unwrap();
        assert_eq!(string_of(&v), ("hello, world".to_string(), true));
        let v = parse(r#""""#).unwrap();
        assert_eq!(string_of(&v), (String::new(), true));
        let v =
            parse("\"h\u{e9}llo \u{4e2d}\u{6587} \u{1F600} long enough to cross several words\"")
                .unwrap();
        assert_eq!(
            string_of(&v),
            (
                "h\u{e9}llo \u{4e2d}\u{6587} \u{1F600} long enough to cross several words"
                    .to_string(),
                true
            )
        );
        // DEL and other non-control ASCII are fine raw.
        let v = parse("\"a\u{7f}b\"").unwrap();
        assert_eq!(string_of(&v).0, "a\u{7f}b");
    }

    #[test]
    fn escapes() {
        let v = parse(r#""a\"b\\c\/d\be\ff\ng\rh\ti""#).unwrap();
        assert_eq!(
            string_of(&v),
            ("a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti".to_string(), false)
        );
        let v = parse(r#""\u0041\u00e9\u4E2D\u0000""#).unwrap();
        assert_eq!(string_of(&v).0, "A\u{e9}\u{4e2d}\u{0}");
        let v = parse(r#""x\ud83d\ude00y""#).unwrap();
        assert_eq!(string_of(&v).0, "x\u{1F600}y");
        let v = parse(r#""\uD834\uDD1E""#).unwrap();
        assert_eq!(string_of(&v).0, "\u{1D11E}");
        let v = parse(r#""\uDBFF\uDFFF""#).unwrap();
        assert_eq!(string_of(&v).0, "\u{10FFFF}");
        // Escapes mixed with raw non-ASCII text, in long segments.
        let v =
            parse("\"\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\\n\u{4e2d}\u{4e2d}\u{4e2d}\u{4e2d}abcdefgh\\t\"").unwrap();
        assert_eq!(
            string_of(&v).0,
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\n\u{4e2d}\u{4e2d}\u{4e2d}\u{4e2d}abcdefgh\t"
        );
    }

    #[test]
    fn escape_errors() {
        assert_eq!(parse_err(br#""\x""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""ab\'""#), e(InvalidEscape, 3));
        assert_eq!(parse_err(br#""\u12G4""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\u12""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\u12"#), e(UnexpectedEnd, 5));
        assert_eq!(parse_err(br#""\"#), e(UnexpectedEnd, 2));
        // Lone surrogates.
        assert_eq!(parse_err(br#""\ud800""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""ab\udc00""#), e(InvalidEscape, 3));
        assert_eq!(parse_err(br#""\ud800x""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\ud800\n""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\ud800\u0041""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\ud800\ud800""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\udfff\udfff""#), e(InvalidEscape, 1));
        assert_eq!(parse_err(br#""\ud800"#), e(UnexpectedEnd, 7));
        assert_eq!(parse_err(br#""\ud800\"#), e(UnexpectedEnd, 8));
        assert_eq!(parse_err(br#""\ud800\u"#), e(UnexpectedEnd, 9));
        assert_eq!(parse_err(br#""\ud800\udc"#), e(UnexpectedEnd, 11));
    }

    #[test]
    fn string_errors() {
        assert_eq!(parse_err(b"\"abc"), e(UnexpectedEnd, 4));
        assert_eq!(parse_err(b"\"abcdefghijklmnop"), e(UnexpectedEnd, 17));
        assert_eq!(parse_err(b"\"a\nb\""), e(UnexpectedByte(b'\n'), 2));
        assert_eq!(
            parse_err(b"\"abcdefghij\tb\""),
            e(UnexpectedByte(b'\t'), 11)
        );
        assert_eq!(parse_err(b"\"a\\nb\x01\""), e(UnexpectedByte(1), 5));
        assert_eq!(parse_err(b"\"\x00\""), e(UnexpectedByte(0), 1));
        assert_eq!(parse_err(b"'a'"), e(UnexpectedByte(b'\''), 0));
    }

    #[test]
    fn invalid_utf8() {
        // Inside strings, with and without escapes, short and long.
        assert_eq!(parse_err(b"\"ab\xffcd\""), e(InvalidUtf8, 3));
        assert_eq!(parse_err(b"\"abcdefghijklmnop\xc3(\""), e(InvalidUtf8, 17));
        assert_eq!(parse_err(b"\"\\n\xed\xa0\x80\""), e(InvalidUtf8, 3)); // encoded surrogate
        assert_eq!(parse_err(b"\"\xc3\xa9\xc3\""), e(InvalidUtf8, 3));
        assert_eq!(parse_err(b"\"\xf0\x9f\x98\""), e(InvalidUtf8, 1));
        assert_eq!(parse_err(b"\"\xc0\xaf\""), e(InvalidUtf8, 1)); // overlong
        assert_eq!(parse_err(b"{\"k\xff\": 1}"), e(InvalidUtf8, 3));
        // Outside strings.
        assert_eq!(parse_err(b"\xff"), e(InvalidUtf8, 0));
        assert_eq!(parse_err(b"[1, \x80]"), e(InvalidUtf8, 4));
        assert_eq!(parse_err(b"[1, \xc3"), e(InvalidUtf8, 4));
        // Valid UTF-8 that is not JSON is an unexpected byte.
        assert_eq!(parse_err("[\u{e9}]".as_bytes()), e(UnexpectedByte(0xc3), 1));
        assert_eq!(parse_err(b"1 \xff"), e(TrailingCharacters, 2));
        // Fine when valid.
        let v = parse_value("\"\u{e9}\\n\u{1F600}\"".as_bytes(), MAX_DEPTH).unwrap();
        assert_eq!(string_of(&v).0, "\u{e9}\n\u{1F600}");
    }

    #[test]
    fn swar_scan_finds_every_position() {
        // A special byte at every offset of a long string, with and without
        // non-ASCII bytes before it.
        for len in 0..40 {
            for prefix in ["", "\u{e9}", "\u{1F600}xy"] {
                let body: String = prefix.to_string() + &"a".repeat(len);
                let doc = format!("\"{body}\"");
                let v = parse(&doc).unwrap();
                assert_eq!(string_of(&v), (body.clone(), true));
                let doc = format!("\"{body}\\n{body}\"");
                let v = parse(&doc).unwrap();
                assert_eq!(string_of(&v), (format!("{body}\n{body}"), false));
                let bad = format!("\"{body}\u{1}\"");
                assert_eq!(
                    parse_err(bad.as_bytes()),
                    e(UnexpectedByte(1), 1 + body.len())
                );
                let mut bad = format!("\"{}", "a".repeat(len)).into_bytes();
                bad.push(0xff);
                bad.extend_from_slice(prefix.as_bytes());
                bad.push(b'"');
                assert_eq!(parse_err(&bad), e(InvalidUtf8, 1 + len));
            }
        }
    }

    #[test]
    fn string_scanners_agree() {
        let mut rng = Rng(11);
        const BYTES: &[u8] = b"aaaaaaaaaaaaaaaaaaaa \"\\\x00\x1f\x20\x7f\x80\xc3\xa9\xff";
        for _ in 0..20_000 {
            let len = rng.below(50);
            let text: Vec<u8> = (0..len).map(|_| BYTES[rng.below(BYTES.len())]).collect();
            let from = rng.below(len + 1);
            let (mut a, mut b) = (false, false);
            let got = scan_string(&text, from, &mut a);
            let want = text[from..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map_or(len, |k| from + k);
            assert_eq!(got, want);
            assert_eq!(scan_string_swar(&text, from, &mut b), want);
            let high = text[from..want].iter().any(|&c| c >= 0x80);
            assert_eq!((a, b), (high, high), "{text:?} from {from}");
        }
    }

    // -- containers --------------------------------------------------------

    #[test]
    fn containers() {
        let v = parse(
            r#" { "a" : [1, 2.5, "x", true, null, {}, []], "b": {"c": {"d": -1}} , "a": 0} "#,
        )
        .unwrap();
        let Json::Object(entries) = &v else { panic!() };
        assert_eq!(
            entries.iter().map(|(k, _)| k.as_ref()).collect::<Vec<_>>(),
            ["a", "b", "a"]
        );
        let Json::Array(items) = &entries[0].1 else {
            panic!()
        };
        assert_eq!(items.len(), 7);
        assert!(matches!(items[0], Json::Number(Number::Int(1))));
        assert!(matches!(items[1], Json::Number(Number::Float(f)) if f == 2.5));
        assert!(matches!(&items[5], Json::Object(o) if o.is_empty()));
        assert!(matches!(&items[6], Json::Array(a) if a.is_empty()));
        let Json::Object(b) = &entries[1].1 else {
            panic!()
        };
        let Json::Object(c) = &b[0].1 else { panic!() };
        assert!(matches!(c[0].1, Json::Number(Number::Int(-1))));
        assert!(matches!(entries[2].1, Json::Number(Number::Int(0))));
    }

    #[test]
    fn escaped_keys_are_owned() {
        let v = parse(r#"{"plain": 1, "esc\naped": 2}"#).unwrap();
        let Json::Object(entries) = &v else { panic!() };
        assert!(matches!(entries[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&entries[1].0, Cow::Owned(s) if s == "esc\naped"));
    }

    #[test]
    fn container_errors() {
        assert_eq!(parse_err(b"["), e(UnexpectedEnd, 1));
        assert_eq!(parse_err(b"[1"), e(UnexpectedEnd, 2));
        assert_eq!(parse_err(b"[1,"), e(UnexpectedEnd, 3));
        assert_eq!(parse_err(b"[1,]"), e(UnexpectedByte(b']'), 3));
        assert_eq!(parse_err(b"[,1]"), e(UnexpectedByte(b','), 1));
        assert_eq!(parse_err(b"[1,,2]"), e(UnexpectedByte(b','), 3));
        assert_eq!(parse_err(b"[1}"), e(UnexpectedByte(b'}'), 2));
        assert_eq!(parse_err(b"{"), e(UnexpectedEnd, 1));
        assert_eq!(parse_err(b"{\"a\""), e(UnexpectedEnd, 4));
        assert_eq!(parse_err(b"{\"a\" 1}"), e(UnexpectedByte(b'1'), 5));
        assert_eq!(parse_err(b"{\"a\":}"), e(UnexpectedByte(b'}'), 5));
        assert_eq!(parse_err(b"{\"a\":1,}"), e(UnexpectedByte(b'}'), 7));
        assert_eq!(parse_err(b"{\"a\":1 \"b\":2}"), e(UnexpectedByte(b'"'), 7));
        assert_eq!(parse_err(b"{a:1}"), e(UnexpectedByte(b'a'), 1));
        assert_eq!(parse_err(b"{1:1}"), e(UnexpectedByte(b'1'), 1));
        assert_eq!(parse_err(b"{\"a\":1]"), e(UnexpectedByte(b']'), 6));
        assert_eq!(parse_err(b"]"), e(UnexpectedByte(b']'), 0));
        assert_eq!(parse_err(b"}"), e(UnexpectedByte(b'}'), 0));
        assert_eq!(parse_err(b":"), e(UnexpectedByte(b':'), 0));
    }

    #[test]
    fn depth_limit() {
        for max in [0usize, 1, 2, 5, 128] {
            let ok = "[".repeat(max) + "1" + &"]".repeat(max);
            assert!(parse_value(ok.as_bytes(), max).is_ok(), "{max}");
            let deep = "[".repeat(max + 1) + &"]".repeat(max + 1);
            assert_eq!(
                parse_value(deep.as_bytes(), max).unwrap_err(),
                JsonError::new(TooDeep, max)
            );
            let ok = "{\"a\":".repeat(max) + "1" + &"}".repeat(max);
            assert!(parse_value(ok.as_bytes(), max).is_ok(), "{max}");
            let deep = "{\"a\":".repeat(max + 1) + "1" + &"}".repeat(max + 1);
            assert_eq!(
                parse_value(deep.as_bytes(), max).unwrap_err(),
                JsonError::new(TooDeep, 5 * max)
            );
        }
        // Scalars need no depth at all; empty containers count as a level.
        assert!(parse_value(b"1", 0).is_ok());
        assert_eq!(
            parse_value(b"{}", 0).unwrap_err(),
            JsonError::new(TooDeep, 0)
        );
        // Mixed nesting: the error points at the first bracket beyond the limit.
        let doc = b"[{\"a\": [[1]]}]";
        assert!(parse_value(doc, 4).is_ok());
        assert_eq!(parse_value(doc, 3).unwrap_err(), JsonError::new(TooDeep, 8));
    }

    #[test]
    fn text_beyond_the_depth_limit_must_still_be_json() {
        // Issue 8, item 3: brackets that do not match beyond the limit.
        let broken = "[".repeat(129) + &"}".repeat(129);
        assert_eq!(parse_err(broken.as_bytes()), e(UnexpectedByte(b'}'), 129));
        let broken = "[".repeat(200) + "1,]" + &"]".repeat(199);
        assert_eq!(parse_err(broken.as_bytes()), e(UnexpectedByte(b']'), 202));
        let cases: [(&str, (JsonErrorKind, usize)); 7] = [
            ("{\"a\" 1}", e(UnexpectedByte(b'1'), 5)),
            ("{\"a\":1,}", e(UnexpectedByte(b'}'), 7)),
            ("[\"\\x\"]", e(InvalidEscape, 2)),
            ("[01]", e(InvalidNumber, 2)),
            ("[tru]", e(UnexpectedByte(b']'), 4)),
            ("[1,", e(UnexpectedByte(b']'), 3)),
            ("{}}", e(UnexpectedByte(b'}'), 2)),
        ];
        let prefix = "[".repeat(MAX_DEPTH);
        for (tail, (kind, at)) in cases {
            let doc = format!("{prefix}{tail}{}", "]".repeat(MAX_DEPTH));
            assert_eq!(parse_err(doc.as_bytes()), (kind, MAX_DEPTH + at), "{tail}");
        }
        // Well-formed but too deep: still `TooDeep`, at the first bracket
        // beyond the limit, whatever follows inside; trailing text is an error.
        let deep = format!(
            "[{prefix}{{\"k\": [\"s\\n\", -1.5e3, 123456789012345678901234567890, true, null]}}{}, {{}}]",
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(parse_err(deep.as_bytes()), e(TooDeep, MAX_DEPTH));
        let trailing = format!("{deep} x");
        assert_eq!(
            parse_err(trailing.as_bytes()),
            e(TrailingCharacters, deep.len() + 1)
        );
    }

    #[test]
    fn very_deep_input_never_overflows_the_stack() {
        let n = 1_000_000;
        let doc = "[".repeat(n) + &"]".repeat(n);
        assert_eq!(
            parse_value(doc.as_bytes(), MAX_DEPTH).unwrap_err(),
            JsonError::new(TooDeep, MAX_DEPTH)
        );
        // Even with no limit at all: the parser is iterative.
        let v = parse_value(doc.as_bytes(), usize::MAX).unwrap();
        // Dropping this DOM recurses (in the DOM's own Drop); take it apart by hand.
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            if let Json::Array(items) = v {
                stack.extend(items);
            }
        }
        let doc = "{\"k\":".repeat(n) + "1";
        assert_eq!(
            parse_value(doc.as_bytes(), usize::MAX).unwrap_err(),
            JsonError::new(UnexpectedEnd, doc.len())
        );
    }

    const SAMPLE: &str = r#"{"id":12345,"name":"Ada \"the\" Lovelace","tags":["a","b\\c","\u00e9\ud83d\ude00"],"score":-12.5e-3,"big":123456789012345678901234,"ok":true,"none":null,"nested":{"x":[[],{}],"y":"caf\u00e9 ✓"},"f":0.1}"#;

    #[test]
    fn sample_document() {
        let v = parse(SAMPLE).unwrap();
        let theirs: Value = serde_json::from_str(SAMPLE).unwrap();
        assert!(same(&v, &theirs));
        let Json::Object(entries) = &v else { panic!() };
        assert!(matches!(num(&entries[4].1), Number::Big(_)));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let doc = SAMPLE.as_bytes();
        for cut in 0..doc.len() {
            let err = parse_value(&doc[..cut], MAX_DEPTH).unwrap_err();
            assert!(err.offset <= cut, "{cut}: {err:?}");
            // Every prefix of an object is unfinished, never wrong.
            assert!(
                matches!(err.kind, UnexpectedEnd | InvalidUtf8),
                "{cut}: {err:?}"
            );
            let array = [b"[", &doc[..cut]].concat();
            let mut split = ArrayElements::new(&array);
            let last = split.by_ref().last().unwrap();
            assert!(last.is_err(), "{cut}");
            assert_eq!(split.next(), None);
        }
    }

    #[test]
    fn display_messages() {
        let msg = |kind, offset| JsonError { offset, kind }.to_string();
        assert_eq!(msg(UnexpectedEnd, 17), "unexpected end of input at byte 17");
        assert_eq!(
            msg(UnexpectedByte(b'x'), 2),
            "unexpected character 'x' at byte 2"
        );
        assert_eq!(
            msg(UnexpectedByte(b'\n'), 2),
            "unexpected byte 0x0a at byte 2"
        );
        assert_eq!(msg(InvalidUtf8, 3), "invalid UTF-8 at byte 3");
        assert_eq!(msg(InvalidEscape, 4), "invalid escape sequence at byte 4");
        assert_eq!(msg(InvalidNumber, 5), "invalid number at byte 5");
        assert_eq!(
            msg(TooDeep, 900),
            "nesting deeper than 128 levels at byte 900"
        );
        assert_eq!(msg(TrailingCharacters, 5), "trailing characters at byte 5");
        assert_eq!(msg(ExpectedArray, 0), "expected a JSON array at byte 0");
    }

    // -- array splitting ---------------------------------------------------

    fn split(input: &str) -> Vec<Result<&str, (JsonErrorKind, usize)>> {
        ArrayElements::new(input.as_bytes())
            .map(|r| r.map(|range| &input[range]).map_err(|e| (e.kind, e.offset)))
            .collect()
    }

    #[test]
    fn split_simple() {
        assert_eq!(split("[]"), vec![]);
        assert_eq!(split(" [ ] \n"), vec![]);
        assert_eq!(split("[1]"), vec![Ok("1")]);
        assert_eq!(split("[1,2,3]"), vec![Ok("1"), Ok("2"), Ok("3")]);
        assert_eq!(
            split(" [ 1 , -2.5e3 ,\n\t true,null , \"s\" , [ 1, [2] ] , { \"a\" : [ ] } ] "),
            vec![
                Ok("1"),
                Ok("-2.5e3"),
                Ok("true"),
                Ok("null"),
                Ok("\"s\""),
                Ok("[ 1, [2] ]"),
                Ok("{ \"a\" : [ ] }")
            ]
        );
    }

    #[test]
    fn split_tricky_strings() {
        let doc = r#"["a,b", "]", "[", "{", "}", "\"", "\\", "\\\"", "x\\", "\"],[", {"k,]": "v\"}"}, ["\\]"], "é,ü"]"#;
        let got = split(doc);
        let want: Vec<Value> = serde_json::from_str::<Vec<Value>>(doc).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            let g = g.as_ref().unwrap();
            assert!(same(&parse(g).unwrap(), w), "{g}");
        }
        assert_eq!(got[1], Ok(r#""]""#));
        assert_eq!(got[9], Ok(r#""\"],[""#));
        assert_eq!(got[10], Ok(r#"{"k,]": "v\"}"}"#));
    }

    #[test]
    fn split_errors() {
        assert_eq!(split(""), vec![Err((ExpectedArray, 0))]);
        assert_eq!(split("  "), vec![Err((ExpectedArray, 2))]);
        assert_eq!(split(" {\"a\": 1}"), vec![Err((ExpectedArray, 1))]);
        assert_eq!(split("1"), vec![Err((ExpectedArray, 0))]);
        assert_eq!(split("["), vec![Err((UnexpectedEnd, 1))]);
        assert_eq!(split("[1"), vec![Err((UnexpectedEnd, 2))]);
        assert_eq!(split("[1,"), vec![Ok("1"), Err((UnexpectedEnd, 3))]);
        assert_eq!(split("[1, \"ab"), vec![Ok("1"), Err((UnexpectedEnd, 7))]);
        assert_eq!(split("[\"a\\"), vec![Err((UnexpectedEnd, 4))]);
        assert_eq!(split("[\"a\\\""), vec![Err((UnexpectedEnd, 5))]);
        assert_eq!(split("[[1, 2]"), vec![Err((UnexpectedEnd, 7))]);
        assert_eq!(
            split("[1,,2]"),
            vec![Ok("1"), Err((UnexpectedByte(b','), 3))]
        );
        assert_eq!(split("[,1]"), vec![Err((UnexpectedByte(b','), 1))]);
        assert_eq!(split("[1,]"), vec![Ok("1"), Err((UnexpectedByte(b']'), 3))]);
        assert_eq!(split("[1 2]"), vec![Err((UnexpectedByte(b'2'), 3))]);
        assert_eq!(split("[\"a\" \"b\"]"), vec![Err((UnexpectedByte(b'"'), 5))]);
        assert_eq!(split("[\"a\"\"b\"]"), vec![Err((UnexpectedByte(b'"'), 4))]);
        assert_eq!(split("[{}{}]"), vec![Err((UnexpectedByte(b'{'), 3))]);
        assert_eq!(split("[[] 1]"), vec![Err((UnexpectedByte(b'1'), 4))]);
        assert_eq!(split("[1}"), vec![Err((UnexpectedByte(b'}'), 2))]);
        assert_eq!(split("[{}}]"), vec![Err((UnexpectedByte(b'}'), 3))]);
        assert_eq!(split("[1]]"), vec![Ok("1"), Err((TrailingCharacters, 3))]);
        assert_eq!(split("[1] x"), vec![Ok("1"), Err((TrailingCharacters, 4))]);
        assert_eq!(split("[] []"), vec![Err((TrailingCharacters, 3))]);
        assert_eq!(split("[\n1\n]\n\n"), vec![Ok("1")]);
    }

    #[test]
    fn split_is_lazy_and_reports_offsets() {
        let doc = b"[10, 20, 30] ";
        let mut it = ArrayElements::new(doc);
        assert_eq!(it.offset(), 0);
        assert_eq!(it.next(), Some(Ok(1..3)));
        assert_eq!(it.offset(), 4);
        assert_eq!(it.next(), Some(Ok(5..7)));
        assert_eq!(it.next(), Some(Ok(9..11)));
        assert_eq!(it.offset(), 12);
        assert_eq!(it.next(), None);
        assert_eq!(it.offset(), 13);
        assert_eq!(it.next(), None);
        // After an error the iterator stays ended.
        let mut it = ArrayElements::new(b"[1,,2]");
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn split_deep_nesting_uses_a_counter() {
        let n = 1_000_000;
        let doc = "[".to_string() + &"[".repeat(n) + &"]".repeat(n) + ",1]";
        let got: Vec<_> = ArrayElements::new(doc.as_bytes()).collect();
        assert_eq!(got, vec![Ok(1..1 + 2 * n), Ok(2 + 2 * n..3 + 2 * n)]);
    }

    #[test]
    fn block_masks_match_the_portable_version() {
        let mut rng = Rng(5);
        const BYTES: &[u8] = b"\"\\[]{}[]{}ab ,:0\x00\x7f\x80\xdb\xdd\xfb\xfd\xff\x5b\x7b\x3b\x1b";
        for _ in 0..2000 {
            let block: Vec<u8> = (0..64).map(|_| BYTES[rng.below(BYTES.len())]).collect();
            let want = BlockMasks {
                quote: bits_where(&block, |c| c == b'"'),
                backslash: bits_where(&block, |c| c == b'\\'),
                open: bits_where(&block, |c| c == b'[' || c == b'{'),
                close: bits_where(&block, |c| c == b']' || c == b'}'),
            };
            assert_eq!(block_masks(&block), want);
            assert_eq!(block_masks_swar(&block), want);
        }
        assert_eq!(prefix_xor(0b1001_0100), 0b1100 | !0u64 << 7);
        assert_eq!(prefix_xor(1 << 63 | 1), !0u64 >> 1);
    }

    fn bits_where(block: &[u8], f: impl Fn(u8) -> bool) -> u64 {
        block
            .iter()
            .enumerate()
            .filter(|&(_, &c)| f(c))
            .map(|(k, _)| 1u64 << k)
            .sum()
    }

    #[test]
    fn split_containers_across_block_boundaries() {
        // String contents with escapes and brackets, shifted across the
        // 64-byte block boundaries, inside nested containers.
        let tricky = [
            r#"\\"#,
            r#"\""#,
            r#"\\\""#,
            r#"]}"#,
            r#"\\\\"#,
            r#"[{\\"#,
            r#"\u005d"#,
            r#"\"]"#,
            r#"\\]"#,
        ];
        for pad in 0..140 {
            let filler = "x".repeat(pad);
            for t in tricky {
                let element = format!(
                    r#"{{"k": "{filler}{t}", "n": [1, {{"s": "{t}{filler}]"}}], "m": "{t}"}}"#
                );
                let doc = format!(r#"[{element}, ["{filler}\\", {element}] ,{element}]"#);
                let want: Vec<Value> =
                    serde_json::from_str(&doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
                let got: Vec<_> = ArrayElements::new(doc.as_bytes())
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(got.len(), 3, "{doc}");
                for (range, w) in got.into_iter().zip(&want) {
                    assert!(
                        same(&parse_value(&doc.as_bytes()[range], MAX_DEPTH).unwrap(), w),
                        "{doc}"
                    );
                }
                // Truncations are errors, never panics.
                for cut in [
                    doc.len() - 1,
                    doc.len() - 2,
                    doc.len() / 2,
                    63,
                    64,
                    65,
                    127,
                    128,
                    129,
                ] {
                    let cut = cut.min(doc.len() - 1);
                    let last = ArrayElements::new(&doc.as_bytes()[..cut]).last();
                    assert!(matches!(last, Some(Err(_))), "{cut} {doc}");
                }
            }
        }
    }

    #[test]
    fn split_long_strings_and_deep_containers() {
        let long = r#"a]}\\\"[{"#.repeat(40);
        let element =
            format!(r#"{{"s": "{long}", "t": [[[["{long}"]]]], "u": {{"v": "{long}"}}}}"#);
        let doc = format!("[{element},{element}]");
        assert!(serde_json::from_str::<Value>(&doc).is_ok());
        let got: Vec<_> = ArrayElements::new(doc.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            got.iter().map(|r| &doc[r.clone()]).collect::<Vec<_>>(),
            [element.as_str(), element.as_str()]
        );
        // A string that never ends, a container that never closes.
        let doc = format!(r#"[{{"a": "{long}"#);
        assert_eq!(split(&doc), vec![Err((UnexpectedEnd, doc.len()))]);
        let doc = "[".repeat(1000);
        assert_eq!(split(&doc), vec![Err((UnexpectedEnd, 1000))]);
        // Missing comma or junk after a container element.
        assert_eq!(
            split(r#"[{"a": 1} {}]"#),
            vec![Err((UnexpectedByte(b'{'), 10))]
        );
        assert_eq!(split("[[1] 2]"), vec![Err((UnexpectedByte(b'2'), 5))]);
        assert_eq!(split("[[1]}"), vec![Err((UnexpectedByte(b'}'), 4))]);
        assert_eq!(split("[[1] "), vec![Err((UnexpectedEnd, 5))]);
        assert_eq!(
            split("[[1]]x"),
            vec![Ok("[1]"), Err((TrailingCharacters, 5))]
        );
        assert_eq!(
            split("[[1],]"),
            vec![Ok("[1]"), Err((UnexpectedByte(b']'), 5))]
        );
    }

    // -- NDJSON ------------------------------------------------------------

    #[test]
    fn ndjson_lines() {
        let buf = b"{\"a\":1}\r\n\n  \r\n[2]\n\t\n3\r\n\"last\"";
        let got: Vec<_> = NdjsonLines::new(buf).map(|(n, r)| (n, &buf[r])).collect();
        assert_eq!(
            got,
            vec![
                (0, &b"{\"a\":1}"[..]),
                (3, &b"[2]"[..]),
                (5, &b"3"[..]),
                (6, &b"\"last\""[..])
            ]
        );
        assert_eq!(NdjsonLines::new(b"").count(), 0);
        assert_eq!(NdjsonLines::new(b"\n\n\r\n").count(), 0);
        let got: Vec<_> = NdjsonLines::new(b"1\n2\n").collect();
        assert_eq!(got, vec![(0, 0..1), (1, 2..3)]);
        let got: Vec<_> = NdjsonLines::new(b"\r").collect();
        assert_eq!(got, vec![]);
        // Lines keep their inner whitespace; parse_value allows it.
        let buf = b"  {\"a\": 1}  \r\n";
        let (n, r) = NdjsonLines::new(buf).next().unwrap();
        assert_eq!((n, r.clone()), (0, 0..12));
        assert!(parse_value(&buf[r], MAX_DEPTH).is_ok());
    }

    // -- differential testing against serde_json ---------------------------

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
    }

    fn digits(rng: &mut Rng, n: usize) -> String {
        (0..n)
            .map(|_| (b'0' + rng.below(10) as u8) as char)
            .collect()
    }

    fn gen_number(rng: &mut Rng) -> String {
        let sign = if rng.chance(30) { "-" } else { "" };
        match rng.below(9) {
            0 => format!("{sign}{}", rng.below(1000)),
            1 => format!("{}", rng.next() as i64),
            2 => [
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "-9223372036854775809",
                "0",
                "-0",
            ][rng.below(6)]
            .to_string(),
            3 => {
                let n = 1 + rng.below(40);
                format!("{sign}{}{}", 1 + rng.below(9), digits(rng, n))
            }
            4 => {
                let frac_len = 1 + rng.below(20);
                format!("{sign}{}.{}", rng.below(100_000), digits(rng, frac_len))
            }
            5 => {
                let e = ["e", "E", "e+", "e-", "E-"][rng.below(5)];
                let mantissa = if rng.chance(50) {
                    format!("{}", rng.below(1000))
                } else {
                    let frac_len = 1 + rng.below(8);
                    format!("{}.{}", rng.below(1000), digits(rng, frac_len))
                };
                format!("{sign}{mantissa}{e}{}", rng.below(330))
            }
            6 => {
                let f = f64::from_bits(rng.next());
                if f.is_finite() {
                    format!("{f:e}")
                } else {
                    "1.5".into()
                }
            }
            7 => {
                let f = (rng.next() as f64) / (rng.next() as f64 + 1.0);
                format!("{sign}{f}")
            }
            _ => {
                let n = 15 + rng.below(10);
                format!("{sign}0.{}", digits(rng, n))
            }
        }
    }

    fn gen_string(rng: &mut Rng) -> String {
        const PALETTE: &[char] = &[
            'a',
            'b',
            'z',
            'Q',
            '0',
            ' ',
            ',',
            ':',
            '[',
            ']',
            '{',
            '}',
            '"',
            '\\',
            '/',
            '\n',
            '\t',
            '\r',
            '\u{0}',
            '\u{1}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            '\u{e9}',
            '\u{7ff}',
            '\u{800}',
            '\u{4e2d}',
            '\u{fffd}',
            '\u{ffff}',
            '\u{10000}',
            '\u{1F600}',
            '\u{10FFFF}',
        ];
        let len = match rng.below(4) {
            0 => 0,
            1 | 2 => rng.below(12),
            _ => rng.below(80),
        };
        let ascii_run = rng.chance(50);
        (0..len)
            .map(|_| {
                if ascii_run && rng.chance(85) {
                    (b'a' + rng.below(26) as u8) as char
                } else {
                    PALETTE[rng.below(PALETTE.len())]
                }
            })
            .collect()
    }

    fn gen_value(rng: &mut Rng, depth: usize) -> Value {
        let kinds = if depth >= 5 { 5 } else { 8 };
        match rng.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(rng.chance(50)),
            2 => Value::Number(gen_number(rng).parse().unwrap()),
            3 | 4 => Value::String(gen_string(rng)),
            5 => Value::Array(
                (0..rng.below(7))
                    .map(|_| gen_value(rng, depth + 1))
                    .collect(),
            ),
            _ => {
                let mut map = serde_json::Map::new();
                for _ in 0..rng.below(8) {
                    map.insert(gen_string(rng), gen_value(rng, depth + 1));
                }
                Value::Object(map)
            }
        }
    }

    fn gen_ws(rng: &mut Rng, out: &mut String) {
        if rng.chance(30) {
            for _ in 0..rng.below(4) {
                out.push([' ', '\n', '\t', '\r'][rng.below(4)]);
            }
        }
    }

    /// A serializer of our own: random whitespace, and strings with every
    /// non-ASCII character as a `\u` escape (surrogate pairs included).
    fn write_escaped(rng: &mut Rng, v: &Value, out: &mut String) {
        gen_ws(rng, out);
        match v {
            Value::String(s) => write_escaped_str(rng, s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_escaped(rng, item, out);
                }
                gen_ws(rng, out);
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    gen_ws(rng, out);
                    write_escaped_str(rng, k, out);
                    gen_ws(rng, out);
                    out.push(':');
                    write_escaped(rng, item, out);
                }
                gen_ws(rng, out);
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
        gen_ws(rng, out);
    }

    fn write_escaped_str(rng: &mut Rng, s: &str, out: &mut String) {
        out.push('"');
        for ch in s.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '/' if rng.chance(50) => out.push_str("\\/"),
                c if (c as u32) < 0x20 || (c as u32) >= 0x80 || rng.chance(5) => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        if rng.chance(50) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        } else {
                            out.push_str(&format!("\\u{unit:04X}"));
                        }
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    fn gen_document(rng: &mut Rng) -> String {
        let v = gen_value(rng, 0);
        match rng.below(3) {
            0 => serde_json::to_string(&v).unwrap(),
            1 => serde_json::to_string_pretty(&v).unwrap(),
            _ => {
                let mut out = String::new();
                write_escaped(rng, &v, &mut out);
                out
            }
        }
    }

    #[test]
    fn differential_against_serde_json() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..3000 {
            let doc = gen_document(&mut rng);
            let theirs: Value =
                serde_json::from_str(&doc).unwrap_or_else(|e| panic!("serde rejects {doc}: {e}"));
            let ours = parse(&doc).unwrap_or_else(|e| panic!("round {round}: {e} in {doc}"));
            assert!(
                same(&ours, &theirs),
                "round {round}: {doc}\n{ours:?}\n{theirs:?}"
            );

            // The same values as elements of an array, through the splitter.
            let array = format!("[{doc}, {doc} ,\n{doc}]");
            let parts: Vec<_> = ArrayElements::new(array.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(parts.len(), 3);
            for range in parts {
                assert_eq!(
                    &array[range.clone()],
                    doc.trim_matches([' ', '\n', '\t', '\r'])
                );
                assert!(same(
                    &parse_value(&array.as_bytes()[range], MAX_DEPTH).unwrap(),
                    &theirs
                ));
            }
        }
    }

    #[test]
    fn differential_arrays_through_the_splitter() {
        let mut rng = Rng(42);
        for _ in 0..500 {
            let v = Value::Array((0..rng.below(20)).map(|_| gen_value(&mut rng, 1)).collect());
            let doc = match rng.below(3) {
                0 => serde_json::to_string(&v).unwrap(),
                1 => serde_json::to_string_pretty(&v).unwrap(),
                _ => {
                    let mut out = String::new();
                    write_escaped(&mut rng, &v, &mut out);
                    out
                }
            };
            let Value::Array(want) = &v else {
                unreachable!()
            };
            let got: Vec<_> = ArrayElements::new(doc.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(got.len(), want.len(), "{doc}");
            for (range, w) in got.into_iter().zip(want) {
                assert!(
                    same(&parse_value(&doc.as_bytes()[range], MAX_DEPTH).unwrap(), w),
                    "{doc}"
                );
            }
        }
    }

    /// Random corruptions of valid documents: we must accept exactly what
    /// serde_json accepts, agree on the value, and never panic.
    #[test]
    fn mutations_agree_with_serde_json() {
        const INSERTS: &[u8] =
            b"{}[]\",:\\ 0123456789eE.+-tfnrlsuabx/\x00\x1f\x7f\xff\xc3\xa9\xed\xf0";
        let mut rng = Rng(7);
        let mut accepted = 0;
        for round in 0..20_000 {
            let mut doc = gen_document(&mut rng).into_bytes();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(doc.len() + 1);
                match rng.below(4) {
                    0 if at < doc.len() => {
                        doc.remove(at);
                    }
                    1 if at < doc.len() => doc[at] = INSERTS[rng.below(INSERTS.len())],
                    2 if at + 4 < doc.len() => doc.truncate(at),
                    _ => doc.insert(at, INSERTS[rng.below(INSERTS.len())]),
                }
            }
            let ours = parse_value(&doc, 100);
            let theirs = serde_json::from_slice::<Value>(&doc);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    accepted += 1;
                    assert!(
                        same(a, b),
                        "round {round}: {:?}",
                        String::from_utf8_lossy(&doc)
                    );
                }
                (Err(e), Err(_)) => assert!(e.offset <= doc.len()),
                _ => panic!(
                    "round {round}: ours {ours:?} serde {theirs:?} on {:?}",
                    String::from_utf8_lossy(&doc)
                ),
            }

            // The splitter on the same bytes inside an array.
            let array = [b"[0,", &doc[..], b"]"].concat();
            let whole = serde_json::from_slice::<Value>(&array);
            let mut all_ok = true;
            let mut values = Vec::new();
            for part in ArrayElements::new(&array) {
                match part {
                    Ok(range) => {
                        assert!(range.start <= range.end && range.end <= array.len());
                        match parse_value(&array[range], 100) {
                            Ok(v) => values.push(v),
                            Err(_) => all_ok = false,
                        }
                    }
                    Err(e) => {
                        assert!(e.offset <= array.len());
                        all_ok = false;
                    }
                }
            }
            match &whole {
                Ok(Value::Array(want)) => {
                    assert!(
                        all_ok,
                        "round {round}: {:?}",
                        String::from_utf8_lossy(&array)
                    );
                    assert_eq!(values.len(), want.len());
                    assert!(values.iter().zip(want).all(|(a, b)| same(a, b)));
                }
                _ => assert!(
                    !all_ok,
                    "round {round}: splitter accepts {:?}",
                    String::from_utf8_lossy(&array)
                ),
            }
        }
        assert!(
            accepted > 1000,
            "only {accepted} mutated documents were valid"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        const BYTES: &[u8] = b"{}[]\",:\\ \n0123456789eE.+-tfnrlsu\xff\xc3";
        let mut rng = Rng(99);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let doc: Vec<u8> = (0..len).map(|_| BYTES[rng.below(BYTES.len())]).collect();
            let ours = parse_value(&doc, 16);
            if ours.is_ok() {
                assert!(
                    serde_json::from_slice::<Value>(&doc).is_ok(),
                    "{:?}",
                    String::from_utf8_lossy(&doc)
                );
            }
            let n = ArrayElements::new(&doc).count();
            assert!(n <= doc.len() + 1);
            let _ = NdjsonLines::new(&doc).count();
        }
    }

    // -- benchmark ---------------------------------------------------------

    fn typical_records(n: usize) -> String {
        let mut rng = Rng(1234);
        let mut out = String::new();
        let first = [
            "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi",
        ];
        let last = ["Smith", "Jones", "Brown", "Müller", "García", "Nakamura"];
        let cities = ["Berlin", "New York", "São Paulo", "Tokyo", "Lagos", "Paris"];
        for i in 0..n {
            let f = first[rng.below(first.len())];
            let l = last[rng.below(last.len())];
            out.push_str(&format!(
                concat!(
                    "{{\"id\": {}, \"name\": \"{} {}\", \"email\": \"{}.{}{}@example.com\", \"age\": {}, ",
                    "\"score\": {}.{}, \"active\": {}, \"tags\": [\"t{}\", \"t{}\", \"group-{}\"], ",
                    "\"address\": {{\"street\": \"{} Main Street\", \"city\": \"{}\", \"zip\": \"{:05}\"}}, ",
                    "\"created_at\": \"2024-0{}-1{}T12:34:56Z\", \"balance\": {}, \"note\": {}}}\n"
                ),
                i,
                f,
                l,
                f.to_lowercase(),
                l.to_lowercase(),
                rng.below(100),
                18 + rng.below(70),
                rng.below(100),
                rng.below(100),
                rng.chance(70),
                rng.below(10),
                rng.below(10),
                rng.below(5),
                1 + rng.below(999),
                cities[rng.below(cities.len())],
                rng.below(100_000),
                1 + rng.below(9),
                rng.below(10),
                (rng.next() % 10_000_000) as f64 / 100.0,
                if rng.chance(20) {
                    "\"line one\\nline two \\\"quoted\\\"\""
                } else {
                    "null"
                },
            ));
        }
        out
    }

    #[test]
    #[ignore]
    fn bench_parse() {
        use std::time::Instant;
        let ndjson = typical_records(20_000);
        let bytes = ndjson.as_bytes();
        let lines: Vec<_> = NdjsonLines::new(bytes).map(|(_, r)| r).collect();
        let mb = bytes.len() as f64 / 1e6;
        println!(
            "{} records, {:.2} MB, {:.0} bytes/record",
            lines.len(),
            mb,
            bytes.len() as f64 / lines.len() as f64
        );
        let best = |f: &mut dyn FnMut() -> usize| {
            let mut best = f64::MAX;
            let mut check = 0;
            for _ in 0..15 {
                let t = Instant::now();
                check += f();
                best = best.min(t.elapsed().as_secs_f64());
            }
            assert!(check > 0);
            best
        };
        let t = best(&mut || {
            lines
                .iter()
                .map(|r| object_len_hint(&parse_value(&bytes[r.clone()], MAX_DEPTH).unwrap()))
                .sum()
        });
        println!("parse_value per line:        {:7.0} MB/s", mb / t);
        let t = best(&mut || {
            lines
                .iter()
                .map(|r| {
                    serde_json::from_slice::<Value>(&bytes[r.clone()])
                        .unwrap()
                        .as_object()
                        .unwrap()
                        .len()
                })
                .sum()
        });
        println!(
            "serde_json::Value per line:  {:7.0} MB/s (reference)",
            mb / t
        );
        let t = best(&mut || NdjsonLines::new(bytes).count());
        println!("NdjsonLines:                 {:7.0} MB/s", mb / t);
        let array = format!("[{}]", ndjson.trim_end().replace('\n', ",\n"));
        let ab = array.as_bytes();
        let t = best(&mut || ArrayElements::new(ab).map(|r| r.unwrap().len()).sum());
        println!(
            "ArrayElements:               {:7.0} MB/s",
            array.len() as f64 / 1e6 / t
        );
        let t = best(&mut || {
            ArrayElements::new(ab)
                .map(|r| object_len_hint(&parse_value(&ab[r.unwrap()], MAX_DEPTH).unwrap()))
                .sum()
        });
        println!(
            "ArrayElements + parse_value: {:7.0} MB/s",
            array.len() as f64 / 1e6 / t
        );
    }

    fn object_len_hint(value: &Json<'_>) -> usize {
        match value {
            Json::Object(entries) => entries.len(),
            _ => 0,
        }
    }
}
