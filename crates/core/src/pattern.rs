//! `pattern`: an ECMA-262 regular expression, translated to the `regex`
//! crate's syntax and matched through a per-thread clone.
//!
//! JSON Schema patterns are ECMA-262 regular expressions with Unicode
//! semantics (the `u` flag). Where the two dialects differ, the pattern is
//! rewritten before it is compiled ([`translate`]):
//!
//! - `\d`, `\w` and `\b` are ASCII-only in ECMA-262 (`[0-9]`, `[0-9A-Za-z_]`,
//!   an ASCII word boundary), Unicode-wide in `regex`;
//! - `\s` is ECMA-262's WhiteSpace and LineTerminator set, which includes
//!   U+FEFF and excludes U+0085;
//! - `.` matches anything but the line terminators `\n`, `\r`, U+2028, U+2029;
//! - `[^]` matches any character, `[]` none; `[`, `&&`, `--`, `~~` are literal
//!   inside a class; `[\b]` is a backspace; `\cX` is a control character; `\0`
//!   is NUL; a `{` that does not start a quantifier is literal;
//! - an escaped ASCII letter with no meaning in ECMA-262 (`\a`, `\A`, `\z`)
//!   is an error there and here, not a `regex` assertion;
//! - in a class, a `-` next to a class escape is a literal: `[\w-.]` holds `\w`,
//!   `-` and `.` (Annex B, as browsers read a pattern without the `u` flag,
//!   which makes it an error), where `regex` would read a range ([`class_ranges`]);
//! - a back-reference to a group that has not matched (on a branch not taken,
//!   further on, or from inside the group itself) matches the empty string,
//!   where `fancy-regex`, as PCRE, fails ([`back_reference`]); a quantified group
//!   that can only match the empty string (`(?:(?=a))?`, `(?:)+`), which
//!   `fancy-regex` refuses, matches as ECMA-262 repeats it ([`quantify_empty`]).
//!
//! Two ECMA-262 meanings are not rewritten, both about capture groups that
//! `fancy-regex` keeps as PCRE does: a quantified group's captures are not reset
//! at each iteration (`^(?:(a)|b)+\1$` rejects `ab`, ECMA-262 accepts it: the
//! last iteration left group 1 unset), and a back-reference in a look-behind is
//! matched left to right (ECMA-262 matches a look-behind right to left, so
//! `(?<=(a)\1)` meets `\1` before group 1 there).
//!
//! Two engines. A pattern the `regex` crate takes is matched by it, in time
//! linear in the input. Only a pattern it refuses for a feature it lacks
//! (look-ahead `(?=` `(?!`, look-behind `(?<=` `(?<!`, back-references `\1`
//! `\k<name>`) is compiled by `fancy-regex`, a backtracking engine, with a
//! bound on matching work: at most [`BACKTRACK_LIMIT`] backtracking steps per
//! match, on strings of at most [`BACKTRACK_INPUT_LIMIT`] bytes. A match that
//! would need more steps, or a longer string, answers [`WorkExceeded`]; the `pattern` check reports it as an error for that
//! record (the same pattern on the same string always gives the same answer).
//! A step can scan the rest of the string (a look-ahead that reads far, or a
//! back-reference, in a loop), so for such a pattern the steps shrink with the
//! length past 128 bytes: steps times bytes stay under [`BACKTRACK_WORK_LIMIT`].
//! In the backtracking dialect `\b`/`\B` are written with look-around over
//! `[0-9A-Za-z_]` (`fancy-regex` cannot switch Unicode off inside a pattern).
//! ECMA-262 syntax that neither engine should read another way is refused
//! first: a quantifier after a quantifier (possessive `a++` elsewhere) and
//! atomic groups `(?>`.
//!
//! Work per byte is bounded: `regex` matches in time linear in the input, but
//! with a factor proportional to the compiled program when its lazy DFA gives
//! up. The program is capped at [`SIZE_LIMIT`] bytes; a pattern over the cap
//! is refused when the schema compiles. The same cap applies to each
//! sub-expression that `fancy-regex` hands to `regex`. A small program gives
//! up the lazy DFA too when counted repetitions write out thousands of
//! positions and a match may start anywhere (`a{1,8000}b`), so they are capped
//! at [`REPEAT_LIMIT`] where the pattern is not anchored by `^` or `$` (the
//! backtracking engine's input cap bounds its own: 0.15 s on 8 KiB at most).
//!
//! A `regex::Regex` shared by several threads hands its match caches out
//! through a shared pool, which measured as a large slowdown with two pool
//! threads. A clone shares the compiled program but has its own pool, so each
//! thread keeps clones of the patterns it uses (by a unique id, never by
//! address: a dropped schema's address can be reused).

use std::cell::RefCell;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::{Regex, RegexBuilder};
use rustc_hash::FxHashMap;

/// Backtracking steps one match may take in the backtracking engine before it
/// stops with [`WorkExceeded`] (`fancy-regex`'s own default).
pub const BACKTRACK_LIMIT: usize = 1_000_000;

/// The longest string (bytes) the backtracking engine matches; a longer one is
/// [`WorkExceeded`] without matching. Steps alone do not bound the work: an
/// unanchored search tries every start position, and a look-ahead such as
/// `(?=a*b)` scans the rest of the string at each one, so the work grows with
/// the square of the length without one backtracking step over the limit.
pub const BACKTRACK_INPUT_LIMIT: usize = 8192;

/// Clones kept per thread; beyond this they are all dropped and made again as
/// they are used. A record of a real schema can use more than 64 patterns (the
/// venvironment schemas of SchemaStore have 98 to 127 and check a name against
/// 48 reserved words): with 64 kept first in first out, every match made a
/// clone and its match cache (12 to 30 times jsonschema-rs's time there). Each
/// clone holds one lazily grown match cache: about 5 KiB for a simple pattern
/// (1,000 of them measured +5.4 MB), at most the `regex` crate's lazy DFA cache
/// capacity for any. Of 925 SchemaStore schemas one has more than 127 patterns.
const CLONES_PER_THREAD: usize = 512;

/// The largest compiled program (bytes of the `regex` crate's NFA) a pattern may have.
///
/// 1 MiB holds every one of the 1,298 patterns of the SchemaStore catalog we
/// tried (the largest needs 715,036 bytes) and keeps the slowest pattern we
/// found at about 10 MB/s, where the `regex` default of 10 MiB let one run
/// at 0.03 MB/s.
pub const SIZE_LIMIT: usize = 1 << 20;

/// The most positions the counted repetitions of a pattern that is not anchored
/// (no `^` first, no `$` last) may write out (`x{m,n}` writes `x` out `n`
/// times, nested counts multiply).
///
/// A small program can still be slow: `a{1,8000}b` is 8,000 positions whose
/// lazy DFA outgrows its cache, and the `regex` crate then falls back to an
/// NFA simulation costing each byte one step per position (0.01 MB/s). Of the
/// SchemaStore catalog's patterns the most is 319 (`^[^\s@"]{1,64}@[^\s@]{1,255}$`);
/// at 512 the slowest pattern we found (`[ab]*a[ab]{512}c`) runs at 0.2 MB/s.
pub const REPEAT_LIMIT: usize = 512;

/// Backtracking work a match may do, in steps times bytes of the string: a
/// step may run a look-around or back-reference over the rest of the string
/// (`(?:a(?!(?:a|aa)*b))+c`), so [`BACKTRACK_LIMIT`] steps on 8 KiB took 8 s.
/// Strings of up to 128 bytes keep the full [`BACKTRACK_LIMIT`]; a longer one
/// gets this divided by its length rounded up to a power of two (16,384 steps
/// at 8 KiB; 0.15-0.5 s at worst on 2 vCPUs, 4-33 s before). Only patterns whose loops hold such a step
/// ([`loops_over_far_looks`]); the others keep [`BACKTRACK_LIMIT`].
pub const BACKTRACK_WORK_LIMIT: usize = 1 << 27;

/// `\d` as the body of a class.
const DIGIT: &str = "0-9";
/// `\w` as the body of a class.
const WORD: &str = "0-9A-Za-z_";
/// `\s` as the body of a class: ECMA-262 WhiteSpace (with Unicode `Zs`) and LineTerminator.
const SPACE: &str = r"\t\n\x0B\x0C\r\x20\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
/// `.`: anything but a line terminator.
const DOT: &str = r"[^\n\r\x{2028}\x{2029}]";

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CLONES: RefCell<FxHashMap<u64, Regex>> = RefCell::new(FxHashMap::default());
}

/// Why a pattern does not compile.
#[derive(Debug, PartialEq, Eq)]
pub enum PatternError {
    /// Not a regular expression we support; the reason, one line.
    Syntax(String),
    /// The compiled program would exceed [`SIZE_LIMIT`] bytes.
    TooLarge { limit: usize },
    /// Its counted repetitions write out more than [`REPEAT_LIMIT`] positions.
    TooManyRepeats { limit: usize },
}

/// A match in the backtracking engine stopped after [`BACKTRACK_LIMIT`] steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkExceeded;

#[derive(Debug)]
enum Engine {
    /// The `regex` crate: linear time.
    Linear(Regex),
    /// `fancy-regex`, for look-around and back-references: bounded backtracking.
    Backtracking(Box<Backtracker>),
}

/// String lengths, in powers of two above 128 bytes up to [`BACKTRACK_INPUT_LIMIT`],
/// that get a lower step bound (see [`BACKTRACK_WORK_LIMIT`]).
const BACKTRACK_TIERS: usize = 6;

/// A pattern compiled by `fancy-regex`, whose step bound is set when it compiles:
/// once with [`BACKTRACK_LIMIT`], and once more for each tier of string length
/// met (`fancy-regex` takes no bound per call).
#[derive(Debug)]
struct Backtracker {
    /// The backtracking dialect's source and the program cap, to compile a tier.
    source: String,
    size_limit: usize,
    full: fancy_regex::Regex,
    /// Whether the steps shrink with the length ([`loops_over_far_looks`]): only
    /// where a step can scan far (a `\b` in `(?<!-)\b\d` checks one character
    /// and needs 3-4 steps a byte: 32,772 on 8 KiB, over a tier's bound).
    tiered: bool,
    tiers: [std::sync::OnceLock<Option<fancy_regex::Regex>>; BACKTRACK_TIERS],
}

impl Backtracker {
    fn build(
        source: &str,
        size_limit: usize,
        steps: usize,
    ) -> Result<fancy_regex::Regex, fancy_regex::Error> {
        fancy_regex::RegexBuilder::new(source)
            .backtrack_limit(steps)
            .delegate_size_limit(size_limit)
            .build()
    }

    /// The steps a match on `len` bytes may take: [`BACKTRACK_WORK_LIMIT`] over
    /// `len` rounded up to a power of two, at most [`BACKTRACK_LIMIT`]; and the
    /// tier of that bound (`None`: the full one).
    fn steps_for(len: usize) -> (usize, Option<usize>) {
        let rounded = len.max(1).next_power_of_two();
        let steps = BACKTRACK_WORK_LIMIT / rounded;
        if steps >= BACKTRACK_LIMIT {
            return (BACKTRACK_LIMIT, None);
        }
        let full_up_to = (BACKTRACK_WORK_LIMIT / BACKTRACK_LIMIT).next_power_of_two();
        let tier = (rounded.trailing_zeros() - full_up_to.trailing_zeros()) as usize;
        (steps, Some(tier))
    }

    fn is_match(&self, s: &str) -> Result<bool, WorkExceeded> {
        let regex = match Backtracker::steps_for(s.len()) {
            _ if !self.tiered => &self.full,
            (_, None) => &self.full,
            (steps, Some(tier)) => {
                let Some(Some(regex)) = self.tiers.get(tier).map(|t| {
                    t.get_or_init(|| Backtracker::build(&self.source, self.size_limit, steps).ok())
                }) else {
                    return Err(WorkExceeded);
                };
                regex
            }
        };
        regex.is_match(s).map_err(|_| WorkExceeded)
    }
}

#[derive(Debug)]
pub struct Pattern {
    id: u64,
    source: String,
    engine: Engine,
    /// The pattern when it is one literal, perhaps anchored (`_str$`,
    /// `^https://`): matched by comparing text, a hundredth of an engine call.
    literal: Option<Literal>,
    /// The pattern when it is a whole string of ASCII characters of one class
    /// (`^[A-Z0-9_]+$`) or one of a few whole strings (`^(alpha|beta)$`):
    /// matched without the engine as well.
    whole: Option<Whole>,
    /// The pattern when it is a sequence of single characters held by an
    /// anchor (`^[aA][nN][dD]$`, `^[a-zA-Z_][a-zA-Z0-9_]*$`, `^.*\.[cC][sS]$`):
    /// matched by comparing bytes too.
    sequence: Option<Sequence>,
}

/// A pattern anchored at both ends that a string matches as a whole.
#[derive(Debug)]
enum Whole {
    /// Between `min` and `max` characters, each an ASCII character whose bit is
    /// set in `class` (bit `c` of word `c / 64`).
    Run {
        class: [u64; 2],
        min: u32,
        max: Option<u32>,
    },
    /// One of these strings exactly.
    OneOf(Box<[Box<str>]>),
    /// One of these sequences of characters exactly, each an ASCII class or a literal
    /// character ([`atoms`]): `^([Pp][Rr][Ee][Ss][Ee][Nn][Tt]|[Aa][Bb][Ss][Ee][Nn][Tt])$`,
    /// words in any case (over 700 of SchemaStore's patterns are such lists), and
    /// alternatives inside a pattern spelled out ([`spell`]): `^(?:#|&#x23;)[0-9a-f]{6}$`.
    Words(Box<[Box<[[u64; 4]]>]>),
}

