//! Byte scanners: JSON whitespace, the ends of strings, structural bytes,
//! and the bit masks of 64-byte blocks that [`super::elements`] skips
//! containers with. SSE2 on x86-64 (part of its baseline); the portable
//! SWAR versions are tested against the SSE2 ones.

/// Bits set at the JSON whitespace bytes (space, tab, LF, CR).
pub(super) const WS_MASK: u64 = (1 << b' ') | (1 << b'\t') | (1 << b'\n') | (1 << b'\r');

#[inline(always)]
pub(super) fn is_ws(c: u8) -> bool {
    c <= b' ' && (WS_MASK >> c) & 1 != 0
}

#[inline(always)]
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !is_ws(c) {
            break;
        }
        i += 1;
    }
    i
}

pub(super) const LO: u64 = 0x0101_0101_0101_0101;
pub(super) const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first `"`, `\` or control byte (< 0x20) at or after `i`, or
/// `b.len()`. Sets `*non_ascii` when a byte >= 0x80 lies before that index.
/// 16 bytes at a time with SSE2 (part of the x86-64 baseline).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn scan_string(b: &[u8], mut i: usize, non_ascii: &mut bool) -> usize {
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
pub(super) fn scan_string(b: &[u8], i: usize, non_ascii: &mut bool) -> usize {
    scan_string_swar(b, i, non_ascii)
}

/// [`scan_string`] in portable SWAR code, 8 bytes at a time.
#[inline(always)]
pub(super) fn scan_string_swar(b: &[u8], mut i: usize, non_ascii: &mut bool) -> usize {
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
pub(super) fn eq_mask(w: u64, byte: u8) -> u64 {
    let x = w ^ (LO * byte as u64);
    x.wrapping_sub(LO) & !x & HI
}

#[inline(always)]
pub(super) fn load8(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..i + 8)
        .map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap()))
}

/// Index of the first `"` or `\` at or after `i`, or at least `b.len()`.
#[inline(always)]
pub(super) fn find_quote_or_backslash(b: &[u8], mut i: usize) -> usize {
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
pub(super) fn find_structural(b: &[u8], mut i: usize) -> usize {
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

/// Bit `k` is set where byte `k` of the 64-byte block equals one of the
/// byte classes the container scanner needs.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct BlockMasks {
    pub(super) quote: u64,
    pub(super) backslash: u64,
    /// `[` and `{`.
    pub(super) open: u64,
    /// `]` and `}`.
    pub(super) close: u64,
}

/// The high bit of each byte of `x` that is zero (exact, unlike [`eq_mask`]).
#[inline(always)]
pub(super) fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HI
}

/// Gathers the high bits of the 8 bytes of `m` into the low 8 bits.
#[inline(always)]
pub(super) fn pack_high_bits(m: u64) -> u64 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The masks of a 64-byte block, with SSE2 (part of the x86-64 baseline).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn block_masks(block: &[u8]) -> BlockMasks {
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
pub(super) fn block_masks(block: &[u8]) -> BlockMasks {
    block_masks_swar(block)
}

/// The masks of a 64-byte block, in portable SWAR code.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
pub(super) fn block_masks_swar(block: &[u8]) -> BlockMasks {
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
pub(super) fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::testing::*;
    use crate::json::JsonErrorKind::*;

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
}
