//! `format` assertions: the 19 formats of JSON Schema 2020-12.
//!
//! Hand-written byte parsers, one per format, following the grammars the
//! JSON-Schema-Test-Suite (draft 2020-12, `optional/format`) expects:
//!
//! - `date`, `date-time`: RFC 3339 `full-date` / `date-time` (leap years,
//!   leap second `:60` only at 23:59 UTC after applying the offset,
//!   case-insensitive `T` and `Z`, numeric offsets `+hh:mm` / `-hh:mm`).
//! - `email`: RFC 5321 `Mailbox` (dot-atom or quoted local part; a hostname,
//!   `[IPv4]` or `[IPv6:...]` domain).
//! - `uri`: RFC 3986 `URI` (absolute: scheme required).
//! - `uuid`: RFC 4122 string form, 8-4-4-4-12 hex digits, any version/variant.
//! - `ipv4`: dotted quad, four decimal octets 0..=255 without leading zeros.
//!
//! - `time`: RFC 3339 `full-time`, the leap-second rule of `date-time`.
//! - `duration`: RFC 3339 Appendix A `duration` (ISO 8601: `P`, date
//!   elements in order, `T` and time elements in order, or weeks alone;
//!   integers only).
//! - `hostname`: RFC 1123 labels; an `xn--` label must be a valid A-label
//!   (RFC 5890/5891: it decodes to a U-label that passes `idn-hostname`).
//! - `idn-hostname`: RFC 5890-5893 (IDNA2008): labels separated by `.`,
//!   U+3002, U+FF0E or U+FF61; U-labels of PVALID code points with the
//!   CONTEXTJ/CONTEXTO rules of RFC 5892 and the Bidi rule of RFC 5893,
//!   A-labels checked by decoding them (see [`idna`]).
//! - `email`, `idn-email`: as above; `idn-email` (RFC 6531) also takes
//!   non-ASCII characters in the local part and an `idn-hostname` domain.
//! - `ipv6`: RFC 4291 text form, an IPv4 tail allowed, no zone or prefix.
//! - `uri-reference`, `iri`, `iri-reference`: RFC 3986 `URI-reference`,
//!   RFC 3987 `IRI` / `IRI-reference` (non-ASCII characters allowed where
//!   RFC 3986 takes unreserved characters).
//! - `uri-template`: RFC 6570 (level 4), with the apostrophe allowed in
//!   literals as the JSON-Schema-Test-Suite expects.
//! - `json-pointer`: RFC 6901; `relative-json-pointer`: the draft
//!   `relative-json-pointer` grammar (a non-negative integer, then `#` or a
//!   JSON pointer; from 2020-12, draft-bhutton-relative-json-pointer-00, an
//!   index adjustment `+N` or `-N` may follow the integer).
//! - `regex`: ECMA-262 syntax, read by [`crate::pattern`].
//!
//! Every check works on the bytes of the string; `idn-hostname`, `idn-email`,
//! `hostname` with A-labels and `regex` decode or parse, and allocate. No input
//! panics.

use crate::schema::Draft;

mod idna;
#[allow(clippy::unreadable_literal)]
mod idna_tables;

/// A `format` value that we assert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Date,
    Time,
    DateTime,
    Duration,
    Email,
    IdnEmail,
    Hostname,
    IdnHostname,
    Ipv4,
    Ipv6,
    Uri,
    UriReference,
    Iri,
    IriReference,
    UriTemplate,
    Uuid,
    JsonPointer,
    RelativeJsonPointer,
    /// `relative-json-pointer` as 2020-12 defines it (draft-bhutton-relative-json-pointer-00):
    /// an index adjustment (`+1`, `-2`) may follow the integer. Not in [`Format::ALL`]: it has
    /// the name of [`Format::RelativeJsonPointer`], and [`Format::from_name_in`] gives it.
    RelativeJsonPointerIndexed,
    Regex,
}

impl Format {
    /// Every format we assert.
    pub const ALL: [Format; 19] = [
        Format::Date,
        Format::Time,
        Format::DateTime,
        Format::Duration,
        Format::Email,
        Format::IdnEmail,
        Format::Hostname,
        Format::IdnHostname,
        Format::Ipv4,
        Format::Ipv6,
        Format::Uri,
        Format::UriReference,
        Format::Iri,
        Format::IriReference,
        Format::UriTemplate,
        Format::Uuid,
        Format::JsonPointer,
        Format::RelativeJsonPointer,
        Format::Regex,
    ];

