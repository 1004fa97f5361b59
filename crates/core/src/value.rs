//! The two representations a record can have, behind one trait.
//!
//! Checks are written once against [`Record`]. The core implements it for
//! [`Json`] (parsed JSON, or a dict taken apart for the thread pool); the
//! bindings (`crates/python`) implement it for live Python objects so that the
//! single-threaded path reads records without copying them.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicPtr, Ordering as AtomicOrdering};
use std::sync::Arc;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{FromPrimitive, One, Signed, ToPrimitive, Zero};

use crate::text::same_text;

/// Nesting deeper than this is reported as a `depth` error, never recursed into.
pub const MAX_DEPTH: usize = 128;

/// The JSON type of a value, plus `Unsupported` for values JSON cannot hold
/// (a Python `set`, a custom object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
    Unsupported,
}

/// Integers with more decimal digits than this are kept as [`Decimal`] text:
/// converting decimal text to binary costs time quadratic in its length.
pub const BIG_DIGITS: usize = 1024;

/// Numbers printed longer than this are shortened in messages.
const SHOWN_CHARS: usize = 64;

/// A JSON number, kept exact: integers beyond 64 bits stay integers.
#[derive(Clone, Debug)]
pub enum Number {
    Int(i64),
    Big(Box<BigInt>),
    Float(f64),
    /// A number read from JSON text that is an integer of more than
    /// [`BIG_DIGITS`] digits, or beyond the range of f64 (`1e-400`,
    /// `1e2000`): kept as exact decimal text, compared without conversion.
    Decimal(Arc<Decimal>),
    /// A number read from JSON text whose written exponent is beyond
    /// ±[`MAX_EXPONENT`] (`1e1152921504606846977`): its value is not kept (a
    /// clamped exponent made two such numbers equal), so no check reads it: a
    /// `json` error wherever one would, as NaN is. Holds its text, for messages
    /// (a `String` behind the `Arc`: one pointer, so `Number` stays 16 bytes).
    OutOfRange(Arc<String>),
}

/// The largest written exponent (`1e1152921504606846976`, or `e-` it) whose
/// number is kept exact: digit counts and the exponent then add up without
/// overflow in an `i64`.
pub const MAX_EXPONENT: i64 = 1 << 60;

/// `±digits × 10^exp`, exact: `digits` are ASCII digits without leading or
/// trailing zeros (never empty: zero is never a `Decimal`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub neg: bool,
    pub digits: Box<[u8]>,
    pub exp: i64,
}

/// A decimal view used for comparisons: `digits` may be empty (zero).
struct DecView<'d> {
    neg: bool,
    digits: Cow<'d, [u8]>,
    exp: i64,
}

impl DecView<'_> {
    /// Normalised from any digit string (leading and trailing zeros dropped).
    fn new(neg: bool, digits: &[u8], mut exp: i64) -> DecView<'static> {
        let start = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        let mut end = digits.len();
        while end > start && digits[end - 1] == b'0' {
            end -= 1;
            exp = exp.saturating_add(1);
        }
        let digits = &digits[start..end];
        DecView {
            neg: neg && !digits.is_empty(),
            digits: Cow::Owned(digits.to_vec()),
            exp: if digits.is_empty() { 0 } else { exp },
        }
    }

    /// The value lies in `[10^(mag-1), 10^mag)`.
    fn mag(&self) -> i64 {
        (self.digits.len() as i64).saturating_add(self.exp)
    }

    fn cmp_abs(&self, other: &DecView<'_>) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Same magnitude: digits aligned at the front; with no trailing
        // zeros, a longer string that shares the prefix is the larger value.
        self.mag()
            .cmp(&other.mag())
            .then_with(|| self.digits.as_ref().cmp(other.digits.as_ref()))
    }

    fn cmp(&self, other: &DecView<'_>) -> Ordering {
        let sign = |d: &DecView<'_>| match (d.digits.is_empty(), d.neg) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.neg => other.cmp_abs(self),
            Ordering::Equal => self.cmp_abs(other),
            unequal => unequal,
        }
    }
}

impl Decimal {
    fn view(&self) -> DecView<'_> {
        DecView {
            neg: self.neg,
            digits: Cow::Borrowed(&self.digits),
            exp: self.exp,
        }
    }

    pub fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// Reads JSON number text exactly: `None` for text that is not a number,
    /// [`Number::OutOfRange`] for one whose exponent is beyond [`MAX_EXPONENT`].
    fn from_text(text: &str) -> Option<Number> {
        let b = text.as_bytes();
        let (neg, b) = match b.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, b),
        };
        let mant_end = b
            .iter()
            .position(|&c| c == b'e' || c == b'E')
            .unwrap_or(b.len());
        let (mant, exp_text) = (&b[..mant_end], b.get(mant_end + 1..).unwrap_or(&[]));
        let (int_part, frac_part) = match mant.iter().position(|&c| c == b'.') {
            Some(dot) => (&mant[..dot], &mant[dot + 1..]),
            None => (mant, &[][..]),
        };
        let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        if !all_digits(int_part) {
            return None;
        }
        if mant.len() > int_part.len() && !all_digits(frac_part) {
            return None;
        }
        let mut exp: i64 = 0;
        if mant_end < b.len() {
            let (exp_neg, e) = match exp_text.split_first() {
                Some((b'-', rest)) => (true, rest),
                Some((b'+', rest)) => (false, rest),
                _ => (false, exp_text),
            };
            if !all_digits(e) {
                return None;
            }
            // Saturates: any value past the bound is beyond it.
            for &c in e {
                exp = exp.saturating_mul(10).saturating_add(i64::from(c - b'0'));
            }
            if exp > MAX_EXPONENT {
                return Some(Number::OutOfRange(Arc::new(text.to_owned())));
            }
            if exp_neg {
                exp = -exp;
            }
        }
        let mut digits = Vec::with_capacity(int_part.len() + frac_part.len());
        digits.extend_from_slice(int_part);
        digits.extend_from_slice(frac_part);
        Some(DecView::new(neg, &digits, exp - frac_part.len() as i64).into_number())
    }

    /// The value as a `BigInt`; `None` unless it is an integer. Quadratic in
    /// the number of digits: only for short values or a schema's own literal.
    fn to_bigint(&self) -> Option<BigInt> {
        if self.exp < 0 {
            return None;
        }
        let digits = BigInt::parse_bytes(&self.digits, 10)?;
        let value = digits * BigInt::from(10u8).pow(u32::try_from(self.exp).ok()?);
        Some(if self.neg { -value } else { value })
    }
}

impl DecView<'_> {
    fn into_number(self) -> Number {
        if self.digits.is_empty() {
            return Number::Int(0);
        }
        let exp = self.exp;
        if exp >= 0 && self.mag() <= BIG_DIGITS as i64 {
            let d = Decimal {
                neg: self.neg,
                digits: self.digits.into_owned().into_boxed_slice(),
                exp,
            };
            if let Some(b) = d.to_bigint() {
                return Number::from_bigint(b);
            }
            return Number::Decimal(Arc::new(d));
        }
        Number::Decimal(Arc::new(Decimal {
            neg: self.neg,
            digits: self.digits.into_owned().into_boxed_slice(),
            exp,
        }))
    }
}

impl Number {
    /// JSON Schema's "integer": any number with a zero fractional part (`1.0` included).
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) | Number::Big(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
            Number::Decimal(d) => d.is_integer(),
            // Not read: see `is_finite`.
            Number::OutOfRange(_) => false,
        }
    }

    /// Whether the checks may read its value: not NaN, an infinity or a number
    /// out of range (the checks report those as `json` errors).
    pub fn is_finite(&self) -> bool {
        match self {
            Number::Float(f) => f.is_finite(),
            Number::OutOfRange(_) => false,
            _ => true,
        }
    }

    /// Parses JSON number text exactly, in time linear in its length:
    /// integers of up to [`BIG_DIGITS`] digits as integers, longer ones as
    /// [`Decimal`]; other numbers as f64, or as [`Decimal`] where f64 cannot
    /// hold them (`1e400` is an integer, `1e-400` is not zero).
    pub fn parse(text: &str) -> Option<Number> {
        let is_float = text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
        if !is_float {
            if let Ok(i) = text.parse::<i64>() {
                return Some(Number::Int(i));
            }
            if text.trim_start_matches('-').len() <= BIG_DIGITS {
                return text.parse::<BigInt>().ok().map(Number::from_bigint);
            }
            return Decimal::from_text(text);
        }
        // Rust's float parsing is linear in the length of the text.
        let f = text.parse::<f64>().ok()?;
        let mantissa_is_zero = || {
            text.bytes()
                .take_while(|&b| b != b'e' && b != b'E')
                .all(|b| matches!(b, b'0' | b'.' | b'-' | b'+'))
        };
        if f.is_finite() && (f != 0.0 || mantissa_is_zero()) {
            return Some(Number::Float(f));
        }
        Decimal::from_text(text)
    }

    pub fn from_bigint(b: BigInt) -> Number {
        match b.to_i64() {
            Some(i) => Number::Int(i),
            None => Number::Big(Box::new(b)),
        }
    }

    /// Exact comparison across representations; NaN compares as `None`.
    /// A [`Decimal`] is compared digit by digit, most often decided by its
    /// number of digits alone.
    pub fn compare(&self, other: &Number) -> Option<Ordering> {
        match (self, other) {
            (Number::OutOfRange(_), _) | (_, Number::OutOfRange(_)) => None,
            (Number::Decimal(a), b) => decimal_cmp(a, b),
            (a, Number::Decimal(b)) => decimal_cmp(b, a).map(Ordering::reverse),
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(b)),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(b),
            (Number::Big(a), Number::Big(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (Number::Int(a), Number::Big(b)) => Some(BigInt::from(*a).cmp(b)),
            (Number::Big(a), Number::Int(b)) => Some(a.as_ref().cmp(&BigInt::from(*b))),
            (Number::Float(f), int) => int_cmp_float(int, *f).map(Ordering::reverse),
            (int, Number::Float(f)) => int_cmp_float(int, *f),
        }
    }

    /// Numeric equality as JSON Schema defines it (`1 == 1.0`).
    pub fn equals(&self, other: &Number) -> bool {
        self.compare(other) == Some(Ordering::Equal)
    }

    /// Feeds `h` the number's value, not its representation, in time linear
    /// in its size: equal numbers (`1`, `1.0`, `1e0`, a big integer and the
    /// float of the same value) feed the same bytes. Integers feed their sign
    /// and minimal little-endian magnitude. A [`Decimal`] feeds its digits: it
    /// never equals an `Int`, `Float` or `Big` read from the same input (its
    /// integers have more than [`BIG_DIGITS`] digits, its other values are
    /// beyond f64), so the arrays that `uniqueItems` hashes never mix them.
    pub fn hash_value<H: Hasher>(&self, h: &mut H) {
        fn integer<H: Hasher>(h: &mut H, neg: bool, magnitude: &[u8]) {
            let end = magnitude.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            (0u8, neg && end > 0).hash(h);
            h.write(&magnitude[..end]);
        }
        match self {
            Number::Int(i) => integer(h, *i < 0, &i.unsigned_abs().to_le_bytes()),
            Number::Float(f) if f.is_finite() && f.fract() == 0.0 => {
                if f.abs() < 9.2e18 {
                    let i = *f as i64;
                    integer(h, i < 0, &i.unsigned_abs().to_le_bytes());
                } else if let Some(b) = BigInt::from_f64(*f) {
                    integer(h, b.sign() == Sign::Minus, &b.magnitude().to_bytes_le());
                }
            }
            Number::Float(f) => (1u8, f.to_bits()).hash(h),
            Number::Big(b) => integer(h, b.sign() == Sign::Minus, &b.magnitude().to_bytes_le()),
            Number::Decimal(d) => (2u8, d).hash(h),
            Number::OutOfRange(text) => (3u8, text).hash(h),
        }
    }

    pub fn to_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Big(b) => b.to_f64().unwrap_or(f64::NAN),
            Number::Float(f) => *f,
            Number::OutOfRange(_) => f64::NAN,
            Number::Decimal(d) => {
                let sign = if d.neg { -1.0 } else { 1.0 };
                let mag = d.view().mag();
                if mag > 400 {
                    sign * f64::INFINITY
                } else if mag < -400 {
                    sign * 0.0
                } else {
                    let digits =
                        std::str::from_utf8(&d.digits[..d.digits.len().min(40)]).unwrap_or("0");
                    let exp = d.exp + (d.digits.len() - digits.len()) as i64;
                    format!("{digits}e{exp}")
                        .parse::<f64>()
                        .map_or(f64::NAN, |f| sign * f)
                }
            }
        }
    }

    /// Whether `self` is a multiple of `divisor` (> 0). Floats are compared as
    /// the decimals they print as, so `0.0075` is a multiple of `0.0001`. A check
    /// that asks again takes the divisor apart once ([`Divisor`]).
    pub fn is_multiple_of(&self, divisor: &Number) -> bool {
        Divisor::new(divisor.clone()).is_some_and(|d| d.divides(self))
    }

    /// `(|mantissa|, exponent)` with `|self| == |mantissa| × 10^exponent`; a float that
    /// is not an integer as the shortest decimal that round-trips (`0.07`, a multiple of
    /// `0.01`, as written), an integral float as the integer it is exactly (the shortest
    /// decimal of `2.0**60` is `1152921504606847000`, no multiple of 16); `None` for NaN,
    /// the infinities and numbers out of range. A [`Decimal`]'s digits are converted
    /// by [`parse_digits`], in time near-linear in their number.
    fn decimal_parts(&self) -> Option<(Cow<'_, BigUint>, i64)> {
        match self {
            Number::OutOfRange(_) => None,
            Number::Int(i) => Some((Cow::Owned(BigUint::from(i.unsigned_abs())), 0)),
            Number::Big(b) => Some((Cow::Borrowed(b.magnitude()), 0)),
            Number::Decimal(d) => Some((Cow::Owned(parse_digits(&d.digits)), d.exp)),
            Number::Float(f) => {
                if !f.is_finite() {
                    return None;
                }
                if f.fract() == 0.0 {
                    let i = BigInt::from_f64(*f)?;
                    return Some((Cow::Owned(i.magnitude().clone()), 0));
                }
                let (digits, exp) = shortest_decimal(f.abs())?;
                Some((Cow::Owned(digits), exp))
            }
        }
    }
}

