//! The in-process cache, the default backend for a single node.
//!
//! Structure: a few mutex-guarded shards, each an [`IndexMap`] from key to entry, chosen over
//! moka because every operation here is a small read-modify-write of one entry (per-entry TTL,
//! set-if-absent, an increment that keeps the expiry and rejects non-integers): under a plain
//! lock these are atomic and obvious, where moka would need its `Expiry` trait and entry-compute
//! API, with eventually-consistent size and removal. Nothing awaits while a lock is held and a
//! critical section is one hash lookup, so a std mutex fits; 16 shards keep contention low.
//!
//! Bounds: the shards' capacities add up to `max_entries`. A full shard evicts like Redis's
//! approximated LRU: it samples a few entries at a moving clock hand and drops an expired one,
//! else the least recently used. Expired entries are invisible at once (every access checks the
//! deadline and drops what it finds expired), and a shard sweeps out all expired entries after
//! as many writes as it holds entries, so cleanup costs O(1) amortised per write and needs no
//! background task.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use crate::{Cache, CacheConfig, CacheError, ttl_millis};

/// Most shards; fewer for small bounds, so each shard holds a useful number of entries.
const MAX_SHARDS: usize = 16;
/// Entries per shard below which fewer shards are used.
const MIN_SHARD_CAPACITY: usize = 1024;
/// Entries looked at to choose one to evict.
const EVICTION_SAMPLES: usize = 5;
/// Writes between two sweeps of expired entries, at least.
const MIN_SWEEP_INTERVAL: usize = 64;

/// A bounded cache in this process's memory.
pub struct InProcessCache {
    prefix: String,
    max_entries: u64,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

impl InProcessCache {
    /// An empty cache bounded by `config.max_entries` (which must be at least 1), prefixing
    /// keys with `config.key_prefix`.
    pub fn new(config: &CacheConfig) -> Result<Self, CacheError> {
        if config.max_entries == 0 {
            return Err(CacheError::InvalidConfig("max_entries must be at least 1".to_owned()));
        }
        let max = usize::try_from(config.max_entries).unwrap_or(usize::MAX);
        let count = (max / MIN_SHARD_CAPACITY).clamp(1, MAX_SHARDS);
        let shards =
            (0..count).map(|index| Mutex::new(Shard::new(max / count + usize::from(index < max % count)))).collect();
        Ok(InProcessCache {
            prefix: config.key_prefix.clone(),
            max_entries: config.max_entries,
            hasher: RandomState::new(),
            shards,
        })
    }

    fn full_key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }

