//! Finding a property by name among an object node's properties.
//!
//! A [`Property`](super::object::Property) holds its compiled node inline
//! (752 bytes each), so scanning the properties for a key read one cache line
//! per name, and the hash map behind larger objects hashed every key and
//! compared through `memcmp`: `ObjectChecks::find` was 9-11% of NDJSON
//! validation on the github-workflow and gaspar schemas of SchemaStore. Here
//! the names are scanned side by side, up to 12 of them, and past that found
//! through a table whose keys are three words (a name's length and two words
//! that hold every byte of a name up to 16 bytes), compared without a call;
//! longer names are confirmed against their text.

use crate::text::{same_text, word4, word8};

/// Names up to this many are scanned; more are found through a table.
const SCAN_MAX: usize = 12;

/// A name's length and two words of its bytes: for 16 bytes or fewer, equal
/// keys mean equal names (the words cover every byte: see [`Key::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

impl Key {
    #[inline(always)]
    fn of(s: &str) -> Key {
        let b = s.as_bytes();
        let n = b.len();
        let (head, tail) = match n {
            0 => (0, 0),
            // First, middle and last byte cover every byte of 1 to 3.
            1..=3 => (
                u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
                0,
            ),
            4..=7 => (u64::from(word4(b, 0)) | u64::from(word4(b, n - 4)) << 32, 0),
            _ => (word8(b, 0), word8(b, n - 8)),
        };
        Key { len: n, head, tail }
    }

    /// A slot of a table of `1 << (64 - shift)` slots.
    #[inline(always)]
    fn slot(&self, shift: u32) -> usize {
        let mixed = self.head ^ self.tail.rotate_left(32) ^ self.len as u64;
        (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
    }
}

/// The names of an object node's properties, in their order.
#[derive(Debug, Default)]
pub struct Names {
    keys: Box<[Key]>,
    /// The names themselves, read only to confirm a name over 16 bytes.
    texts: Box<[Box<str>]>,
    /// Open addressing, linear probing: each slot holds an index into `keys`
    /// plus one (0: empty); empty up to [`SCAN_MAX`] names. At most half full,
    /// and filled with the schema's names alone: no record key probes longer
    /// than the schema's own names made a run of slots.
    table: Box<[u32]>,
    shift: u32,
}

impl Names {
    /// The index of each name is its position in `names` (the first of a repeated name).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Names {
        let texts: Box<[Box<str>]> = names.into_iter().map(Box::from).collect();
        let keys: Box<[Key]> = texts.iter().map(|t| Key::of(t)).collect();
        let mut names = Names {
            keys,
            texts,
            table: Box::default(),
            shift: 0,
        };
        if names.keys.len() > SCAN_MAX {
            names.build_table();
        }
        names
    }

    fn build_table(&mut self) {
        let slots = (self.keys.len() * 2).next_power_of_two();
        self.shift = 64 - slots.trailing_zeros();
        let mut table = vec![0u32; slots];
        'names: for (i, key) in self.keys.iter().enumerate() {
            let mut slot = key.slot(self.shift);
            while table[slot] != 0 {
                let j = table[slot] as usize - 1;
                if self.keys[j] == *key && self.texts[j] == self.texts[i] {
                    continue 'names; // a repeated name: the first is found, as a scan finds it
                }
                slot = (slot + 1) & (slots - 1);
            }
            table[slot] = i as u32 + 1;
        }
        self.table = table.into_boxed_slice();
    }

    /// Whether names are found through the table (more than [`SCAN_MAX`]).
    #[inline]
    pub fn hashed(&self) -> bool {
        !self.table.is_empty()
    }

    /// Finds names by scanning from now on, however many (for tests).
    pub fn scan_only(&mut self) {
        self.table = Box::default();
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The names, in their order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(|t| &**t)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    #[inline(always)]
    fn is(&self, i: usize, key: Key, text: &str) -> bool {
        self.keys[i] == key && (key.len <= 16 || same_text(&self.texts[i], text))
    }

    /// The index of the name `text`.
    #[inline(always)]
    pub fn find(&self, text: &str) -> Option<usize> {
        if self.table.is_empty() {
            // The texts side by side, compared by length first: cheaper than the words
            // of `text` for a few names (working them out cost small records 3-5%).
            return self.texts.iter().position(|t| same_text(t, text));
        }
        let key = Key::of(text);
        let mask = self.table.len() - 1;
        let mut slot = key.slot(self.shift);
        loop {
            let entry = self.table[slot];
            if entry == 0 {
                return None;
            }
            let i = entry as usize - 1;
            if self.is(i, key, text) {
                return Some(i);
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    fn texts() -> Vec<String> {
        let mut out: Vec<String> = (0..40).map(|i| "k".repeat(i)).collect();
        // Same length, head and tail, different middle: only the text tells them apart.
        out.push(format!("abcdefgh{}ijklmnop", "x"));
        out.push(format!("abcdefgh{}ijklmnop", "y"));
        out.extend(["a", "b", "ab", "ba", "é", "aé", "\u{0}", "\u{0}\u{0}"].map(String::from));
        out
    }

    #[test]
    fn finds_every_name_and_nothing_else_scanned_or_hashed() {
        let all = texts();
        for count in [0, 1, 5, 12, 13, all.len()] {
            let names = Names::new(all[..count].iter().map(String::as_str));
            assert_eq!(names.hashed(), count > 12);
            let mut scanned = Names::new(all[..count].iter().map(String::as_str));
            scanned.scan_only();
            for (i, t) in all.iter().enumerate() {
                let want = (i < count).then_some(i);
                assert_eq!(names.find(t), want, "{t:?} among {count}");
                assert_eq!(scanned.find(t), want, "{t:?} among {count}, scanned");
            }
            for other in [
                "kkkX",
                "abcdefghzijklmnop",
                "c",
                "",
                "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            ] {
                let want = all[..count].iter().position(|t| t == other);
                assert_eq!(names.find(other), want, "{other:?} among {count}");
            }
        }
    }

    #[test]
    fn a_repeated_name_finds_its_first() {
        let many: Vec<String> = (0..20).map(|i| format!("p{}", i % 15)).collect();
        let names = Names::new(many.iter().map(String::as_str));
        assert!(names.hashed());
        assert_eq!(names.find("p3"), Some(3));
        let few = Names::new(["a", "b", "a"]);
        assert_eq!(few.find("a"), Some(0));
    }
}
