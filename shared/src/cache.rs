//! In-process caches that PostgreSQL keeps correct: triggers announce every change
//! with `NOTIFY` (delivered at commit, so no reader hears of a change before it can
//! read it) and one listener per process ([`Notifications`]) tells each cache, which
//! drops what a change makes stale.
//!
//! Three rules make such a cache never answer stale data longer than a notification
//! takes to arrive:
//! - until its listener is listening, the cache is bypassed;
//! - when the listener's connection is lost, everything is dropped and the cache is
//!   bypassed until it listens again;
//! - a value read from the database is kept only if nothing it depends on was
//!   invalidated since the read began ([`Freshness::ticket`], [`Freshness::is_fresh`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The payload that stands for every key: a truncated table.
pub const EVERYTHING: &str = "*";

/// What a cache kept by notifications does when they arrive.
pub trait Invalidated: Send + Sync + 'static {
    /// Drops what a notification on `channel` carrying `payload` makes stale.
    fn invalidate(&self, channel: &str, payload: &str);
    /// Drops everything; from now on notifications arrive (`listening`) or may be
    /// missed (not `listening`, and the cache must be bypassed).
    fn reset(&self, listening: bool);
}

/// How many recently invalidated keys are remembered one by one; beyond it an
/// invalidation counts as one of everything.
const REMEMBERED: usize = 4096;

/// The guard against keeping a value read before an invalidation arrived: a clock
/// that ticks at every invalidation, the tick at which each key was last
/// invalidated, and whether notifications are being heard at all. Held under the
/// same lock as the cache's entries.
#[derive(Debug)]
pub struct Freshness<K> {
    now: u64,
    listening: bool,
    everything_at: u64,
    touched: HashMap<K, u64>,
}

impl<K: Hash + Eq> Default for Freshness<K> {
    fn default() -> Self {
        Self {
            now: 0,
            listening: false,
            everything_at: 0,
            touched: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> Freshness<K> {
    /// Whether the cache may answer: only while its listener listens.
    pub fn listening(&self) -> bool {
        self.listening
    }

    /// Taken before reading the database for a miss; `None` while the cache is
    /// bypassed (then the read is not kept).
    pub fn ticket(&self) -> Option<u64> {
        self.listening.then_some(self.now)
    }

    /// Whether a value read under `ticket` that depends on `keys` may be kept.
    pub fn is_fresh<'a>(&self, ticket: u64, keys: impl IntoIterator<Item = &'a K>) -> bool
    where
        K: 'a,
    {
        self.listening
            && self.everything_at <= ticket
            && keys
                .into_iter()
                .all(|key| self.touched.get(key).is_none_or(|&at| at <= ticket))
    }

    /// Notes that `key` changed.
    pub fn invalidate(&mut self, key: K) {
        self.now += 1;
        if self.touched.len() >= REMEMBERED {
            self.touched.clear();
            self.everything_at = self.now;
        }
        self.touched.insert(key, self.now);
    }

    /// Notes that everything changed, and whether notifications are heard from now on.
    pub fn reset(&mut self, listening: bool) {
        self.now += 1;
        self.everything_at = self.now;
        self.touched.clear();
        self.listening = listening;
    }
}

/// Locks a cache's state; a panic while it was held cannot leave it inconsistent in
/// a way that matters more than a lost entry, so a poisoned lock is taken over.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection per process that listens for every cache of the process: each
/// cache follows its channels ([`Notifications::follow`]) and hears only those.
/// Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct Notifications(Arc<Hub>);

struct Follower {
    channels: &'static [&'static str],
    cache: Arc<dyn Invalidated>,
}

struct Hub {
    database_url: String,
    followers: Mutex<Vec<Arc<Follower>>>,
    joined: tokio::sync::Notify,
    started: AtomicBool,
}

impl Notifications {
    /// Notifications of the database at `database_url`, listened to from the first
    /// [`Notifications::follow`] on.
    pub fn new(database_url: &str) -> Self {
        Self(Arc::new(Hub {
            database_url: database_url.to_owned(),
            followers: Mutex::default(),
            joined: tokio::sync::Notify::new(),
            started: AtomicBool::new(false),
        }))
    }