/// `x` as Rust writes it (`{x}`; with an exponent, `{x:e}`, where Python's repr has one: `1e30`
/// was written as 31 digits, which said it is the integer 10**30, and it is not), but with the
/// digits [`shortest_decimal`] takes at a tie, Python's: a message said `got
/// 771884502854283.3` of the float Python prints `771884502854283.2`.
fn write_float(f: &mut std::fmt::Formatter<'_>, x: f64) -> std::fmt::Result {
    let exponent = x.is_finite() && x != 0.0 && !(1e-4..1e16).contains(&x.abs());
    let tie = (x.is_finite() && x.fract() != 0.0)
        .then(|| shortest_decimal(x.abs()))
        .flatten()
        .filter(|(digits, k)| format!("{:e}", x.abs()) != scientific(&digits.to_string(), *k));
    let Some((digits, k)) = tie else {
        return if exponent {
            write!(f, "{x:e}")
        } else {
            write!(f, "{x}")
        };
    };
    let sign = if x < 0.0 { "-" } else { "" };
    let digits = digits.to_string();
    let (digits, k) = match digits.trim_end_matches('0') {
        "" => ("0", 0),
        kept => (kept, k + (digits.len() - kept.len()) as i64),
    };
    if exponent {
        return write!(f, "{sign}{}", scientific(digits, k));
    }
    // Not integral (a tie is a fraction), so `k < 0`.
    let point = digits.len() as i64 + k;
    if point > 0 {
        let (whole, fraction) = digits.split_at(point as usize);
        write!(f, "{sign}{whole}.{fraction}")
    } else {
        write!(f, "{sign}0.{}{digits}", "0".repeat((-point) as usize))
    }
}

/// `digits` times 10^`k` as Rust's `{:e}` writes it: `7.718845028542832e14`.
fn scientific(digits: &str, k: i64) -> String {
    let exp = k + digits.len() as i64 - 1;
    let kept = digits.trim_end_matches('0');
    let (first, rest) = if kept.is_empty() {
        ("0", "")
    } else {
        kept.split_at(1)
    };
    if rest.is_empty() {
        format!("{first}e{exp}")
    } else {
        format!("{first}.{rest}e{exp}")
    }
}

/// `(digits, exponent)` of the shortest decimal that reads back as `f` (finite, not an
/// integer), as Python's `repr` writes it: of two as short and as near (`f` exactly halfway
/// between them: 771884502854283.25 is `...283.2` or `...283.3`), the one whose last digit
/// is even. Rust's formatting takes the other one at such a tie, so `771884502854283.2`
/// (Python's float) was no multiple of 0.2.
fn shortest_decimal(f: f64) -> Option<(BigUint, i64)> {
    let text = format!("{f:e}");
    let (mantissa, exp) = text.split_once('e')?;
    let exp: i64 = exp.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = BigUint::parse_bytes(format!("{int_part}{frac_part}").as_bytes(), 10)?;
    let k = exp - frac_part.len() as i64;
    if digits.bit(0) {
        let (m, e, _) = num_traits::float::FloatCore::integer_decode(f);
        for other in [&digits - 1u8, &digits + 1u8] {
            // A tie: 2f = (digits + other) 10^k exactly, each side's negative powers
            // moved to the other side; and `other` reads back as `f` too.
            let (mut left, mut right) = (&digits + &other, BigUint::from(m));
            let twos = i64::from(e) + 1;
            if twos >= 0 {
                right <<= twos;
            } else {
                left <<= -twos;
            }
            let ten = BigUint::from(10u8);
            if k >= 0 {
                left *= ten.pow(u32::try_from(k).ok()?);
            } else {
                right *= ten.pow(u32::try_from(-k).ok()?);
            }
            if left == right && format!("{other}e{k}").parse::<f64>().ok() == Some(f) {
                return Some((other, k));
            }
        }
    }
    Some((digits, k))
}

/// Digits at a time that [`parse_digits`] leaves to num-bigint's parser.
const PARSED_DIGITS: usize = 512;

/// Decimal digits (ASCII, at least one) as an integer, in time near-linear in their
/// number: halves joined by a multiplication (num-bigint's are sub-quadratic) by a
/// power of ten squared from the one before. num-bigint's own parser takes time
/// quadratic in the number of digits (a `multipleOf` of 320,000 digits, checked on
/// JSON text, took a minute by a remainder taken 18 digits at a time).
pub(crate) fn parse_digits(digits: &[u8]) -> BigUint {
    fn join(digits: &[u8], powers: &mut Vec<BigUint>) -> BigUint {
        if digits.len() <= PARSED_DIGITS {
            return BigUint::parse_bytes(digits, 10).unwrap_or_default();
        }
        // The low part: the largest PARSED_DIGITS << level digits shorter than all.
        let mut level = 0;
        while PARSED_DIGITS << (level + 1) < digits.len() {
            level += 1;
        }
        let (high, low) = digits.split_at(digits.len() - (PARSED_DIGITS << level));
        let high = join(high, powers);
        let low = join(low, powers);
        while powers.len() <= level {
            let next = match powers.last() {
                Some(p) => p * p,
                None => BigUint::from(10u8).pow(PARSED_DIGITS as u32),
            };
            powers.push(next);
        }
        high * &powers[level] + low
    }
    join(digits, &mut Vec::new())
}

/// `m` (> 0) divided by the largest power of 5 that divides it, and that power's
/// exponent: the powers `5^(2^i)` tried once each, from the largest that may divide
/// (the exponent's bits, highest first). Dividing by `5^27` while it divides took a
/// divisor of 300,000 digits, a power of 5, seconds to compile.
fn strip_fives(mut m: BigUint) -> (BigUint, u64) {
    let five = BigUint::from(5u8);
    if !(&m % &five).is_zero() {
        return (m, 0);
    }
    // Up to the first whose square exceeds `m`: the exponent is below 2^powers.len().
    let mut powers = vec![five];
    while let Some(last) = powers.last().filter(|p| 2 * p.bits() - 1 <= m.bits()) {
        let square = last * last;
        powers.push(square);
    }
    let mut fives = 0;
    for (i, power) in powers.iter().enumerate().rev() {
        let quotient = &m / power;
        if &quotient * power == m {
            m = quotient;
            fives += 1 << i;
        }
    }
    (m, fives)
}

/// The digits of `digits` (ASCII) modulo `m` (> 0), in one pass, 18 digits at a time.
fn digits_rem(digits: &[u8], m: u64) -> u64 {
    let m = u128::from(m);
    let mut r: u128 = 0;
    for chunk in digits.chunks(18) {
        let value = chunk
            .iter()
            .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
        // r < m < 2^64 and 10^18 < 2^60: no overflow.
        r = (r * 10u128.pow(chunk.len() as u32) + u128::from(value)) % m;
    }
    r as u64
}

/// `digits` (decimal, most significant first) modulo `m` (a [`Divisor`]'s `rest` past a
/// `u64`), 18 digits at a time: each step a division of the size of `m`, time linear in the
/// digits for a given divisor, as one long division of them converted would take, without
/// the conversion ([`parse_digits`], near `digits^1.5`). 1.6 million digits against a
/// divisor of 51 digits: 44 ms, where converted they took 550 ms.
fn digits_rem_big(digits: &[u8], m: &BigUint) -> BigUint {
    let mut r = BigUint::zero();
    for chunk in digits.chunks(18) {
        let value = chunk
            .iter()
            .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
        r = (r * 10u64.pow(chunk.len() as u32) + value) % m;
    }
    r
}

/// A `multipleOf` divisor (> 0), taken apart once when the schema is compiled:
/// `2^twos × 5^fives × rest × 10^exp`, `rest` prime to 10. A number `A × 10^k`
/// (integer `A`) is a multiple of it when `2^(twos - j)` and `5^(fives - j)` divide
/// `A` (`j = k - exp`; nothing to divide where not positive) and so does `rest`,
/// prime to both: no power of ten is ever raised (`1e1000000000` and `1e-400` are
/// exponents, not digits). Of JSON text's long integers ([`Decimal`]), only the last
/// digits are read for the powers of 2 and 5 (`10^c` is a multiple of `2^c` and
/// `5^c`), and `rest` is taken from the digits in one pass, 18 digits at a time
/// ([`digits_rem`], [`digits_rem_big`]): time linear in the digits for a given divisor
/// (a divisor as long as the digits makes it quadratic, as a long division of them is).
#[derive(Debug)]
pub struct Divisor {
    /// As written, for messages.
    number: Number,
    /// The divisor when it is an `i64` (most are): the remainder of an `i64` at once.
    int: Option<i64>,
    twos: u64,
    fives: u64,
    rest: BigUint,
    exp: i64,
    /// For a [`Decimal`] divisor (a schema's literal of more than [`BIG_DIGITS`]
    /// digits, or beyond f64), its digits before the point (`floor(log10) + 1`; may be
    /// negative): a [`Decimal`] with fewer is smaller, and not zero, so no multiple,
    /// its digits never converted. `i64::MIN` for the others.
    mag: i64,
}

