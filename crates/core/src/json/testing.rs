//! Helpers of the JSON reading tests: a small random generator, JSON
//! documents built at random, and comparisons with serde_json.

use std::borrow::Cow;

use serde_json::Value;

use super::{parse_value, JsonError, JsonErrorKind};
use crate::value::{Json, Number, MAX_DEPTH};

pub(crate) fn parse(s: &str) -> Result<Json<'_>, JsonError> {
    parse_value(s.as_bytes(), MAX_DEPTH)
}

pub(crate) fn parse_err(input: &[u8]) -> (JsonErrorKind, usize) {
    match parse_value(input, MAX_DEPTH) {
        Ok(v) => panic!("{:?} parsed as {v:?}", String::from_utf8_lossy(input)),
        Err(e) => (e.kind, e.offset),
    }
}

pub(crate) fn e(kind: JsonErrorKind, offset: usize) -> (JsonErrorKind, usize) {
    (kind, offset)
}

pub(crate) fn string_of(v: &Json<'_>) -> (String, bool) {
    match v {
        Json::String(Cow::Borrowed(s)) => (s.to_string(), true),
        Json::String(Cow::Owned(s)) => (s.clone(), false),
        other => panic!("not a string: {other:?}"),
    }
}

pub(crate) fn num<'v>(v: &'v Json<'_>) -> &'v Number {
    match v {
        Json::Number(n) => n,
        other => panic!("not a number: {other:?}"),
    }
}

/// Structural equality of two numbers, representation included.
pub(crate) fn same_number(a: &Number, b: &Number) -> bool {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => x == y,
        (Number::Big(x), Number::Big(y)) => x == y,
        (Number::Float(x), Number::Float(y)) => x.to_bits() == y.to_bits(),
        (Number::Decimal(x), Number::Decimal(y)) => x == y,
        (Number::OutOfRange(x), Number::OutOfRange(y)) => x == y,
        _ => false,
    }
}

/// Our DOM against serde_json's (numbers through their text).
pub(crate) fn same(ours: &Json<'_>, theirs: &Value) -> bool {
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
        (Json::Object(a, _), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

pub(crate) fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| (b'0' + rng.below(10) as u8) as char)
        .collect()
}

pub(crate) fn gen_number(rng: &mut Rng) -> String {
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

pub(crate) fn gen_string(rng: &mut Rng) -> String {
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

pub(crate) fn gen_value(rng: &mut Rng, depth: usize) -> Value {
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

pub(crate) fn gen_ws(rng: &mut Rng, out: &mut String) {
    if rng.chance(30) {
        for _ in 0..rng.below(4) {
            out.push([' ', '\n', '\t', '\r'][rng.below(4)]);
        }
    }
}

/// A serializer of our own: random whitespace, and strings with every
/// non-ASCII character as a `\u` escape (surrogate pairs included).
pub(crate) fn write_escaped(rng: &mut Rng, v: &Value, out: &mut String) {
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

pub(crate) fn write_escaped_str(rng: &mut Rng, s: &str, out: &mut String) {
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

pub(crate) fn gen_document(rng: &mut Rng) -> String {
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