/// Alternatives a [`Whole::OneOf`] holds at most (each is compared).
const WHOLE_ALTERNATIVES: usize = 16;

impl Whole {
    /// `translated` (the `regex` crate's syntax) as a [`Whole`], if it is one.
    fn of(translated: &str) -> Option<Whole> {
        use regex_syntax::hir::{Class, Hir, HirKind, Look};
        /// `hir` without the capture groups around it (they change no verdict).
        fn bare(mut hir: &Hir) -> &Hir {
            while let HirKind::Capture(capture) = hir.kind() {
                hir = &capture.sub;
            }
            hir
        }
        /// An ASCII class as bits (an alternation of classes and characters too:
        /// `[A-Z]|[0-9]|_`); `None` for one with other characters.
        fn ascii_class(hir: &Hir) -> Option<[u64; 2]> {
            let class = match bare(hir).kind() {
                HirKind::Class(Class::Unicode(class)) => class,
                HirKind::Alternation(options) => {
                    let mut bits = [0u64; 2];
                    for option in options {
                        let [a, b] = ascii_class(option)?;
                        bits = [bits[0] | a, bits[1] | b];
                    }
                    return Some(bits);
                }
                HirKind::Literal(lit) => {
                    let [c] = *lit.0 else { return None };
                    if c > 0x7F {
                        return None;
                    }
                    let mut bits = [0u64; 2];
                    bits[usize::from(c / 64)] |= 1 << (c % 64);
                    return Some(bits);
                }
                _ => return None,
            };
            let mut bits = [0u64; 2];
            for range in class.ranges() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if end > 0x7F {
                    return None;
                }
                for c in start..=end {
                    bits[(c / 64) as usize] |= 1 << (c % 64);
                }
            }
            Some(bits)
        }
        let hir = regex_syntax::Parser::new().parse(translated).ok()?;
        let HirKind::Concat(parts) = hir.kind() else {
            return None;
        };
        let [start, inner @ .., end] = parts.as_slice() else {
            return None;
        };
        if !matches!(start.kind(), HirKind::Look(Look::Start))
            || !matches!(end.kind(), HirKind::Look(Look::End))
        {
            return None;
        }
        // Alternatives within the pattern, spelled out: `^(?:#|&#x23;)[0-9a-f]{6}$`,
        // `^(?:[01]\d|2[0-3]):[0-5]\d$`, word lists whose common prefix the parser took out.
        let spelled = || {
            let mut words = vec![Vec::new()];
            inner.iter().try_for_each(|part| spell(part, &mut words))?;
            (words.len() > 1).then(|| Whole::Words(words.into_iter().map(Into::into).collect()))
        };
        let [middle] = inner else {
            return spelled();
        };
        let middle = bare(middle);
        match middle.kind() {
            HirKind::Repetition(rep) => Some(Whole::Run {
                class: ascii_class(&rep.sub)?,
                min: rep.min,
                max: rep.max,
            }),
            HirKind::Class(_) | HirKind::Alternation(_) if ascii_class(middle).is_some() => {
                Some(Whole::Run {
                    class: ascii_class(middle)?,
                    min: 1,
                    max: Some(1),
                })
            }
            HirKind::Alternation(options) if options.len() <= WHOLE_ALTERNATIVES => {
                let words = options
                    .iter()
                    .map(|option| match bare(option).kind() {
                        HirKind::Literal(lit) => {
                            std::str::from_utf8(&lit.0).ok().map(Box::<str>::from)
                        }
                        HirKind::Empty => Some(Box::from("")),
                        _ => None,
                    })
                    .collect::<Option<Box<[Box<str>]>>>();
                if let Some(words) = words {
                    return Some(Whole::OneOf(words));
                }
                spelled()
            }
            _ => spelled(),
        }
    }

    #[inline]
    fn is_match(&self, s: &str) -> bool {
        match self {
            Whole::Run { class, min, max } => {
                // ASCII only: each byte is a character.
                let n = s.len();
                n >= *min as usize
                    && max.is_none_or(|max| n <= max as usize)
                    && s.bytes()
                        .all(|b| b < 0x80 && class[usize::from(b >> 6)] & (1 << (b & 63)) != 0)
            }
            Whole::OneOf(words) => words.iter().any(|w| **w == *s),
            Whole::Words(words) => words
                .iter()
                .any(|w| s.len() == w.len() && atoms_match(s.as_bytes(), w)),
        }
    }
}

/// A pattern held by an anchor whose fixed part is a sequence of single
/// characters, each one ASCII class or one literal character
/// (`^[cC][aA][nN]$`: a reserved word in any case; 48 of them per name in the
/// venvironment schemas, an engine call each), with perhaps a run of one class
/// at its free end, or between two fixed parts, when both anchors hold it
/// (`^[a-z_][a-z0-9_]*$`, `^.*\.[cC][sS]$`, `^[a-z][a-z0-9-]*[a-z0-9]$`).
#[derive(Debug)]
struct Sequence {
    /// Per byte of the fixed part, the bytes it takes (bit `b % 64` of word
    /// `b / 64`): an ASCII class, or one byte of a literal character (whose
    /// UTF-8 bytes are then compared in turn).
    atoms: Box<[[u64; 4]]>,
    /// The fixed part starts the string (`^` before it).
    start: bool,
    /// The fixed part ends the string (`$` after it).
    end: bool,
    /// With both anchors in the pattern: the run of one class that fills the
    /// rest of the string, after the fixed part when it is held at the start
    /// only, before it when held at the end only, between it and `suffix` when
    /// both hold it (`^[a-z][a-z0-9-]*[a-z0-9]$`).
    rest: Option<Run>,
    /// The atoms after a `rest` held by both anchors (empty otherwise).
    suffix: Box<[[u64; 4]]>,
}

/// Between `min` and `max` characters of one class.
#[derive(Debug)]
struct Run {
    /// The class's ASCII characters (bit `c % 64` of word `c / 64`).
    ascii: [u64; 2],
    /// Its ranges above ASCII (`.`: all of them but U+2028 and U+2029).
    wide: Box<[(char, char)]>,
    min: u32,
    max: Option<u32>,
    /// Of a class of every character but a few (`.`, `[^/]`), those few.
    few: Option<Few>,
}

/// The characters a class of nearly all of them leaves out: a string is a run of
/// it when it holds none of them, found with `memchr` instead of a test per
/// character (`^.*\.ext$` over long paths spent most of a record in that test).
#[derive(Debug)]
struct Few {
    /// At most [`FEW_ASCII`] ASCII bytes left out.
    ascii: Box<[u8]>,
    /// At most [`FEW_WIDE`] characters above ASCII left out.
    wide: Box<[char]>,
    /// The distinct first bytes of their UTF-8 (U+2028 and U+2029: one, `0xE2`).
    leads: Box<[u8]>,
}

/// The shortest string [`Few`] looks through (shorter ones are tested character by
/// character: `memchr`'s calls cost more there, keys under `^.+$` measured 0.93x).
const FEW_FROM_BYTES: usize = 32;

/// The most ASCII characters and wide characters a [`Few`] leaves out.
const FEW_ASCII: usize = 3;
const FEW_WIDE: usize = 4;

impl Few {
    /// The characters `ascii` and `wide` (a [`Run`]'s) leave out, if there are few.
    fn of(ascii: [u64; 2], wide: &[(char, char)]) -> Option<Few> {
        let out_ascii: Vec<u8> = (0u8..0x80)
            .filter(|&b| ascii[usize::from(b >> 6)] & (1 << (b & 63)) == 0)
            .collect();
        if out_ascii.len() > FEW_ASCII {
            return None;
        }
        let mut ranges: Vec<(u32, u32)> = wide.iter().map(|&(a, b)| (a as u32, b as u32)).collect();
        ranges.sort_unstable();
        let mut out_wide = Vec::new();
        let mut next = 0x80u32; // the first code point not yet covered
        let gap = |from: u32, to: u32, out: &mut Vec<char>| -> Option<()> {
            // Code points from..=to, surrogates aside (no char is one).
            let surrogates = to.min(0xDFFF).saturating_sub(from.max(0xD800)) + 1;
            let surrogates = if from <= 0xDFFF && to >= 0xD800 {
                surrogates
            } else {
                0
            };
            if out.len() + (to - from + 1 - surrogates) as usize > FEW_WIDE {
                return None;
            }
            out.extend((from..=to).filter_map(char::from_u32));
            Some(())
        };
        for (lo, hi) in ranges {
            if lo > next {
                gap(next, lo - 1, &mut out_wide)?;
            }
            next = next.max(hi.saturating_add(1));
        }
        if next <= 0x10FFFF {
            gap(next, 0x10FFFF, &mut out_wide)?;
        }
        let mut leads: Vec<u8> = out_wide
            .iter()
            .map(|c| c.encode_utf8(&mut [0; 4]).as_bytes()[0])
            .collect();
        leads.sort_unstable();
        leads.dedup();
        Some(Few {
            ascii: out_ascii.into(),
            wide: out_wide.into(),
            leads: leads.into(),
        })
    }

    /// Whether `s` holds none of the characters left out.
    fn none_in(&self, s: &str) -> bool {
        let bytes = s.as_bytes();
        let ascii_hit = match *self.ascii {
            [] => false,
            [a] => memchr::memchr(a, bytes).is_some(),
            [a, b] => memchr::memchr2(a, b, bytes).is_some(),
            [a, b, c] => memchr::memchr3(a, b, c, bytes).is_some(),
            _ => bytes.iter().any(|b| self.ascii.contains(b)),
        };
        if ascii_hit {
            return false;
        }
        // Where a left-out character's first byte is, the character that starts there
        // (a lead byte starts one in UTF-8): most text holds none of those bytes.
        let left_out = |i: usize| {
            s[i..]
                .chars()
                .next()
                .is_some_and(|c| self.wide.contains(&c))
        };
        match *self.leads {
            [] => true,
            [a] => !memchr::memchr_iter(a, bytes).any(left_out),
            [a, b] => !memchr::memchr2_iter(a, b, bytes).any(left_out),
            [a, b, c] => !memchr::memchr3_iter(a, b, c, bytes).any(left_out),
            _ => !self.wide.iter().any(|&c| s.contains(c)),
        }
    }
}

/// Appends the atoms of `hir` (one character, or a fixed number of them) for a
/// [`Sequence`] or a [`Whole::Words`]: per byte, the bytes it takes.
fn atoms(hir: &regex_syntax::hir::Hir, out: &mut Vec<[u64; 4]>) -> Option<()> {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Capture(capture) => atoms(&capture.sub, out),
        HirKind::Concat(parts) => parts.iter().try_for_each(|part| atoms(part, out)),
        HirKind::Literal(lit) => {
            for &b in lit.0.iter() {
                let mut bits = [0u64; 4];
                bits[usize::from(b / 64)] |= 1 << (b % 64);
                out.push(bits);
            }
            Some(())
        }
        HirKind::Class(Class::Unicode(class)) => {
            let mut bits = [0u64; 4];
            for range in class.ranges() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if end > 0x7F {
                    return None; // one character, but not always one byte
                }
                for c in start..=end {
                    bits[(c / 64) as usize] |= 1 << (c % 64);
                }
            }
            out.push(bits);
            Some(())
        }
        HirKind::Repetition(rep) if Some(rep.min) == rep.max && rep.min <= 16 => {
            let mut one = Vec::new();
            atoms(&rep.sub, &mut one)?;
            for _ in 0..rep.min {
                out.extend_from_slice(&one);
            }
            Some(())
        }
        _ => None,
    }
}

/// Words a [`Whole::Words`] holds at most (each is compared).
const WORDS: usize = 64;

/// Extends each of `words` (sequences of [`atoms`]) by each sequence `hir` matches, where
/// `hir` is atoms, alternatives of them, or a sequence of such parts: every word the
/// pattern spells (at most [`WORDS`] of at most [`SEQUENCE_ATOMS`] atoms).
fn spell(hir: &regex_syntax::hir::Hir, words: &mut Vec<Vec<[u64; 4]>>) -> Option<()> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(capture) => spell(&capture.sub, words),
        HirKind::Concat(parts) => parts.iter().try_for_each(|part| spell(part, words)),
        HirKind::Empty => Some(()),
        HirKind::Alternation(options) => {
            let mut out = Vec::new();
            for option in options {
                let mut these = words.clone();
                spell(option, &mut these)?;
                out.extend(these);
                if out.len() > WORDS {
                    return None;
                }
            }
            *words = out;
            Some(())
        }
        _ => {
            let mut tail = Vec::new();
            atoms(hir, &mut tail)?;
            for word in words.iter_mut() {
                word.extend_from_slice(&tail);
                if word.len() > SEQUENCE_ATOMS {
                    return None;
                }
            }
            Some(())
        }
    }
}

/// Whether each of `bytes` is one its atom ([`atoms`]) takes, in turn (as far as the
/// shorter of the two goes: the callers compare the lengths).
#[inline]
fn atoms_match(bytes: &[u8], atoms: &[[u64; 4]]) -> bool {
    bytes
        .iter()
        .zip(atoms)
        .all(|(&b, bits)| bits[usize::from(b >> 6)] & (1 << (b & 63)) != 0)
}

