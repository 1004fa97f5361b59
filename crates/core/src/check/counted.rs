//! For tests: parsed JSON that counts what the checks look at.

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::ControlFlow;

use crate::schema::ObjectChecks;
use crate::value::{EntryKey, Json, Kind, Number, Record};

/// What a walk looked at.
#[derive(Default)]
pub(crate) struct Counts {
    /// Keys: one per property looked up, one per entry walked.
    pub probes: Cell<usize>,
    /// Values: one per kind read (every visit reads it).
    pub reads: Cell<usize>,
}

/// A parsed value that counts into [`Counts`]; objects are looked up as a Python dict
/// is (one lookup per property).
#[derive(Clone, Copy)]
pub(crate) struct Counted<'a> {
    pub json: &'a Json<'a>,
    pub counts: &'a Counts,
}

impl<'a> Counted<'a> {
    fn wrap(&self, json: &'a Json<'a>) -> Self {
        Counted {
            json,
            counts: self.counts,
        }
    }

    fn probe(&self) {
        self.counts.probes.set(self.counts.probes.get() + 1);
    }
}

impl Record for Counted<'_> {
    fn kind(&self) -> Kind {
        self.counts.reads.set(self.counts.reads.get() + 1);
        self.json.kind()
    }
    fn as_bool(&self) -> bool {
        self.json.as_bool()
    }
    fn as_number(&self) -> Number {
        self.json.as_number()
    }
    fn as_str(&self) -> Option<&str> {
        self.json.as_str()
    }
    fn array_len(&self) -> usize {
        self.json.array_len()
    }
    fn array_item(&self, i: usize) -> Option<Self> {
        self.json.array_item(i).map(|j| self.wrap(j))
    }
    fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        self.json.for_each_item(|i, j| f(i, &self.wrap(j)))
    }
    fn object_len(&self) -> usize {
        self.json.object_len()
    }
    fn property_count(&self) -> usize {
        self.json.property_count()
    }
    fn object_get(&self, key: &str) -> Option<Self> {
        self.probe();
        self.json.object_get(key).map(|j| self.wrap(j))
    }
    fn object_lookup(&self, checks: &ObjectChecks, found: &mut [Option<Self>]) {
        for (slot, property) in found.iter_mut().zip(&checks.properties) {
            self.probe();
            *slot = self.json.object_get(&property.name).map(|j| self.wrap(j));
        }
    }
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        self.json.for_each_entry(|k, j| {
            self.probe();
            f(k, &self.wrap(j))
        })
    }
    fn type_name(&self) -> Cow<'_, str> {
        self.json.type_name()
    }
    fn identity(&self) -> Option<(usize, usize)> {
        self.json.identity()
    }
}