impl Divisor {
    /// `None` unless `number` is finite and greater than zero.
    pub fn new(number: Number) -> Option<Divisor> {
        if number.compare(&Number::Int(0)) != Some(Ordering::Greater) {
            return None;
        }
        let (mantissa, exp) = number.decimal_parts()?;
        let mut rest = mantissa.into_owned();
        let twos = rest.trailing_zeros()?;
        rest >>= twos;
        let (rest, fives) = strip_fives(rest);
        let mag = match &number {
            Number::Decimal(d) => d.view().mag(),
            // Shorter than any `Decimal` integer: no use asking.
            _ => i64::MIN,
        };
        let int = match number {
            Number::Int(i) => Some(i),
            _ => None,
        };
        Some(Divisor {
            number,
            int,
            twos,
            fives,
            rest,
            exp,
            mag,
        })
    }

    /// Whether `n` is a multiple of the divisor (see [`Divisor`]).
    pub fn divides(&self, n: &Number) -> bool {
        match (n, self.int) {
            (Number::Int(a), Some(d)) => i128::from(*a) % i128::from(d) == 0,
            (Number::Decimal(a), _) => self.divides_digits(a),
            _ => match n.decimal_parts() {
                Some((a, k)) => self.divides_int(&a, k),
                None => false,
            },
        }
    }

    /// The exponents of 2 and 5 that must divide `A` of `A × 10^k` (see [`Divisor`]),
    /// as i128 (each side is an i64).
    fn needs(&self, k: i64) -> (i128, i128) {
        let j = i128::from(k) - i128::from(self.exp);
        (i128::from(self.twos) - j, i128::from(self.fives) - j)
    }

    /// [`Divisor::divides`] for `a × 10^k`.
    fn divides_int(&self, a: &BigUint, k: i64) -> bool {
        if a.is_zero() {
            return true;
        }
        let (twos, fives) = self.needs(k);
        if twos > 0 && i128::from(a.trailing_zeros().unwrap_or(0)) < twos {
            return false;
        }
        let bits = a.bits();
        if self.rest.bits() > bits {
            return false; // `rest` > a > 0
        }
        if fives > 0 {
            // 5^f has more than 2f bits: more than a's, it cannot divide a.
            if fives.saturating_mul(2) >= i128::from(bits) {
                return false;
            }
            let Ok(fives) = u32::try_from(fives) else {
                return false;
            };
            if !(a % BigUint::from(5u8).pow(fives)).is_zero() {
                return false;
            }
        }
        self.rest.is_one() || (a % &self.rest).is_zero()
    }

    /// [`Divisor::divides`] for a [`Decimal`] (never zero), reading its digits as
    /// little as the answer needs.
    fn divides_digits(&self, a: &Decimal) -> bool {
        let digits = &a.digits[..];
        if a.view().mag() < self.mag {
            return false; // smaller than the divisor, and not zero
        }
        let (twos, fives) = self.needs(a.exp);
        // `A` modulo `10^c`, a multiple of `2^c` and of `5^c`: its last `c` digits.
        let last = |c: i128| {
            let c = usize::try_from(c).unwrap_or(usize::MAX).min(digits.len());
            parse_digits(&digits[digits.len() - c..])
        };
        if twos > 0
            && last(twos)
                .trailing_zeros()
                .is_some_and(|z| i128::from(z) < twos)
        {
            return false;
        }
        if fives > 0 {
            // A < 10^len <= 5^f once f >= len * log5(10) (1.4307): no multiple.
            if fives.saturating_mul(1000) >= digits.len() as i128 * 1431 {
                return false;
            }
            let Ok(f) = u32::try_from(fives) else {
                return false;
            };
            if !(last(fives) % BigUint::from(5u8).pow(f)).is_zero() {
                return false;
            }
        }
        if self.rest.is_one() {
            return true;
        }
        match self.rest.to_u64() {
            Some(m) => digits_rem(digits, m) == 0,
            None => {
                // A < 10^len < 2^(len * log2(10) + 1): a longer `rest` is larger.
                if self.rest.bits() as f64 > digits.len() as f64 * std::f64::consts::LOG2_10 + 2.0 {
                    return false;
                }
                digits_rem_big(digits, &self.rest).is_zero()
            }
        }
    }

    /// The divisor as written.
    pub fn number(&self) -> &Number {
        &self.number
    }
}

impl std::fmt::Display for Divisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.number.fmt(f)
    }
}

/// Messages never echo a long number whole: an integer of more than
/// [`SHOWN_CHARS`] digits is shown as its first 40 digits, `...` and its
/// number of digits; a [`Decimal`] that is not an integer in scientific
/// notation with at most 40 digits; a huge Python int by its size alone
/// (printing it costs time quadratic in its length).
impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Big(b) if b.bits() > 4 * BIG_DIGITS as u64 => {
                // log10(2) ~ 0.30103: the digit count is exact to within one.
                let digits = (b.bits() as f64 * std::f64::consts::LOG10_2) as u64 + 1;
                let sign = if b.is_negative() { "-" } else { "" };
                write!(f, "{sign}<integer of about {digits} digits>")
            }
            Number::Big(b) => {
                let text = b.to_string();
                let (sign, digits) = text.split_at(usize::from(text.starts_with('-')));
                write_integer(f, sign == "-", digits.as_bytes(), 0)
            }
            // With an exponent where Python's repr has one: `1e30` was written as 31
            // digits, which said it is the integer 10**30, and it is not (nor equal to it).
            Number::Float(x) => write_float(f, *x),
            // JSON number text is ASCII: cut anywhere.
            Number::OutOfRange(text) if text.len() > SHOWN_CHARS => {
                write!(f, "{}... ({} characters)", &text[..40], text.len())
            }
            Number::OutOfRange(text) => f.write_str(text),
            Number::Decimal(d) if d.exp >= 0 => write_integer(f, d.neg, &d.digits, d.exp),
            Number::Decimal(d) => {
                let sign = if d.neg { "-" } else { "" };
                let shown = &d.digits[..d.digits.len().min(40)];
                let text = std::str::from_utf8(shown).unwrap_or("?");
                let (first, rest) = text.split_at(1);
                let dot = if rest.is_empty() { "" } else { "." };
                let more = if shown.len() < d.digits.len() {
                    "..."
                } else {
                    ""
                };
                let exp = d.view().mag() - 1;
                write!(f, "{sign}{first}{dot}{rest}{more}e{exp}")
            }
        }
    }
}

/// `±digits` followed by `zeros` zeros, shortened when long.
fn write_integer(
    f: &mut std::fmt::Formatter<'_>,
    neg: bool,
    digits: &[u8],
    zeros: i64,
) -> std::fmt::Result {
    let sign = if neg { "-" } else { "" };
    let total = (digits.len() as i64).saturating_add(zeros);
    let take = if total > SHOWN_CHARS as i64 {
        40
    } else {
        total as usize
    };
    let mut shown = String::with_capacity(take);
    shown.extend(digits.iter().take(take).map(|&d| d as char));
    while shown.len() < take {
        shown.push('0');
    }
    if total > SHOWN_CHARS as i64 {
        write!(f, "{sign}{shown}... ({total} digits)")
    } else {
        write!(f, "{sign}{shown}")
    }
}

/// Compares a [`Decimal`] with any number, exactly; NaN compares as `None`.
fn decimal_cmp(a: &Decimal, b: &Number) -> Option<Ordering> {
    let b = match b {
        Number::Decimal(b) => return Some(a.view().cmp(&b.view())),
        Number::Float(f) if f.is_nan() => return None,
        Number::OutOfRange(_) => return None,
        Number::Float(f) if f.is_infinite() => {
            return Some(if *f > 0.0 {
                Ordering::Less
            } else {
                Ordering::Greater
            })
        }
        Number::Int(i) => DecView::new(*i < 0, i.unsigned_abs().to_string().as_bytes(), 0),
        Number::Float(f) => float_decimal(*f)?,
        Number::Big(big) => {
            // Decided by sign and size where it can be, never printing a huge int.
            let neg = big.is_negative();
            if big.is_zero() || a.neg != neg {
                return Some(if a.neg {
                    Ordering::Less
                } else {
                    Ordering::Greater
                });
            }
            let bits = big.bits() as f64;
            let low = ((bits - 1.0) * std::f64::consts::LOG10_2) as i64 + 1;
            let high = (bits * std::f64::consts::LOG10_2) as i64 + 1;
            let mag = a.view().mag();
            if mag > high || mag < low {
                let larger_abs = if mag > high {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                return Some(if neg {
                    larger_abs.reverse()
                } else {
                    larger_abs
                });
            }
            let text = big.magnitude().to_string();
            DecView::new(neg, text.as_bytes(), 0)
        }
    };
    Some(a.view().cmp(&b))
}

/// The exact decimal value of a finite float (at most about 770 digits).
fn float_decimal(f: f64) -> Option<DecView<'static>> {
    if f == 0.0 {
        return Some(DecView::new(false, b"", 0));
    }
    let bits = f.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp_bits - 1075)
    };
    let (digits, exp) = if e >= 0 {
        ((BigInt::from(m) << e as usize).to_string(), 0)
    } else {
        let five = BigInt::from(5u8).pow(u32::try_from(-e).ok()?);
        ((BigInt::from(m) * five).to_string(), e)
    };
    Some(DecView::new(f < 0.0, digits.as_bytes(), exp))
}

/// Compares an integer `Number` with a float, exactly.
fn int_cmp_float(int: &Number, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    if let Number::Int(i) = int {
        // Exact in f64 for |i| <= 2^53.
        if i.unsigned_abs() <= (1u64 << 53) {
            return (*i as f64).partial_cmp(&f);
        }
    }
    let big = match int {
        Number::Int(i) => BigInt::from(*i),
        Number::Big(b) => (**b).clone(),
        Number::Float(_) | Number::Decimal(_) | Number::OutOfRange(_) => return None,
    };
    let floor = f.floor();
    let floor_big = BigInt::from_f64(floor)?;
    match big.cmp(&floor_big) {
        Ordering::Equal if f > floor => Some(Ordering::Less),
        other => Some(other),
    }
}

/// A parsed JSON value that borrows its strings from the input where it can.
/// Also the compact form of a Python record handed to the thread pool.
#[derive(Clone, Debug)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Its entries in the text's order, and whether a key may repeat (worked out when
    /// the object checks first ask: they take one walk over unique keys for a verdict).
    Object(Vec<(Cow<'a, str>, Json<'a>)>, KeysOnce),
    /// A Python object JSON cannot represent; holds its type name for the message.
    Unsupported(String),
    /// A string that is not valid Unicode (a Python str with lone surrogates).
    InvalidString,
    /// An object key that is not a string (a Python dict keyed by ints); holds its repr.
    InvalidKey(String),
    /// Stands in the value place of an object key that is not valid Unicode.
    InvalidStringKey,
    /// A value nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A value of this kind that no check looks into, left out of a compact form.
    Skipped(Kind),
}