    /// The name as written in a schema ("date-time").
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Date => "date",
            Format::Time => "time",
            Format::DateTime => "date-time",
            Format::Duration => "duration",
            Format::Email => "email",
            Format::IdnEmail => "idn-email",
            Format::Hostname => "hostname",
            Format::IdnHostname => "idn-hostname",
            Format::Ipv4 => "ipv4",
            Format::Ipv6 => "ipv6",
            Format::Uri => "uri",
            Format::UriReference => "uri-reference",
            Format::Iri => "iri",
            Format::IriReference => "iri-reference",
            Format::UriTemplate => "uri-template",
            Format::Uuid => "uuid",
            Format::JsonPointer => "json-pointer",
            Format::RelativeJsonPointer | Format::RelativeJsonPointerIndexed => {
                "relative-json-pointer"
            }
            Format::Regex => "regex",
        }
    }

    /// `None` for a format name we do not assert.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The draft that first defines this format (each later draft keeps it).
    ///
    /// Draft 4: `date-time`, `email`, `hostname`, `ipv4`, `ipv6`, `uri`; draft 6
    /// adds `uri-reference`, `uri-template`, `json-pointer`; draft 7 adds
    /// `date`, `time`, `idn-email`, `idn-hostname`, `iri`, `iri-reference`,
    /// `relative-json-pointer`, `regex`; 2019-09 adds `duration` and `uuid`.
    #[must_use]
    pub fn since(self) -> Draft {
        match self {
            Format::DateTime
            | Format::Email
            | Format::Hostname
            | Format::Ipv4
            | Format::Ipv6
            | Format::Uri => Draft::Draft4,
            Format::UriReference | Format::UriTemplate | Format::JsonPointer => Draft::Draft6,
            Format::Date
            | Format::Time
            | Format::IdnEmail
            | Format::IdnHostname
            | Format::Iri
            | Format::IriReference
            | Format::RelativeJsonPointer
            | Format::Regex => Draft::Draft7,
            Format::Duration | Format::Uuid => Draft::Draft201909,
            Format::RelativeJsonPointerIndexed => Draft::Draft202012,
        }
    }

    /// The format `name` names in `draft`; `None` where that draft does not
    /// define it (an annotation there, like any unknown name).
    #[must_use]
    pub fn from_name_in(name: &str, draft: Draft) -> Option<Format> {
        match Format::from_name(name).filter(|f| f.since() <= draft)? {
            Format::RelativeJsonPointer if draft >= Draft::Draft202012 => {
                Some(Format::RelativeJsonPointerIndexed)
            }
            format => Some(format),
        }
    }

    /// Whether `s` is a valid instance of this format.
    #[must_use]
    pub fn is_valid(self, s: &str) -> bool {
        let b = s.as_bytes();
        match self {
            Format::Date => is_date(b),
            Format::Time => is_time(b),
            Format::DateTime => is_date_time(b),
            Format::Duration => is_duration(b),
            Format::Email => is_email(b, false),
            Format::IdnEmail => is_email(b, true),
            Format::Hostname => is_hostname(s),
            Format::IdnHostname => idna::is_idn_hostname(s),
            Format::Ipv4 => is_ipv4(b),
            Format::Ipv6 => is_ipv6(b),
            Format::Uri => is_uri_reference(b, false, false),
            Format::UriReference => is_uri_reference(b, true, false),
            Format::Iri => is_uri_reference(b, false, true),
            Format::IriReference => is_uri_reference(b, true, true),
            Format::UriTemplate => is_uri_template(b),
            Format::Uuid => is_uuid(b),
            Format::JsonPointer => is_json_pointer(b),
            Format::RelativeJsonPointer => is_relative_json_pointer(b, false),
            Format::RelativeJsonPointerIndexed => is_relative_json_pointer(b, true),
            Format::Regex => crate::pattern::is_valid_syntax_memo(s),
        }
    }

    /// Relative cost of one check, a pure number used by the schema
    /// complexity score (no unit; compare with each other only): fixed-width
    /// scans (`uuid`, `ipv4`, `date`, `time`) and one-pass scans
    /// (`json-pointer`, `relative-json-pointer`, `duration`) weigh 2.0;
    /// `date-time`, `email`, `hostname` and `ipv6` weigh 3.0; the URI family
    /// and `uri-template` weigh 4.0; `idn-email` and `idn-hostname` (Punycode,
    /// table look-ups per code point) weigh 6.0; `regex` (a regular
    /// expression parsed per value) weighs 8.0.
    #[must_use]
    pub fn cost(self) -> f64 {
        match self {
            Format::Uuid
            | Format::Ipv4
            | Format::Date
            | Format::Time
            | Format::Duration
            | Format::JsonPointer
            | Format::RelativeJsonPointer
            | Format::RelativeJsonPointerIndexed => 2.0,
            Format::DateTime | Format::Email | Format::Hostname | Format::Ipv6 => 3.0,
            Format::Uri
            | Format::UriReference
            | Format::Iri
            | Format::IriReference
            | Format::UriTemplate => 4.0,
            Format::IdnEmail | Format::IdnHostname => 6.0,
            Format::Regex => 8.0,
        }
    }
}

// ---------------------------------------------------------------------------
// Character classes (one lookup table, one bit per class).

const ALPHA: u16 = 1;
const DIGIT: u16 = 1 << 1;
const HEX: u16 = 1 << 2;
/// RFC 3986 `unreserved`: ALPHA / DIGIT / "-" / "." / "_" / "~".
const UNRESERVED: u16 = 1 << 3;
/// RFC 3986 `sub-delims`: "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
const SUB_DELIM: u16 = 1 << 4;
/// RFC 5322 `atext`.
const ATEXT: u16 = 1 << 5;
/// RFC 3986 scheme characters after the first: ALPHA / DIGIT / "+" / "-" / ".".
const SCHEME: u16 = 1 << 6;
/// RFC 3986 `userinfo` characters: unreserved / sub-delims / ":".
const USERINFO: u16 = 1 << 7;
/// RFC 3986 path characters: `pchar` (unreserved / sub-delims / ":" / "@") / "/".
const PATH: u16 = 1 << 8;
/// RFC 3986 query and fragment characters: `pchar` / "/" / "?".
const QUERY: u16 = 1 << 9;

