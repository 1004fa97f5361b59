//! The two representations a record can have, behind one trait.
//!
//! Checks are written once against [`Record`]. The core implements it for
//! [`Json`] (parsed JSON, or a dict taken apart for the thread pool); the
//! `py/` layer implements it for live Python objects so that the
//! single-threaded path reads records without copying them.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::ControlFlow;

use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive, Zero};

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

/// A JSON number, kept exact: integers beyond 64 bits stay integers.
#[derive(Clone, Debug)]
pub enum Number {
    Int(i64),
    Big(Box<BigInt>),
    Float(f64),
}

impl Number {
    /// JSON Schema's "integer": any number with a zero fractional part (`1.0` included).
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) | Number::Big(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }

    pub fn is_finite(&self) -> bool {
        match self {
            Number::Float(f) => f.is_finite(),
            _ => true,
        }
    }

    /// Parses JSON number text exactly (integers of any size, floats as f64).
    pub fn parse(text: &str) -> Option<Number> {
        let is_float = text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
        if !is_float {
            if let Ok(i) = text.parse::<i64>() {
                return Some(Number::Int(i));
            }
            return text
                .parse::<BigInt>()
                .ok()
                .map(|b| Number::Big(Box::new(b)));
        }
        text.parse::<f64>().ok().map(Number::Float)
    }

    pub fn from_bigint(b: BigInt) -> Number {
        match b.to_i64() {
            Some(i) => Number::Int(i),
            None => Number::Big(Box::new(b)),
        }
    }

    /// Exact comparison across representations; NaN compares as `None`.
    pub fn compare(&self, other: &Number) -> Option<Ordering> {
        match (self, other) {
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

    /// A value that is equal for equal numbers (`1` and `1.0` hash alike).
    pub fn canonical_hash_key(&self) -> (u8, u64) {
        match self {
            Number::Int(i) => (0, *i as u64),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => (0, *f as i64 as u64),
            Number::Float(f) => (1, f.to_bits()),
            Number::Big(b) => (
                2,
                b.iter_u64_digits().fold(0u64, |h, d| h.rotate_left(7) ^ d),
            ),
        }
    }

    pub fn to_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Big(b) => b.to_f64().unwrap_or(f64::NAN),
            Number::Float(f) => *f,
        }
    }

    /// Whether `self` is a multiple of `divisor` (> 0). Floats are compared as
    /// the decimals they print as, so `0.0075` is a multiple of `0.0001`.
    pub fn is_multiple_of(&self, divisor: &Number) -> bool {
        match (self, divisor) {
            (Number::Int(a), Number::Int(d)) => (*a as i128) % (*d as i128) == 0,
            _ => {
                let (a, ascale) = match self.to_decimal() {
                    Some(x) => x,
                    None => return false,
                };
                let (d, dscale) = match divisor.to_decimal() {
                    Some(x) => x,
                    None => return false,
                };
                if d.is_zero() {
                    return false;
                }
                let scale = ascale.max(dscale);
                let a = a * BigInt::from(10u8).pow(scale - ascale);
                let d = d * BigInt::from(10u8).pow(scale - dscale);
                (a % d).is_zero()
            }
        }
    }

    /// `(mantissa, scale)` with `self == mantissa / 10^scale`, from the shortest
    /// decimal that round-trips; `None` for NaN and infinities.
    fn to_decimal(&self) -> Option<(BigInt, u32)> {
        match self {
            Number::Int(i) => Some((BigInt::from(*i), 0)),
            Number::Big(b) => Some(((**b).clone(), 0)),
            Number::Float(f) => {
                if !f.is_finite() {
                    return None;
                }
                let text = format!("{f:e}");
                let (mantissa, exp) = text.split_once('e')?;
                let exp: i64 = exp.parse().ok()?;
                let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
                let digits: BigInt = format!("{int_part}{frac_part}").parse().ok()?;
                let scale = frac_part.len() as i64 - exp;
                if scale <= 0 {
                    let factor = BigInt::from(10u8).pow(u32::try_from(-scale).ok()?);
                    Some((digits * factor, 0))
                } else {
                    Some((digits, u32::try_from(scale).ok()?))
                }
            }
        }
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Big(b) => write!(f, "{b}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
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
        Number::Float(_) => return None,
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
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
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
    fn kind(&self) -> Kind;
    /// Only for [`Kind::Bool`].
    fn as_bool(&self) -> bool;
    /// Only for [`Kind::Number`].
    fn as_number(&self) -> Number;
    /// Only for [`Kind::String`]; `None` when the string is not valid Unicode.
    fn as_str(&self) -> Option<&str>;
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
    /// Only for [`Kind::Object`].
    fn object_len(&self) -> usize;
    /// Only for [`Kind::Object`]: the value under a string key (equality checks only).
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
    /// Only for [`Kind::Object`]; visits entries in order until `f` breaks.
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        f: F,
    ) -> ControlFlow<()>;
    /// A short name of the value's type for messages (`"object"`, `"set"`).
    fn type_name(&self) -> Cow<'_, str>;
    /// Why the value cannot be validated at all, if it cannot (too deep, not JSON).
    fn defect(&self) -> Option<Defect> {
        None
    }
}

/// A value that no schema can accept, reported before any keyword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Defect {
    TooDeep,
    InvalidString,
}

impl<'a> Record for &Json<'a> {
    #[inline]
    fn kind(&self) -> Kind {
        match self {
            Json::Null => Kind::Null,
            Json::Bool(_) => Kind::Bool,
            Json::Number(_) => Kind::Number,
            Json::String(_) | Json::InvalidString => Kind::String,
            Json::Array(_) => Kind::Array,
            Json::Object(_) => Kind::Object,
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
            Json::Object(entries) => entries.len(),
            _ => 0,
        }
    }
    fn object_get(&self, key: &str) -> Option<Self> {
        match self {
            Json::Object(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        if let Json::Object(entries) = self {
            for (key, value) in entries {
                let key = match value {
                    Json::InvalidKey(repr) => EntryKey::NotString(repr.clone()),
                    Json::InvalidStringKey => EntryKey::InvalidString,
                    _ => EntryKey::Str(key),
                };
                f(key, &value)?;
            }
        }
        ControlFlow::Continue(())
    }
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(n) if n.is_integer() && !matches!(n, Number::Float(_)) => "integer",
            Json::Number(_) => "number",
            Json::String(_) | Json::InvalidString => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
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
}