    fn shard(&self, full_key: &str) -> MutexGuard<'_, Shard> {
        // The remainder is below the shard count, so it fits in usize.
        let index = (self.hasher.hash_one(full_key) % self.shards.len() as u64) as usize;
        self.shards[index].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for InProcessCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessCache")
            .field("prefix", &self.prefix)
            .field("shards", &self.shards.len())
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

#[async_trait::async_trait]
impl Cache for InProcessCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let now = Instant::now();
        let full = self.full_key(key);
        Ok(self.shard(&full).live(&full, now).map(|entry| entry.value.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), CacheError> {
        let now = Instant::now();
        let full = self.full_key(key);
        let expires_at = deadline(now, ttl);
        let mut shard = self.shard(&full);
        shard.note_write(now);
        match shard.entries.get_index_of(full.as_str()) {
            Some(index) => {
                let tick = shard.tick();
                let entry = &mut shard.entries[index];
                entry.value = value.to_vec();
                entry.expires_at = expires_at;
                entry.last_used = tick;
            }
            None => shard.insert_new(full, value.to_vec(), expires_at, now),
        }
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<bool, CacheError> {
        let now = Instant::now();
        let full = self.full_key(key);
        let mut shard = self.shard(&full);
        shard.note_write(now);
        if shard.live(&full, now).is_some() {
            return Ok(false);
        }
        shard.insert_new(full, value.to_vec(), deadline(now, ttl), now);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let now = Instant::now();
        let full = self.full_key(key);
        let mut shard = self.shard(&full);
        shard.note_write(now);
        Ok(shard.entries.swap_remove(full.as_str()).is_some_and(|entry| !entry.expired(now)))
    }

    async fn incr_by(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, CacheError> {
        let now = Instant::now();
        let full = self.full_key(key);
        let mut shard = self.shard(&full);
        shard.note_write(now);
        if let Some(entry) = shard.live(&full, now) {
            let current =
                parse_integer(&entry.value).ok_or_else(|| CacheError::NotAnInteger { key: key.to_owned() })?;
            let next = current.checked_add(delta).ok_or_else(|| CacheError::Overflow { key: key.to_owned() })?;
            entry.value = next.to_string().into_bytes();
            return Ok(next);
        }
        shard.insert_new(full, delta.to_string().into_bytes(), deadline(now, ttl), now);
        Ok(delta)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "in_process"
    }
}

/// When an entry written at `now` with `ttl` expires; `None` never (or beyond the clock's range).
fn deadline(now: Instant, ttl: Option<Duration>) -> Option<Instant> {
    ttl_millis(ttl).and_then(|millis| now.checked_add(Duration::from_millis(millis)))
}

/// Reads an integer the way Redis does, so both backends accept the same values: an optional
/// `-`, then digits without leading zeros (or a lone `0`), within 64 bits; no spaces, no `+`.
fn parse_integer(bytes: &[u8]) -> Option<i64> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let canonical = match digits {
        [b'0'] => digits.len() == bytes.len(),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

struct Entry {
    value: Vec<u8>,
    expires_at: Option<Instant>,
    /// The shard's clock at the last read or write, for eviction.
    last_used: u64,
}

impl Entry {
    fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

struct Shard {
    entries: IndexMap<String, Entry>,
    capacity: usize,
    /// Counts accesses; stamps `Entry::last_used`.
    clock: u64,
    /// Where the next eviction starts sampling.
    hand: usize,
    writes_since_sweep: usize,
}

impl Shard {
    fn new(capacity: usize) -> Self {
        Shard { entries: IndexMap::new(), capacity, clock: 0, hand: 0, writes_since_sweep: 0 }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The unexpired entry under `key`, marked as used; an expired one is removed.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        let index = self.entries.get_index_of(key)?;
        if self.entries[index].expired(now) {
            self.entries.swap_remove_index(index);
            return None;
        }
        let tick = self.tick();
        let entry = &mut self.entries[index];
        entry.last_used = tick;
        Some(entry)
    }

    /// Stores an entry under a key known to be absent, evicting one first when full.
    fn insert_new(&mut self, key: String, value: Vec<u8>, expires_at: Option<Instant>, now: Instant) {
        if self.entries.len() >= self.capacity {
            self.evict_one(now);
        }
        let last_used = self.tick();
        self.entries.insert(key, Entry { value, expires_at, last_used });
    }

    /// Counts a write and sweeps out expired entries once there were as many writes as entries.
    fn note_write(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= self.entries.len().max(MIN_SWEEP_INTERVAL) {
            self.entries.retain(|_, entry| !entry.expired(now));
            self.writes_since_sweep = 0;
        }
    }

    /// Drops one entry: the first expired one among the samples at the hand, else the least
    /// recently used of them.
    fn evict_one(&mut self, now: Instant) {
        let len = self.entries.len();
        if len == 0 {
            return;
        }
        let start = self.hand % len;
        let mut victim = start;
        let mut oldest = u64::MAX;
        for step in 0..EVICTION_SAMPLES.min(len) {
            let index = (start + step) % len;
            let entry = &self.entries[index];
            if entry.expired(now) {
                victim = index;
                break;
            }
            if entry.last_used < oldest {
                oldest = entry.last_used;
                victim = index;
            }
        }
        self.hand = (start + EVICTION_SAMPLES) % len;
        self.entries.swap_remove_index(victim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_entries: u64) -> InProcessCache {
        InProcessCache::new(&CacheConfig { max_entries, ..CacheConfig::default() }).expect("a valid bound")
    }

    fn stored(cache: &InProcessCache) -> usize {
        cache.shards.iter().map(|shard| shard.lock().expect("not poisoned").entries.len()).sum()
    }

    #[test]
    fn shard_capacities_add_up_to_the_bound() {
        for max in [1, 15, 1023, 1024, 5000, 16_385, 100_000] {
            let cache = cache(max);
            let total: usize = cache.shards.iter().map(|shard| shard.lock().expect("not poisoned").capacity).sum();
            assert_eq!(total as u64, max, "capacities for max_entries = {max}");
            assert!(cache.shards.len() <= MAX_SHARDS);
        }
        assert!(matches!(
            InProcessCache::new(&CacheConfig { max_entries: 0, ..CacheConfig::default() }),
            Err(CacheError::InvalidConfig(_))
        ));
    }

    #[tokio::test]
    async fn stays_within_max_entries_and_keeps_hot_keys() {
        let cache = cache(50);
        cache.set("hot", b"1", None).await.unwrap();
        for i in 0..1000 {
            cache.set(&format!("key-{i}"), b"v", None).await.unwrap();
            assert!(cache.get("hot").await.unwrap().is_some(), "the hot key was evicted at {i}");
            assert!(stored(&cache) <= 50);
        }
        assert_eq!(stored(&cache), 50);
        assert_eq!(cache.get("key-999").await.unwrap(), Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn expired_entries_are_swept_out() {
        let cache = cache(1000);
        assert_eq!(cache.shards.len(), 1, "one shard, which the counter writes sweep");
        for i in 0..500 {
            cache.set(&format!("short-{i}"), b"v", Some(Duration::from_millis(20))).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        for _ in 0..600 {
            cache.incr_by("counter", 1, None).await.unwrap();
        }
        assert_eq!(stored(&cache), 1, "expired entries remain after many writes");
    }

    #[test]
    fn integers_parse_as_redis_reads_them() {
        assert_eq!(parse_integer(b"0"), Some(0));
        assert_eq!(parse_integer(b"42"), Some(42));
        assert_eq!(parse_integer(b"-42"), Some(-42));
        assert_eq!(parse_integer(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_integer(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [&b""[..], b"-", b"-0", b"007", b"+1", b" 1", b"1 ", b"1.5", b"abc", b"9223372036854775808", b"\xff"]
        {
            assert_eq!(parse_integer(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