    /// Tells `cache` of every notification on `channels`, in the background, for
    /// ever; resets it when the connection listens (listening) and when it is lost
    /// (not listening, until a new connection listens). A cache that joins makes the
    /// connection start over, listening to its channels too.
    pub fn follow(&self, channels: &'static [&'static str], cache: Arc<dyn Invalidated>) {
        cache.reset(false);
        lock(&self.0.followers).push(Arc::new(Follower { channels, cache }));
        if self.0.started.swap(true, Ordering::SeqCst) {
            self.0.joined.notify_one();
        } else {
            let hub = self.0.clone();
            tokio::spawn(async move { hub.run().await });
        }
    }
}

impl Hub {
    async fn run(&self) {
        let mut pause = Duration::from_millis(50);
        loop {
            let followers = lock(&self.followers).clone();
            match self.follow(&followers).await {
                Ok(()) => pause = Duration::from_millis(50),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "cache listener interrupted");
                }
            }
            for follower in &followers {
                follower.cache.reset(false);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// One connection's worth of notifications; returns when the connection is lost
    /// or another cache joins.
    async fn follow(&self, followers: &[Arc<Follower>]) -> anyhow::Result<()> {
        let mut channels: Vec<&str> = followers
            .iter()
            .flat_map(|follower| follower.channels.iter().copied())
            .collect();
        channels.sort_unstable();
        channels.dedup();
        let mut listener = crate::db::listener(&self.database_url).await?;
        listener.listen_all(channels).await?;
        // Listening from here on: whatever was read before may be stale, nothing after.
        for follower in followers {
            follower.cache.reset(true);
        }
        loop {
            tokio::select! {
                notification = listener.try_recv() => {
                    let Some(notification) = notification? else {
                        tracing::warn!("cache listener lost its connection");
                        return Ok(());
                    };
                    for follower in followers {
                        if follower.channels.contains(&notification.channel()) {
                            follower
                                .cache
                                .invalidate(notification.channel(), notification.payload());
                        }
                    }
                }
                () = self.joined.notified() => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_kept_until_listening() {
        let mut freshness = Freshness::<u8>::default();
        assert_eq!(freshness.ticket(), None);
        freshness.reset(true);
        let ticket = freshness.ticket().unwrap_or(u64::MAX);
        assert!(freshness.is_fresh(ticket, &[1]));
    }

    #[test]
    fn a_read_overtaken_by_an_invalidation_of_its_key_is_not_kept() {
        let mut freshness = Freshness::<u8>::default();
        freshness.reset(true);
        let ticket = freshness.ticket().unwrap_or(u64::MAX);
        freshness.invalidate(2);
        assert!(freshness.is_fresh(ticket, &[1]));
        assert!(!freshness.is_fresh(ticket, &[1, 2]));
        let later = freshness.ticket().unwrap_or(u64::MAX);
        assert!(freshness.is_fresh(later, &[2]));
    }

    #[test]
    fn a_lost_connection_spoils_every_read_in_flight() {
        let mut freshness = Freshness::<u8>::default();
        freshness.reset(true);
        let ticket = freshness.ticket().unwrap_or(u64::MAX);
        freshness.reset(false);
        assert!(!freshness.is_fresh(ticket, &[1]));
        assert_eq!(freshness.ticket(), None);
        freshness.reset(true);
        assert!(!freshness.is_fresh(ticket, &[1]));
    }

    #[test]
    fn too_many_remembered_keys_count_as_everything() {
        let mut freshness = Freshness::<usize>::default();
        freshness.reset(true);
        let ticket = freshness.ticket().unwrap_or(u64::MAX);
        for key in 0..=REMEMBERED {
            freshness.invalidate(key + 1);
        }
        assert!(!freshness.is_fresh(ticket, &[0]));
        assert!(freshness.touched.len() <= REMEMBERED);
    }
}