const fn class_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut b = 0u8;
    loop {
        let mut f = 0u16;
        let alpha = b.is_ascii_alphabetic();
        let digit = b.is_ascii_digit();
        if alpha {
            f |= ALPHA;
        }
        if digit {
            f |= DIGIT;
        }
        if b.is_ascii_hexdigit() {
            f |= HEX;
        }
        if alpha || digit || matches!(b, b'-' | b'.' | b'_' | b'~') {
            f |= UNRESERVED;
        }
        if matches!(
            b,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
        ) {
            f |= SUB_DELIM;
        }
        if alpha
            || digit
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            )
        {
            f |= ATEXT;
        }
        if alpha || digit || matches!(b, b'+' | b'-' | b'.') {
            f |= SCHEME;
        }
        if f & (UNRESERVED | SUB_DELIM) != 0 || b == b':' {
            f |= USERINFO;
        }
        if f & USERINFO != 0 || matches!(b, b'@' | b'/') {
            f |= PATH;
        }
        if f & PATH != 0 || b == b'?' {
            f |= QUERY;
        }
        t[b as usize] = f;
        if b == u8::MAX {
            return t;
        }
        b += 1;
    }
}

static CLASS: [u16; 256] = class_table();

#[inline]
fn is(b: u8, class: u16) -> bool {
    CLASS[b as usize] & class != 0
}

#[inline]
fn hex_count(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| is(c, HEX)).count()
}

// ---------------------------------------------------------------------------
// uuid

/// RFC 4122 string form: 8-4-4-4-12 hex digits, any case, any version and
/// variant nibble.
fn is_uuid(b: &[u8]) -> bool {
    if b.len() != 36 {
        return false;
    }
    b.iter().enumerate().all(|(i, &c)| match i {
        8 | 13 | 18 | 23 => c == b'-',
        _ => is(c, HEX),
    })
}

// ---------------------------------------------------------------------------
// ipv4

/// A dotted quad: exactly four decimal octets 0..=255, ASCII digits only,
/// no leading zeros ("0" itself is fine), nothing else.
fn is_ipv4(b: &[u8]) -> bool {
    let mut parts = 0;
    let mut i = 0;
    loop {
        let start = i;
        let mut value: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            value = value * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || value > 255 || (len > 1 && b[start] == b'0') {
            return false;
        }
        parts += 1;
        if parts == 4 {
            return i == b.len();
        }
        if i >= b.len() || b[i] != b'.' {
            return false;
        }
        i += 1;
    }
}

// ---------------------------------------------------------------------------
// ipv6 (inside URI host literals and email address literals)

/// RFC 4291 / RFC 3986 `IPv6address`: eight groups of 1..=4 hex digits, at
/// most one `::` standing for one or more zero groups, and an optional
/// dotted-quad tail (strict [`is_ipv4`]) counting as two groups.
fn is_ipv6(b: &[u8]) -> bool {
    let n = b.len();
    let mut i = 0;
    let mut groups = 0u32;
    let mut compressed = false;
    if n >= 2 && b[0] == b':' && b[1] == b':' {
        compressed = true;
        i = 2;
        if i == n {
            return true;
        }
    }
    loop {
        let start = i;
        let digits = hex_count(&b[i..]);
        i += digits;
        if i < n && b[i] == b'.' {
            // Embedded IPv4 address: must be the last piece.
            if !is_ipv4(&b[start..]) {
                return false;
            }
            groups += 2;
            break;
        }
        if digits == 0 || digits > 4 {
            return false;
        }
        groups += 1;
        if groups > 8 {
            return false;
        }
        if i == n {
            break;
        }
        if b[i] != b':' {
            return false;
        }
        i += 1;
        if i < n && b[i] == b':' {
            if compressed {
                return false;
            }
            compressed = true;
            i += 1;
            if i == n {
                break;
            }
        } else if i == n {
            // A single trailing colon.
            return false;
        }
    }
    if compressed {
        groups <= 7
    } else {
        groups == 8
    }
}

// ---------------------------------------------------------------------------
// date, date-time

#[inline]
fn two_digits(b: &[u8], at: usize) -> Option<u16> {
    match (b.get(at), b.get(at + 1)) {
        (Some(&h), Some(&l)) if h.is_ascii_digit() && l.is_ascii_digit() => {
            Some(u16::from(h - b'0') * 10 + u16::from(l - b'0'))
        }
        _ => None,
    }
}

fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u16) -> u16 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// RFC 3339 `full-date` at the start of `b` (exactly ten bytes are read).
fn date_prefix_ok(b: &[u8]) -> bool {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y1), Some(y2), Some(month), Some(day)) = (
        two_digits(b, 0),
        two_digits(b, 2),
        two_digits(b, 5),
        two_digits(b, 8),
    ) else {
        return false;
    };
    let year = y1 * 100 + y2;
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// RFC 3339 `full-date`: `YYYY-MM-DD`.
fn is_date(b: &[u8]) -> bool {
    b.len() == 10 && date_prefix_ok(b)
}

/// RFC 3339 `date-time`: `full-date "T" full-time`, with `T` and `Z` in
/// either case. A leap second (`:60`) is accepted only where the time,
/// shifted to UTC by its offset, is 23:59.
fn is_date_time(b: &[u8]) -> bool {
    b.len() > 11 && date_prefix_ok(b) && matches!(b[10], b'T' | b't') && is_time(&b[11..])
}