impl Json<'_> {
    /// Whether this entry value stands for an object key that is no string, or not valid
    /// Unicode ([`Json::InvalidKey`], [`Json::InvalidStringKey`]): its entry's key text
    /// names no property.
    #[inline]
    pub fn stands_for_a_bad_key(&self) -> bool {
        matches!(self, Json::InvalidKey(_) | Json::InvalidStringKey)
    }
}

/// Whether an object's keys are known to be unique (JSON text may repeat a key;
/// the last one counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    Unique,
    /// Some key repeats: the checks read each key once, with its last value (see
    /// [`last_of_each`]).
    MayRepeat,
    /// A Python dict's entries, each a key of its own: a key that is a `str` subclass may
    /// have the text of another key, and is still another entry (as the dict itself is
    /// checked). Never worked out: said by who made the object.
    AsHeld,
}

/// What an object's entry value says about its key: an entry that stands for a key that is
/// no string, or not valid Unicode (a Python dict's, see [`Json::stands_for_a_bad_key`]),
/// names no property, so it repeats no other key, whatever the text its entry holds (a
/// dict's `{1: .., "1": ..}` holds `1` twice).
pub trait EntryValue {
    fn names_a_key(&self) -> bool {
        true
    }
}

impl EntryValue for () {}

impl EntryValue for Json<'_> {
    #[inline]
    fn names_a_key(&self) -> bool {
        !self.stands_for_a_bad_key()
    }
}

impl Keys {
    /// Keys compared in a list up to this many; past them, see [`Keys::of_many`].
    const LISTED: usize = 16;

