//! The verified-signature cache: a bounded [`moka`] cache from the SHA-256 of
//! a token to its checked payload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

use super::payload::VerifiedToken;

/// Counters of a verifier's signature cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Entries currently cached (counted after the cache's pending
    /// evictions and invalidations have been applied).
    pub entries: usize,
    /// Maximum number of entries (0: cache disabled).
    pub capacity: usize,
    /// Verifications that skipped the signature check.
    pub hits: u64,
    /// Verifications that had to check the signature.
    pub misses: u64,
}

/// SHA-256 of a token.
pub(super) type Digest = [u8; 32];

/// Bounded map from token digest to verified payload, least recently used
/// entry evicted first.
///
/// moka applies evictions in batches (on later reads and writes, and in
/// [`stats`](Self::stats)), so under a burst of inserts the cache can hold a
/// small, bounded number of entries over `capacity` until its next
/// maintenance; [`CacheStats::entries`] is counted after maintenance.
///
/// Entries are keyed by `(generation, digest)`. [`clear`](Self::clear) bumps
/// the generation before invalidating everything, so a lookup after `clear`
/// can only find entries verified under the keys in force after it, even when
/// a verification that started with the old keys inserts its result late.
pub(super) struct SignatureCache {
    capacity: usize,
    /// `None` when the capacity is 0 (cache disabled).
    entries: Option<Cache<(u64, Digest), Arc<VerifiedToken>>>,
    generation: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl SignatureCache {
    pub(super) fn new(capacity: usize) -> Self {
        // LRU rather than moka's default TinyLFU admission: a freshly verified
        // token is always cached (TinyLFU may refuse a new entry whose key has
        // not been seen before, which is every new token).
        let entries = (capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(u64::try_from(capacity).unwrap_or(u64::MAX))
                .eviction_policy(EvictionPolicy::lru())
                .build()
        });
        SignatureCache {
            capacity,
            entries,
            generation: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached payload of `digest` verified under the current keys.
    pub(super) fn get(&self, digest: &Digest) -> Option<Arc<VerifiedToken>> {
        let hit = self
            .entries
            .as_ref()
            .and_then(|entries| entries.get(&(self.generation(), *digest)));
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// The generation to pass to [`insert`](Self::insert); read it before
    /// taking the key snapshot the signature is checked with.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches `token`, unless the cache was cleared since `generation` was read
    /// (the token was then verified with keys that may have been removed).
    pub(super) fn insert(&self, generation: u64, digest: Digest, token: Arc<VerifiedToken>) {
        let Some(entries) = &self.entries else {
            return;
        };
        if self.generation() != generation {
            return;
        }
        entries.insert((generation, digest), token);
        // Cleared meanwhile: the entry can no longer be found (its generation
        // is old), so drop it rather than let it take a slot until evicted.
        if self.generation() != generation {
            entries.invalidate(&(generation, digest));
        }
    }

    /// Forgets every entry; lookups made after this returns miss.
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
            entries.run_pending_tasks();
        }
    }

    pub(super) fn stats(&self) -> CacheStats {
        let entries = self.entries.as_ref().map_or(0, |entries| {
            entries.run_pending_tasks();
            usize::try_from(entries.entry_count()).unwrap_or(usize::MAX)
        });
        CacheStats {
            entries,
            capacity: self.capacity,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::Role;

    fn dummy() -> Arc<VerifiedToken> {
        Arc::new(VerifiedToken {
            sub: Uuid::nil(),
            tenant_id: Uuid::nil(),
            role: Role::Viewer,
            iss: String::new(),
            aud: vec![],
            exp: 0,
            iat: 0,
            nbf: None,
            jti: None,
            email: None,
        })
    }

    #[test]
    fn cache_is_bounded_and_evicts_the_oldest() {
        let cache = SignatureCache::new(3);
        for i in 0u8..5 {
            cache.insert(0, [i; 32], dummy());
        }
        assert_eq!(cache.stats().entries, 3);
        assert!(cache.get(&[0; 32]).is_none());
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[4; 32]).is_some());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        cache.clear();
        assert_eq!(cache.stats().entries, 0);
        cache.insert(0, [9; 32], dummy());
        assert!(
            cache.get(&[9; 32]).is_none(),
            "stale generation is not cached"
        );
        assert_eq!(cache.stats().entries, 0);
        cache.insert(cache.generation(), [9; 32], dummy());
        assert!(cache.get(&[9; 32]).is_some());
    }

    #[test]
    fn reading_an_entry_keeps_it() {
        let cache = SignatureCache::new(2);
        cache.insert(0, [1; 32], dummy());
        cache.insert(0, [2; 32], dummy());
        assert_eq!(cache.stats().entries, 2);
        assert!(cache.get(&[1; 32]).is_some());
        cache.insert(0, [3; 32], dummy());
        assert_eq!(cache.stats().entries, 2);
        assert!(cache.get(&[1; 32]).is_some(), "recently read");
        assert!(cache.get(&[2; 32]).is_none(), "least recently used");
        assert!(cache.get(&[3; 32]).is_some(), "new entries are admitted");
    }

    #[test]
    fn zero_capacity_disables_cache() {
        let cache = SignatureCache::new(0);
        cache.insert(0, [1; 32], dummy());
        assert!(cache.get(&[1; 32]).is_none());
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.capacity, stats.misses), (0, 0, 1));
    }
}