/// RFC 3339 `full-time`: `hh:mm:ss[.frac]` and a `Z` or `+hh:mm`/`-hh:mm`
/// offset (always required). A leap second (`:60`) only where the time,
/// shifted to UTC by its offset, is 23:59.
fn is_time(b: &[u8]) -> bool {
    // Shortest form: "hh:mm:ssZ" (9 bytes).
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (two_digits(b, 0), two_digits(b, 3), two_digits(b, 6))
    else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 8;
    if b[i] == b'.' {
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
    }
    // time-offset
    let offset_minutes: i32 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            if b.get(i + 3) != Some(&b':') {
                return false;
            }
            let (Some(oh), Some(om)) = (two_digits(b, i + 1), two_digits(b, i + 4)) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            i += 6;
            let m = i32::from(oh * 60 + om);
            if sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return false,
    };
    if i != b.len() {
        return false;
    }
    if second == 60 {
        let local = i32::from(hour * 60 + minute);
        let utc = (local - offset_minutes).rem_euclid(24 * 60);
        if utc != 23 * 60 + 59 {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------
// duration

/// RFC 3339 Appendix A `duration`:
///
/// ```text
/// duration   = "P" (dur-date / dur-time / dur-week)
/// dur-date   = (dur-day / dur-month / dur-year) [dur-time]
/// dur-time   = "T" (dur-hour / dur-minute / dur-second)
/// dur-year   = 1*DIGIT "Y" [dur-month]     dur-month  = 1*DIGIT "M" [dur-day]
/// dur-day    = 1*DIGIT "D"                 dur-hour   = 1*DIGIT "H" [dur-minute]
/// dur-minute = 1*DIGIT "M" [dur-second]    dur-second = 1*DIGIT "S"
/// dur-week   = 1*DIGIT "W"
/// ```
///
/// So the elements come in order without gaps (`P1Y2D` lacks the month,
/// `PT1H2S` the minute), and weeks stand alone.
fn is_duration(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"P") else {
        return false;
    };
    // Each element: digits then a unit letter.
    let mut elements = Vec::new();
    let mut i = 0;
    let mut time_at = None;
    while i < rest.len() {
        if rest[i] == b'T' {
            if time_at.is_some() {
                return false;
            }
            time_at = Some(elements.len());
            i += 1;
            continue;
        }
        let digits = rest[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
        let Some(&unit) = rest.get(i) else {
            return false;
        };
        i += 1;
        elements.push(unit);
    }
    let (date, time) = match time_at {
        Some(at) => elements.split_at(at),
        None => (&elements[..], &[][..]),
    };
    if time_at.is_some() && time.is_empty() {
        return false;
    }
    if date.is_empty() && time.is_empty() {
        return false;
    }
    if date == b"W" {
        return time_at.is_none();
    }
    consecutive(date, b"YMD") && consecutive(time, b"HMS")
}

/// Whether `units` is a run of consecutive letters of `order` (or empty).
fn consecutive(units: &[u8], order: &[u8]) -> bool {
    if units.is_empty() {
        return true;
    }
    order.windows(units.len()).any(|w| w == units)
}

// ---------------------------------------------------------------------------
// email

/// RFC 5321 `Mailbox`: `Local-part "@" ( Domain / address-literal )`.
///
/// The local part is a dot-atom (atext runs separated by single dots, no
/// leading or trailing dot) or a quoted string (printable ASCII and space,
/// with `\` escapes), at most 64 bytes. The domain is a hostname (labels of
/// letters, digits and inner hyphens, 1..=63 bytes each, 253 in all), an
/// `[IPv4]` literal or an `[IPv6:...]` literal.
///
/// With `idn` (RFC 6531 `idn-email`), any non-ASCII character also counts as
/// `atext` and `qtext`, and the domain is an `idn-hostname`.
fn is_email(b: &[u8], idn: bool) -> bool {
    let n = b.len();
    let text = |c: u8| is(c, ATEXT) || (idn && c >= 0x80);
    let mut i;
    match b.first() {
        None => return false,
        Some(b'"') => {
            i = 1;
            loop {
                match b.get(i) {
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => match b.get(i + 1) {
                        Some(&c) if (32..=126).contains(&c) || (idn && c >= 0x80) => i += 2,
                        _ => return false,
                    },
                    // qtextSMTP: %d32-33 / %d35-91 / %d93-126
                    Some(&c) if (32..=126).contains(&c) || (idn && c >= 0x80) => i += 1,
                    _ => return false,
                }
            }
        }
        Some(_) => {
            i = 0;
            loop {
                let atom = b[i..].iter().take_while(|&&c| text(c)).count();
                if atom == 0 {
                    return false;
                }
                i += atom;
                if i < n && b[i] == b'.' {
                    i += 1;
                } else {
                    break;
                }
            }
        }
    }
    if i > 64 || i >= n || b[i] != b'@' {
        return false;
    }
    let domain = &b[i + 1..];
    match domain.first() {
        None => false,
        Some(b'[') => {
            let Some((&b']', inner)) = domain[1..].split_last() else {
                return false;
            };
            if inner.len() >= 5 && inner[..5].eq_ignore_ascii_case(b"IPv6:") {
                is_ipv6(&inner[5..])
            } else {
                is_ipv4(inner)
            }
        }
        Some(_) if idn => std::str::from_utf8(domain).is_ok_and(idna::is_idn_hostname),
        Some(_) => is_ldh_hostname(domain),
    }
}

/// RFC 1123 hostname: dot-separated labels of letters, digits and hyphens,
/// no label empty, longer than 63 bytes, or starting or ending with a
/// hyphen; 253 bytes at most.
fn is_ldh_hostname(b: &[u8]) -> bool {
    if b.is_empty() || b.len() > 253 {
        return false;
    }
    b.split(|&c| c == b'.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label[0] != b'-'
            && label[label.len() - 1] != b'-'
            && label
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    })
}

/// `hostname`: an RFC 1123 hostname ([`is_ldh_hostname`]) whose `xn--`
/// labels are valid A-labels (RFC 5891 section 5.4: they decode to a valid
/// U-label that encodes back to the same text).
fn is_hostname(s: &str) -> bool {
    is_ldh_hostname(s.as_bytes())
        && s.split('.').all(|label| {
            !label
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
                || idna::is_a_label(label)
        })
}

// ---------------------------------------------------------------------------
// json-pointer, relative-json-pointer

/// RFC 6901: empty, or `/`-prefixed reference tokens in which `~` is always
/// followed by `0` or `1`.
fn is_json_pointer(b: &[u8]) -> bool {
    if b.is_empty() {
        return true;
    }
    if b[0] != b'/' {
        return false;
    }
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// `relative-json-pointer`: a non-negative integer (no leading zero), with
/// `indexed` (2020-12) an optional index adjustment (`+` or `-` and such an
/// integer), then `#` or a JSON pointer.
fn is_relative_json_pointer(b: &[u8], indexed: bool) -> bool {
    let Some(mut rest) = after_non_negative_integer(b) else {
        return false;
    };
    if indexed {
        if let [b'+' | b'-', adjustment @ ..] = rest {
            let Some(after) = after_non_negative_integer(adjustment) else {
                return false;
            };
            rest = after;
        }
    }
    rest == b"#" || is_json_pointer(rest)
}

/// What follows the non-negative integer (`0`, or digits without a leading
/// `0`) that `b` starts with; `None` where it starts with none.
fn after_non_negative_integer(b: &[u8]) -> Option<&[u8]> {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || (digits > 1 && b[0] == b'0') {
        return None;
    }
    Some(&b[digits..])
}

// ---------------------------------------------------------------------------
// uri-template

/// RFC 6570 URI Template (level 4): literals and `{` expressions `}`.
///
/// A literal is any character but controls, space, `"`, `<`, `>`, `\`, `^`,
/// `` ` ``, `{`, `|`, `}`, with `%` only in a pct-encoded triplet. An
/// expression is an optional operator (`+ # . / ; ? &`) and a comma-separated
/// list of varspecs: a varname (`ALPHA / DIGIT / "_" / pct-encoded`, with
/// single inner dots), then `*` or `:` and a max-length of 1..=9999.
fn is_uri_template(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                let Some(len) = b[i + 1..].iter().position(|&c| c == b'}') else {
                    return false;
                };
                if !is_template_expression(&b[i + 1..i + 1 + len]) {
                    return false;
                }
                i += len + 2;
            }
            b'%' => match (b.get(i + 1), b.get(i + 2)) {
                (Some(&h), Some(&l)) if is(h, HEX) && is(l, HEX) => i += 3,
                _ => return false,
            },
            c if c < 0x21 || c == 0x7F => return false,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'|' | b'}' => return false,
            _ => i += 1,
        }
    }
    true
}