/// Bytes of the fixed part of a [`Sequence`] at most (each is compared).
const SEQUENCE_ATOMS: usize = 64;

impl Run {
    fn of(ranges: &[regex_syntax::hir::ClassUnicodeRange], min: u32, max: Option<u32>) -> Run {
        let mut ascii = [0u64; 2];
        let mut wide = Vec::new();
        for range in ranges {
            let (start, end) = (u32::from(range.start()), u32::from(range.end()));
            for c in start..=end.min(0x7F) {
                ascii[(c / 64) as usize] |= 1 << (c % 64);
            }
            if end > 0x7F {
                wide.push((range.start().max('\u{80}'), range.end()));
            }
        }
        Run {
            few: Few::of(ascii, &wide),
            ascii,
            wide: wide.into(),
            min,
            max,
        }
    }

    fn is_match(&self, s: &str) -> bool {
        if let (Some(few), true) = (&self.few, s.len() >= FEW_FROM_BYTES) {
            if !few.none_in(s) {
                return false;
            }
            if self.min == 0 && self.max.is_none() {
                return true;
            }
            let n = u32::try_from(crate::check::string::char_count(s)).unwrap_or(u32::MAX);
            return n >= self.min && self.max.is_none_or(|max| n <= max);
        }
        let bytes = s.as_bytes();
        let (mut i, mut n) = (0, 0u32);
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if self.ascii[usize::from(b >> 6)] & (1 << (b & 63)) == 0 {
                    return false;
                }
                i += 1;
            } else {
                // A character's first byte: `s[i..]` starts on a boundary.
                let Some(c) = s[i..].chars().next() else {
                    return false;
                };
                if !self.wide.iter().any(|&(lo, hi)| lo <= c && c <= hi) {
                    return false;
                }
                i += c.len_utf8();
            }
            n = n.saturating_add(1);
        }
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }

    /// Whether `s` holds a character of the class.
    fn found_in(&self, s: &str) -> bool {
        s.chars().any(|c| match u8::try_from(c) {
            Ok(b) if b < 0x80 => self.ascii[usize::from(b >> 6)] & (1 << (b & 63)) != 0,
            _ => self.wide.iter().any(|&(lo, hi)| lo <= c && c <= hi),
        })
    }

    /// Whether every character of this run's class is in `other`'s.
    fn within(&self, other: &Run) -> bool {
        (0..2).all(|w| self.ascii[w] & !other.ascii[w] == 0)
            && self
                .wide
                .iter()
                .all(|&(lo, hi)| other.wide.iter().any(|&(a, b)| a <= lo && hi <= b))
    }
}

impl Sequence {
    /// `translated` (the `regex` crate's syntax) as a [`Sequence`], if it is one.
    fn of(translated: &str) -> Option<Sequence> {
        use regex_syntax::hir::{Class, Hir, HirKind, Look};
        fn run(mut hir: &Hir) -> Option<Run> {
            while let HirKind::Capture(capture) = hir.kind() {
                hir = &capture.sub;
            }
            let HirKind::Repetition(rep) = hir.kind() else {
                return None;
            };
            let mut sub = &*rep.sub;
            while let HirKind::Capture(capture) = sub.kind() {
                sub = &capture.sub;
            }
            let HirKind::Class(Class::Unicode(class)) = sub.kind() else {
                return None;
            };
            Some(Run::of(class.ranges(), rep.min, rep.max))
        }
        let hir = regex_syntax::Parser::new().parse(translated).ok()?;
        let all: Vec<&Hir> = match hir.kind() {
            HirKind::Concat(parts) => parts.iter().collect(),
            _ => vec![&hir],
        };
        let mut parts = all.as_slice();
        let start = matches!(parts.first()?.kind(), HirKind::Look(Look::Start));
        if start {
            parts = &parts[1..];
        }
        let end = matches!(parts.last()?.kind(), HirKind::Look(Look::End));
        if end {
            parts = &parts[..parts.len() - 1];
        }
        let simplified: Vec<&Hir>;
        if start && end {
            // `X{a,}Y{0,k}` and `Y{0,k}X{a,}` are `X{a,}` when `Y`'s class is within
            // `X`'s (`^[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]?$`, 702 of SchemaStore's patterns).
            let mut keep: Vec<&Hir> = Vec::with_capacity(parts.len());
            for &part in parts {
                if let (Some(prev), Some(next)) = (keep.last().and_then(|p| run(p)), run(part)) {
                    if prev.max.is_none() && next.min == 0 && next.within(&prev) {
                        continue;
                    }
                    if next.max.is_none() && prev.min == 0 && prev.within(&next) {
                        keep.pop();
                    }
                }
                keep.push(part);
            }
            simplified = keep;
            parts = &simplified;
        }
        let optional = |hir: &Hir| matches!(hir.kind(), HirKind::Repetition(rep) if rep.min == 0);
        // A run at a free end is dropped where no anchor holds it and it may
        // match nothing (an unanchored search ignores it); where both anchors
        // hold the pattern, a run of one class at either end is the rest.
        if let ([only], true, true) = (parts, start, end) {
            if let Some(r) = run(only) {
                // A whole string of one class of any characters (`^.+$`, `^(.*)$`).
                return Some(Sequence {
                    atoms: Box::new([]),
                    start: true,
                    end: false,
                    rest: Some(r),
                    suffix: Box::new([]),
                });
            }
        }
        let (mut fixed_start, mut fixed_end, mut rest) = (start, end, None);
        if let [first, tail @ ..] = parts {
            if !start && optional(first) {
                parts = tail;
            } else if start && end && !tail.is_empty() {
                if let Some(r) = run(first) {
                    (rest, parts, fixed_start) = (Some(r), tail, false);
                }
            }
        }
        if let [head @ .., last] = parts {
            if !end && optional(last) {
                parts = head;
            } else if start && end && rest.is_none() && !head.is_empty() {
                if let Some(r) = run(last) {
                    (rest, parts, fixed_end) = (Some(r), head, false);
                }
            }
        }
        if !start && !end {
            if let [only] = parts {
                // One character of a class somewhere (`\S`, `.`, `[a-z]+`): what a run of
                // at least one finds first.
                let one = match only.kind() {
                    HirKind::Class(Class::Unicode(class)) => Some(Run::of(class.ranges(), 1, None)),
                    _ => run(only)
                        .filter(|r| r.min == 1)
                        .map(|r| Run { max: None, ..r }),
                };
                if let Some(r) = one {
                    return Some(Sequence {
                        atoms: Box::new([]),
                        start: false,
                        end: false,
                        rest: Some(r),
                        suffix: Box::new([]),
                    });
                }
            }
            // Nothing left of an unanchored pattern but runs that may match nothing
            // (`.*`): every string holds a match.
            return parts.is_empty().then(|| Sequence {
                atoms: Box::new([]),
                start: false,
                end: false,
                rest: None,
                suffix: Box::new([]),
            });
        }
        let mut out = Vec::new();
        let mut prefix = None; // the atoms before a run held by both anchors
        for part in parts {
            if atoms(part, &mut out).is_none() {
                // One run between fixed parts, when both anchors hold them.
                let r = (start && end && rest.is_none())
                    .then(|| run(part))
                    .flatten()?;
                rest = Some(r);
                prefix = Some(std::mem::take(&mut out));
            }
        }
        let (atoms, suffix) = match prefix {
            Some(prefix) => (prefix, out),
            None => (out, Vec::new()),
        };
        let fixed = atoms.len() + suffix.len();
        if (fixed == 0 && rest.is_none()) || fixed > SEQUENCE_ATOMS {
            return None;
        }
        Some(Sequence {
            atoms: atoms.into(),
            start: fixed_start,
            end: fixed_end,
            rest,
            suffix: suffix.into(),
        })
    }

    #[inline]
    fn fixed(&self, bytes: &[u8]) -> bool {
        atoms_match(bytes, &self.atoms)
    }

    fn is_match(&self, s: &str) -> bool {
        let (bytes, n) = (s.as_bytes(), self.atoms.len());
        if bytes.len() < n {
            return false;
        }
        match (&self.rest, self.start, self.end) {
            // Each fixed byte is an ASCII class or a literal's byte, so the
            // fixed part ends (or starts) on a character boundary: `s[n..]` is
            // safe whenever it matched.
            (None, true, true) => bytes.len() == n && self.fixed(bytes),
            (None, true, false) => self.fixed(&bytes[..n]),
            (None, false, true) => self.fixed(&bytes[bytes.len() - n..]),
            // Built with no atoms only: `.*` and the like.
            (None, false, false) => true,
            (Some(rest), true, false) => {
                self.fixed(&bytes[..n]) && s.get(n..).is_some_and(|tail| rest.is_match(tail))
            }
            (Some(rest), false, true) => {
                let cut = bytes.len() - n;
                self.fixed(&bytes[cut..]) && s.get(..cut).is_some_and(|head| rest.is_match(head))
            }
            // One character of the run's class anywhere (see `of`).
            (Some(rest), false, false) => rest.found_in(s),
            (Some(rest), true, true) => {
                // Both fixed parts end on character boundaries where they match (as
                // above), so the run is what lies between them.
                let Some(cut) = bytes
                    .len()
                    .checked_sub(n + self.suffix.len())
                    .map(|m| m + n)
                else {
                    return false;
                };
                self.fixed(&bytes[..n])
                    && atoms_match(&bytes[cut..], &self.suffix)
                    && s.get(n..cut).is_some_and(|middle| rest.is_match(middle))
            }
        }
    }
}

/// A pattern that is a single literal, perhaps anchored at either end.
#[derive(Debug)]
struct Literal {
    text: Box<str>,
    start: bool,
    end: bool,
}

impl Literal {
    /// `translated` (the `regex` crate's syntax) as a literal, if it is one. A
    /// repetition that may match nothing (`.*`) first or last, where no anchor
    /// holds it, changes no verdict of an unanchored search and is dropped:
    /// `.*module\.json` is the literal `module.json`, `^https://.*` the prefix.
    fn of(translated: &str) -> Option<Literal> {
        use regex_syntax::hir::{HirKind, Look};
        let hir = regex_syntax::Parser::new().parse(translated).ok()?;
        let parts = match hir.kind() {
            HirKind::Concat(parts) => parts.as_slice(),
            _ => std::slice::from_ref(&hir),
        };
        let (mut start, mut end, mut text) = (false, false, None);
        for (i, part) in parts.iter().enumerate() {
            match part.kind() {
                HirKind::Look(Look::Start) if i == 0 => start = true,
                HirKind::Look(Look::End) if i + 1 == parts.len() => end = true,
                HirKind::Repetition(rep) if rep.min == 0 && (i == 0 || i + 1 == parts.len()) => {}
                HirKind::Literal(lit) if text.is_none() => {
                    text = Some(std::str::from_utf8(&lit.0).ok()?.into());
                }
                _ => return None,
            }
        }
        Some(Literal {
            text: text?,
            start,
            end,
        })
    }

    fn is_match(&self, s: &str) -> bool {
        match (self.start, self.end) {
            (true, true) => s == &*self.text,
            (true, false) => s.starts_with(&*self.text),
            (false, true) => s.ends_with(&*self.text),
            (false, false) => s.contains(&*self.text),
        }
    }
}

