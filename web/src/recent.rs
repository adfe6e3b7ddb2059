//! What the API answered a moment ago, kept for a second: a shop's profile and
//! categories are asked for by every page of the shop, and change rarely. A second
//! is short enough that a suspension or an edit shows on the next pages, and long
//! enough that under load a page costs one API call, not three.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is reused.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// Most answers kept; past it the oldest are forgotten all at once.
const CAPACITY: usize = 10_000;

/// Answers by key, each reused for [`FRESH_FOR`].
pub struct Recent<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> Recent<V> {
    pub fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key`, when it is fresh.
    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, value)| value.clone())
    }

    /// Drops the answer for `key` (it was just changed here).
    pub fn forget(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Keeps `value` as the answer for `key`.
    pub fn put(&self, key: String, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), value));
        }
    }
}

impl<V: Clone> Default for Recent<V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_reused_for_a_second_only() {
        let recent = Recent::new();
        recent.put("goji".to_owned(), 1);
        assert_eq!(recent.get("goji"), Some(1));
        assert_eq!(recent.get("melon"), None);
        std::thread::sleep(FRESH_FOR + Duration::from_millis(50));
        assert_eq!(recent.get("goji"), None);
    }
}