    /// Whether no two of `entries` have the same key, compared in a list up to 16
    /// entries, past them with a filter of 1,024 bits first (see [`Keys::of_many`]).
    pub fn of<V: EntryValue>(entries: &[(Cow<'_, str>, V)]) -> Keys {
        if entries.len() > Self::LISTED {
            return Self::of_many(entries);
        }
        // A bit per key, by its length and end bytes: a key whose bit no earlier key set
        // repeats none (most keys), and only the others are compared with those before.
        let bit = |k: &str| {
            let b = k.as_bytes();
            let ends = b.first().map_or(0, |&c| usize::from(c))
                + 7 * b.last().map_or(0, |&c| usize::from(c));
            1u64 << ((b.len() * 31 + ends) & 63)
        };
        let mut seen = 0u64;
        let unique = entries.iter().enumerate().all(|(i, (key, value))| {
            if !value.names_a_key() {
                return true;
            }
            let mine = bit(key);
            let maybe = seen & mine != 0;
            seen |= mine;
            !maybe || !Self::earlier(&entries[..i], key)
        });
        if unique {
            Keys::Unique
        } else {
            Keys::MayRepeat
        }
    }

    /// [`Keys::of`] past [`Keys::LISTED`] entries: a bit of 1,024 per key, by its length
    /// and three of its bytes; a key whose bit is set is compared with those before it,
    /// until that has read 4 entries per entry, and then every key goes to a set hashed
    /// with a random key (crafted keys cannot make that quadratic). Until 2026-12-07 such
    /// an object was taken to repeat a key without looking: a set for each, hashed, had
    /// made the verdicts on foundryvtt-module-manifest of SchemaStore 13-30% slower.
    #[inline(never)]
    fn of_many<V: EntryValue>(entries: &[(Cow<'_, str>, V)]) -> Keys {
        let mut bits = [0u64; 16];
        let mut reads_left = entries.len().saturating_mul(4);
        for (i, (key, value)) in entries.iter().enumerate() {
            if !value.names_a_key() {
                continue;
            }
            let b = key.as_bytes();
            let byte = |at: usize| b.get(at).map_or(0, |&c| usize::from(c));
            let h = (b.len() * 31
                + byte(0)
                + 7 * b.last().map_or(0, |&c| usize::from(c))
                + 131 * byte(b.len() / 2))
                & 1023;
            let (word, mine) = (h >> 6, 1u64 << (h & 63));
            if bits[word] & mine != 0 {
                if i > reads_left {
                    return Self::of_many_by_set(entries);
                }
                reads_left -= i;
                if Self::earlier(&entries[..i], key) {
                    return Keys::MayRepeat;
                }
            }
            bits[word] |= mine;
        }
        Keys::Unique
    }

    #[inline(never)]
    fn of_many_by_set<V: EntryValue>(entries: &[(Cow<'_, str>, V)]) -> Keys {
        let mut seen: std::collections::HashSet<&str, RandomState> =
            std::collections::HashSet::with_capacity_and_hasher(entries.len(), RandomState::new());
        let repeats = entries
            .iter()
            .any(|(key, value)| value.names_a_key() && !seen.insert(key));
        if repeats {
            Keys::MayRepeat
        } else {
            Keys::Unique
        }
    }

    /// Whether one of `before` names `key`.
    #[inline(always)]
    fn earlier<V: EntryValue>(before: &[(Cow<'_, str>, V)], key: &str) -> bool {
        before
            .iter()
            .any(|(k, v)| v.names_a_key() && same_text(k, key))
    }
}

/// The entries of an object whose keys repeat ([`Keys::MayRepeat`]) as the checks read them,
/// in order, as `(key's entry, value's entry)`: each key at its first entry, with the value
/// of its last (what Python's `json.loads` makes of the text, and what a lookup finds), and
/// each entry for a key that is no string as it is. Linear: the keys go to a map hashed with
/// a random key past [`Keys::LISTED`] entries (an object with an index keeps the answer, see
/// [`KeysOnce::reads`]).
#[cold]
#[inline(never)]
pub fn last_of_each(entries: &[(Cow<'_, str>, Json<'_>)]) -> Vec<(u32, u32)> {
    let at = |i: usize| u32::try_from(i).expect("fewer than 2^32 entries");
    let mut read = Vec::with_capacity(entries.len());
    if entries.len() <= Keys::LISTED {
        for (i, (key, value)) in entries.iter().enumerate() {
            if !value.names_a_key() {
                read.push((at(i), at(i)));
            } else if !Keys::earlier(&entries[..i], key) {
                let last = (i..entries.len())
                    .rev()
                    .find(|&j| entries[j].1.names_a_key() && same_text(&entries[j].0, key))
                    .unwrap_or(i);
                read.push((at(i), at(last)));
            }
        }
        return read;
    }
    // One hash of each key: its first and last entries, then each first entry, in order,
    // takes its last (positions, not a sort: linear).
    let mut ends: std::collections::HashMap<&str, (u32, u32), RandomState> =
        std::collections::HashMap::with_capacity_and_hasher(entries.len(), RandomState::new());
    for (i, (key, value)) in entries.iter().enumerate() {
        if value.names_a_key() {
            ends.entry(key)
                .and_modify(|e| e.1 = at(i))
                .or_insert((at(i), at(i)));
        }
    }
    let mut last_of_first = vec![u32::MAX; entries.len()];
    for (first, last) in ends.into_values() {
        last_of_first[first as usize] = last;
    }
    for (i, (_, value)) in entries.iter().enumerate() {
        if !value.names_a_key() {
            read.push((at(i), at(i)));
        } else if last_of_first[i] != u32::MAX {
            read.push((at(i), last_of_first[i]));
        }
    }
    read
}

/// [`Keys`] of an object, worked out when first asked ([`KeysOnce::of`]): most parsed
/// objects are never asked (those of a record that fails early, those of a value whose
/// schema reads no closed object), and working it out for each as it was parsed cost
/// 1.5-2.5% of the verdicts on small SchemaStore records.
///
/// For an object of [`INDEXED_MIN`] entries or more, also an index of its keys, built
/// at its [`LOOKUPS_BEFORE_INDEX`]th lookup ([`KeysOnce::index`]): a lookup is otherwise
/// a scan of the entries, and keywords that name keys one by one (`dependentRequired`,
/// `if`/`then` of `required`, unions of `required`) made the checks cost the names
/// times the entries (32,000 names on as many keys: 2 s, against 8 ms for a dict).
///
/// One word, in the padding of [`Json`]: either a pointer to the index (which holds the
/// [`Keys`]), or an odd number that holds [`Keys`] (known or not) and the lookups made
/// so far.
#[derive(Debug)]
pub struct KeysOnce(AtomicPtr<KeyIndex>);

/// Objects with fewer entries are scanned: a scan of a few cache lines costs less than
/// hashing the key.
pub const INDEXED_MIN: usize = 64;

/// Lookups scanned before an index is built: building it costs about as much as a few
/// scans, and an object looked up once or twice (a tag) never needs it.
pub const LOOKUPS_BEFORE_INDEX: usize = 3;

impl Default for KeysOnce {
    /// Not worked out yet.
    fn default() -> Self {
        KeysOnce::word(Self::UNKNOWN, 0)
    }
}

impl KeysOnce {
    const UNKNOWN: usize = 0;
    const UNIQUE: usize = 1;
    const MAY_REPEAT: usize = 2;
    const AS_HELD: usize = 3;

    pub fn known(keys: Keys) -> KeysOnce {
        KeysOnce::word(Self::code(keys), 0)
    }

    /// The word for `keys` (a code) after `lookups` lookups: odd, never a pointer.
    fn word(keys: usize, lookups: usize) -> KeysOnce {
        KeysOnce(AtomicPtr::new(Self::tagged(keys, lookups)))
    }

    fn tagged(keys: usize, lookups: usize) -> *mut KeyIndex {
        std::ptr::without_provenance_mut(lookups << 3 | keys << 1 | 1)
    }

    fn code(keys: Keys) -> usize {
        match keys {
            Keys::Unique => Self::UNIQUE,
            Keys::MayRepeat => Self::MAY_REPEAT,
            Keys::AsHeld => Self::AS_HELD,
        }
    }

    /// The keys of `entries` (those of the object that holds this). Threads that ask at
    /// once each work it out and store the same answer.
    #[inline]
    pub fn of<V: EntryValue>(&self, entries: &[(Cow<'_, str>, V)]) -> Keys {
        let word = self.0.load(AtomicOrdering::Acquire);
        if word.addr() & 1 == 0 {
            // SAFETY: as in `index_large`.
            return unsafe { &*word }.keys;
        }
        match (word.addr() >> 1) & 3 {
            Self::UNIQUE => Keys::Unique,
            Self::MAY_REPEAT => Keys::MayRepeat,
            Self::AS_HELD => Keys::AsHeld,
            _ => {
                let keys = Keys::of(entries);
                let known = Self::tagged(Self::code(keys), word.addr() >> 3);
                // Lost to another thread's lookup count or index: asked again later.
                let _ = self.0.compare_exchange(
                    word,
                    known,
                    AtomicOrdering::AcqRel,
                    AtomicOrdering::Relaxed,
                );
                keys
            }
        }
    }

    /// The index of the keys of `entries` (those of the object that holds this), once
    /// it has [`INDEXED_MIN`] entries or more and has been looked up
    /// [`LOOKUPS_BEFORE_INDEX`] times; `None` until then (the caller scans). Threads
    /// that ask at once may each build one: the first stored is kept.
    #[inline]
    pub fn index<V: EntryValue>(&self, entries: &[(Cow<'_, str>, V)]) -> Option<&KeyIndex> {
        if entries.len() < INDEXED_MIN {
            return None;
        }
        self.index_large(entries)
    }

    /// The entries of an object whose keys repeat as the checks read them (see
    /// [`last_of_each`]), kept with the object's index once it has one (an object looked up
    /// often, see [`KeysOnce::index`]), else worked out for each walk.
    pub fn reads(&self, entries: &[(Cow<'_, str>, Json<'_>)]) -> Cow<'_, [(u32, u32)]> {
        let word = self.0.load(AtomicOrdering::Acquire);
        if word.addr() & 1 == 0 {
            // SAFETY: as in `index_large`.
            let index = unsafe { &*word };
            return Cow::Borrowed(
                index
                    .reads
                    .get_or_init(|| last_of_each(entries).into_boxed_slice()),
            );
        }
        Cow::Owned(last_of_each(entries))
    }

    #[inline(never)]
    fn index_large<V: EntryValue>(&self, entries: &[(Cow<'_, str>, V)]) -> Option<&KeyIndex> {
        let mut word = self.0.load(AtomicOrdering::Acquire);
        loop {
            if word.addr() & 1 == 0 {
                // SAFETY: an even word is a pointer from `Box::into_raw`, stored once and
                // freed only when this is dropped.
                return Some(unsafe { &*word });
            }
            let lookups = word.addr() >> 3;
            let next = if lookups + 1 < LOOKUPS_BEFORE_INDEX {
                Self::tagged((word.addr() >> 1) & 3, lookups + 1)
            } else {
                let keys = match (word.addr() >> 1) & 3 {
                    Self::UNIQUE => Keys::Unique,
                    Self::MAY_REPEAT => Keys::MayRepeat,
                    Self::AS_HELD => Keys::AsHeld,
                    _ => Keys::of(entries),
                };
                Box::into_raw(Box::new(KeyIndex::of(entries, keys)))
            };
            match self.0.compare_exchange(
                word,
                next,
                AtomicOrdering::AcqRel,
                AtomicOrdering::Acquire,
            ) {
                Ok(_) if next.addr() & 1 == 1 => return None,
                Ok(_) => return Some(unsafe { &*next }),
                Err(now) => {
                    if next.addr() & 1 == 0 {
                        // SAFETY: built above and never shared.
                        drop(unsafe { Box::from_raw(next) });
                    }
                    word = now;
                }
            }
        }
    }
}

impl Drop for KeysOnce {
    fn drop(&mut self) {
        let word = *self.0.get_mut();
        if word.addr() & 1 == 0 {
            // SAFETY: as in `index_large`; no one else holds it now.
            drop(unsafe { Box::from_raw(word) });
        }
    }
}

impl Clone for KeysOnce {
    /// The same [`Keys`]; the index, if any, stays with the original.
    fn clone(&self) -> Self {
        let word = self.0.load(AtomicOrdering::Acquire);
        if word.addr() & 1 == 0 {
            // SAFETY: as in `index_large`.
            KeysOnce::known(unsafe { &*word }.keys)
        } else {
            KeysOnce::word((word.addr() >> 1) & 3, 0)
        }
    }
}

/// Where each key of a large object is (the last entry of a repeated key, as a
/// scan from the end finds it): open addressing over entry indices, hashed with
/// a random key so that crafted keys cannot make the probes long.
#[derive(Debug)]
pub struct KeyIndex {
    /// What the word held before it held the index.
    keys: Keys,
    hasher: RandomState,
    /// An entry index plus one per slot (0: empty); at most half full.
    slots: Box<[u32]>,
    /// For an object whose keys repeat: its entries as the checks read them, `(key's entry,
    /// value's entry)` (see [`last_of_each`]), worked out once.
    reads: std::sync::OnceLock<Box<[(u32, u32)]>>,
}

impl KeyIndex {
    fn of<V>(entries: &[(Cow<'_, str>, V)], keys: Keys) -> KeyIndex {
        let hasher = RandomState::new();
        let n = (entries.len() * 2).next_power_of_two();
        let mut slots = vec![0u32; n].into_boxed_slice();
        for (i, (key, _)) in entries.iter().enumerate() {
            let mut slot = hasher.hash_one(&**key) as usize & (n - 1);
            loop {
                let at = slots[slot] as usize;
                if at == 0 || entries[at - 1].0 == *key {
                    // Empty, or the same key earlier: this later entry is the one found.
                    slots[slot] = u32::try_from(i + 1).expect("fewer than 2^32 entries");
                    break;
                }
                slot = (slot + 1) & (n - 1);
            }
        }
        KeyIndex {
            keys,
            hasher,
            slots,
            reads: std::sync::OnceLock::new(),
        }
    }

    /// The index in `entries` (those it was built from) of the last entry keyed `key`.
    #[inline]
    pub fn find<V>(&self, entries: &[(Cow<'_, str>, V)], key: &str) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = self.hasher.hash_one(key) as usize & mask;
        loop {
            let at = self.slots[slot] as usize;
            if at == 0 {
                return None;
            }
            if same_text(&entries[at - 1].0, key) {
                return Some(at - 1);
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Entries of parsed objects read by lookups and walks, on this thread (for tests).
    pub(crate) static ENTRIES_READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts `n` entries read by a lookup or a walk (for tests; nothing otherwise).
#[inline(always)]
fn count_read(n: usize) {
    #[cfg(test)]
    ENTRIES_READ.with(|c| c.set(c.get() + n));
    let _ = n;
}

/// The entries of an object whose keys repeat, as the checks read them ([`KeysOnce::reads`]),
/// by reference: out of the walk's loop (indices there cost the loop inlined in the object
/// checks 0.3% more instructions on foundryvtt-module-manifest).
#[cold]
#[inline(never)]
fn read_in_order<'e, 'a>(
    entries: &'e [(Cow<'a, str>, Json<'a>)],
    keys: &KeysOnce,
) -> Vec<(&'e str, &'e Json<'a>)> {
    keys.reads(entries)
        .iter()
        .map(|&(k, v)| (&*entries[k as usize].0, &entries[v as usize].1))
        .collect()
}

/// The key of a parsed object's entry as the checks see it (see [`Json::InvalidKey`]).
#[inline(always)]
fn entry_key<'k>(key: &'k str, value: &Json<'_>) -> EntryKey<'k> {
    match value {
        Json::InvalidKey(repr) => EntryKey::NotString(repr.clone()),
        Json::InvalidStringKey => EntryKey::InvalidString,
        _ => EntryKey::Str(key),
    }
}

/// Why an object entry cannot be checked.
#[derive(Clone, Debug)]
pub enum EntryKey<'k> {
    Str(&'k str),
    /// The key is not a string; holds a printable form of it.
    NotString(String),
    /// The key is a string that is not valid Unicode.
    InvalidString,
}

/// One set of checks, two inputs: the operations the checks need from a record.
pub trait Record: Sized + Copy {
    /// Whether one value may lie at several paths of a record (a Python container held
    /// twice): a walk then also remembers verdicts at its containers
    /// (see `check::revisit`), or a record of containers shared level after level would
    /// be walked once per path, exponentially many.
    const MAY_SHARE: bool = false;
    fn kind(&self) -> Kind;
    /// Only for [`Kind::Bool`].
    fn as_bool(&self) -> bool;
    /// Only for [`Kind::Number`].
    fn as_number(&self) -> Number;
    /// Only for [`Kind::String`]; `None` when the string is not valid Unicode.
    fn as_str(&self) -> Option<&str>;
    /// Only for [`Kind::Number`]: whether it is finite (a float may not be; an
    /// integer always is), without building the number.
    fn is_finite_number(&self) -> bool {
        self.as_number().is_finite()
    }
    /// Only for [`Kind::Number`]: whether it is an integer (`1.0` is one), as
    /// [`Number::is_integer`], without building the number.
    fn is_integer_number(&self) -> bool {
        self.as_number().is_integer()
    }
    /// Only for [`Kind::String`]: whether it is valid Unicode (cheaper than `as_str`).
    fn is_valid_unicode(&self) -> bool {
        self.as_str().is_some()
    }
    /// Only for [`Kind::Array`].
    fn array_len(&self) -> usize;
    /// Only for [`Kind::Array`]: item `i`, if there is one.
    fn array_item(&self, i: usize) -> Option<Self>;
    /// Only for [`Kind::Array`]; visits items in order until `f` breaks.
    fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(&self, f: F) -> ControlFlow<()>;
    /// Only for [`Kind::Object`]: its entries (for costs; JSON text may repeat a key, and
    /// [`Record::property_count`] counts each key once).
    fn object_len(&self) -> usize;
    /// Only for [`Kind::Object`]: its properties, each key once (`minProperties`,
    /// `maxProperties`, equality).
    #[inline]
    fn property_count(&self) -> usize {
        self.object_len()
    }
    /// Only for [`Kind::Object`]: the value under a string key, the one the
    /// property checks read (the last, for JSON text with duplicate keys).
    fn object_get(&self, key: &str) -> Option<Self>;
    /// Only for [`Kind::Object`]: fills `found[i]` with the value of property `i`
    /// of `checks` (the last one, for JSON text with duplicate keys).
    fn object_lookup(&self, checks: &crate::schema::ObjectChecks, found: &mut [Option<Self>]) {
        let _ = self.for_each_entry(|key, value| {
            if let EntryKey::Str(k) = key {
                if let Some(i) = checks.find(k) {
                    found[i] = Some(*value);
                }
            }
            ControlFlow::Continue(())
        });
    }
    /// Only for [`Kind::Object`]: calls `f(i, value)` for each entry whose key is
    /// property `i` of `checks`, in the record's order (a repeated key once, with its last
    /// value, as [`Record::for_each_entry`]), so that the cost follows the record's keys,
    /// not the schema's.
    fn object_find_each<F: FnMut(usize, Self)>(
        &self,
        checks: &crate::schema::ObjectChecks,
        mut f: F,
    ) {
        let _ = self.for_each_entry(|key, value| {
            if let EntryKey::Str(k) = key {
                if let Some(i) = checks.find(k) {
                    f(i, *value);
                }
            }
            ControlFlow::Continue(())
        });
    }
    /// Only for [`Kind::Object`]: whether no two entries have the same key (a
    /// Python dict whose keys are all exact `str`; parsed JSON of up to 16 entries
    /// that repeats none). The checks may then take a property's value from a walk
    /// over the entries without asking which of several is the last. `false` is
    /// always correct, only slower.
    #[inline]
    fn object_keys_unique(&self) -> bool {
        false
    }
    /// Only for [`Kind::Object`]: visits entries in order until `f` breaks, each
    /// with the index in `checks` of the property its key names (`None`: none);
    /// the property after the last one found is tried first, since records
    /// mostly list their keys in the schema's order.
    #[inline]
    fn for_each_property<F: FnMut(Option<usize>, EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        checks: &crate::schema::ObjectChecks,
        mut f: F,
    ) -> ControlFlow<()> {
        let mut hint = 0;
        self.for_each_entry(|key, value| {
            let found = match key {
                EntryKey::Str(k) => checks.find_from(hint, k),
                _ => None,
            };
            if let Some(i) = found {
                hint = i + 1;
            }
            f(found, key, value)
        })
    }
    /// Only for [`Kind::Object`]; visits entries in order until `f` breaks (JSON text
    /// that repeats a key: that key once, at its first entry, with its last value, as
    /// Python's `json.loads` reads it).
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        f: F,
    ) -> ControlFlow<()>;
    /// A short name of the value's type for messages (`"object"`, `"set"`).
    fn type_name(&self) -> Cow<'_, str>;
    /// What tells this value from the record's others while the record is checked
    /// (an address): two values with one identity have the same content, so a node's
    /// verdict on one is its verdict on the other (see `check::revisit`). `None`: a
    /// value that has none (its verdicts are not remembered).
    #[inline]
    fn identity(&self) -> Option<(usize, usize)> {
        None
    }
    /// Why the value cannot be validated at all, if it cannot (too deep, not JSON).
    /// Only a [`Kind::String`] (one that is not valid Unicode) or a
    /// [`Kind::Unsupported`] value has one: the checks ask no other kind.
    fn defect(&self) -> Option<Defect> {
        (self.kind() == Kind::String && !self.is_valid_unicode()).then_some(Defect::InvalidString)
    }
}

/// A value that no schema can accept, reported before any keyword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Defect {
    TooDeep,
    InvalidString,
}

impl<'b, 'a> Record for &'b Json<'a> {
    /// Its address in the record's tree.
    #[inline]
    fn identity(&self) -> Option<(usize, usize)> {
        Some((*self as *const Json<'a> as usize, 0))
    }
    #[inline]
    fn object_keys_unique(&self) -> bool {
        // Not said past 16 entries (no check needs it to be correct): before 2026-12-07 no
        // such object was known unique, and the walks it opens cost more than lookups there
        // (foundryvtt-module-manifest of SchemaStore, its 23 keys found unique: +20% of the
        // engine's instructions on its JSON records).
        matches!(self, Json::Object(entries, keys)
            if entries.len() <= Keys::LISTED && keys.of(entries) == Keys::Unique)
    }
    #[inline]
    fn kind(&self) -> Kind {
        match self {
            Json::Null => Kind::Null,
            Json::Bool(_) => Kind::Bool,
            Json::Number(_) => Kind::Number,
            Json::String(_) | Json::InvalidString => Kind::String,
            Json::Array(_) => Kind::Array,
            Json::Object(..) => Kind::Object,
            Json::Unsupported(_) | Json::InvalidKey(_) | Json::InvalidStringKey | Json::TooDeep => {
                Kind::Unsupported
            }
            Json::Skipped(kind) => *kind,
        }
    }
    #[inline]
    fn as_bool(&self) -> bool {
        matches!(self, Json::Bool(true))
    }
    #[inline]
    fn as_number(&self) -> Number {
        match self {
            Json::Number(n) => n.clone(),
            _ => Number::Float(f64::NAN),
        }
    }
    #[inline]
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
    #[inline]
    fn is_finite_number(&self) -> bool {
        // As `as_number` reads it, without cloning a big number.
        matches!(self, Json::Number(n) if n.is_finite())
    }
    #[inline]
    fn is_integer_number(&self) -> bool {
        matches!(self, Json::Number(n) if n.is_integer())
    }
    #[inline]
    fn is_valid_unicode(&self) -> bool {
        // A skipped string was valid Unicode (else it is `InvalidString`).
        !matches!(self, Json::InvalidString)
    }
    #[inline]
    fn array_len(&self) -> usize {
        match self {
            Json::Array(items) => items.len(),
            _ => 0,
        }
    }
    fn array_item(&self, i: usize) -> Option<Self> {
        match self {
            Json::Array(items) => items.get(i),
            _ => None,
        }
    }
    fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        if let Json::Array(items) = self {
            for (i, item) in items.iter().enumerate() {
                f(i, &item)?;
            }
        }
        ControlFlow::Continue(())
    }
    #[inline]
    fn object_len(&self) -> usize {
        match self {
            Json::Object(entries, _) => entries.len(),
            _ => 0,
        }
    }
    fn property_count(&self) -> usize {
        match self {
            Json::Object(entries, keys) if keys.of(entries) == Keys::MayRepeat => {
                keys.reads(entries).len()
            }
            Json::Object(entries, _) => entries.len(),
            _ => 0,
        }
    }
    fn object_get(&self, key: &str) -> Option<Self> {
        let Json::Object(entries, keys) = self else {
            return None;
        };
        if let Some(index) = keys.index(entries) {
            let found = index.find(entries, key).map(|i| &entries[i].1);
            if !found.is_some_and(Json::stands_for_a_bad_key) {
                return found;
            }
        }
        // A key that is no string (or not valid Unicode) is never a property, whatever the
        // text its entry holds (a dict's `{1: ..}` holds `1`, `{"\ud800": ..}` holds ``).
        count_read(entries.len());
        entries
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.stands_for_a_bad_key())
            .map(|(_, v)| v)
    }
    fn object_lookup(&self, checks: &crate::schema::ObjectChecks, found: &mut [Option<Self>]) {
        if let Json::Object(entries, keys) = self {
            // A large object and a few names: a lookup each, through the index once
            // the object has been looked up enough (a walk of every entry per check
            // made each `then: {required: [..]}` of a chain cost the whole object).
            if entries.len() >= INDEXED_MIN && checks.properties.len() * 4 < entries.len() {
                if let Some(index) = keys.index(entries) {
                    for (slot, property) in found.iter_mut().zip(&checks.properties) {
                        *slot = index.find(entries, &property.name).map(|i| &entries[i].1);
                    }
                    // A key that is no string is never a property (as in the walk).
                    if !found.iter().flatten().any(|v| v.stands_for_a_bad_key()) {
                        return;
                    }
                    found.fill(None);
                }
            }
            // Every entry, in order: a repeated key's last value is the one left.
            count_read(entries.len());
            for (key, value) in entries {
                if !value.stands_for_a_bad_key() {
                    if let Some(i) = checks.find(key) {
                        found[i] = Some(value);
                    }
                }
            }
        }
    }
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        let this: &'b Json<'a> = self;
        let Json::Object(entries, keys) = this else {
            return ControlFlow::Continue(());
        };
        // One call of `f`, in one loop, whichever the entries: with a second call (for the
        // entries of an object that repeats a key), `f` was no longer inlined (+2.4% of the
        // engine's instructions on foundryvtt-module-manifest of SchemaStore, against +0.6%).
        let read;
        let mut rest: &[(&'b str, &'b Json<'a>)] = &[];
        let mut plain = entries.iter();
        if entries.len() > 1 && keys.of(entries) == Keys::MayRepeat {
            read = read_in_order(entries, keys);
            rest = &read;
            plain = [].iter();
        }
        let mut rest = rest.iter();
        loop {
            let (key, value): (&str, &'b Json<'a>) = match plain.next() {
                Some((key, value)) => (key, value),
                None => match rest.next() {
                    Some(&(key, value)) => (key, value),
                    None => return ControlFlow::Continue(()),
                },
            };
            count_read(1);
            f(entry_key(key, value), &value)?;
        }
    }
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(n) if n.is_integer() && !matches!(n, Number::Float(_)) => "integer",
            Json::Number(_) => "number",
            Json::String(_) | Json::InvalidString => "string",
            Json::Array(_) => "array",
            Json::Object(..) => "object",
            Json::Unsupported(name) => return Cow::Owned(name.clone()),
            Json::InvalidKey(_) | Json::InvalidStringKey => "object",
            Json::TooDeep => "value",
            Json::Skipped(kind) => match kind {
                Kind::Null => "null",
                Kind::Bool => "boolean",
                Kind::Number => "number",
                Kind::String => "string",
                Kind::Array => "array",
                Kind::Object => "object",
                Kind::Unsupported => "value",
            },
        })
    }
    fn defect(&self) -> Option<Defect> {
        match self {
            Json::TooDeep => Some(Defect::TooDeep),
            Json::InvalidString => Some(Defect::InvalidString),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_objects_keys_are_known_unique_at_no_cost_in_size() {
        // The flag sits in the enum's padding: a parsed value is as large as before.
        assert_eq!(std::mem::size_of::<Json<'_>>(), 32);
        let entries = |keys: &[&'static str]| -> Vec<(Cow<'static, str>, ())> {
            keys.iter().map(|k| (Cow::Borrowed(*k), ())).collect()
        };
        assert_eq!(Keys::of(&entries(&[])), Keys::Unique);
        assert_eq!(Keys::of(&entries(&["a", "b", "ab"])), Keys::Unique);
        assert_eq!(Keys::of(&entries(&["a", "b", "a"])), Keys::MayRepeat);
        // The same length and end bytes (the same bit): compared.
        assert_eq!(Keys::of(&entries(&["axb", "ayb", "azb"])), Keys::Unique);
        assert_eq!(Keys::of(&entries(&["axb", "ayb", "axb"])), Keys::MayRepeat);
        // Past 16 keys: the filter of 1,024 bits, then (4 reads per key spent) a set.
        let keys = |names: Vec<String>| -> Vec<(Cow<'static, str>, ())> {
            names.into_iter().map(|k| (Cow::Owned(k), ())).collect()
        };
        for n in [17, 100, 5000] {
            let mut many = keys((0..n).map(|i| format!("key{i}")).collect());
            assert_eq!(Keys::of(&many), Keys::Unique, "{n}");
            many.push((Cow::Borrowed("key7"), ()));
            assert_eq!(Keys::of(&many), Keys::MayRepeat, "{n}");
            many.swap(0, n); // the repeat first, the key it repeats last
            assert_eq!(Keys::of(&many), Keys::MayRepeat, "{n}");
        }
        // Keys that all set one bit (one length, the same bytes where the bit looks).
        let same_bit = keys((0..3000).map(|i| format!("a{i:05}a")).collect());
        assert_eq!(Keys::of(&same_bit), Keys::Unique);
        // An entry for a key that is no string repeats no key, whatever its text.
        let with_bad = |n: usize| -> Vec<(Cow<'static, str>, Json<'static>)> {
            let mut e: Vec<_> = (0..n)
                .map(|i| (Cow::Owned(format!("{i}")), Json::Null))
                .collect();
            e.push((Cow::Borrowed("1"), Json::InvalidKey("1".into())));
            e.push((Cow::Borrowed(""), Json::InvalidStringKey));
            e.push((Cow::Borrowed(""), Json::InvalidStringKey));
            e
        };
        assert_eq!(Keys::of(&with_bad(3)), Keys::Unique);
        assert_eq!(Keys::of(&with_bad(40)), Keys::Unique);
        fn parsed(text: &str) -> Json<'_> {
            crate::parse_value(text.as_bytes(), MAX_DEPTH).unwrap()
        }
        assert!((&parsed(r#"{"a": 1, "b": {"c": 2, "d": 3}}"#)).object_keys_unique());
        let repeated = parsed(r#"{"a": 1, "b": {"c": 2, "c": 3}}"#);
        assert!((&repeated).object_keys_unique());
        let Json::Object(entries, _) = &repeated else {
            panic!()
        };
        assert!(!(&entries[1].1).object_keys_unique());
        assert!(!(&parsed(r#"{"a": 1, "a": 2}"#)).object_keys_unique());
    }

    /// JSON text that repeats a key is read as Python's `json.loads` reads it: the key once,
    /// where it first comes, with its last value.
    #[test]
    fn a_repeated_key_is_read_once_with_its_last_value() {
        let read = |text: &str| -> (Vec<String>, usize, usize) {
            let value = crate::parse_value(text.as_bytes(), MAX_DEPTH).unwrap();
            let mut seen = Vec::new();
            // Looked up 4 times first where it is large: its index, and the read order kept
            // with it, then serve the walk.
            for _ in 0..4 {
                let _ = (&value).object_get("k1");
            }
            let _ = (&value).for_each_entry(|key, v| {
                let k = match key {
                    EntryKey::Str(k) => k.to_string(),
                    _ => "(bad)".to_string(),
                };
                let mut shown = String::new();
                crate::check::equal::push_short_repr(&mut shown, v);
                seen.push(format!("{k}={shown}"));
                ControlFlow::Continue(())
            });
            (seen, (&value).property_count(), (&value).object_len())
        };
        let (seen, count, len) = read(r#"{"a": 1, "b": 2, "a": 3, "\u0061": 4, "c": 5, "b": 6}"#);
        assert_eq!(seen, ["a=4", "b=6", "c=5"]);
        assert_eq!((count, len), (3, 6));
        // Past 16 entries (the keys go to a map).
        let mut text: Vec<String> = (0..40).map(|i| format!(r#""k{}": {i}"#, i % 20)).collect();
        text.push(r#""z": 0"#.into());
        let (seen, count, len) = read(&format!("{{{}}}", text.join(",")));
        let expected: Vec<String> = (0..20)
            .map(|i| format!("k{i}={}", i + 20))
            .chain(["z=0".to_string()])
            .collect();
        assert_eq!(seen, expected);
        assert_eq!((count, len), (21, 41));
        let (seen, count, _) = read(r#"{"a": 1, "b": 2}"#);
        assert_eq!(
            (seen, count),
            (vec!["a=1".to_string(), "b=2".to_string()], 2)
        );
        // A key that is not valid Unicode (its entry holds ``) repeats no key, not even ``.
        let (seen, count, _) = read(r#"{"": 1, "\ud800": 2, "": 3}"#);
        assert_eq!(seen, ["=3", "(bad)=?"]);
        assert_eq!(count, 2);
        // Past 64 entries, looked up enough to have an index: the same reading, kept.
        let mut text: Vec<String> = (0..150).map(|i| format!(r#""k{}": {i}"#, i % 70)).collect();
        text.push(r#""\ud800": 0"#.into());
        let (seen, count, len) = read(&format!("{{{}}}", text.join(",")));
        let mut expected: Vec<String> = (0..70)
            .map(|i| format!("k{i}={}", if i < 10 { i + 140 } else { i + 70 }))
            .collect();
        expected.push("(bad)=?".to_string());
        assert_eq!(seen, expected);
        assert_eq!((count, len), (71, 151));
    }

    #[test]
    fn big_integers_compare_exactly() {
        let big = Number::parse("18446744073709551616").unwrap();
        assert!(matches!(big, Number::Big(_)));
        assert_eq!(big.compare(&Number::Int(i64::MAX)), Some(Ordering::Greater));
        assert_eq!(
            big.compare(&Number::Float(1.8446744073709552e19)),
            Some(Ordering::Equal)
        );
        let big_plus_one = Number::parse("18446744073709551617").unwrap();
        assert_eq!(
            big_plus_one.compare(&Number::Float(1.8446744073709552e19)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn integer_float_mix() {
        assert!(Number::Int(1).equals(&Number::Float(1.0)));
        assert_eq!(
            Number::Int(2).compare(&Number::Float(1.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            Number::Int(9_007_199_254_740_993).compare(&Number::Float(9_007_199_254_740_992.0)),
            Some(Ordering::Greater)
        );
        assert!(Number::Float(1.0).is_integer());
        assert!(!Number::Float(1.5).is_integer());
    }

    #[test]
    fn decimal_multiples() {
        assert!(Number::Float(0.0075).is_multiple_of(&Number::Float(0.0001)));
        assert!(!Number::Float(0.00751).is_multiple_of(&Number::Float(0.0001)));
        assert!(Number::Float(4.5).is_multiple_of(&Number::Float(1.5)));
        assert!(!Number::Float(35.0).is_multiple_of(&Number::Float(1.5)));
        assert!(Number::Float(1e308).is_multiple_of(&Number::Float(0.5)));
        assert!(Number::Int(10).is_multiple_of(&Number::Int(2)));
        assert!(!Number::Int(7).is_multiple_of(&Number::Int(2)));
        assert!(Number::parse("100000000000000000000000")
            .unwrap()
            .is_multiple_of(&Number::Int(10)));
    }

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_beyond_f64_are_exact_decimals() {
        // `1e400` is an integer (401 digits): a big integer, not infinity.
        let big = n("1e400");
        assert!(matches!(&big, Number::Big(_)));
        assert!(big.is_integer() && big.is_finite());
        assert!(big.equals(&n(&format!("1{}", "0".repeat(400)))));
        assert_eq!(
            big.compare(&Number::Float(f64::MAX)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            n("-1e400").compare(&Number::Float(f64::MIN)),
            Some(Ordering::Less)
        );
        // Beyond BIG_DIGITS digits, or below f64's range: decimals.
        let huge = n("1.5e999999");
        let Number::Decimal(d) = &huge else {
            panic!("{huge:?}")
        };
        assert_eq!((d.neg, &*d.digits, d.exp), (false, &b"15"[..], 999_998));
        assert!(huge.is_integer());
        let tiny = n("-1e-400");
        assert!(matches!(&tiny, Number::Decimal(_)));
        assert!(!tiny.is_integer());
        assert_eq!(tiny.compare(&Number::Int(0)), Some(Ordering::Less));
        assert_eq!(
            tiny.compare(&Number::Float(-5e-324)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            n("1e-400").compare(&Number::Float(0.0)),
            Some(Ordering::Greater)
        );
        assert_eq!(n("1e-400").compare(&n("1.0e-400")), Some(Ordering::Equal));
        assert_eq!(n("1e-400").compare(&n("1.1e-400")), Some(Ordering::Less));
        assert!(matches!(n("0e999"), Number::Float(f) if f == 0.0));
        assert!(matches!(n("1e308"), Number::Float(f) if f == 1e308));
    }

    #[test]
    fn exponents_beyond_the_bound_are_out_of_range_not_clamped() {
        // One pointer: `Number` stays as small as before.
        assert_eq!(std::mem::size_of::<Number>(), 16);
        let at_bound = n("1e1152921504606846976");
        let Number::Decimal(d) = &at_bound else {
            panic!("{at_bound:?}")
        };
        assert_eq!(d.exp, MAX_EXPONENT);
        assert!(at_bound.is_finite());
        assert!(n("1e-1152921504606846976").is_finite());
        for text in [
            "1e1152921504606846977",
            "1e1152921504606846978",
            "-1E+99999999999999999999999",
            "1e-1152921504606846977",
            "0.5e-99999999999999999999",
        ] {
            let x = n(text);
            assert!(
                matches!(&x, Number::OutOfRange(t) if t.as_str() == text),
                "{x:?}"
            );
            assert!(!x.is_finite() && !x.is_integer());
            assert_eq!(x.compare(&x), None);
            assert_eq!(x.compare(&at_bound), None);
            assert_eq!(at_bound.compare(&x), None);
            assert_eq!(x.compare(&Number::Int(0)), None);
            assert!(!x.is_multiple_of(&Number::Int(1)));
            assert!(!Number::Int(1).is_multiple_of(&x));
            assert_eq!(x.to_string(), text);
        }
        // Zero is zero whatever its exponent.
        assert!(matches!(n("0e99999999999999999999"), Number::Float(f) if f == 0.0));
        assert!(matches!(n("-0.0E-99999999999999999999"), Number::Float(f) if f == 0.0));
    }

    #[test]
    fn long_integers_are_compared_by_their_digits() {
        let long = format!("7{}", "0".repeat(2_000_000));
        let x = n(&long);
        assert!(matches!(&x, Number::Decimal(_)));
        assert_eq!(x.compare(&Number::Int(10)), Some(Ordering::Greater));
        assert_eq!(
            n(&format!("-{long}")).compare(&Number::Int(10)),
            Some(Ordering::Less)
        );
        assert_eq!(
            x.compare(&Number::Float(f64::INFINITY)),
            Some(Ordering::Less)
        );
        assert_eq!(x.compare(&Number::Float(f64::NAN)), None);
        assert!(x.equals(&n(&format!("7e{}", 2_000_000))));
        assert!(x.equals(&n(&format!("{long}.000"))));
        let next = format!("7{}1", "0".repeat(1_999_999));
        assert_eq!(x.compare(&n(&next)), Some(Ordering::Less));
        // Against big integers: by size when it decides, else by digits.
        let b = Number::Big(Box::new(BigInt::from(7u8) * BigInt::from(10u8).pow(2000)));
        let d = n(&format!("7{}", "0".repeat(2000)));
        assert!(matches!(&d, Number::Decimal(_)));
        assert!(d.equals(&b) && b.equals(&d));
        assert_eq!(x.compare(&b), Some(Ordering::Greater));
        assert_eq!(b.compare(&x), Some(Ordering::Less));
        assert_eq!(
            x.compare(&Number::Big(Box::new(-BigInt::from(7u8).pow(9000)))),
            Some(Ordering::Greater)
        );
        // Integers up to BIG_DIGITS digits stay integers.
        assert!(matches!(n(&"9".repeat(BIG_DIGITS)), Number::Big(_)));
        assert!(matches!(n(&"9".repeat(BIG_DIGITS + 1)), Number::Decimal(_)));
    }

    #[test]
    fn multiples_of_long_decimals() {
        let x = n(&format!("21{}", "0".repeat(5000)));
        assert!(x.is_multiple_of(&Number::Int(7)));
        assert!(x.is_multiple_of(&Number::Float(0.5)));
        assert!(!x.is_multiple_of(&Number::Int(11)));
        assert!(n(&format!("1{}5", "0".repeat(5000))).is_multiple_of(&Number::Int(5)));
        assert!(!n(&format!("1{}5", "0".repeat(5000))).is_multiple_of(&Number::Int(2)));
        assert!(!n("1e-400").is_multiple_of(&Number::Int(1)));
        assert!(n("1e-400").is_multiple_of(&n("1e-401")));
    }

    #[test]
    fn a_long_decimal_divides_in_steps_as_converted() {
        // Divisors of 20 to 1,500 digits, prime to 10; records longer and shorter.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut digit = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b'0' + (seed % 10) as u8
        };
        for (rest_digits, n_digits) in
            [(20, 40), (20, 5000), (300, 5000), (616, 3000), (1500, 4000)]
        {
            let mut rest: Vec<u8> = (0..rest_digits).map(|_| digit()).collect();
            rest[0] = b'1';
            *rest.last_mut().unwrap() = b'7';
            let rest = parse_digits(&rest);
            let digits: Vec<u8> = (0..n_digits).map(|_| digit()).collect();
            let converted = parse_digits(&digits) % &rest;
            assert_eq!(
                digits_rem_big(&digits, &rest),
                converted,
                "{rest_digits} {n_digits}"
            );
            // A multiple, and one off.
            let multiple = (parse_digits(&digits) / &rest) * &rest;
            let text = multiple.to_string();
            let as_number = n(&text);
            // Past BIG_DIGITS, JSON text's integer is a `Decimal`: its digits are divided.
            assert_eq!(
                matches!(as_number, Number::Decimal(_)),
                text.len() > BIG_DIGITS
            );
            let divisor = Divisor::new(Number::Big(Box::new(rest.clone().into()))).unwrap();
            assert!(divisor.divides(&as_number), "{rest_digits} {n_digits}");
            let off = n(&(multiple + 1u8).to_string());
            assert!(!divisor.divides(&off), "{rest_digits} {n_digits}");
        }
    }

    #[test]
    fn multiples_of_floats_are_of_integral_floats_exactly() {
        // An integral float is the integer it holds: 2.0**60 (its shortest decimal is
        // 1152921504606847000) and 1e23 (exactly 99999999999999991611392), as Python's
        // `%` finds them and as `const` compares them.
        let f = |x: f64| Number::Float(x);
        assert!(f(2f64.powi(60)).is_multiple_of(&Number::Int(16)));
        assert!(!f(1e23).is_multiple_of(&Number::Int(1000)));
        assert!(f(1e23).is_multiple_of(&Number::Int(8)));
        assert!(f(-2f64.powi(70)).is_multiple_of(&Number::Int(1 << 40)));
        assert!(f(-0.0).is_multiple_of(&Number::Int(7)));
        assert!(f(6.0).is_multiple_of(&f(1.5)));
        // A float with a fraction is the decimal it reads as (0.07, a multiple of 0.01).
        assert!(f(0.07).is_multiple_of(&f(0.01)));
        assert!(f(0.0075).is_multiple_of(&f(0.0001)));
        assert!(!f(0.075).is_multiple_of(&f(0.02)));
    }

    /// A small xorshift generator: the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, m: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % m
        }

        /// `least` digits and up to `more` - 1 more.
        fn some_digits(&mut self, least: usize, more: u64) -> String {
            let n = least + self.below(more) as usize;
            self.digits(n)
        }

        fn digits(&mut self, n: usize) -> String {
            let mut s = String::with_capacity(n);
            s.push(char::from(b'1' + self.below(9) as u8));
            while s.len() < n {
                s.push(char::from(b'0' + self.below(10) as u8));
            }
            s
        }
    }

    #[test]
    fn digits_split_in_halves_parse_as_num_bigints_parser_does() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut lengths: Vec<usize> = vec![1, 511, 512, 513, 1023, 1024, 1025, 2049, 20_000];
        lengths.extend((0..40).map(|_| 1 + rng.below(6000) as usize));
        for len in lengths {
            // Leading zeros too: the last digits of a number are parsed alone.
            let text = format!("{}{}", "0".repeat(rng.below(3) as usize), rng.digits(len));
            assert_eq!(
                parse_digits(text.as_bytes()),
                BigUint::parse_bytes(text.as_bytes(), 10).unwrap(),
                "{len} digits"
            );
        }
    }

    #[test]
    fn the_powers_of_five_of_a_divisor_are_found() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let e = rng.below(400) as u32;
            let other = BigUint::from([1u64, 2, 3, 7, 16, 1_000_003][rng.below(6) as usize]);
            let m = BigUint::from(5u8).pow(e) * &other;
            assert_eq!(strip_fives(m), (other, u64::from(e)), "5^{e}");
        }
    }

    /// Whether `a` is a multiple of `d`, exactly and plainly: both as integers over a
    /// common power of ten (the exponents here are small enough to raise).
    fn plainly_multiple(a: &Number, d: &Number) -> bool {
        fn exact(x: &Number) -> (BigInt, i64) {
            match x {
                Number::Int(i) => (BigInt::from(*i), 0),
                Number::Big(b) => ((**b).clone(), 0),
                Number::Decimal(d) => {
                    let m = BigInt::parse_bytes(&d.digits, 10).unwrap();
                    (if d.neg { -m } else { m }, d.exp)
                }
                Number::Float(f) if f.fract() == 0.0 => (BigInt::from_f64(*f).unwrap(), 0),
                Number::Float(f) => {
                    let text = format!("{f:e}");
                    let (mantissa, exp) = text.split_once('e').unwrap();
                    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
                    let m: BigInt = format!("{int}{frac}").parse().unwrap();
                    (m, exp.parse::<i64>().unwrap() - frac.len() as i64)
                }
                Number::OutOfRange(_) => unreachable!(),
            }
        }
        let ((am, ae), (dm, de)) = (exact(a), exact(d));
        let e = ae.min(de);
        let ten = |k: i64| BigInt::from(10u8).pow(u32::try_from(k).unwrap());
        ((am * ten(ae - e)) % (dm * ten(de - e))).is_zero()
    }

    /// The divisor taken apart ([`Divisor`]) answers as the plain remainder, for
    /// integers of every size (JSON text's long ones as [`Decimal`]s), with exponents,
    /// negative, zero, floats with fractions, floats beyond f64 kept exact, and
    /// divisors made of powers of 2, 5 and 10, fractions, long integers.
    #[test]
    fn divisors_taken_apart_answer_as_the_plain_remainder() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let instance = |rng: &mut Rng| -> String {
            let sign = if rng.below(3) == 0 { "-" } else { "" };
            match rng.below(8) {
                0 => format!("{sign}{}", rng.below(1_000_000)),
                1 => format!("{sign}{}", rng.some_digits(15, 30)),
                2 => format!("{sign}{}", rng.some_digits(1000, 2500)),
                3 => format!(
                    "{sign}{}e{}",
                    rng.some_digits(1, 4),
                    [0, 3, 20, 300, 308, 309, 400, 1200, -5, -330, -400, -1200]
                        [rng.below(12) as usize]
                ),
                4 => format!("{sign}{}.{}", rng.some_digits(1, 6), rng.some_digits(1, 5)),
                5 => format!(
                    "{sign}{}.{}e-{}",
                    rng.some_digits(1, 3),
                    rng.some_digits(1, 3),
                    300 + rng.below(150)
                ),
                6 => ["0", "-0.0", "0e5"][rng.below(3) as usize].to_string(),
                _ => format!(
                    "{sign}{}{}",
                    rng.some_digits(1, 30),
                    "0".repeat(rng.below(1200) as usize)
                ),
            }
        };
        let divisor = |rng: &mut Rng| -> String {
            match rng.below(7) {
                0 => (1 + rng.below(1000)).to_string(),
                1 => [
                    "0.0001", "0.01", "0.5", "1.5", "0.25", "1e-5", "2.5e-3", "0.3", "1e-401",
                    "3e-330", "1e308", "1e400", "16e1100",
                ][rng.below(13) as usize]
                    .to_string(),
                2 => {
                    let base = BigUint::from([2u8, 5, 10][rng.below(3) as usize]);
                    let c = BigUint::from([1u8, 3, 7, 11][rng.below(4) as usize]);
                    (base.pow(1 + rng.below(60) as u32) * c).to_string()
                }
                3 => rng.some_digits(1000, 1500),
                4 => rng.some_digits(15, 25),
                5 => BigUint::from(5u8)
                    .pow(100 + rng.below(1500) as u32)
                    .to_string(),
                _ => format!("{}e{}", rng.some_digits(1, 3), rng.below(1300) as i64 - 20),
            }
        };
        let mut multiples = 0;
        for case in 0..1500 {
            let d_text = divisor(&mut rng);
            let d = n(&d_text);
            let a_text = match d_text.split_once('e').unwrap_or((&d_text, "0")) {
                // A multiple on purpose (digits appended, times a power of ten or not).
                (mantissa, exp) if case % 3 == 0 && !mantissa.contains('.') => {
                    let k = rng.some_digits(1, 40);
                    let shift = exp.parse::<i64>().unwrap() + rng.below(30) as i64;
                    format!("{mantissa}{k}e{shift}")
                }
                _ => instance(&mut rng),
            };
            let a = n(&a_text);
            let plain = plainly_multiple(&a, &d);
            multiples += usize::from(plain);
            let divisor = Divisor::new(d.clone()).unwrap();
            assert_eq!(divisor.divides(&a), plain, "{a_text} / {d_text}");
            assert_eq!(a.is_multiple_of(&d), plain, "{a_text} / {d_text}");
        }
        // Both verdicts are well represented.
        assert!(multiples > 200 && multiples < 1200, "{multiples}");
    }

    #[test]
    fn long_multiples_in_json_text_are_exact() {
        let mut rng = Rng(77);
        let d = rng.digits(20_000);
        let big = |s: &str| BigUint::parse_bytes(s.as_bytes(), 10).unwrap();
        let divisor = Divisor::new(n(&d)).unwrap();
        let three = (big(&d) * 3u8).to_string();
        assert!(divisor.divides(&n(&three)));
        assert!(divisor.divides(&n(&format!("-{three}"))));
        assert!(!divisor.divides(&n(&(big(&d) * 3u8 + 1u8).to_string())));
        assert!(divisor.divides(&n(&format!("{d}e1000000000"))));
        assert!(!divisor.divides(&n(&rng.digits(19_999))));
        assert!(!divisor.divides(&n(&format!("{}e-400", rng.digits(5)))));
        // A power of 5 (of 30,000 digits) and a power of 2 as divisors, against their
        // own multiples and not.
        let five = BigUint::from(5u8).pow(43_000);
        let divisor = Divisor::new(n(&five.to_string())).unwrap();
        assert_eq!((divisor.fives, divisor.twos), (43_000, 0));
        assert!(divisor.divides(&n(&(&five * 6u8).to_string())));
        assert!(!divisor.divides(&n(&(&five * 6u8 + 5u8).to_string())));
        let two = BigUint::from(2u8).pow(100_000);
        let divisor = Divisor::new(n(&two.to_string())).unwrap();
        assert!(divisor.divides(&n(&(&two * 7u8).to_string())));
        assert!(!divisor.divides(&n(&(&two * 7u8 + 2u8).to_string())));
        // Small divisors read the digits in one pass.
        let long = format!("{}{}", rng.digits(50_000), "0".repeat(10));
        let seven = (big(&long) * 7u8).to_string();
        assert!(n(&seven).is_multiple_of(&Number::Int(7)));
        assert!(n(&seven).is_multiple_of(&n("0.0001")));
        assert!(!n(&seven).is_multiple_of(&Number::Int(1 << 40)));
    }

    #[test]
    fn long_numbers_are_shortened_in_messages() {
        assert_eq!(
            n("1e400").to_string(),
            format!("1{}... (401 digits)", "0".repeat(39))
        );
        assert_eq!(
            n(&format!("-{}", "12".repeat(500_000))).to_string(),
            format!("-{}... (1000000 digits)", "12".repeat(20))
        );
        assert_eq!(n(&"9".repeat(64)).to_string(), "9".repeat(64));
        assert_eq!(n("1e-400").to_string(), "1e-400");
        assert_eq!(n("-1.25e-400").to_string(), "-1.25e-400");
        assert_eq!(
            n(&format!("0.{}e-400", "3".repeat(50))).to_string(),
            format!("3.{}...e-401", "3".repeat(39))
        );
        let huge = Number::Big(Box::new(BigInt::from(10u8).pow(100_000)));
        assert_eq!(huge.to_string(), "<integer of about 100001 digits>");
        assert_eq!(Number::Float(1.5).to_string(), "1.5");
    }

    fn hash_of(x: &Number) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        x.hash_value(&mut h);
        h.finish()
    }

    #[test]
    fn equal_numbers_hash_alike() {
        let groups = [
            vec![Number::Int(1), Number::Float(1.0), n("1e0"), n("10e-1")],
            vec![
                Number::Int(0),
                Number::Float(0.0),
                Number::Float(-0.0),
                n("-0"),
            ],
            vec![Number::Int(-7), Number::Float(-7.0)],
            vec![
                n("18446744073709551616"),
                Number::Float(18446744073709551616.0),
                n("1.8446744073709551616e19"),
            ],
            vec![n("1e400"), n(&format!("1{}", "0".repeat(400))), n("10e399")],
            vec![n("1e-400"), n("0.1e-399")],
        ];
        for group in &groups {
            for x in group {
                assert_eq!(hash_of(x), hash_of(&group[0]), "{x:?}");
            }
        }
        assert_ne!(hash_of(&Number::Int(1)), hash_of(&Number::Int(-1)));
        assert_ne!(hash_of(&Number::Float(0.5)), hash_of(&Number::Int(0)));
    }
}