impl Pattern {
    /// Compiles an ECMA-262 pattern with the default [`SIZE_LIMIT`].
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        Pattern::with_limit(source, SIZE_LIMIT)
    }

    /// Compiles an ECMA-262 pattern whose program may take at most `limit` bytes.
    pub fn with_limit(source: &str, limit: usize) -> Result<Pattern, PatternError> {
        let translated = translate(source).map_err(PatternError::Syntax)?;
        let literal = Literal::of(&translated);
        let whole = literal.is_none().then(|| Whole::of(&translated)).flatten();
        let sequence = (literal.is_none() && whole.is_none())
            .then(|| Sequence::of(&translated))
            .flatten();
        // Counted repetitions are bounded once the program is known to fit (see
        // `REPEAT_LIMIT`).
        let too_many_repeats = PatternError::TooManyRepeats {
            limit: REPEAT_LIMIT,
        };
        let engine = match RegexBuilder::new(&translated).size_limit(limit).build() {
            Ok(regex) => {
                if regex_syntax::Parser::new()
                    .parse(&translated)
                    .is_ok_and(|hir| !anchored(&hir) && repeated(&hir) > REPEAT_LIMIT)
                {
                    return Err(too_many_repeats);
                }
                Engine::Linear(regex)
            }
            Err(regex::Error::CompiledTooBig(limit)) => {
                return Err(PatternError::TooLarge { limit })
            }
            Err(linear_error) => {
                // Only what `regex` lacks goes to the backtracking engine; any
                // other refusal keeps the `regex` crate's reason.
                let refusal = || PatternError::Syntax(last_line(&linear_error.to_string()));
                if !needs_backtracking(source) {
                    return Err(refusal());
                }
                let fancy_source =
                    translate_with(source, Dialect::Backtracking).map_err(PatternError::Syntax)?;
                match Backtracker::build(&fancy_source, limit, BACKTRACK_LIMIT) {
                    Ok(full) => Engine::Backtracking(Box::new(Backtracker {
                        tiered: fancy_regex::Expr::parse_tree(&fancy_source)
                            .map_or(true, |tree| loops_over_far_looks(&tree.expr, false)),
                        source: fancy_source,
                        size_limit: limit,
                        full,
                        tiers: Default::default(),
                    })),
                    Err(fancy_regex::Error::CompileError(e))
                        if matches!(&*e, fancy_regex::CompileError::InnerError(inner)
                            if inner.size_limit().is_some()) =>
                    {
                        return Err(PatternError::TooLarge { limit })
                    }
                    Err(_) => return Err(refusal()),
                }
            }
        };
        Ok(Pattern {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            source: source.to_owned(),
            literal: literal.filter(|_| matches!(engine, Engine::Linear(_))),
            whole: whole.filter(|_| matches!(engine, Engine::Linear(_))),
            sequence: sequence.filter(|_| matches!(engine, Engine::Linear(_))),
            engine,
        })
    }

    /// Whether the pattern runs on the backtracking engine (look-around or
    /// back-references).
    pub fn is_backtracking(&self) -> bool {
        matches!(self.engine, Engine::Backtracking(_))
    }

    /// The pattern as written in the schema.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches anywhere in `s` (JSON Schema patterns are
    /// not anchored); `Err` when the backtracking engine ran out of its
    /// [`BACKTRACK_LIMIT`].
    pub fn find(&self, s: &str) -> Result<bool, WorkExceeded> {
        if let Some(literal) = &self.literal {
            return Ok(literal.is_match(s));
        }
        if let Some(whole) = &self.whole {
            return Ok(whole.is_match(s));
        }
        if let Some(sequence) = &self.sequence {
            return Ok(sequence.is_match(s));
        }
        match &self.engine {
            Engine::Linear(regex) => Ok(self.linear_match(regex, s)),
            Engine::Backtracking(_) if s.len() > BACKTRACK_INPUT_LIMIT => Err(WorkExceeded),
            Engine::Backtracking(backtracker) => backtracker.is_match(s),
        }
    }

    /// [`Self::find`] where a match that exceeded the work bound counts as no
    /// match (for `patternProperties` keys, whose checks report it separately).
    pub fn is_match(&self, s: &str) -> bool {
        self.find(s).unwrap_or(false)
    }

    fn linear_match(&self, regex: &Regex, s: &str) -> bool {
        CLONES
            .try_with(|clones| {
                let Ok(mut clones) = clones.try_borrow_mut() else {
                    return regex.is_match(s);
                };
                if let Some(re) = clones.get(&self.id) {
                    return re.is_match(s);
                }
                if clones.len() >= CLONES_PER_THREAD {
                    clones.clear();
                }
                let re = regex.clone();
                let matched = re.is_match(s);
                clones.insert(self.id, re);
                matched
            })
            .unwrap_or_else(|_| regex.is_match(s))
    }
}

/// Verdicts [`is_valid_syntax_memo`] keeps per thread (slots of a direct-mapped table).
const SYNTAX_MEMO_SLOTS: usize = 64;

/// The longest string (bytes) whose verdict is kept; a longer one is parsed each time.
const SYNTAX_MEMO_MAX_LEN: usize = 256;

/// One slot: the string's hash, the string, its verdict (`text` empty: unused).
struct MemoSlot {
    hash: u64,
    text: String,
    valid: bool,
}

thread_local! {
    /// At most [`SYNTAX_MEMO_SLOTS`] strings of at most [`SYNTAX_MEMO_MAX_LEN`]
    /// bytes per thread, whatever the input: a colliding string replaces the slot.
    static SYNTAX_MEMO: RefCell<Vec<MemoSlot>> = const { RefCell::new(Vec::new()) };
}

/// [`is_valid_syntax`] with a small per-thread memo: the `regex` format's
/// strings repeat across records (the same patterns in every manifest), and
/// parsing one costs about 10k instructions where a look-up costs a hash and a
/// comparison. Per thread, so no lock on the hot path; the verdict depends on
/// the string alone, so the memo is shared by every schema. Strings longer than
/// [`SYNTAX_MEMO_MAX_LEN`] bytes, and the empty string, are not kept.
pub fn is_valid_syntax_memo(source: &str) -> bool {
    if source.is_empty() || source.len() > SYNTAX_MEMO_MAX_LEN {
        return is_valid_syntax(source);
    }
    let hash = {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(source)
    };
    // The low bits pick the slot (the table's size is a power of two).
    #[allow(clippy::cast_possible_truncation)]
    let slot = (hash as usize) & (SYNTAX_MEMO_SLOTS - 1);
    SYNTAX_MEMO
        .try_with(|memo| {
            let Ok(mut memo) = memo.try_borrow_mut() else {
                return is_valid_syntax(source);
            };
            if memo.is_empty() {
                memo.extend((0..SYNTAX_MEMO_SLOTS).map(|_| MemoSlot {
                    hash: 0,
                    text: String::new(),
                    valid: false,
                }));
            }
            let entry = &mut memo[slot];
            if entry.hash == hash && entry.text == source {
                return entry.valid;
            }
            let valid = is_valid_syntax(source);
            entry.hash = hash;
            entry.text.clear();
            entry.text.push_str(source);
            entry.valid = valid;
            valid
        })
        .unwrap_or_else(|_| is_valid_syntax(source))
}

/// The strings the calling thread's memo holds and the bytes they take
/// (for the tests of its bound).
#[cfg(test)]
fn syntax_memo_held() -> (usize, usize) {
    SYNTAX_MEMO.with(|memo| {
        let memo = memo.borrow();
        let held = memo.iter().filter(|s| !s.text.is_empty());
        (held.clone().count(), held.map(|s| s.text.len()).sum())
    })
}

/// Whether `source` is an ECMA-262 regular expression we read (the `regex`
/// format): parsed, not compiled, so no size limit applies.
pub fn is_valid_syntax(source: &str) -> bool {
    let Ok(linear) = translate(source) else {
        return false;
    };
    if regex_syntax::Parser::new().parse(&linear).is_ok() {
        return true;
    }
    needs_backtracking(source)
        && translate_with(source, Dialect::Backtracking)
            .is_ok_and(|t| fancy_regex::Expr::parse_tree(&t).is_ok())
}

/// The last non-blank line of a `regex` error (the reason; the lines above
/// repeat the pattern and point into it).
fn last_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

/// The syntax a translation is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    /// The `regex` crate.
    Linear,
    /// `fancy-regex`: `regex` syntax plus look-around and back-references,
    /// but no inline switch of the Unicode flag.
    Backtracking,
}

/// `\b` in the backtracking dialect: an ASCII word boundary by look-around.
const WORD_BOUNDARY: &str =
    r"(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))";
/// `\B` in the backtracking dialect.
const NOT_WORD_BOUNDARY: &str =
    r"(?:(?<=[0-9A-Za-z_])(?=[0-9A-Za-z_])|(?<![0-9A-Za-z_])(?![0-9A-Za-z_]))";

/// Whether `source` uses what only the backtracking engine has: look-around
/// or a back-reference (`\1`..`\9`, `\k<name>`).
fn needs_backtracking(source: &str) -> bool {
    let b = source.as_bytes();
    b.windows(3).any(|w| matches!(w, b"(?=" | b"(?!" | b"\\k<"))
        || b.windows(4).any(|w| matches!(w, b"(?<=" | b"(?<!"))
        || b.windows(2)
            .any(|w| w[0] == b'\\' && matches!(w[1], b'1'..=b'9'))
}

/// How many times `x{min,max}` writes `x` out as counted: `max` times, or
/// `min` for `x{min,}` (the loop after them, like `x*` and `x+`, adds no
/// positions that can be active at once); at least once.
fn copies(min: usize, max: Option<usize>) -> usize {
    max.unwrap_or(min).max(1)
}

/// The positions of `hir` with its counted repetitions written out: one per
/// literal byte and per class, `x{m,n}` counts `x` n times.
fn unrolled(hir: &regex_syntax::hir::Hir) -> usize {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(lit) => lit.0.len(),
        HirKind::Class(_) => 1,
        HirKind::Repetition(rep) => {
            copies(rep.min as usize, rep.max.map(|m| m as usize)).saturating_mul(unrolled(&rep.sub))
        }
        HirKind::Capture(capture) => unrolled(&capture.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts
            .iter()
            .fold(0, |sum, part| sum.saturating_add(unrolled(part))),
    }
}

/// The positions counted repetitions of `hir` write out (`x{m,n}` with `n` of
/// 2 or more: `n` times [`unrolled`] of `x`); text written in the pattern
/// itself does not count, it costs the schema its own length.
fn repeated(hir: &regex_syntax::hir::Hir) -> usize {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Repetition(rep) => match copies(rep.min as usize, rep.max.map(|m| m as usize)) {
            0 | 1 => repeated(&rep.sub),
            n => n.saturating_mul(unrolled(&rep.sub)),
        },
        HirKind::Capture(capture) => repeated(&capture.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts
            .iter()
            .fold(0, |sum, part| sum.saturating_add(repeated(part))),
        _ => 0,
    }
}

/// Whether a match of `hir` starts or ends at an end of the string (`^`, `$`):
/// the `regex` crate then runs it anchored, one position set at a time, and
/// counted repetitions cost nothing more (`^[0-9]{1,1000}$` at 1 GB/s, where
/// `a{1,8000}b` ran at 0.01 MB/s).
fn anchored(hir: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::Look;
    let props = hir.properties();
    props.look_set_prefix().contains(Look::Start) || props.look_set_suffix().contains(Look::End)
}

/// The most characters `expr` can match (or a look-around in it scan),
/// `usize::MAX` for no bound.
fn widest(expr: &fancy_regex::Expr) -> usize {
    use fancy_regex::Expr;
    match expr {
        Expr::Literal { val, .. } => val.chars().count(),
        Expr::LiteralBytes { bytes } => bytes.len(),
        Expr::Any { .. } | Expr::Delegate { .. } | Expr::GeneralNewline { .. } => 1,
        Expr::Backref { .. } | Expr::BackrefWithRelativeRecursionLevel { .. } => usize::MAX,
        Expr::Repeat { child, hi, .. } => hi.saturating_mul(widest(child)),
        Expr::Alt(_) | Expr::Conditional { .. } => {
            expr.children_iter().map(widest).max().unwrap_or(0)
        }
        _ => expr
            .children_iter()
            .fold(0, |sum, child| sum.saturating_add(widest(child))),
    }
}

/// Whether a repetition in `expr` holds a look-around that can scan far (over
/// 64 characters) or a back-reference: each of its steps may then read the rest
/// of the string (`(?:a(?!(?:a|aa)*b))+c`), so its work is steps times length,
/// and the steps shrink with the length ([`BACKTRACK_WORK_LIMIT`]).
fn loops_over_far_looks(expr: &fancy_regex::Expr, in_loop: bool) -> bool {
    use fancy_regex::Expr;
    match expr {
        Expr::LookAround(body, _) if in_loop && widest(body) > 64 => true,
        Expr::Backref { .. } | Expr::BackrefWithRelativeRecursionLevel { .. } => in_loop,
        Expr::Repeat { child, hi, .. } => loops_over_far_looks(child, in_loop || *hi > 1),
        _ => expr
            .children_iter()
            .any(|child| loops_over_far_looks(child, in_loop)),
    }
}

/// Rewrites an ECMA-262 pattern into the `regex` crate's syntax with the same
/// meaning (see the module documentation); `Err` holds the reason it is refused.
pub fn translate(source: &str) -> Result<String, String> {
    translate_with(source, Dialect::Linear)
}

/// A group open at the point [`translate_with`] has read to.
struct OpenGroup {
    /// Where its `(` is in the output.
    start: usize,
    kind: GroupKind,
    /// Capture groups opened before it.
    captures_before: usize,
    /// Whether all it holds so far matches only the empty string (look-arounds,
    /// `^`, `$`, `\b`, empty groups).
    empty: bool,
}

#[derive(PartialEq, Eq)]
enum GroupKind {
    /// A capture group: its number, and its name if it has one.
    Capture(usize, Option<String>),
    NonCapture,
    LookAhead,
    LookBehind,
}

/// An atom just read that matches only the empty string, for a quantifier after it.
struct EmptyAtom {
    /// Where it starts in the output.
    start: usize,
    /// Capture groups opened before it.
    captures_before: usize,
    look_behind: bool,
}

