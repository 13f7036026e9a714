//! Stores bounded in bytes: the resolver's cache and the server's replayed
//! answers keep their entries in quick_cache, keyed by octets.
//!
//! quick_cache, not moka (which the smaller caches use for their timers):
//! it evicts as it inserts, under a lock per shard, and a lookup does no
//! bookkeeping beyond a flag. moka applies its log of reads and writes on
//! the caller's thread every 64 operations: about 4 µs against a replay's
//! 0.4, which put one replay in 64 past a client's 99th percentile.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// What an entry costs beyond its key and value: the store's node, its
/// place in the hash table, the two allocations' headers. Measured with
/// moka, whose bookkeeping is the larger (about 350 bytes per small RRset
/// in all, bench/RESULTS.md), and kept as the bound.
pub const ENTRY_OVERHEAD: usize = 384;

/// The weight of an entry whose key and value take allocations of these
/// sizes in bytes, as counted against a store's capacity: each rounded up
/// to the allocator's size class, plus [`ENTRY_OVERHEAD`].
pub fn entry_weight(allocations: &[usize]) -> u64 {
    let bytes: usize = allocations.iter().map(|&size| allocated(size)).sum();
    (bytes + ENTRY_OVERHEAD) as u64
}

/// The bytes an allocator hands out for a request of `size`: its size
/// class, four per doubling above 64 bytes (as mimalloc, the binary's
/// allocator, and jemalloc space them; up to a fifth more than asked), and
/// whole words below (nothing for nothing). A 3,100-byte RRset takes 3,584.
fn allocated(size: usize) -> usize {
    if size <= 64 {
        return size.next_multiple_of(8);
    }
    size.next_multiple_of(size.next_power_of_two() / 8)
}

/// A typical entry's weight (a small RRset or answer), for sizing tables up front.
const ESTIMATED_WEIGHT: u64 = 512;

/// Entries under keys of octets, at most a number of bytes as `W` weighs
/// them; shared, cheap to clone.
pub type Store<V, W> = Arc<Cache<Box<[u8]>, V, W, ahash::RandomState>>;

/// An empty store holding at most `bytes` as `weigh` counts them; past
/// that, inserting evicts the least used (CLOCK-Pro, with a memory of the
/// keys lately evicted so that a returning one is kept).
pub fn store<V: Clone, W: Weighter<Box<[u8]>, V> + Clone>(bytes: u64, weigh: W) -> Store<V, W> {
    Arc::new(Cache::with(
        usize::try_from(bytes / ESTIMATED_WEIGHT)
            .unwrap_or(usize::MAX)
            .max(1),
        bytes,
        weigh,
        ahash::RandomState::new(),
        Default::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_weigh_their_size_class() {
        assert_eq!(allocated(0), 0, "an empty slice allocates nothing");
        assert_eq!(allocated(1), 8);
        assert_eq!(allocated(64), 64);
        assert_eq!(allocated(65), 80);
        assert_eq!(allocated(2048), 2048);
        assert_eq!(allocated(2049), 2560);
        assert_eq!(allocated(3100), 3584);
        assert_eq!(
            entry_weight(&[20, 3100]),
            (24 + 3584 + ENTRY_OVERHEAD) as u64
        );
    }
}