fn is_template_expression(b: &[u8]) -> bool {
    let body = match b.first() {
        Some(b'+' | b'#' | b'.' | b'/' | b';' | b'?' | b'&') => &b[1..],
        _ => b,
    };
    body.split(|&c| c == b',').all(|varspec| {
        let (name, modifier) = match varspec.iter().position(|&c| c == b':' || c == b'*') {
            Some(at) => varspec.split_at(at),
            None => (varspec, &[][..]),
        };
        is_varname(name)
            && match modifier {
                [] | [b'*'] => true,
                [b':', digits @ ..] => {
                    !digits.is_empty()
                        && digits.len() <= 4
                        && digits[0] != b'0'
                        && digits.iter().all(u8::is_ascii_digit)
                }
                _ => false,
            }
    })
}

/// `varname = varchar *( ["."] varchar )`, `varchar = ALPHA / DIGIT / "_" / pct-encoded`.
fn is_varname(b: &[u8]) -> bool {
    if b.is_empty() || b[0] == b'.' || b[b.len() - 1] == b'.' {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_alphanumeric() || c == b'_' => i += 1,
            b'.' if b[i - 1] != b'.' => i += 1,
            b'%' => match (b.get(i + 1), b.get(i + 2)) {
                (Some(&h), Some(&l)) if is(h, HEX) && is(l, HEX) => i += 3,
                _ => return false,
            },
            _ => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------
// uri

/// Length of the run of RFC 3986 characters at the start of `b` that are in
/// `class` or pct-encoded (with `iri`, any non-ASCII byte too: RFC 3987
/// `ucschar`/`iprivate`); `None` on a malformed percent-encoding.
#[inline]
fn uri_run(b: &[u8], class: u16, iri: bool) -> Option<usize> {
    let mut i = 0;
    loop {
        // The run of plain bytes of the class first, in one tight scan (most
        // of a URI): this loop was a tenth of a record's time on manifests.
        i += b[i..]
            .iter()
            .position(|&c| !is(c, class))
            .unwrap_or(b.len() - i);
        let Some(&byte) = b.get(i) else {
            break;
        };
        if iri && byte >= 0x80 {
            i += 1;
        } else if byte == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(&hi), Some(&lo)) if is(hi, HEX) && is(lo, HEX) => i += 3,
                _ => return None,
            }
        } else {
            break;
        }
    }
    Some(i)
}