fn translate_with(source: &str, dialect: Dialect) -> Result<String, String> {
    let mut out = String::with_capacity(source.len() + 16);
    let mut chars = source.chars().peekable();
    // Whether the last token is a quantifier.
    let mut quantified = false;
    let mut groups: Vec<OpenGroup> = Vec::new();
    let mut captures = 0usize;
    let mut last_empty: Option<EmptyAtom> = None;
    while let Some(c) = chars.next() {
        let is_quantifier = match c {
            '*' | '+' | '?' => true,
            '{' => starts_quantifier(chars.clone()),
            _ => false,
        };
        if is_quantifier {
            if quantified {
                return Err("error: a quantifier cannot follow a quantifier".to_owned());
            }
            quantified = true;
            let mut quantifier = String::from(c);
            if c == '{' {
                for q in chars.by_ref() {
                    quantifier.push(q);
                    if q == '}' {
                        break;
                    }
                }
            }
            let lazy = chars.next_if_eq(&'?').is_some();
            match last_empty.take() {
                Some(atom) if dialect == Dialect::Backtracking => {
                    quantify_empty(&mut out, &atom, &quantifier, captures)?;
                }
                _ => {
                    out.push_str(&quantifier);
                    if lazy {
                        out.push('?');
                    }
                }
            }
            continue;
        }
        quantified = false;
        last_empty = None;
        // Whether the token matches only the empty string (an assertion).
        let mut empty = false;
        match c {
            '(' => {
                let start = out.len();
                let kind = if chars.next_if_eq(&'?').is_some() {
                    let mut ahead = chars.clone();
                    let group = match (ahead.next(), ahead.next()) {
                        (Some(':' | '=' | '!'), _) | (Some('<'), Some('=' | '!')) => true,
                        (Some('<'), Some(n)) => n.is_alphabetic() || n == '_' || n == '$',
                        _ => false,
                    };
                    if chars.peek() == Some(&'>') {
                        return Err("error: atomic groups `(?>` are not ECMA-262".to_owned());
                    }
                    if !group {
                        return Err(
                            "error: `(?` must start `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`"
                                .to_owned(),
                        );
                    }
                    out.push_str("(?");
                    match chars.next() {
                        Some(':') => {
                            out.push(':');
                            GroupKind::NonCapture
                        }
                        Some(d @ ('=' | '!')) => {
                            out.push(d);
                            GroupKind::LookAhead
                        }
                        _ => {
                            out.push('<');
                            if let Some(d) = chars.next_if(|&d| d == '=' || d == '!') {
                                out.push(d);
                                GroupKind::LookBehind
                            } else {
                                // `(?<name>`; a name with no `>` is left to the engine's parser.
                                let mut name = String::new();
                                for n in chars.by_ref() {
                                    out.push(n);
                                    if n == '>' {
                                        break;
                                    }
                                    name.push(n);
                                }
                                captures += 1;
                                GroupKind::Capture(captures, Some(name))
                            }
                        }
                    }
                } else {
                    out.push('(');
                    captures += 1;
                    GroupKind::Capture(captures, None)
                };
                let captures_before =
                    captures - usize::from(matches!(kind, GroupKind::Capture(..)));
                groups.push(OpenGroup {
                    start,
                    kind,
                    captures_before,
                    empty: true,
                });
                continue;
            }
            ')' => {
                out.push(')');
                if let Some(group) = groups.pop() {
                    let look_behind = group.kind == GroupKind::LookBehind;
                    if look_behind || group.kind == GroupKind::LookAhead || group.empty {
                        last_empty = Some(EmptyAtom {
                            start: group.start,
                            captures_before: group.captures_before,
                            look_behind,
                        });
                        continue;
                    }
                }
            }
            '|' | '^' | '$' => {
                out.push(c);
                empty = true;
            }
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err("error: the pattern ends with a lone `\\`".to_owned());
                };
                let start = out.len();
                match back_reference(e, &mut chars, &groups, dialect, &mut out) {
                    Some(true) => {
                        // Inside the group it names: always empty.
                        last_empty = Some(EmptyAtom {
                            start,
                            captures_before: captures,
                            look_behind: false,
                        });
                        continue;
                    }
                    Some(false) => {}
                    None => {
                        escape(e, &mut chars, false, dialect, &mut out)?;
                        empty = matches!(e, 'b' | 'B');
                    }
                }
            }
            '[' => {
                let negated = chars.next_if_eq(&'^').is_some();
                if chars.next_if_eq(&']').is_some() {
                    // `[]` matches nothing, `[^]` any character.
                    out.push_str(if negated { r"[\s\S]" } else { r"[a&&b]" });
                } else {
                    out.push_str(if negated { "[^" } else { "[" });
                    class_ranges(&mut chars, dialect, &mut out)?;
                }
            }
            '.' => out.push_str(DOT),
            '{' => out.push_str(r"\{"),
            _ => out.push(c),
        }
        if !empty {
            if let Some(group) = groups.last_mut() {
                group.empty = false;
            }
        }
    }
    Ok(out)
}

/// Writes a quantifier (`*`, `{2,}`...) on `atom`, which matches only the empty
/// string, in the backtracking dialect (`fancy-regex` refuses to repeat a
/// look-around or an empty group). ECMA-262 (RepeatMatcher) fails an iteration
/// that matches the empty string once the minimum is met, so the atom with a
/// minimum of 0 matches as if it were not there (its capture groups undefined),
/// and with a minimum of 1 or more as the atom once. A look-ahead may be
/// quantified itself (`(?=a)*`, Annex B); a look-behind cannot be.
fn quantify_empty(
    out: &mut String,
    atom: &EmptyAtom,
    quantifier: &str,
    captures: usize,
) -> Result<(), String> {
    if let Err(e) = regex_syntax::Parser::new().parse(&format!("a{quantifier}")) {
        return Err(last_line(&e.to_string()));
    }
    if atom.look_behind {
        return Err("error: a look-behind cannot be quantified".to_owned());
    }
    let at_least_once = match quantifier.as_bytes() {
        [b'+'] => true,
        [b'{', rest @ ..] => rest
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .any(|&b| b != b'0'),
        _ => false,
    };
    if !at_least_once {
        if captures == atom.captures_before {
            out.truncate(atom.start);
        } else {
            // Its groups stay, never set: a branch that cannot be taken.
            out.insert_str(atom.start, "(?:|(?!)");
            out.push(')');
        }
    }
    Ok(())
}

/// Writes the back-reference `\N` or `\k<name>` that starts with `e` (the
/// backslash already read) and answers whether it is inside the group it names
/// (then it is written as an empty group); `None`, writing nothing, for another escape.
///
/// ECMA-262 (BackreferenceMatcher): a back-reference to a group that has not
/// matched (not yet, on a branch not taken, or around it) matches the empty
/// string, where `fancy-regex` (as PCRE) fails; so in the backtracking dialect
/// `\N` is `(?(N)\N|)`, a match of the group if it has one, else nothing. Inside
/// the group it names the group has not matched yet (a repetition around it
/// resets it at each iteration): always empty.
fn back_reference(
    e: char,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    groups: &[OpenGroup],
    dialect: Dialect,
    out: &mut String,
) -> Option<bool> {
    let (target, inside) = match e {
        '1'..='9' => {
            let mut number = String::from(e);
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                number.push(d);
            }
            let inside = number.parse::<usize>().is_ok_and(|n| {
                groups
                    .iter()
                    .any(|g| matches!(g.kind, GroupKind::Capture(m, _) if m == n))
            });
            (number, inside)
        }
        'k' if chars.peek() == Some(&'<') => {
            let mut ahead = chars.clone();
            ahead.next();
            let mut name = String::new();
            loop {
                match ahead.next()? {
                    '>' => break,
                    n => name.push(n),
                }
            }
            *chars = ahead;
            let inside = groups
                .iter()
                .any(|g| matches!(&g.kind, GroupKind::Capture(_, Some(named)) if *named == name));
            (format!("<{name}>"), inside)
        }
        _ => return None,
    };
    let reference = if target.starts_with('<') {
        format!(r"\k{target}")
    } else {
        format!(r"\{target}")
    };
    if inside {
        out.push_str("(?:)");
    } else if dialect == Dialect::Backtracking {
        let _ = write!(out, "(?:(?({target}){reference}|))");
    } else {
        out.push_str(&reference);
    }
    Some(inside)
}

/// One ClassAtom of a character class, as the `regex` crate writes it in a class.
enum ClassAtom {
    /// One character (`a`, `\-`, `\x{41}`): it may start or end a range.
    Char(String),
    /// A class escape (`\d`, `\W`, `\p{L}`): a set of characters.
    Set(String),
}

impl ClassAtom {
    fn text(&self) -> &str {
        match self {
            ClassAtom::Char(text) | ClassAtom::Set(text) => text,
        }
    }
}

/// Reads the next ClassAtom of a class; `None` at the `]` that closes it (read).
fn class_atom(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    dialect: Dialect,
) -> Result<Option<ClassAtom>, String> {
    let Some(c) = chars.next() else {
        return Err("error: unclosed character class".to_owned());
    };
    Ok(Some(match c {
        ']' => return Ok(None),
        '\\' => {
            let Some(e) = chars.next() else {
                return Err("error: the pattern ends with a lone `\\`".to_owned());
            };
            let mut text = String::new();
            escape(e, chars, true, dialect, &mut text)?;
            if matches!(e, 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'p' | 'P') {
                ClassAtom::Set(text)
            } else {
                ClassAtom::Char(text)
            }
        }
        // Literal in ECMA-262, a range, a nested class or a set operation
        // (`&&`, `--`, `~~`) in `regex`.
        '[' | '-' | '&' | '~' => ClassAtom::Char(format!("\\{c}")),
        c => ClassAtom::Char(c.to_string()),
    }))
}

/// Writes the ClassRanges of a class, its `[` (or `[^`) already read and
/// written, up to and including its `]`.
///
/// `A-B` is a range of characters. Where `A` or `B` is a class escape
/// (`[\w-.]`, `[%-\d]`) the `-` is a literal: the class holds `A`, `-` and `B`
/// (ECMA-262 Annex B, CharacterRangeOrUnion, which browsers follow without the
/// `u` flag; with it the pattern is an error). A `-` first, last, or just after
/// a range is a literal too, or starts a range itself (`[--0]`).
fn class_ranges(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    dialect: Dialect,
    out: &mut String,
) -> Result<(), String> {
    while let Some(a) = class_atom(chars, dialect)? {
        let mut ahead = chars.clone();
        if ahead.next() == Some('-') && !matches!(ahead.next(), Some(']') | None) {
            chars.next();
            let Some(b) = class_atom(chars, dialect)? else {
                return Err("error: unclosed character class".to_owned());
            };
            out.push_str(a.text());
            out.push_str(match (&a, &b) {
                (ClassAtom::Char(_), ClassAtom::Char(_)) => "-",
                _ => r"\-",
            });
            out.push_str(b.text());
        } else {
            out.push_str(a.text());
        }
    }
    out.push(']');
    Ok(())
}

/// Whether the text after a `{` is a quantifier body: `n}`, `n,}` or `n,m}`.
fn starts_quantifier(mut rest: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut comma = false;
    for c in rest.by_ref() {
        match c {
            '0'..='9' => digits += 1,
            ',' if digits > 0 && !comma => comma = true,
            '}' => return digits > 0,
            _ => return false,
        }
    }
    false
}

