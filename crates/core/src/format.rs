//! `format` assertions: email, uri, uuid, date, date-time, ipv4.
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
//! Every check works on the bytes of the string and allocates nothing. All
//! these grammars are ASCII-only, so any non-ASCII byte makes a string
//! invalid. No input panics.

/// A `format` value that we assert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Email,
    Uri,
    Uuid,
    Date,
    DateTime,
    Ipv4,
}

impl Format {
    /// Every format we assert.
    pub const ALL: [Format; 6] = [
        Format::Email,
        Format::Uri,
        Format::Uuid,
        Format::Date,
        Format::DateTime,
        Format::Ipv4,
    ];

    /// The name as written in a schema ("date-time").
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Email => "email",
            Format::Uri => "uri",
            Format::Uuid => "uuid",
            Format::Date => "date",
            Format::DateTime => "date-time",
            Format::Ipv4 => "ipv4",
        }
    }

    /// `None` for a format name we do not assert.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "email" => Some(Format::Email),
            "uri" => Some(Format::Uri),
            "uuid" => Some(Format::Uuid),
            "date" => Some(Format::Date),
            "date-time" => Some(Format::DateTime),
            "ipv4" => Some(Format::Ipv4),
            _ => None,
        }
    }

    /// Whether `s` is a valid instance of this format.
    #[must_use]
    pub fn is_valid(self, s: &str) -> bool {
        let b = s.as_bytes();
        match self {
            Format::Email => is_email(b),
            Format::Uri => is_uri(b),
            Format::Uuid => is_uuid(b),
            Format::Date => is_date(b),
            Format::DateTime => is_date_time(b),
            Format::Ipv4 => is_ipv4(b),
        }
    }

    /// Relative cost of one check, a pure number used by the schema
    /// complexity score (no unit; compare with each other only): fixed-width
    /// scans (`uuid`, `ipv4`, `date`) weigh 2.0, `date-time` (date, time,
    /// offset, leap-second arithmetic) and `email` (local part plus domain)
    /// weigh 3.0, and `uri` (scheme, authority, IP literals, path, query,
    /// fragment, percent-encoding) weighs 4.0.
    #[must_use]
    pub fn cost(self) -> f64 {
        match self {
            Format::Uuid | Format::Ipv4 | Format::Date => 2.0,
            Format::DateTime | Format::Email => 3.0,
            Format::Uri => 4.0,
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
    // Shortest form: "YYYY-MM-DDThh:mm:ssZ" (20 bytes).
    if b.len() < 20 || !date_prefix_ok(b) || !matches!(b[10], b'T' | b't') {
        return false;
    }
    if b[13] != b':' || b[16] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (two_digits(b, 11), two_digits(b, 14), two_digits(b, 17))
    else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
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
// email

/// RFC 5321 `Mailbox`: `Local-part "@" ( Domain / address-literal )`.
///
/// The local part is a dot-atom (atext runs separated by single dots, no
/// leading or trailing dot) or a quoted string (printable ASCII and space,
/// with `\` escapes), at most 64 bytes. The domain is a hostname (labels of
/// letters, digits and inner hyphens, 1..=63 bytes each, 253 in all), an
/// `[IPv4]` literal or an `[IPv6:...]` literal.
fn is_email(b: &[u8]) -> bool {
    let n = b.len();
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
                        Some(&c) if (32..=126).contains(&c) => i += 2,
                        _ => return false,
                    },
                    // qtextSMTP: %d32-33 / %d35-91 / %d93-126
                    Some(&c) if (32..=126).contains(&c) => i += 1,
                    _ => return false,
                }
            }
        }
        Some(_) => {
            i = 0;
            loop {
                let atom = b[i..].iter().take_while(|&&c| is(c, ATEXT)).count();
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
        Some(_) => is_hostname(domain),
    }
}

/// RFC 1123 hostname: dot-separated labels of letters, digits and hyphens,
/// no label empty, longer than 63 bytes, or starting or ending with a
/// hyphen; 253 bytes at most.
fn is_hostname(b: &[u8]) -> bool {
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

// ---------------------------------------------------------------------------
// uri

/// Length of the run of RFC 3986 characters at the start of `b` that are in
/// `class` or pct-encoded; `None` on a malformed percent-encoding.
#[inline]
fn uri_run(b: &[u8], class: u16) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        let byte = b[i];
        if is(byte, class) {
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

/// RFC 3986 `URI`: `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`.
fn is_uri(b: &[u8]) -> bool {
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    match b.first() {
        Some(&c) if is(c, ALPHA) => {}
        _ => return false,
    }
    let scheme = 1 + b[1..].iter().take_while(|&&c| is(c, SCHEME)).count();
    if b.get(scheme) != Some(&b':') {
        return false;
    }
    let mut i = scheme + 1;

    // hier-part
    if b[i..].starts_with(b"//") {
        i += 2;
        let auth_len = b[i..]
            .iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#'))
            .unwrap_or(b.len() - i);
        if !is_authority(&b[i..i + auth_len]) {
            return false;
        }
        i += auth_len;
        // path-abempty: empty or starting with "/" (guaranteed by the split).
    }
    // path-abempty / path-absolute / path-rootless / path-empty: pchar and
    // "/" (a leading "//" was taken as an authority above).
    let Some(path) = uri_run(&b[i..], PATH) else {
        return false;
    };
    i += path;

    if b.get(i) == Some(&b'?') {
        i += 1;
        let Some(query) = uri_run(&b[i..], QUERY) else {
            return false;
        };
        i += query;
    }
    if b.get(i) == Some(&b'#') {
        i += 1;
        let Some(fragment) = uri_run(&b[i..], QUERY) else {
            return false;
        };
        i += fragment;
    }
    i == b.len()
}

/// RFC 3986 `authority = [ userinfo "@" ] host [ ":" port ]`.
fn is_authority(b: &[u8]) -> bool {
    let mut rest = b;
    // userinfo = *( unreserved / pct-encoded / sub-delims / ":" ); it cannot
    // hold "@", so the first "@" ends it.
    if let Some(at) = rest.iter().position(|&c| c == b'@') {
        if uri_run(&rest[..at], USERINFO) != Some(at) {
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
        match uri_run(rest, UNRESERVED | SUB_DELIM) {
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
        assert_eq!(Format::from_name("ipv6"), None);
        assert_eq!(Format::from_name("Email"), None);
        assert_eq!(Format::from_name(""), None);
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

    /// Runs the JSON-Schema-Test-Suite's draft 2020-12 `optional/format`
    /// files for our formats; every string case must agree.
    #[test]
    fn json_schema_test_suite() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/jsonschema-test-suite/draft2020-12/optional/format/"
        );
        if !std::path::Path::new(dir).is_dir() {
            println!("note: {dir} is missing; skipping the JSON-Schema-Test-Suite format cases");
            return;
        }
        let mut failures = Vec::new();
        for f in Format::ALL {
            let path = format!("{dir}{}.json", f.name());
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            let groups: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {path}: {e}"));
            let groups = groups.as_array().expect("a suite file is an array");
            let mut count = 0;
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
                            "{}: {data:?} expected {expected} ({})",
                            f.name(),
                            case["description"]
                        ));
                    }
                }
            }
            assert!(count > 0, "{path}: no string cases");
            println!("{}.json: {count} string cases", f.name());
        }
        assert!(
            failures.is_empty(),
            "suite failures:\n{}",
            failures.join("\n")
        );
    }
}