/// RFC 3986 `URI`: `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`;
/// with `relative`, `URI-reference` (a URI or a `relative-ref`); with `iri`,
/// the RFC 3987 forms, where non-ASCII characters count as unreserved.
fn is_uri_reference(b: &[u8], relative: bool, iri: bool) -> bool {
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let scheme = match b.first() {
        Some(&c) if is(c, ALPHA) => 1 + b[1..].iter().take_while(|&&c| is(c, SCHEME)).count(),
        _ => 0,
    };
    let mut i = if scheme > 0 && b.get(scheme) == Some(&b':') {
        scheme + 1
    } else if relative {
        // relative-ref: a first path segment may not hold ":" (path-noscheme).
        let segment = b
            .iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#'))
            .unwrap_or(b.len());
        if b[..segment].contains(&b':') {
            return false;
        }
        0
    } else {
        return false;
    };

    // hier-part / relative-part
    if b[i..].starts_with(b"//") {
        i += 2;
        let auth_len = b[i..]
            .iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#'))
            .unwrap_or(b.len() - i);
        if !is_authority(&b[i..i + auth_len], iri) {
            return false;
        }
        i += auth_len;
        // path-abempty: empty or starting with "/" (guaranteed by the split).
    }
    // path-abempty / path-absolute / path-rootless / path-empty: pchar and
    // "/" (a leading "//" was taken as an authority above).
    let Some(path) = uri_run(&b[i..], PATH, iri) else {
        return false;
    };
    i += path;

    if b.get(i) == Some(&b'?') {
        i += 1;
        let Some(query) = uri_run(&b[i..], QUERY, iri) else {
            return false;
        };
        i += query;
    }
    if b.get(i) == Some(&b'#') {
        i += 1;
        let Some(fragment) = uri_run(&b[i..], QUERY, iri) else {
            return false;
        };
        i += fragment;
    }
    i == b.len()
}

