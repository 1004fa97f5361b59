//! `pattern`: a compiled regex matched through a per-thread clone.
//!
//! A `regex::Regex` shared by several threads hands its match caches out
//! through a shared pool, which measured as a large slowdown with two pool
//! threads. A clone shares the compiled program but has its own pool, so each
//! thread keeps clones of the patterns it uses (by a unique id, never by
//! address: a dropped schema's address can be reused).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;

/// Clones kept per thread; the oldest is dropped beyond this.
const CLONES_PER_THREAD: usize = 64;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CLONES: RefCell<Vec<(u64, Regex)>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug)]
pub struct Pattern {
    id: u64,
    regex: Regex,
}

impl Pattern {
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        Ok(Pattern {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            regex: Regex::new(source)?,
        })
    }

    /// The pattern as written in the schema.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether the pattern matches anywhere in `s` (JSON Schema patterns are not anchored).
    pub fn is_match(&self, s: &str) -> bool {
        CLONES
            .try_with(|clones| {
                let Ok(mut clones) = clones.try_borrow_mut() else {
                    return self.regex.is_match(s);
                };
                if let Some((_, re)) = clones.iter().rev().find(|(id, _)| *id == self.id) {
                    return re.is_match(s);
                }
                if clones.len() >= CLONES_PER_THREAD {
                    clones.remove(0);
                }
                let re = self.regex.clone();
                let matched = re.is_match(s);
                clones.push((self.id, re));
                matched
            })
            .unwrap_or_else(|_| self.regex.is_match(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ids_never_collide() {
        let a = Pattern::new("a").unwrap();
        let b = Pattern::new("b").unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.is_match("xa") && !a.is_match("b"));
        drop(a);
        let c = Pattern::new("c").unwrap();
        assert!(c.is_match("c") && !c.is_match("a"));
    }
}
