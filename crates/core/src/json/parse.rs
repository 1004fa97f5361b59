//! The parser: [`parse_value`] builds a [`Json`] DOM from one complete JSON
//! text, iteratively (an explicit frame stack, never recursion).

use std::borrow::Cow;

use super::scan::{is_ws, scan_string, skip_ws};
use super::{err, unexpected, JsonError, JsonErrorKind};
use crate::value::{Json, Keys, KeysOnce, Number, MAX_DEPTH};

/// `s` as text, checked on its own (an input that is not all UTF-8);
/// `offset` is where `s` starts in the input (for the error).
#[cold]
#[inline(never)]
fn checked_str(s: &[u8], offset: usize) -> Result<&str, JsonError> {
    simdutf8::compat::from_utf8(s)
        .map_err(|e| JsonError::new(JsonErrorKind::InvalidUtf8, offset + e.valid_up_to()))
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

/// Exact powers of ten for the fast float path.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// What [`Parser::skip_visiting`] tells of the values it passes: `()` is
/// told nothing (and costs nothing).
pub(crate) trait SkipVisitor {
    /// A value at `depth` (0: the one the skip started at); `string` is the
    /// decoded text when it is a string.
    #[inline(always)]
    fn value(&mut self, _depth: usize, _string: Option<&str>) {}

    /// Whether [`SkipVisitor::value`] reads strings: when not, they are
    /// checked without decoding their escapes.
    const STRINGS: bool = true;
}

impl SkipVisitor for () {
    const STRINGS: bool = false;
}

/// Whether `input` is one complete JSON value (surrounding whitespace allowed)
/// that [`parse_value`] would accept with `max_depth`; `visitor` is told of
/// its values as [`Parser::skip_visiting`] passes them (also before an error).
pub(crate) fn visit_value<V: SkipVisitor>(input: &[u8], max_depth: usize, visitor: &mut V) -> bool {
    let mut p = Parser::new(input);
    p.skip_visiting(max_depth, visitor).is_ok() && skip_ws(input, p.pos) == input.len()
}

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
    let mut p = Parser::new(input);
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
    /// Whether all of `b` is UTF-8, found out at the first string with a byte
    /// >= 0x80: one pass over the input instead of one per such string.
    utf8: Utf8,
    /// Bytes the walk that checks as it reads may still read again (see
    /// `fused::REREAD_BYTES`).
    pub(crate) reread_left: usize,
    /// The nodes with references or combinators that walk is in (see
    /// `crate::stack::low`).
    pub(crate) nest: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Utf8 {
    Unknown,
    Valid,
    /// Somewhere: each string is checked on its own (for the exact offset).
    Invalid,
}

/// An array or object being read: its finished items (or entries) sit on
/// the scratch stack from `start`; `key` is an object's pending key (`None`:
/// one that is not valid Unicode, or an array's).
struct Frame<'a> {
    start: usize,
    key: Option<Cow<'a, str>>,
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
        Parser {
            b,
            pos: 0,
            utf8: Utf8::Unknown,
            reread_left: usize::MAX,
            nest: 0,
        }
    }

    /// `b[start..end]` (string bytes that `scan_string` passed) as text;
    /// `non_ascii`: whether a byte >= 0x80 lies among them.
    #[inline(always)]
    fn text(&mut self, start: usize, end: usize, non_ascii: bool) -> Result<&'a str, JsonError> {
        let s = &self.b[start..end];
        if non_ascii && self.utf8 != Utf8::Valid && !self.all_utf8() {
            return checked_str(s, start);
        }
        // SAFETY: either every byte of `s` is ASCII (`scan_string` saw them
        // all), or the whole input, `s` included, is UTF-8 and `s` is cut at
        // ASCII bytes (quotes, backslashes, escapes), never inside a character.
        Ok(unsafe { std::str::from_utf8_unchecked(s) })
    }

    /// Whether the whole input is UTF-8 (checked once, at the first call).
    #[inline(never)]
    fn all_utf8(&mut self) -> bool {
        if self.utf8 == Utf8::Unknown {
            self.utf8 = if simdutf8::basic::from_utf8(self.b).is_ok() {
                Utf8::Valid
            } else {
                Utf8::Invalid
            };
        }
        self.utf8 == Utf8::Valid
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
                    match self.string_or_lone()? {
                        Some(text) => Json::String(text),
                        None => Json::InvalidString,
                    }
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
                        Json::Object(Vec::new(), KeysOnce::known(Keys::Unique))
                    } else {
                        let key = self.key_or_lone(c)?;
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
                            key: None,
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
                    entries.push(match frame.key.take() {
                        Some(key) => (key, value),
                        // As a dict key that is not valid Unicode (the value is not kept).
                        None => (Cow::Borrowed(""), Json::InvalidStringKey),
                    });
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            let c = self.peek()?;
                            frame.key = self.key_or_lone(c)?;
                            continue 'value;
                        }
                        b'}' => {
                            self.pos += 1;
                            let start = frame.start;
                            frames.pop();
                            value = Json::Object(entries.split_off(start), KeysOnce::default());
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
    pub(crate) fn skip_deep(&mut self) -> Result<(), JsonError> {
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
                        self.skip_key(c)?;
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
                c => self.skip_scalar(c, open.len(), &mut ())?,
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
                            self.skip_key(c)?;
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

    /// Checks the value at the cursor without building it, for a caller that
    /// only needs to know it is JSON: the same text is accepted as by
    /// [`Parser::parse_here`] with the same `max_depth` (at most [`MAX_DEPTH`];
    /// a container nested deeper is [`JsonErrorKind::TooDeep`]), and nothing is
    /// allocated but the text of strings with escapes.
    pub(crate) fn skip_here(&mut self, max_depth: usize) -> Result<(), JsonError> {
        self.skip_visiting(max_depth, &mut ())
    }

    /// [`Parser::skip_here`], telling `visitor` of every value it passes (not
    /// keys), in document order, with its depth (the value at the cursor is at 0).
    #[inline(always)]
    pub(crate) fn skip_visiting<V: SkipVisitor>(
        &mut self,
        max_depth: usize,
        visitor: &mut V,
    ) -> Result<(), JsonError> {
        let max_depth = max_depth.min(MAX_DEPTH);
        // Bit `d` set: the container open at depth `d` is an object; `object`:
        // the innermost one is (read from the bits only when one closes).
        let mut objects: u128 = 0;
        let mut object = false;
        let mut depth = 0;
        'value: loop {
            match self.peek()? {
                c @ (b'{' | b'[') => {
                    if depth >= max_depth {
                        return Err(err(JsonErrorKind::TooDeep, self.pos));
                    }
                    visitor.value(depth, None);
                    self.pos += 1;
                    let next = self.peek()?;
                    if c == b'{' && next == b'}' || c == b'[' && next == b']' {
                        self.pos += 1;
                    } else {
                        object = c == b'{';
                        if object {
                            self.skip_key(next)?;
                            objects |= 1 << depth;
                        } else {
                            objects &= !(1 << depth);
                        }
                        depth += 1;
                        continue 'value;
                    }
                }
                c => self.skip_scalar(c, depth, visitor)?,
            }
            // A value is complete: continue or close its containers.
            while depth > 0 {
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            let c = self.peek()?;
                            self.skip_key(c)?;
                        }
                        continue 'value;
                    }
                    b'}' if object => self.pos += 1,
                    b']' if !object => self.pos += 1,
                    _ => return Err(unexpected(self.b, self.pos)),
                }
                depth -= 1;
                object = depth > 0 && (objects >> (depth - 1)) & 1 == 1;
            }
            return Ok(());
        }
    }

    /// Checks and passes the string, number or literal at the cursor (`c`, its
    /// first byte, already peeked), at `depth`.
    #[inline(always)]
    pub(crate) fn skip_scalar<V: SkipVisitor>(
        &mut self,
        c: u8,
        depth: usize,
        visitor: &mut V,
    ) -> Result<(), JsonError> {
        match c {
            b'"' => {
                self.pos += 1;
                if V::STRINGS {
                    // (One that is not valid Unicode is told as empty text, as
                    // the profile of a parsed record reads it.)
                    let s = self.string_or_lone()?;
                    visitor.value(depth, Some(s.as_deref().unwrap_or("")));
                } else {
                    self.skip_string()?;
                    visitor.value(depth, None);
                }
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
                visitor.value(depth, None);
            }
            b't' => {
                self.literal(b"true")?;
                visitor.value(depth, None);
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.value(depth, None);
            }
            b'n' => {
                self.literal(b"null")?;
                visitor.value(depth, None);
            }
            _ => return Err(unexpected(self.b, self.pos)),
        }
        Ok(())
    }

    /// An object key (`c` is the already peeked next byte) and its colon. One
    /// that is not valid Unicode is [`JsonErrorKind::LoneSurrogate`].
    #[inline(always)]
    pub(crate) fn key(&mut self, c: u8) -> Result<Cow<'a, str>, JsonError> {
        let start = self.pos + 1;
        match self.key_or_lone(c)? {
            Some(key) => Ok(key),
            None => Err(self.lone_surrogate(start)),
        }
    }

    /// [`Parser::key`], `None` for a key that is not valid Unicode (see
    /// [`Parser::string_or_lone`]).
    #[inline(always)]
    pub(crate) fn key_or_lone(&mut self, c: u8) -> Result<Option<Cow<'a, str>>, JsonError> {
        if c != b'"' {
            return Err(unexpected(self.b, self.pos));
        }
        self.pos += 1;
        let key = self.string_or_lone()?;
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

    /// A string whose opening quote has been consumed. One whose escapes write
    /// a lone surrogate is [`JsonErrorKind::LoneSurrogate`] (see
    /// [`Parser::string_or_lone`]).
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let start = self.pos;
        match self.string_or_lone()? {
            Some(text) => Ok(text),
            None => Err(self.lone_surrogate(start)),
        }
    }

    /// [`Parser::string`], except that a string whose escapes write a lone
    /// surrogate (`"\ud800"`: JSON, which `json.loads` reads as a str with a
    /// lone surrogate, but not Unicode text) is `Ok(None)`, passed.
    #[inline(always)]
    pub(crate) fn string_or_lone(&mut self) -> Result<Option<Cow<'a, str>>, JsonError> {
        let b = self.b;
        let start = self.pos;
        let mut non_ascii = false;
        let i = scan_string(b, start, &mut non_ascii);
        if b.get(i) == Some(&b'"') {
            let text = self.text(start, i, non_ascii)?;
            self.pos = i + 1;
            return Ok(Some(Cow::Borrowed(text)));
        }
        Ok(self.string_slow(start, i, non_ascii)?.map(Cow::Owned))
    }

    /// The error of the string from `start` (passed) that holds a lone surrogate:
    /// at its first such escape.
    #[cold]
    #[inline(never)]
    fn lone_surrogate(&self, start: usize) -> JsonError {
        let mut i = start;
        while let Some(at) = self.b[i..self.pos].iter().position(|&c| c == b'\\') {
            let esc = i + at;
            match self.escape(esc) {
                Ok((None, _)) => return err(JsonErrorKind::LoneSurrogate, esc),
                Ok((Some(_), next)) => i = next,
                Err(e) => return e, // (not met: the string was passed)
            }
        }
        unreachable!("a lone surrogate in the string")
    }

    /// The rest of a string from `i`, the first escape/quote/control byte;
    /// `None` when an escape writes a lone surrogate (the rest still checked).
    #[inline(never)]
    fn string_slow(
        &mut self,
        start: usize,
        mut i: usize,
        mut non_ascii: bool,
    ) -> Result<Option<String>, JsonError> {
        let b = self.b;
        let mut out = String::with_capacity(i - start + 16);
        let mut seg = start;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(err(JsonErrorKind::UnexpectedEnd, b.len()));
            };
            out.push_str(self.text(seg, i, non_ascii)?);
            match c {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Some(out));
                }
                b'\\' => match self.escape(i)? {
                    (Some(ch), next) => {
                        out.push(ch);
                        i = next;
                    }
                    (None, next) => {
                        // Not Unicode text: the rest is passed, with its checks.
                        let mut non_ascii = false;
                        let i = scan_string(b, next, &mut non_ascii);
                        return self.skip_string_slow(next, i, non_ascii).map(|_| None);
                    }
                },
                _ => return Err(err(JsonErrorKind::UnexpectedByte(c), i)),
            }
            seg = i;
            non_ascii = false;
            i = scan_string(b, i, &mut non_ascii);
        }
    }

    /// Passes a string whose opening quote has been consumed, with the checks
    /// and errors of [`Parser::string_or_lone`], without decoding its escapes
    /// (nothing is allocated).
    #[inline(always)]
    pub(crate) fn skip_string(&mut self) -> Result<(), JsonError> {
        self.skip_text().map(|_| ())
    }

    /// [`Parser::skip_string`]: whether the string is valid Unicode (no escape
    /// writes a lone surrogate).
    #[inline(always)]
    pub(crate) fn skip_text(&mut self) -> Result<bool, JsonError> {
        let b = self.b;
        let start = self.pos;
        let mut non_ascii = false;
        let i = scan_string(b, start, &mut non_ascii);
        if b.get(i) == Some(&b'"') {
            self.text(start, i, non_ascii)?;
            self.pos = i + 1;
            return Ok(true);
        }
        self.skip_string_slow(start, i, non_ascii)
    }

    /// [`Parser::string_slow`] without building the text: whether it is valid
    /// Unicode.
    #[inline(never)]
    fn skip_string_slow(
        &mut self,
        start: usize,
        mut i: usize,
        mut non_ascii: bool,
    ) -> Result<bool, JsonError> {
        let b = self.b;
        let mut seg = start;
        let mut unicode = true;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(err(JsonErrorKind::UnexpectedEnd, b.len()));
            };
            self.text(seg, i, non_ascii)?;
            match c {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(unicode);
                }
                b'\\' => {
                    let (ch, next) = self.escape(i)?;
                    unicode &= ch.is_some();
                    i = next;
                }
                _ => return Err(err(JsonErrorKind::UnexpectedByte(c), i)),
            }
            seg = i;
            non_ascii = false;
            i = scan_string(b, i, &mut non_ascii);
        }
    }

    /// An object key that nobody reads (`c` is the already peeked next byte)
    /// and its colon: [`Parser::key`] without building the key.
    #[inline(always)]
    pub(crate) fn skip_key(&mut self, c: u8) -> Result<(), JsonError> {
        if c != b'"' {
            return Err(unexpected(self.b, self.pos));
        }
        self.pos += 1;
        self.skip_string()?;
        if self.b.get(self.pos) == Some(&b':') {
            self.pos += 1;
            return Ok(());
        }
        if self.peek()? != b':' {
            return Err(unexpected(self.b, self.pos));
        }
        self.pos += 1;
        Ok(())
    }

    /// Decodes the escape whose backslash is at `i`: its character (`None` for a
    /// lone surrogate: a high one without a low one right after it, or a low one
    /// alone, which JSON allows and `json.loads` reads, as a str that is not valid
    /// Unicode) and the index after it.
    #[inline]
    fn escape(&self, i: usize) -> Result<(Option<char>, usize), JsonError> {
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
                if hi & 0xFC00 != 0xD800 {
                    // `None` exactly for a (lone) low surrogate.
                    return Ok((char::from_u32(hi), i + 6));
                }
                // A pair only with a low surrogate; else the next escape is read on
                // its own (`\ud800\u0041` is a lone one, then `A`).
                if b.get(i + 6..i + 8) == Some(b"\\u") {
                    let lo = self.hex4(i + 8, i + 6)?;
                    if lo & 0xFC00 == 0xDC00 {
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return Ok((char::from_u32(cp), i + 12));
                    }
                }
                return Ok((None, i + 6));
            }
            _ => return Err(err(JsonErrorKind::InvalidEscape, i)),
        };
        Ok((Some(ch), i + 2))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::testing::*;
    use crate::json::ArrayElements;
    use crate::json::JsonErrorKind::*;
    use crate::value::MAX_DEPTH;
    use serde_json::Value;

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
                "1.0e1152921504606846976",
                "Decimal(Decimal { neg: false, digits: [49], exp: 1152921504606846976 })",
            ),
            (
                "-15e-1152921504606846976",
                "Decimal(Decimal { neg: true, digits: [49, 53], exp: -1152921504606846976 })",
            ),
            // Past the exponents kept exact: its text, never a clamped value.
            (
                "1.0e1000000000000000000000000",
                r#"OutOfRange("1.0e1000000000000000000000000")"#,
            ),
            (
                "1e1152921504606846977",
                r#"OutOfRange("1e1152921504606846977")"#,
            ),
            (
                "-2E-99999999999999999999",
                r#"OutOfRange("-2E-99999999999999999999")"#,
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
        // After a lone surrogate (JSON: see `lone_surrogates`), the rest is checked.
        assert_eq!(parse_err(br#""\ud800\x""#), e(InvalidEscape, 7));
        assert_eq!(parse_err(br#""\ud800\u12G4""#), e(InvalidEscape, 7));
        assert_eq!(parse_err(b"\"\\ud800\xff\""), e(InvalidUtf8, 7));
        assert_eq!(parse_err(b"\"\\ud800\n\""), e(UnexpectedByte(b'\n'), 7));
        assert_eq!(parse_err(br#""\ud800"#), e(UnexpectedEnd, 7));
        assert_eq!(parse_err(br#""\ud800\"#), e(UnexpectedEnd, 8));
        assert_eq!(parse_err(br#""\ud800\u"#), e(UnexpectedEnd, 9));
        assert_eq!(parse_err(br#""\ud800\udc"#), e(UnexpectedEnd, 11));
    }

    /// An escape of a lone surrogate is JSON (as `json.loads` reads it), not Unicode
    /// text: a string that is not valid Unicode, a key that is not (its value not
    /// kept, as for a dict's); `string` and `key`, which give text, say where.
    #[test]
    fn lone_surrogates() {
        for doc in [
            &br#""\ud800""#[..],
            br#""ab\udc00""#,
            br#""\ud800x""#,
            br#""\ud800\n""#,
            br#""\ud800\u0041""#,
            br#""\ud800\ud800""#,
            br#""\udfff\udfff""#,
            br#""\ude00\ud83d""#,
            br#""\ud83d\ude00\udbff""#,
        ] {
            let v = parse_value(doc, MAX_DEPTH).unwrap();
            assert!(
                matches!(v, Json::InvalidString),
                "{:?}",
                String::from_utf8_lossy(doc)
            );
            let mut p = Parser::new(&doc[1..]);
            assert_eq!(p.string_or_lone(), Ok(None));
            assert_eq!(p.pos, doc.len() - 1);
            let mut p = Parser::new(&doc[1..]);
            assert_eq!(p.string().unwrap_err().kind, LoneSurrogate);
            let mut p = Parser::new(&doc[1..]);
            assert_eq!(p.skip_text(), Ok(false));
        }
        let at = |doc: &[u8]| Parser::new(&doc[1..]).string().unwrap_err().offset + 1;
        assert_eq!(at(br#""\ud800""#), 1);
        assert_eq!(at(br#""ab\n\\\udc00""#), 7);
        assert_eq!(at(br#""\ud83d\ude00\udbff""#), 13);
        // A pair is one character.
        let v = parse_value(br#""\ud83d\ude00""#, MAX_DEPTH).unwrap();
        assert_eq!(string_of(&v).0, "\u{1F600}");
        let v = parse(r#"{"a": "\ud800", "\udfff": [1], "b": ["\udc00x"]}"#).unwrap();
        let Json::Object(entries, _) = &v else {
            panic!("{v:?}")
        };
        assert_eq!(entries.len(), 3);
        assert!(matches!(
            (&*entries[0].0, &entries[0].1),
            ("a", Json::InvalidString)
        ));
        assert!(matches!(
            (&*entries[1].0, &entries[1].1),
            ("", Json::InvalidStringKey)
        ));
        assert!(
            matches!(&entries[2].1, Json::Array(items) if matches!(items[..], [Json::InvalidString]))
        );
        let mut p = Parser::new(br#""k\udfff": 1"#);
        assert_eq!(p.key(b'"'), Err(e2(LoneSurrogate, 2)));
        let mut p = Parser::new(br#""k\udfff": 1"#);
        assert_eq!(p.key_or_lone(b'"'), Ok(None));
        assert_eq!(p.pos, 10);
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
    fn utf8_is_checked_once_for_the_input_and_errors_stay_exact() {
        // Valid non-ASCII first (the whole input is checked then, and fails),
        // the bad byte in a later string: its own offset.
        let doc = b"[\"\xc3\xa9\", \"ab\xffc\", \"\xc3\xa9\"]";
        assert_eq!(parse_err(doc), e(InvalidUtf8, 10));
        let doc = b"{\"\xc3\xa9\": 1, \"k\xc3\": 2}";
        assert_eq!(parse_err(doc), e(InvalidUtf8, 12));
        // Bad UTF-8 outside any string, after valid non-ASCII strings.
        let doc = b"[\"\xc3\xa9\", \xff]";
        assert_eq!(parse_err(doc), e(InvalidUtf8, 7));
        // Valid everywhere: every string decoded, escapes between characters.
        let doc = "[\"\u{e9}\", \"a\\u00e9\u{1F600}\\n\u{e9}\", {\"\u{e9}k\": \"\u{4e2d}\"}]";
        let v = parse(doc).unwrap();
        let Json::Array(items) = &v else {
            panic!("{v:?}")
        };
        assert_eq!(string_of(&items[0]), ("\u{e9}".to_string(), true));
        assert_eq!(
            string_of(&items[1]),
            ("a\u{e9}\u{1F600}\n\u{e9}".to_string(), false)
        );
        let Json::Object(entries, _) = &items[2] else {
            panic!("{v:?}")
        };
        assert_eq!(entries[0].0, "\u{e9}k");
        assert_eq!(string_of(&entries[0].1), ("\u{4e2d}".to_string(), true));
    }

    /// `skip_string` accepts and rejects exactly what `string` does, with the
    /// same error, and ends at the same place.
    #[test]
    fn skip_string_agrees_with_string() {
        let cases: &[&[u8]] = &[
            b"abc\"",
            b"\"",
            b"a\\nb\\\"c\\\\\\/\\b\\f\\r\\t\"",
            b"\\u00e9\\uD83D\\uDE00x\"",
            b"\\uD83D\"",
            b"\\uDE00\"",
            b"\\uD83D\\u0041\"",
            b"\\uD83D\\",
            b"\\uD83",
            b"\\u12G4\"",
            b"\\x\"",
            b"\\",
            b"abc",
            b"a\nb\"",
            b"a\x1fb\"",
            b"\xc3\xa9\\n\xff\"",
            b"\xc3\xa9\\n\xc3\xa9\"",
            b"\xe4\xb8\xad\xe6\x96\x87 \\\"q\\\" \xf0\x9f\x98\x80\"",
            b"\xed\xa0\x80\"",
            b"0123456789abcdef0123456789\\u0020\xc3\"",
        ];
        for &case in cases {
            for prefix in [&b""[..], "\u{e9}\u{e9}".as_bytes()] {
                let doc = [prefix, case].concat();
                let (mut a, mut b) = (Parser::new(&doc), Parser::new(&doc));
                let got = a.string_or_lone().map(|s| (s.is_some(), a.pos));
                let skipped = b.skip_text().map(|unicode| (unicode, b.pos));
                assert_eq!(got, skipped, "{:?}", String::from_utf8_lossy(&doc));
                let (mut a, mut b) = (Parser::new(&doc), Parser::new(&doc));
                let quoted = [b"\"", &doc[..], b": 1"].concat();
                a.b = &quoted;
                b.b = &quoted;
                let key = a.key_or_lone(b'"').map(|_| a.pos);
                let skipped = b.skip_key(b'"').map(|()| b.pos);
                assert_eq!(key, skipped, "{:?}", String::from_utf8_lossy(&quoted));
            }
        }
        assert_eq!(Parser::new(b"ab\\n\"").skip_string(), Ok(()));
        let mut p = Parser::new(b"ab\\q\"");
        assert_eq!(p.skip_string(), Err(e2(InvalidEscape, 2)));
    }

    fn e2(kind: JsonErrorKind, offset: usize) -> JsonError {
        JsonError { kind, offset }
    }

    // -- containers --------------------------------------------------------

    #[test]
    fn containers() {
        let v = parse(
            r#" { "a" : [1, 2.5, "x", true, null, {}, []], "b": {"c": {"d": -1}} , "a": 0} "#,
        )
        .unwrap();
        let Json::Object(entries, _) = &v else {
            panic!()
        };
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
        assert!(matches!(&items[5], Json::Object(o, _) if o.is_empty()));
        assert!(matches!(&items[6], Json::Array(a) if a.is_empty()));
        let Json::Object(b, _) = &entries[1].1 else {
            panic!()
        };
        let Json::Object(c, _) = &b[0].1 else {
            panic!()
        };
        assert!(matches!(c[0].1, Json::Number(Number::Int(-1))));
        assert!(matches!(entries[2].1, Json::Number(Number::Int(0))));
    }

    #[test]
    fn escaped_keys_are_owned() {
        let v = parse(r#"{"plain": 1, "esc\naped": 2}"#).unwrap();
        let Json::Object(entries, _) = &v else {
            panic!()
        };
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
        let Json::Object(entries, _) = &v else {
            panic!()
        };
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
            if ours.as_ref().is_ok_and(holds_lone_surrogate) && theirs.is_err() {
                // JSON, which serde_json refuses (see `lone_surrogates`).
                continue;
            }
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

    /// Whether a string or key of `v` is not valid Unicode.
    fn holds_lone_surrogate(v: &Json<'_>) -> bool {
        match v {
            Json::InvalidString | Json::InvalidStringKey => true,
            Json::Array(items) => items.iter().any(holds_lone_surrogate),
            Json::Object(entries, _) => entries.iter().any(|(_, v)| holds_lone_surrogate(v)),
            _ => false,
        }
    }

    /// `skip_here` accepts exactly what `parse_here` accepts, at every depth
    /// limit, and ends where it ends: random corruptions of valid documents,
    /// and nesting around the limit.
    #[test]
    fn skip_agrees_with_parse() {
        const INSERTS: &[u8] = b"{}[]\",:\\ 0123456789eE.+-tfnrlsuabx/\x00\x1f\x7f\xff\xc3\xa9\xed";
        let mut rng = Rng(11);
        let agree = |doc: &[u8], max_depth: usize| {
            let (mut a, mut b) = (Parser::new(doc), Parser::new(doc));
            let parsed = a.parse_here(max_depth).map(|_| a.pos);
            let skipped = b.skip_here(max_depth).map(|()| b.pos);
            assert_eq!(
                parsed.is_ok(),
                skipped.is_ok(),
                "max_depth {max_depth}: {:?}",
                String::from_utf8_lossy(doc)
            );
            if let (Ok(x), Ok(y)) = (parsed, skipped) {
                assert_eq!(x, y);
            }
        };
        for _ in 0..20_000 {
            let mut doc = gen_document(&mut rng).into_bytes();
            for _ in 0..rng.below(3) {
                let at = rng.below(doc.len() + 1);
                match rng.below(3) {
                    0 if at < doc.len() => {
                        doc.remove(at);
                    }
                    1 if at < doc.len() => doc[at] = INSERTS[rng.below(INSERTS.len())],
                    _ => doc.insert(at, INSERTS[rng.below(INSERTS.len())]),
                }
            }
            agree(&doc, MAX_DEPTH);
            agree(&doc, rng.below(4));
        }
        for n in [0, 1, 2, 127, 128, 129, 200] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let doc = format!("{}1{}", open.repeat(n), close.repeat(n));
                for max_depth in [0, 1, 2, 127, MAX_DEPTH] {
                    agree(doc.as_bytes(), max_depth);
                }
            }
        }
    }
}