/// RFC 3986 `authority = [ userinfo "@" ] host [ ":" port ]`.
fn is_authority(b: &[u8], iri: bool) -> bool {
    let mut rest = b;
    // userinfo = *( unreserved / pct-encoded / sub-delims / ":" ); it cannot
    // hold "@", so the first "@" ends it.
    if let Some(at) = rest.iter().position(|&c| c == b'@') {
        if uri_run(&rest[..at], USERINFO, iri) != Some(at) {
            return false;
        }
        rest = &rest[at + 1..];
    }
    // host = IP-literal / IPv4address / reg-name
    let host_len = if rest.first() == Some(&b'[') {
        let Some(close) = rest.iter().position(|&c| c == b']') else {
            return false;
        };
        if !is_ip_literal(&rest[1..close]) {
            return false;
        }
        close + 1
    } else {
        // reg-name = *( unreserved / pct-encoded / sub-delims ); IPv4address
        // is a subset of it.
        match uri_run(rest, UNRESERVED | SUB_DELIM, iri) {
            Some(len) => len,
            None => return false,
        }
    };
    let rest = &rest[host_len..];
    // [ ":" port ], port = *DIGIT
    match rest.split_first() {
        None => true,
        Some((b':', port)) => port.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// The inside of an RFC 3986 `IP-literal`: `IPv6address / IPvFuture`.
fn is_ip_literal(b: &[u8]) -> bool {
    if let Some((&v, rest)) = b.split_first() {
        if v == b'v' || v == b'V' {
            // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
            let digits = hex_count(rest);
            if digits == 0 || rest.get(digits) != Some(&b'.') {
                return false;
            }
            let tail = &rest[digits + 1..];
            return !tail.is_empty()
                && tail
                    .iter()
                    .all(|&c| is(c, UNRESERVED | SUB_DELIM) || c == b':');
        }
    }
    is_ipv6(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(format: Format, valid: &[&str], invalid: &[&str]) {
        for s in valid {
            assert!(format.is_valid(s), "{} should accept {s:?}", format.name());
        }
        for s in invalid {
            assert!(!format.is_valid(s), "{} should reject {s:?}", format.name());
        }
    }

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("date-time"), Some(Format::DateTime));
        assert_eq!(Format::DateTime.name(), "date-time");
        assert_eq!(Format::from_name("ipv6"), Some(Format::Ipv6));
        assert_eq!(Format::from_name("color"), None);
        assert_eq!(Format::from_name_in("json-pointer", Draft::Draft4), None);
        assert_eq!(
            Format::from_name_in("json-pointer", Draft::Draft6),
            Some(Format::JsonPointer)
        );
        assert_eq!(Format::from_name_in("uuid", Draft::Draft7), None);
        assert_eq!(
            Format::from_name_in("uuid", Draft::Draft202012),
            Some(Format::Uuid)
        );
        assert_eq!(Format::from_name("Email"), None);
        assert_eq!(Format::from_name(""), None);
    }

    #[test]
    fn relative_json_pointers_take_an_index_adjustment_from_2020_12() {
        // The examples of draft-bhutton-relative-json-pointer-00 (2020-12's reference) and
        // of its ABNF; draft-handrews-relative-json-pointer-02 (2019-09, draft 7) has none.
        let adjusted = [
            "0+1",
            "0-1#",
            "0+2/baz",
            "1-2",
            "1+1/2/baz",
            "0+0",
            "10-10/a~1b",
        ];
        let never = [
            "0+", "0-", "+1", "0+01", "0++1", "0+-1", "0+1+1", "0+a", "0+1##", "0+1~",
        ];
        let draft = |d| Format::from_name_in("relative-json-pointer", d).unwrap();
        let newer = draft(Draft::Draft202012);
        assert_eq!(newer, Format::RelativeJsonPointerIndexed);
        assert_eq!(newer.name(), "relative-json-pointer");
        check(newer, &adjusted, &never);
        check(
            newer,
            &["0", "1/a", "0#", "120/foo/bar"],
            &["01", "-1/a", ""],
        );
        for d in [Draft::Draft7, Draft::Draft201909] {
            assert_eq!(draft(d), Format::RelativeJsonPointer);
            check(draft(d), &[], &adjusted);
        }
    }

    #[test]
    #[allow(clippy::float_cmp)] // exact constants
    fn costs() {
        assert_eq!(Format::Uuid.cost(), 2.0);
        assert_eq!(Format::Ipv4.cost(), 2.0);
        assert_eq!(Format::Date.cost(), 2.0);
        assert_eq!(Format::DateTime.cost(), 3.0);
        assert_eq!(Format::Email.cost(), 3.0);
        assert_eq!(Format::Uri.cost(), 4.0);
        assert_eq!(Format::IdnHostname.cost(), 6.0);
        assert_eq!(Format::Regex.cost(), 8.0);
    }

    #[test]
    fn uuid() {
        check(
            Format::Uuid,
            &[
                "123e4567-e89b-12d3-a456-426614174000",
                "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
                "00000000-0000-0000-0000-000000000000",
            ],
            &[
                "",
                "123e4567e89b12d3a456426614174000",
                "{123e4567-e89b-12d3-a456-426614174000}",
                "123e4567-e89b-12d3-a456-42661417400g",
                "123e4567-e89b-12d3-a456_426614174000",
                "123e4567-e89b-12d3-a456-4266141740000",
                "123e4567-e89b-12d3-a456-42661417400é",
            ],
        );
    }

    #[test]
    fn ipv4() {
        check(
            Format::Ipv4,
            &["0.0.0.0", "1.2.3.4", "255.255.255.255", "10.0.100.249"],
            &[
                "",
                "01.2.3.4",
                "1.2.3.04",
                "00.0.0.0",
                "1.2.3.256",
                "1.2.3.1000",
                "1.2.3",
                "1.2.3.4.5",
                "1.2.3.",
                ".1.2.3",
                "1..2.3",
                "1.2.3.4 ",
                "1.2.3.a",
                "١.٢.٣.٤",
            ],
        );
    }

    #[test]
    fn ipv6_literals() {
        for s in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "fe80::1:2",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "ABCD:ef01::",
        ] {
            assert!(is_ipv6(s.as_bytes()), "{s:?}");
        }
        for s in [
            "",
            ":",
            ":1",
            "1:",
            ":::",
            "1::2::3",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "12345::",
            "::ffff:01.2.3.4",
            "::ffff:1.2.3",
            "::1.2.3.4:1",
            "1:2:3:4:5:6:7:1.2.3.4",
            "g::",
        ] {
            assert!(!is_ipv6(s.as_bytes()), "{s:?}");
        }
    }

    #[test]
    fn date() {
        check(
            Format::Date,
            &["2000-02-29", "0000-02-29", "9999-12-31", "2023-01-01"],
            &[
                "",
                "1900-02-29",
                "2023-02-29",
                "2023-13-01",
                "2023-00-10",
                "2023-01-00",
                "2023-1-01",
                "2023/01/01",
                "2023-01-01T00:00:00Z",
                "２０２３-01-01",
            ],
        );
    }

    #[test]
    fn date_time() {
        check(
            Format::DateTime,
            &[
                "2023-01-01T00:00:00Z",
                "2023-01-01t00:00:00z",
                "2023-01-01T00:00:00.1+05:30",
                "2023-06-30T23:59:60Z",
                "2023-06-30T23:59:60.5z",
                "2023-07-01T00:59:60+01:00",
                "2023-06-30T00:29:60+00:30",
                "2023-06-30T22:59:60-01:00",
                "2023-01-01T00:00:00-00:00",
                "2023-01-01T23:59:59+23:59",
            ],
            &[
                "",
                "2023-01-01",
                "2023-01-01T00:00:00",
                "2023-01-01 00:00:00Z",
                "2023-01-01T00:00Z",
                "2023-01-01T00:00:00.Z",
                "2023-01-01T00:00:00+0100",
                "2023-01-01T00:00:00+01",
                "2023-01-01T00:00:00+24:00",
                "2023-01-01T00:00:00+01:60",
                "2023-01-01T00:00:60Z",
                "2023-06-30T23:59:60+01:00",
                "2023-06-30T23:59:61Z",
                "2023-02-29T00:00:00Z",
                "2023-01-01T00:00:00ZZ",
                "2023-01-01T00:00:00Z ",
                "2023-01-01X00:00:00Z",
            ],
        );
    }

    #[test]
    fn email() {
        check(
            Format::Email,
            &[
                "a@b",
                "a@example.com",
                "first.last+tag@sub.example.co.uk",
                "!#$%&'*+-/=?^_`{|}~@example.com",
                "\"\"@example.com",
                "\"a\\\"b\"@example.com",
                "\"a b\"@example.com",
                "a@[1.2.3.4]",
                "a@[IPv6:fe80::1]",
                "a@[ipv6:::1]",
                "a@x-y.example",
            ],
            &[
                "",
                "@",
                "a@",
                "@b",
                "a",
                "a@b@c",
                "a.@b",
                ".a@b",
                "a..b@c",
                "a b@c",
                "\"a@b",
                "\"a\"b@c",
                "a@-b.com",
                "a@b-.com",
                "a@b..com",
                "a@b.com.",
                "a@.b.com",
                "a@b_c.com",
                "a@[1.2.3]",
                "a@[01.2.3.4]",
                "a@[IPv6:1.2.3.4]",
                "a@[IPv6:::1",
                "a@[]",
                "a@[IPv6:]",
                "é@example.com",
                "a@exämple.com",
            ],
        );
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(!Format::Email.is_valid(&long_local));
        let ok_local = format!("{}@example.com", "a".repeat(64));
        assert!(Format::Email.is_valid(&ok_local));
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert!(!Format::Email.is_valid(&long_label));
    }

    #[test]
    fn uri() {
        check(
            Format::Uri,
            &[
                "http://example.com",
                "http://example.com/",
                "http://user:pass@example.com:8080/a/b?c=d&e#f",
                "file:///etc/hosts",
                "http://",
                "http://example.com:",
                "a:",
                "a+b-c.d:x",
                "urn:isbn:0451450523",
                "http://[::1]:80/",
                "http://[v7.fe80::a+en1]/",
                "http://example.com/%41%2f?%3D#%7e",
                "http://example.com?a/b?c#d/e?f",
                "x:/path//double",
                "HTTP://EXAMPLE.COM",
            ],
            &[
                "",
                ":",
                "a",
                "1a:b",
                "-a:b",
                "http://[::1",
                "http://[::1]x/",
                "http://[1.2.3.4]/",
                "http://[v.x]/",
                "http://[v1.]/",
                "http://a@b@c/",
                "http://a b/",
                "http://example.com/#a#b",
                "http://example.com/%",
                "http://example.com/%2",
                "http://example.com/%zz",
                "http://example.com:80a/",
                "http://example.com/é",
                "http://example.com/\n",
                "http://ex[ample.com/",
                "x:[",
            ],
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let long_a = "a".repeat(1 << 20);
        let long_colons = ":".repeat(100_000);
        let long_digits = "9".repeat(100_000);
        let long_email = format!("{}@{}", "a".repeat(100_000), "b.".repeat(50_000));
        let long_uri = format!("http://{}/{}", "h".repeat(100_000), "%41".repeat(100_000));
        let long_quoted = format!("\"{}", "\\".repeat(100_001));
        let odd: Vec<&str> = vec![
            "",
            " ",
            "\0",
            "\u{FEFF}",
            "é",
            "日本語",
            "🦀🦀🦀",
            "@",
            "[",
            "]",
            "%",
            "\"",
            "\\",
            "::",
            "[]",
            "a@[",
            "a@[]",
            "a@[IPv6:",
            "http://[",
            "http://[]",
            "http://[v",
            "http://@",
            "2023-01-01T",
            "2023-01-01T00:00:00.",
            "2023-01-01T00:00:00+",
            "2023-01-01T00:00:00+01:",
            "2023-01-01T00:00:60-",
            &long_a,
            &long_colons,
            &long_digits,
            &long_email,
            &long_uri,
            &long_quoted,
        ];
        for f in Format::ALL {
            for s in &odd {
                let _ = f.is_valid(s);
                // Every prefix (at char boundaries) as well.
                for (end, _) in s.char_indices().take(64) {
                    let _ = f.is_valid(&s[..end]);
                }
            }
        }
        // Every prefix of valid samples, and pseudo-random strings over a
        // small alphabet of the characters the parsers branch on.
        let samples = [
            "joe.bloggs@[IPv6:::ffff:1.2.3.4]",
            "\"a\\\"b\"@example.com",
            "http://u:p@[v1.x]:80/p?q#f",
            "http://[1:2:3:4:5:6:1.2.3.4]/%41",
            "2023-06-30T23:59:60.123-08:00",
            "123e4567-e89b-12d3-a456-426614174000",
            "255.255.255.255",
        ];
        for f in Format::ALL {
            for s in samples {
                for end in 0..=s.len() {
                    let _ = f.is_valid(&s[..end]);
                }
            }
        }
        let alphabet = b"0129aAfvVTZz:./-+@[]\"\\%?#_ ";
        // xorshift64: deterministic, no extra crates.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        };
        let mut buf = String::new();
        for _ in 0..20_000 {
            buf.clear();
            let len = next() % 40;
            for _ in 0..len {
                let pick = usize::from(next()) % alphabet.len();
                buf.push(char::from(alphabet[pick]));
            }
            for f in Format::ALL {
                let _ = f.is_valid(&buf);
            }
        }
    }

    /// Runs the JSON-Schema-Test-Suite's `optional/format` files of every
    /// draft for the formats that draft defines; every string case must agree.
    #[test]
    fn json_schema_test_suite() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/jsonschema-test-suite/"
        );
        if !std::path::Path::new(root).is_dir() {
            println!("note: {root} is missing; skipping the JSON-Schema-Test-Suite format cases");
            return;
        }
        let drafts = [
            ("draft4", Draft::Draft4),
            ("draft6", Draft::Draft6),
            ("draft7", Draft::Draft7),
            ("draft2019-09", Draft::Draft201909),
            ("draft2020-12", Draft::Draft202012),
        ];
        let mut failures = Vec::new();
        let mut count = 0;
        for (folder, draft) in drafts {
            for f in Format::ALL.into_iter().filter(|f| f.since() <= draft) {
                let path = format!("{root}{folder}/optional/format/{}.json", f.name());
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue; // the suite has no file for it in this draft
                };
                let groups: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("cannot parse {path}: {e}"));
                let groups = groups.as_array().expect("a suite file is an array");
                for group in groups {
                    assert_eq!(
                        group["schema"]["format"].as_str(),
                        Some(f.name()),
                        "{path}: unexpected schema"
                    );
                    for case in group["tests"].as_array().expect("tests is an array") {
                        let Some(data) = case["data"].as_str() else {
                            continue; // non-strings always pass `format`
                        };
                        let expected = case["valid"].as_bool().expect("valid is a bool");
                        count += 1;
                        if f.is_valid(data) != expected {
                            failures.push(format!(
                                "{folder} {}: {data:?} expected {expected} ({})",
                                f.name(),
                                case["description"]
                            ));
                        }
                    }
                }
            }
        }
        println!("{count} string cases");
        assert!(count > 1500, "only {count} string cases");
        assert!(
            failures.is_empty(),
            "{} suite failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
