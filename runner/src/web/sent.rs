//! Flows the page sent (Compose), found again when they join the view:
//! each send's flow id, and the view's number for it once it is there.
//! A flow that arrives while nothing is awaited costs one atomic load;
//! an id is forgotten once its number is taken.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The ids awaited, and where each landed.
#[derive(Default)]
pub struct Sent {
    /// Id to the view's number (`None` until it arrives).
    numbers: Mutex<HashMap<String, Option<usize>>>,
    /// How many ids have not arrived.
    waiting: AtomicUsize,
}

impl Sent {
    /// Starts watching for flow `id`.
    pub fn expect(&self, id: &str) {
        let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        if numbers.insert(id.to_owned(), None).is_none() {
            self.waiting.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether any id is still awaited (the cheap check before
    /// [`arrived`](Sent::arrived)).
    pub fn waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0
    }

    /// Flow `id` joined the view as number `n`.
    pub fn arrived(&self, id: &str, n: usize) {
        let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot @ None) = numbers.get_mut(id) {
            *slot = Some(n);
            self.waiting.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The view's number of sent flow `id` once it is there, given once:
    /// the id is then forgotten (the caller keeps the number).
    pub fn take(&self, id: &str) -> Option<usize> {
        let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        let n = numbers.get(id).copied().flatten()?;
        numbers.remove(id);
        Some(n)
    }

    /// Stops watching for flows that were never sent.
    pub fn forget(&self, ids: &[String]) {
        let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if let Some(None) = numbers.remove(id) {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}