/// Writes the translation of the escape `\e` (the backslash already read).
fn escape(
    e: char,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    in_class: bool,
    dialect: Dialect,
    out: &mut String,
) -> Result<(), String> {
    let class = |body: &str, negated: bool, out: &mut String| match (in_class, negated) {
        (true, false) => out.push_str(body),
        (false, false) => {
            let _ = write!(out, "[{body}]");
        }
        (_, true) => {
            let _ = write!(out, "[^{body}]");
        }
    };
    match e {
        'd' => class(DIGIT, false, out),
        'D' => class(DIGIT, true, out),
        'w' => class(WORD, false, out),
        'W' => class(WORD, true, out),
        's' => class(SPACE, false, out),
        'S' => class(SPACE, true, out),
        'b' if in_class => out.push_str(r"\x08"),
        'b' if dialect == Dialect::Backtracking => out.push_str(WORD_BOUNDARY),
        'B' if !in_class && dialect == Dialect::Backtracking => out.push_str(NOT_WORD_BOUNDARY),
        'b' => out.push_str(r"(?-u:\b)"),
        'B' if !in_class => out.push_str(r"(?-u:\B)"),
        'c' => match chars.peek().copied() {
            Some(l) if l.is_ascii_alphabetic() => {
                chars.next();
                let _ = write!(out, r"\x{:02X}", u32::from(l) % 32);
            }
            _ => return Err("error: `\\c` must be followed by a letter".to_owned()),
        },
        '0' if !chars.peek().is_some_and(char::is_ascii_digit) => out.push_str(r"\x00"),
        'u' if chars.peek() != Some(&'{') => {
            let unit = hex4(chars).ok_or("error: `\\u` must be followed by four hex digits")?;
            let code = if (0xD800..0xDC00).contains(&unit) {
                // A surrogate pair written as two escapes is one code point.
                let mut ahead = chars.clone();
                let low = (ahead.next() == Some('\\') && ahead.next() == Some('u'))
                    .then(|| hex4(&mut ahead))
                    .flatten()
                    .filter(|low| (0xDC00..0xE000).contains(low));
                match low {
                    Some(low) => {
                        *chars = ahead;
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    None => return Err("error: `\\u` escapes a lone surrogate".to_owned()),
                }
            } else {
                unit
            };
            if (0xDC00..0xE000).contains(&code) {
                return Err("error: `\\u` escapes a lone surrogate".to_owned());
            }
            let _ = write!(out, r"\x{{{code:X}}}");
        }
        // `\u{...}`, `\p{...}`, `\P{...}` read alike in both dialects, braces included.
        'u' | 'p' | 'P' => {
            out.push('\\');
            out.push(e);
            if chars.peek() == Some(&'{') {
                for c in chars.by_ref() {
                    out.push(c);
                    if c == '}' {
                        break;
                    }
                }
            }
        }
        'x' => {
            let mut ahead = chars.clone();
            match (ahead.next(), ahead.next()) {
                (Some(hi), Some(lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                    *chars = ahead;
                    let _ = write!(out, r"\x{hi}{lo}");
                }
                _ => return Err("error: `\\x` must be followed by two hex digits".to_owned()),
            }
        }
        // Escapes both dialects read alike; `\1`..`\9` and `\k<name>` are
        // back-references, which `regex` refuses and `fancy-regex` takes.
        't' | 'n' | 'v' | 'f' | 'r' | '1'..='9' | '0' | 'k' => {
            out.push('\\');
            out.push(e);
        }
        e if e.is_ascii_alphanumeric() => {
            return Err(format!("error: unrecognized escape sequence `\\{e}`"));
        }
        // An escaped punctuation character is that character.
        e if e.is_ascii() => {
            out.push('\\');
            out.push(e);
        }
        e => out.push_str(&regex::escape(e.encode_utf8(&mut [0; 4]))),
    }
    Ok(())
}

/// Four hex digits as a number, consumed from `chars` only if all four are there.
fn hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<u32> {
    let mut ahead = chars.clone();
    let mut value = 0;
    for _ in 0..4 {
        value = value * 16 + ahead.next()?.to_digit(16)?;
    }
    *chars = ahead;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_memo_gives_the_parsed_verdict_and_stays_bounded() {
        let cases = [
            (r"^[A-Z]{2}-\d{3}$", true),
            (r"(?<=a)b", true),
            (r"(a)\1", true),
            (r"^(?!x)", true),
            ("[", false),
            ("a{2,1}", false),
            (r"\a", false),
            ("(?>a)", false),
            ("a++", false),
            ("", true),
        ];
        // Twice: the second round answers from the memo.
        for _ in 0..2 {
            for (source, valid) in cases {
                assert_eq!(is_valid_syntax(source), valid, "{source}");
                assert_eq!(is_valid_syntax_memo(source), valid, "{source}");
            }
        }
        // Many distinct strings, beyond the capacity, twice over: the same
        // verdicts, and the memo holds at most its slots and its length bound.
        let many: Vec<String> = (0..1000)
            .map(|i| {
                if i % 3 == 0 {
                    format!("[{i}")
                } else {
                    format!("^a{{{i}}}b$")
                }
            })
            .collect();
        for _ in 0..2 {
            for source in &many {
                assert_eq!(is_valid_syntax_memo(source), !source.starts_with('['));
            }
        }
        let (held, bytes) = syntax_memo_held();
        assert!(held > 0 && held <= SYNTAX_MEMO_SLOTS, "{held}");
        assert!(bytes <= SYNTAX_MEMO_SLOTS * SYNTAX_MEMO_MAX_LEN, "{bytes}");
        // A long string is parsed each time, not kept.
        let long_valid = "a".repeat(SYNTAX_MEMO_MAX_LEN + 1);
        let long_invalid = format!("{long_valid}(");
        for _ in 0..2 {
            assert!(is_valid_syntax_memo(&long_valid));
            assert!(!is_valid_syntax_memo(&long_invalid));
        }
        assert_eq!(syntax_memo_held().1, bytes);
        // A string and another that shares its slot: each keeps its own verdict.
        let mut colliding = Vec::new();
        let slot_of = |s: &str| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            #[allow(clippy::cast_possible_truncation)]
            let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(s) as usize;
            h & (SYNTAX_MEMO_SLOTS - 1)
        };
        let first = slot_of("[0");
        for i in 0..10_000 {
            let s = format!("x{i}");
            if slot_of(&s) == first {
                colliding.push(s);
                break;
            }
        }
        for _ in 0..3 {
            assert!(!is_valid_syntax_memo("[0"));
            for s in &colliding {
                assert!(is_valid_syntax_memo(s));
            }
        }
    }

    #[test]
    fn matches_on_many_threads() {
        let p = std::sync::Arc::new(Pattern::new(r"^[A-Z]{2}-\d{3}$").unwrap());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let p = std::sync::Arc::clone(&p);
                std::thread::spawn(move || {
                    (0..1000).all(|i| {
                        p.is_match(&format!("AB-{:03}", i % 1000)) && !p.is_match("ab-123")
                    })
                })
            })
            .collect();
        assert!(handles.into_iter().all(|h| h.join().unwrap()));
    }

    #[test]
    fn more_patterns_than_clones_kept_stay_right_and_bounded() {
        // Used in turn, more patterns than a thread keeps clones of: each answers right
        // every time, and the thread never holds more than the bound.
        let patterns: Vec<Pattern> = (0..CLONES_PER_THREAD + 100)
            .map(|i| Pattern::new(&format!("^(a|b)*{i}[0-9]+$")).unwrap())
            .collect();
        for round in 0..3 {
            for (i, p) in patterns.iter().enumerate() {
                assert!(p.is_match(&format!("ab{i}7")), "round {round}, pattern {i}");
                assert!(
                    !p.is_match(&format!("ab{i}x")),
                    "round {round}, pattern {i}"
                );
            }
            let held = CLONES.with(|c| c.borrow().len());
            assert!(held <= CLONES_PER_THREAD, "{held} clones held");
        }
    }

    #[test]
    fn ids_never_collide() {
        let a = Pattern::new("a").unwrap();
        let b = Pattern::new("b").unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.is_match("xa") && !a.is_match("b"));
        drop(a);
        let c = Pattern::new("c").unwrap();
        assert!(c.is_match("c") && !c.is_match("a"));
    }

    fn matches(pattern: &str, s: &str) -> bool {
        Pattern::new(pattern).unwrap().is_match(s)
    }

    fn refusal(pattern: &str) -> PatternError {
        Pattern::new(pattern).unwrap_err()
    }

    #[test]
    fn class_escapes_are_ascii() {
        assert!(matches(r"^\d$", "0") && !matches(r"^\d$", "\u{07C0}"));
        assert!(!matches(r"^\D$", "0") && matches(r"^\D$", "\u{07C0}"));
        assert!(matches(r"^\w$", "_") && !matches(r"^\w$", "é"));
        assert!(!matches(r"^\W$", "a") && matches(r"^\W$", "é"));
        assert!(matches(r"^[\w-]+$", "a-b_9") && !matches(r"^[\w-]+$", "aé"));
        assert!(matches(r"^[^\d]+$", "ab") && !matches(r"^[^\d]+$", "a1"));
        assert!(matches(r"^[\D]$", "\u{09EA}") && !matches(r"^[a\D]$", "5"));
        assert!(matches(r"\wcole", "l'ecole") && !matches(r"\wcole", "l'écOLE"));
        assert!(matches(r"\p{Letter}cole", "l'école"));
        assert!(matches(r"^\p{digit}+$", "\u{09EA}\u{09E8}") && !matches(r"^\d+$", "\u{09EA}"));
    }

    #[test]
    fn whitespace_is_ecma_262() {
        for s in [
            " ", "\t", "\u{B}", "\u{C}", "\u{A0}", "\u{FEFF}", "\n", "\u{2029}", "\u{2003}",
        ] {
            assert!(matches(r"^\s$", s), "{s:?}");
            assert!(!matches(r"^\S$", s), "{s:?}");
            assert!(!matches(r"^[^\s]$", s), "{s:?}");
        }
        for s in ["\u{1}", "\u{2013}", "\u{85}", "a"] {
            assert!(!matches(r"^\s$", s), "{s:?}");
            assert!(matches(r"^\S$", s), "{s:?}");
        }
    }

    #[test]
    fn word_boundary_is_ascii() {
        assert!(matches(r"\bcat\b", "a cat.") && !matches(r"\bcat\b", "concat"));
        // `é` is not a word character, so there is a boundary between it and `c`.
        assert!(matches(r"\bcat", "écat") && !matches(r"\Bcat", "écat"));
        assert!(matches(r"^a[\b]$", "a\u{8}"));
    }

    #[test]
    fn dot_stops_at_line_terminators() {
        for s in ["\n", "\r", "\u{2028}", "\u{2029}"] {
            assert!(!matches("^.$", s), "{s:?}");
        }
        assert!(matches("^.$", "\u{85}") && matches("^.$", "é") && matches("^.$", "😀"));
        assert!(matches("^[.]$", ".") && !matches("^[.]$", "a"));
        assert!(matches("^[^]$", "\n") && !matches("a[]", "a"));
    }

    #[test]
    fn ecma_262_escapes_and_literals() {
        assert!(
            matches(r"^\cC$", "\u{3}") && matches(r"^\cc$", "\u{3}") && !matches(r"^\cC$", "cC")
        );
        assert!(matches(r"^\0$", "\0") && matches(r"^\t$", "\t") && !matches(r"^\t$", "\\t"));
        assert!(matches(r"^\u00e9\x41$", "éA") && matches(r"^\u{1F600}$", "😀"));
        assert!(matches(r"^\uD83D\uDE00$", "😀"));
        assert!(matches(r"^\/\-\@$", "/-@"));
        assert!(matches(r"^a{$", "a{") && matches(r"^{a}$", "{a}") && matches(r"^a{,2}$", "a{,2}"));
        assert!(matches(r"^a{2}$", "aa") && !matches(r"^a{2}$", "a{2}"));
        assert!(
            matches(r"^[[&~]+$", "[&~")
                && matches(r"^[+--]+$", "+,-")
                && !matches(r"^[+--]+$", "a")
        );
        assert!(matches("^abc$", "abc") && !matches("^abc$", "abc\n"));
    }

    #[test]
    fn refusals_name_the_reason() {
        let syntax = |s: &str| PatternError::Syntax(s.to_owned());
        assert_eq!(
            refusal(r"\a"),
            syntax("error: unrecognized escape sequence `\\a`")
        );
        assert_eq!(
            refusal(r"\Aa\z"),
            syntax("error: unrecognized escape sequence `\\A`")
        );
        assert_eq!(
            refusal(r"\c1"),
            syntax("error: `\\c` must be followed by a letter")
        );
        assert_eq!(
            refusal(r"\x4"),
            syntax("error: `\\x` must be followed by two hex digits")
        );
        assert_eq!(
            refusal(r"\uD83D"),
            syntax("error: `\\u` escapes a lone surrogate")
        );
        assert_eq!(
            refusal(r"\u12"),
            syntax("error: `\\u` must be followed by four hex digits")
        );
        assert_eq!(
            refusal("a++"),
            syntax("error: a quantifier cannot follow a quantifier")
        );
        assert_eq!(
            refusal("(?=x)a{2}+"),
            syntax("error: a quantifier cannot follow a quantifier")
        );
        assert_eq!(
            refusal("a+??"),
            syntax("error: a quantifier cannot follow a quantifier")
        );
        assert_eq!(
            refusal("(?i)a"),
            syntax("error: `(?` must start `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`")
        );
        assert_eq!(
            refusal("(?P<n>a)"),
            syntax("error: `(?` must start `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`")
        );
        assert_eq!(
            refusal("(?>a)"),
            syntax("error: atomic groups `(?>` are not ECMA-262")
        );
        // A look-ahead that the backtracking engine cannot read either keeps
        // the `regex` crate's reason.
        assert_eq!(
            refusal("(?=a"),
            syntax("error: look-around, including look-ahead and look-behind, is not supported")
        );
        assert_eq!(
            refusal(r"(a)\2"),
            syntax("error: backreferences are not supported")
        );
        assert_eq!(
            refusal("a\\"),
            syntax("error: the pattern ends with a lone `\\`")
        );
        assert_eq!(refusal("[a"), syntax("error: unclosed character class"));
        assert_eq!(refusal("("), syntax("error: unclosed group"));
    }

    #[test]
    fn look_around_and_back_references_backtrack() {
        let p = Pattern::new(r"^(?=.*\d)[a-z\d]+$").unwrap();
        assert!(p.is_backtracking());
        assert_eq!(p.find("abc1"), Ok(true));
        assert_eq!(p.find("abc"), Ok(false));
        assert!(!Pattern::new(r"^[a-z]+$").unwrap().is_backtracking());
        assert!(matches(r"^(?!foo)\w+$", "bar") && !matches(r"^(?!foo)\w+$", "food"));
        assert!(matches(r"(?<=\$)\d+", "$12") && !matches(r"(?<=\$)\d+", "€12"));
        assert!(matches(r"(?<!-)\b\d", "a 1") && !matches(r"(?<!-)\b\d", "-1"));
        assert!(matches(r"^(a|b)\1$", "aa") && !matches(r"^(a|b)\1$", "ab"));
        assert!(
            matches(r"^(?<q>['\x22]).*\k<q>$", "'x'")
                && !matches(r"^(?<q>['\x22]).*\k<q>$", "'x\x22")
        );
        // ECMA-262 meanings survive the backtracking dialect.
        // `é` is not an ECMA-262 word character: `x` stands between boundaries.
        assert!(matches(r"(?=x)\bx\b", "a x") && matches(r"(?=x)\bx\b", "éxé"));
        assert!(!matches(r"(?=c)\bcat\b", "concat") && matches(r"(?=c)\Bcat", "concat"));
        assert!(!matches(r"(?=.)^\d$", "\u{07C0}") && !matches(r"(?=.)^.$", "\n"));
        assert!(matches(r"(?=.)^\s$", "\u{FEFF}"));
    }

    /// `source` matches each of `yes` and none of `no`.
    fn assert_matches(source: &str, yes: &[&str], no: &[&str]) {
        let pattern = Pattern::new(source).unwrap();
        for s in yes {
            assert_eq!(pattern.find(s), Ok(true), "{source} on {s:?}");
        }
        for s in no {
            assert_eq!(pattern.find(s), Ok(false), "{source} on {s:?}");
        }
    }

    #[test]
    fn back_references_to_unset_groups_match_empty() {
        // ECMA-262 BackreferenceMatcher: a group that has not matched (on a branch
        // not taken, not yet, or inside itself) is the empty string.
        assert_matches(r"^(a)?\1b$", &["b", "aab"], &["ab", "aaab"]);
        assert_matches(r"^(?:(a)|b)\1$", &["b", "aa"], &["ab", "ba", "bb"]);
        assert_matches(r"^\1(a)$", &["a"], &["aa", ""]);
        assert_matches(r"\1(a)", &["a", "xa"], &["b"]);
        assert_matches(r"^(a\1)$", &["a"], &["aa", ""]);
        assert_matches(r"^(a\1)+$", &["a", "aa"], &["", "ab"]);
        assert_matches(r"^((a)|b\2)\1$", &["aa", "bb"], &["ab", "ba"]);
        assert_matches(r"^(a)?\1{2}b$", &["b", "aaab"], &["ab", "aab"]);
        // Named: the same, and a name that matched still has to match again.
        assert_matches(r"^(?<n>a)?\k<n>b$", &["b", "aab"], &["ab"]);
        assert_matches(r"^(?<n>a\k<n>)$", &["a"], &["aa"]);
        assert_matches(r"^(?<q>['\x22]).*\k<q>$", &["'x'"], &["'x\x22", "x"]);
        // Numbered references to named groups, and references past 9.
        assert_matches(r"^(?<n>a)?\1b$", &["b", "aab"], &["ab"]);
        assert_matches(
            r"^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)?\10x$",
            &["abcdefghijjx", "abcdefghix"],
            &["abcdefghijx"],
        );
        // The backtracking dialect writes each as a conditional; inside its own
        // group a reference is empty, in both dialects.
        assert_eq!(
            translate_with(r"(a)\1\k<n>(?<n>b)", Dialect::Backtracking).unwrap(),
            r"(a)(?:(?(1)\1|))(?:(?(<n>)\k<n>|))(?<n>b)"
        );
        assert_eq!(translate(r"(a\1)").unwrap(), "(a(?:))");
        assert!(!Pattern::new(r"^(a\1)$").unwrap().is_backtracking());
        // A reference to a group that does not exist stays an error.
        assert!(Pattern::new(r"(a)\2").is_err() && Pattern::new(r"(a)\k<n>").is_err());
    }

    #[test]
    fn class_escapes_next_to_a_dash_are_sets() {
        // ECMA-262 Annex B (CharacterRangeOrUnion): where one end of `A-B` is a
        // class escape, the class holds `A`, `-` and `B` (`[\w-.]`); `regex` read
        // `[%-\d]` as the range `%-0` and refused `[\w-.]`.
        for (class, yes, no) in [
            (r"[%-\d]", "%-0189", "./a"),
            (r"[\w-z]", "aZ_9-z", ".%"),
            (r"[\w-.]", "a_9-.", "%/ "),
            (r"[\s-z]", " \t\u{FEFF}-z", "ay"),
            (r"[a-\d]", "a-05", "b%"),
            (r"[\D-a]", "a-b%é", "05"),
            (r"[\d-\w]", "0a_-", ".%"),
            (r"[^\d-a]", "b%", "0-a"),
            // After a range with a class escape, a `-` starts over: `-` and `c`.
            (r"[\d-a-c]", "0a-c", "b"),
            (r"[\p{Lu}-\d]", "A-0", "a."),
            // Unchanged: a dash first or last, ranges of characters.
            (r"[\w-]", "a_-", ".%"),
            (r"[-\w]", "a_-", ".%"),
            (r"[a-z\d-]", "az09-", "A."),
            (r"[+--]", "+,-", "a."),
            (r"[--0]", "-./0", "a,"),
            (r"[a-]", "a-", "b"),
        ] {
            let yes: Vec<String> = yes.chars().map(String::from).collect();
            let no: Vec<String> = no.chars().map(String::from).collect();
            let yes: Vec<&str> = yes.iter().map(String::as_str).collect();
            let no: Vec<&str> = no.iter().map(String::as_str).collect();
            // Both engines.
            assert_matches(&format!("^{class}$"), &yes, &no);
            assert_matches(&format!("(?=.)^{class}$"), &yes, &no);
        }
        assert!(Pattern::new(r"[z-a]").is_err() && Pattern::new(r"(?=a)[z-a]").is_err());
    }

    #[test]
    fn quantified_empty_groups_compile() {
        // ECMA-262 (RepeatMatcher) fails an iteration that matches the empty
        // string once the minimum is met: with a minimum of 0 the group is as if
        // absent, with more it is the group once. `fancy-regex` refuses to repeat
        // a look-around or an empty group; they are written so.
        assert_matches(r"^(?:(?=a))?a", &["a", "ab"], &["b", ""]);
        assert_matches(r"(?:)+(?=b)", &["b", "ab"], &["a", ""]);
        assert_matches(r"^(?:(?=a))+.", &["a"], &["b"]);
        assert_matches(r"^(?:(?=a)){2,3}.", &["a"], &["b"]);
        assert_matches(r"^(?:(?=a))*b", &["b"], &["a"]);
        assert_matches(r"^(?:(?=a))*?b", &["b"], &["a"]);
        assert_matches(r"^(?:(?=a)(?!b)|\b)?c", &["c"], &["ac"]);
        assert_matches(r"(?=a)(?:)*a(?:){0}", &["xa"], &["x"]);
        // A group in it stays, unset: the back-reference matches empty.
        assert_matches(r"^(?:(?=(a)))?\1b$", &["b"], &["ab", "aab"]);
        assert_matches(r"^(?:(?=(a)))+\1$", &["a"], &["", "b"]);
        // Annex B: a look-ahead may be quantified itself.
        assert_matches(r"^(?=a)*b", &["b"], &["a"]);
        assert_matches(r"^(?!a)+.", &["b"], &["a"]);
        assert!(is_valid_syntax(r"^(?:(?=a))?a") && is_valid_syntax("(?:)+(?=b)"));
        let syntax = |s: &str| PatternError::Syntax(s.to_owned());
        assert_eq!(
            refusal(r"(?<=a)?b"),
            syntax("error: a look-behind cannot be quantified")
        );
        assert_eq!(
            refusal(r"(?:(?=a)){3,2}"),
            syntax("error: invalid repetition count range, the start must be <= the end")
        );
        assert_eq!(
            refusal(r"(?:(?=a))*+"),
            syntax("error: a quantifier cannot follow a quantifier")
        );
        assert_eq!(
            translate_with(r"(?:(?=a))?(?:(?=(b)))*?(?=c)+", Dialect::Backtracking).unwrap(),
            r"(?:|(?!)(?:(?=(b))))(?=c)"
        );
    }

    #[test]
    fn backtracking_work_is_bounded() {
        // Catastrophic backtracking: nested quantifiers behind a look-ahead.
        let p = Pattern::new(r"^(a|aa)+(?!a)$").unwrap();
        assert!(p.is_backtracking());
        assert_eq!(p.find(&"a".repeat(20)), Ok(true));
        let hostile = format!("{}!", "a".repeat(64));
        let started = std::time::Instant::now();
        assert_eq!(p.find(&hostile), Err(WorkExceeded));
        // Deterministic: the same answer every time.
        assert_eq!(p.find(&hostile), Err(WorkExceeded));
        assert!(!p.is_match(&hostile));
        println!("two bounded matches took {:?}", started.elapsed());
        // Quadratic without backtracking: a look-ahead scanning the rest of the
        // string at every start position. Over the length cap, no matching.
        let p = Pattern::new(r"(?=a*b)a").unwrap();
        let at_cap = "a".repeat(BACKTRACK_INPUT_LIMIT);
        assert_eq!(p.find(&at_cap), Ok(false));
        assert_eq!(p.find(&(at_cap.clone() + "b")), Err(WorkExceeded));
        assert_eq!(p.find(&"a".repeat(1 << 20)), Err(WorkExceeded));
        assert_eq!(p.find("aab"), Ok(true));
    }

    #[test]
    fn backtracking_work_is_bounded_by_steps_times_length() {
        // A look-ahead at every step scans the rest of the string: with the step
        // bound alone, 4,000 bytes took seconds and 8 KiB 8 s. Past 128 bytes
        // the steps shrink with the length.
        let p = Pattern::new(r"(?:a(?!(?:a|aa)*b))+c").unwrap();
        assert_eq!(p.find("aac"), Ok(true));
        assert_eq!(p.find(&"a".repeat(100)), Ok(false));
        let started = std::time::Instant::now();
        assert_eq!(p.find(&"a".repeat(4000)), Err(WorkExceeded));
        assert_eq!(
            p.find(&"a".repeat(BACKTRACK_INPUT_LIMIT)),
            Err(WorkExceeded)
        );
        println!("two bounded matches took {:?}", started.elapsed());
        // Real look-around still answers up to the length cap: look-arounds that
        // read one character (`\b`, about four steps a byte), a far one not in a
        // loop, one held by `^`.
        let p = Pattern::new(r"(?<!-)\b\d").unwrap();
        assert_eq!(p.find(&"a ".repeat(BACKTRACK_INPUT_LIMIT / 2)), Ok(false));
        assert_eq!(p.find(&format!("{}1", "a ".repeat(4000))), Ok(true));
        let p = Pattern::new(r"^(?!.*\bnative\b)[a-z ]+$").unwrap();
        assert_eq!(p.find(&"a ".repeat(BACKTRACK_INPUT_LIMIT / 2)), Ok(true));
        let p = Pattern::new(r"^(?=.*\d)[a-z\d]+$").unwrap();
        let long = format!("{}1", "a".repeat(BACKTRACK_INPUT_LIMIT - 1));
        assert_eq!(p.find(&long), Ok(true));
        // The bound per length.
        assert_eq!(Backtracker::steps_for(0), (BACKTRACK_LIMIT, None));
        assert_eq!(Backtracker::steps_for(128), (BACKTRACK_LIMIT, None));
        assert_eq!(Backtracker::steps_for(129), (1 << 19, Some(0)));
        assert_eq!(
            Backtracker::steps_for(BACKTRACK_INPUT_LIMIT),
            (1 << 14, Some(BACKTRACK_TIERS - 1))
        );
    }

    #[test]
    fn counted_repetitions_are_bounded() {
        // Small programs whose lazy DFA outgrows its cache: the `regex` crate then
        // steps through every position at each byte (0.01 MB/s).
        for source in [
            "a{1,8000}b",
            r"\w{1000,5000}x",
            "[a-z]{1,3000}[0-9]",
            "(?:a{1,30}){1,30}b",
            "(?:ab){300}",
        ] {
            assert_eq!(
                refusal(source),
                PatternError::TooManyRepeats {
                    limit: REPEAT_LIMIT
                },
                "{source}"
            );
        }
        // The most the SchemaStore catalog needs, and the bound itself, compile;
        // text written out in the pattern does not count.
        assert!(Pattern::new(r#"^[^\s@"]{1,64}@[^\s@]{1,255}$"#).is_ok());
        assert!(Pattern::new(&format!("a{{{REPEAT_LIMIT}}}")).is_ok());
        assert!(Pattern::new(&format!("(?=a)a{{{REPEAT_LIMIT}}}")).is_ok());
        // Anchored, they cost nothing more (one position set at a time), and the
        // backtracking engine bounds its own.
        for source in [
            "^[0-9]{1,1000}$",
            "[0-9]{1,1000}$",
            "^a{1,8000}b",
            "(?=x)a{1,8000}b",
        ] {
            assert!(Pattern::new(source).is_ok(), "{source}");
        }
        let words = (0..1000)
            .map(|i| format!("w{i}x"))
            .collect::<Vec<_>>()
            .join("|");
        assert!(Pattern::new(&format!("^({words})+$")).is_ok());
    }

    #[test]
    fn regex_syntax_is_ecma_262() {
        assert!(is_valid_syntax(r"^(?=a)(?<n>b)\k<n>$") && is_valid_syntax("([abc])+\\s+$"));
        assert!(!is_valid_syntax("^(abc]") && !is_valid_syntax("(?P<name>x)"));
        // Deep nesting is refused, not a stack overflow, in both engines' parsers.
        let deep = format!("(?=a){}a{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(!is_valid_syntax(&deep));
        assert!(Pattern::new(&deep).is_err());
        assert!(!is_valid_syntax(&"(".repeat(100_000)));
    }

    #[test]
    fn size_is_capped() {
        // Issue 8: with Unicode `\w` this program took megabytes and matched
        // at 0.1 MB/s; with ECMA-262's ASCII `\w` it is a fraction of the cap.
        assert!(Pattern::with_limit(r"(?:\w\W?){1,100}x", SIZE_LIMIT / 4).is_ok());
        assert_eq!(
            refusal(r"(?:\p{L}\P{L}?){1,100}x"),
            PatternError::TooLarge { limit: SIZE_LIMIT }
        );
        assert_eq!(
            refusal(r"\w{1,100000}"),
            PatternError::TooLarge { limit: SIZE_LIMIT }
        );
        // The largest pattern of the SchemaStore catalog fits.
        assert!(Pattern::new(r#"^[^\s@"]{1,64}@[^\s@]{1,255}$"#).is_ok());
    }

    #[test]
    fn issue_8_reproducer_matches_a_long_string() {
        let p = Pattern::new(r"(?:\w\W?){1,100}x").unwrap();
        let s = "a".repeat(1 << 20);
        assert!(!p.is_match(&s));
        assert!(p.is_match(&(s + "x")));
    }

    #[test]
    fn reports_the_source() {
        assert_eq!(Pattern::new(r"^\d.$").unwrap().as_str(), r"^\d.$");
        assert_eq!(
            translate(r"^\d.$").unwrap(),
            r"^[0-9][^\n\r\x{2028}\x{2029}]$"
        );
    }

    /// A pattern matched as a whole string (a run of one ASCII class, or one of
    /// a few strings) answers as the regex engine does.
    #[test]
    fn whole_string_patterns_match_as_the_engine_does() {
        let patterns = [
            "^([A-Z]|[0-9]|_)+$",
            "^[a-z]*$",
            "^[a-z0-9-]{2,4}$",
            "^\\d{3}$",
            "^[abc]$",
            "^(?:[a-f]){1,}$",
            "^(Alpine Model|Catapult Model|OpenOCD)$",
            "^(a|ab|)$",
            "^[^x]+$",
            "^[A-Z]+$",
            "^(a|[bc])$",
            "^(ab|[bc])$",
            "^([Pp][Rr][Ee][Ss][Ee][Nn][Tt]|[Aa][Bb][Ss][Ee][Nn][Tt])$",
            "^(?:[aA]\\d{2}|x[yY]é)$",
        ];
        let strings = [
            "",
            "A",
            "AB_9",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "a-b",
            "123",
            "1234",
            "12",
            "a",
            "b",
            "x",
            "é",
            "Aé",
            "ÉA",
            "Alpine Model",
            "Alpine Modelx",
            "OpenOCD",
            "openocd",
            "ab\n",
            "\nab",
            "AB\n",
            "fa",
            "A\u{212A}",
            "\u{212A}",
            "present",
            "PreSent",
            "absent\n",
            "ABSENT",
            "absen",
            "yEs",
            "yes!",
            "a12",
            "A1",
            "xYé",
            "xyé\n",
            "XYé",
        ];
        for source in patterns {
            let pattern = Pattern::new(source).unwrap();
            let Engine::Linear(regex) = &pattern.engine else {
                panic!("{source}: not linear");
            };
            let expect_whole = source != "^[^x]+$";
            assert_eq!(pattern.whole.is_some(), expect_whole, "{source}");
            for s in strings {
                assert_eq!(pattern.find(s), Ok(regex.is_match(s)), "{source} on {s:?}");
            }
        }
        for source in [
            "^[a-z]+",
            "[a-z]+$",
            "^[a-z]+x$",
            "^(ab|[bc]+)$",
            "^[a-zé]+$",
            "^é+$",
        ] {
            assert!(Pattern::new(source).unwrap().whole.is_none(), "{source}");
        }
    }

    /// A sequence of single characters held by an anchor (with a run at its
    /// free end) answers as the regex engine does.
    #[test]
    fn sequence_patterns_match_as_the_engine_does() {
        let patterns = [
            "^[aA][nN][dD]$",
            "^[cC][aA][nN][oO][eE]_.*$",
            "^.*\\.[vV][mM][oO][dD][uU][lL][eE]$",
            "^[a-zA-Z_][a-zA-Z0-9_]*$",
            "^[a-zA-Z][a-zA-Z0-9_]{0,3}$",
            "^[0-9]{4}-[0-9]{2}$",
            "^\\d{3}",
            "[0-9]x$",
            "^v[0-9]",
            "^é[a-z]$",
            "^[a-z]é$",
            "^x.+$",
            "^.+x$",
            "^[A-Z].*$",
            "^(?:[a-z])[0-9]$",
            "^(a)[b-c]{2}$",
            "[ab]*[0-9]x$",
            "^[a-z][0-9]*",
            "^[^a][b]$",
            "^[a-z]+x$",
            "^.+$",
            "^.*$",
            "^[^/]{2,3}$",
            "^\\S+$",
            "^[a-z0-9][a-z0-9+\\-\\.]+$",
            ".*",
            "[a-z]*",
            "^(.*)$",
            "^([Yy][Ee][Ss])$",
            "^(?:[^/]+)$",
            // A run between fixed parts; optional parts a run already takes.
            "^[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]?$",
            "^[a-z][a-z0-9-]*[a-z0-9]$",
            "^a.*x$",
            "^a.*é$",
            "^é[^a]{1,2}x9$",
            "^[a-z]?[a-z9]+$",
            "^[a-x9]*[a9]{0,2}$",
            "^[a_]*[a9]?$",
            "^.*\\S?$",
            "^x[a-z]*[0-9]*$",
            // Runs of every character but a few (see `Few`).
            "^[^é]*$",
            "^[^\\n\\u2028x]{1,3}$",
            "^[^\\nx.]+\\.[a-z]$",
            "^[^\\u2029\\u2028é\\u212A]{2,}$",
            // One character of a class anywhere.
            "\\S",
            ".",
            "[a-z]+",
            "[^a-z]",
            "[é-ê]{1,}",
            "(?:[a9])",
        ];
        let strings = [
            "",
            "and",
            "AnD",
            "anD\n",
            "\nand",
            "andx",
            "an",
            "canoe_",
            "CANOE_x",
            "canoe_\n",
            "canoe_x\ny",
            "canoe",
            "a.vmodule",
            "x.VMODULE",
            ".vmodule",
            "\n.vmodule",
            "a\u{2028}.vmodule",
            "a\rb.vmodule",
            "é.vmodule",
            "a.vmodule\n",
            "_a9",
            "a",
            "9a",
            "a-b",
            "abcd",
            "abcde",
            "a_b_",
            "2024-12",
            "2024-1x",
            "123",
            "12",
            "1234x",
            "ax",
            "9x",
            "x9x",
            "v1",
            "V1",
            "éa",
            "ée",
            "aé",
            "a\u{e9}\u{301}",
            "x",
            "xy",
            "x\u{2029}",
            "x\u{2028}y",
            "yx",
            "\nx",
            "A",
            "Ab\n",
            "a1",
            "abc",
            "abb",
            "ab9x",
            "b9x",
            "z9",
            "\u{212A}",
            "K",
            "bb",
            "éb",
        ];
        for source in patterns {
            let pattern = Pattern::new(source).unwrap();
            let Engine::Linear(regex) = &pattern.engine else {
                panic!("{source}: not linear");
            };
            assert!(
                pattern.literal.is_none() && pattern.whole.is_none(),
                "{source}"
            );
            // `[a9]` is not within `[a_]`, nor `[0-9]*` optional after an unbounded run
            // of another class: two runs, for the engine.
            let expect_sequence =
                !matches!(source, "^[^a][b]$" | "^[a_]*[a9]?$" | "^x[a-z]*[0-9]*$");
            assert_eq!(pattern.sequence.is_some(), expect_sequence, "{source}");
            for s in strings {
                assert_eq!(pattern.find(s), Ok(regex.is_match(s)), "{source} on {s:?}");
                // Long enough for `Few` to look through them (FEW_FROM_BYTES).
                for long in [
                    format!("{}{s}", "a".repeat(40)),
                    format!("{s}{}", "é😀".repeat(8)),
                ] {
                    assert_eq!(
                        pattern.find(&long),
                        Ok(regex.is_match(&long)),
                        "{source} on {long:?}"
                    );
                }
            }
            // And every string of up to 4 characters over an alphabet that
            // takes each class and literal of the patterns, in and out.
            let alphabet = ['a', 'N', '_', '9', '.', '-', '\n', 'é', 'x', '\u{2028}'];
            every_short_string(alphabet, |s| {
                assert_eq!(pattern.find(s), Ok(regex.is_match(s)), "{source} on {s:?}");
            });
        }
        for source in ["[a-z][0-9]", "^.*a.*$", "^a*b*$", "^(a|bc)d$", "^abc.+"] {
            assert!(Pattern::new(source).unwrap().sequence.is_none(), "{source}");
        }
        // Which runs are "every character but a few".
        for (source, few) in [
            (
                "^.*\\.x$",
                Some((vec![b'\n', b'\r'], vec!['\u{2028}', '\u{2029}'])),
            ),
            ("^[^/]{2,3}$", Some((vec![b'/'], vec![]))),
            ("^[^é]*$", Some((vec![], vec!['é']))),
            ("^[^abcd]*$", None),
            ("^\\S+$", None),
            ("^[a-z_][a-z0-9_]*$", None),
        ] {
            let pattern = Pattern::new(source).unwrap();
            let run = pattern
                .sequence
                .as_ref()
                .and_then(|q| q.rest.as_ref())
                .unwrap();
            let got = run
                .few
                .as_ref()
                .map(|f| (f.ascii.to_vec(), f.wide.to_vec()));
            assert_eq!(got, few, "{source}");
        }
    }

    /// Calls `f` with every string of up to 4 characters of `alphabet`.
    fn every_short_string(alphabet: [char; 10], mut f: impl FnMut(&str)) {
        let mut s = String::new();
        for code in 0..(1 + 10 + 100 + 1000 + 10_000) {
            s.clear();
            let (mut k, mut len) = (code, 0);
            while k >= 10usize.pow(len) {
                k -= 10usize.pow(len);
                len += 1;
            }
            for _ in 0..len {
                s.push(alphabet[k % 10]);
                k /= 10;
            }
            f(&s);
        }
    }

    /// Alternatives inside a pattern held by both anchors, spelled out as words,
    /// answer as the regex engine does (every string of up to 4 characters of an
    /// alphabet that takes each of their classes and literals, in and out).
    #[test]
    fn spelled_words_match_as_the_engine_does() {
        for source in [
            "^(?:#|&a)[0-9a]$",
            "^(?:[01]\\d|2[0-3]):[0-2]$",
            "^x(a|1)(2|)$",
            "^(x[aA]1|x[aA]2|x#)$",
            "^é(a1|#)$",
            "^(a|)(1|)(2|)$",
            "^(a|bc)d$",
            "^(?:#|(&#x23;))[0-9a-fA-F]{2}$",
        ] {
            let pattern = Pattern::new(source).unwrap();
            let Engine::Linear(regex) = &pattern.engine else {
                panic!("{source}: not linear");
            };
            assert!(
                matches!(pattern.whole, Some(Whole::Words(_))),
                "{source}: {:?}",
                pattern.whole
            );
            let alphabet = ['#', '&', 'a', '1', '2', '0', ':', 'x', 'é', '\n'];
            every_short_string(alphabet, |s| {
                assert_eq!(pattern.find(s), Ok(regex.is_match(s)), "{source} on {s:?}");
            });
            for s in [
                "&#x23;0a",
                "#0a",
                "&#x23;0",
                "&#x23;0ag",
                "23:1",
                "24:1",
                "01:2\n",
            ] {
                assert_eq!(pattern.find(s), Ok(regex.is_match(s)), "{source} on {s:?}");
            }
        }
        // Runs, or more words than are compared: the engine.
        let many = format!(
            "^({})$",
            (0..65)
                .map(|i| format!("w{i}"))
                .collect::<Vec<_>>()
                .join("|")
        );
        for source in [
            "^(a|1)+$",
            "^(a|b+)x$",
            "^(ab|cd)(ab|cd)(ab|cd)(ab|cd)(ab|cd)(ab|cd)(ab|cd)$",
            &many,
        ] {
            let pattern = Pattern::new(source).unwrap();
            assert!(!matches!(pattern.whole, Some(Whole::Words(_))), "{source}");
        }
    }

    /// A literal pattern, anchored or not, answers as the regex engine does.
    #[test]
    fn literal_patterns_match_as_the_engine_does() {
        let patterns = [
            "_str$",
            "^https://",
            "^abc$",
            "abc",
            "^é",
            "ü$",
            "a\\.b",
            "^\\$x",
            "\\^a",
            ".*module\\.json",
            ".*\\.json$",
            "^https:\\/\\/.*",
            ".*abc.*",
            "[xy]*abc",
            "abc(?:x)*?",
        ];
        let strings = [
            "",
            "abc",
            "xabc",
            "abcx",
            "x_str",
            "_str",
            "_strx",
            "https://a",
            "é",
            "aü",
            "a.b",
            "axb",
            "$x",
            "^a",
            "\n_str",
            "_str\n",
            "module.json",
            "a/module.json",
            "a\nmodule.json",
            "module.jsonx\n",
            "x.json",
            "x.json\n",
            "\n.json",
            "https://x",
            "\nhttps://x",
            "xy\nabc\n",
        ];
        for source in patterns {
            let pattern = Pattern::new(source).unwrap();
            assert!(pattern.literal.is_some(), "{source} is a literal");
            let Engine::Linear(regex) = &pattern.engine else {
                panic!("{source}: not linear");
            };
            for s in strings {
                assert_eq!(pattern.find(s), Ok(regex.is_match(s)), "{source} on {s:?}");
            }
        }
        for source in [
            "^https?://",
            "a|b",
            "(ab)",
            "a*",
            "^$",
            "[ab]",
            "\\d$",
            // A repetition held by an anchor, or needing a character, decides.
            "^.*abc",
            "abc.*$",
            ".+abc",
            "abc.+",
            ".*",
            "a.*b",
        ] {
            assert!(Pattern::new(source).unwrap().literal.is_none(), "{source}");
        }
    }
}
