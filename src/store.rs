//! Stores bounded in bytes: the resolver's cache and the server's replayed
//! answers keep their entries in quick_cache, keyed by octets.
//!
//! quick_cache, not moka (which the smaller caches keep): it evicts as it
//! inserts, under a lock per shard, and a lookup does no bookkeeping beyond
//! a flag. moka applies its log of reads and writes on the caller's thread
//! every 64 operations: about 4 µs against a replay's 0.4.

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};

/// What an entry costs beyond its allocations: the store's slot, its place
/// in the hash table, the memory of evicted keys. Measured with moka, whose
/// bookkeeping was the larger (about 350 bytes per small RRset in all,
/// bench/RESULTS.md), and kept as the bound: with quick_cache a small
/// RRset and its replayed answer cost 213 bytes resident in all.
pub const ENTRY_OVERHEAD: usize = 384;

/// The bytes an `Arc` allocates before its value: its strong and weak counts.
pub const ARC_COUNTS: usize = 2 * std::mem::size_of::<usize>();

/// The weight of an entry whose key and value take allocations of these
/// sizes in bytes, as counted against a store's capacity: each rounded up
/// to the allocator's size class, plus [`ENTRY_OVERHEAD`].
pub fn entry_weight(allocations: &[usize]) -> u64 {
    let bytes: usize = allocations.iter().map(|&size| allocated(size)).sum();
    (bytes + ENTRY_OVERHEAD) as u64
}

/// The bytes mimalloc (the binary's allocator) hands out for a request of
/// `size`, on 64-bit: 8, then multiples of 16 up to 64; then its size
/// classes, four per doubling (up to a quarter more than asked; jemalloc
/// spaces them alike) up to 64 KiB; past that, whole 64 KiB slices. A
/// 3,100-byte RRset takes 3,584; a 65,535-byte answer, 128 KiB.
fn allocated(size: usize) -> usize {
    const SLICE: usize = 64 << 10;
    match size {
        0 => 0,
        1..=8 => 8,
        9..=64 => size.next_multiple_of(16),
        65..=SLICE => size.next_multiple_of(size.next_power_of_two() / 8),
        _ => size.next_multiple_of(SLICE),
    }
}

/// A typical entry's weight (a small RRset or answer): quick_cache sizes
/// its memory of evicted keys from the number of entries this makes.
const ESTIMATED_WEIGHT: u64 = 512;

/// The least capacity of a shard. quick_cache divides a store's bytes
/// among its shards and refuses an entry heavier than (nearly) a shard's:
/// this one holds the largest DNS message (65,535 bytes, 128 KiB as
/// allocated) with room to spare.
const MIN_SHARD_BYTES: u64 = 256 << 10;

/// Entries under keys of octets, at most a number of bytes as `W` weighs
/// them; shared, cheap to clone.
pub type Store<V, W> = Arc<Cache<Box<[u8]>, V, W, ahash::RandomState>>;

/// An empty store holding at most `bytes` as `weigh` counts them; past
/// that, inserting evicts the least used (CLOCK-Pro, with a memory of the
/// keys lately evicted so that a returning one is kept). Shards (each with
/// its own lock): four per CPU, as quick_cache chooses, but none smaller
/// than [`MIN_SHARD_BYTES`], so that any one answer or RRset fits in a
/// store of that size or more.
pub fn store<V: Clone, W: Weighter<Box<[u8]>, V> + Clone>(bytes: u64, weigh: W) -> Store<V, W> {
    let cpus = std::thread::available_parallelism().map_or(1, |count| count.get()) as u64;
    let shards = (bytes / MIN_SHARD_BYTES).clamp(1, 4 * cpus);
    let options = OptionsBuilder::new()
        .estimated_items_capacity(
            usize::try_from(bytes / ESTIMATED_WEIGHT)
                .unwrap_or(usize::MAX)
                .max(1),
        )
        .weight_capacity(bytes)
        // A power of two no larger: quick_cache rounds up.
        .shards(1 << shards.ilog2())
        .build()
        .expect("capacities set");
    Arc::new(Cache::with_options(
        options,
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
        assert_eq!(allocated(20), 32);
        assert_eq!(allocated(64), 64);
        assert_eq!(allocated(65), 80);
        assert_eq!(allocated(2048), 2048);
        assert_eq!(allocated(2049), 2560);
        assert_eq!(allocated(3100), 3584);
        assert_eq!(allocated(65_536), 65_536);
        assert_eq!(allocated(ARC_COUNTS + 65_535), 128 << 10);
        assert_eq!(
            entry_weight(&[20, 3100]),
            (32 + 3584 + ENTRY_OVERHEAD) as u64
        );
    }

    /// Weighs a value behind an Arc as the resolver's cache does.
    #[derive(Clone)]
    struct Weigh;

    impl Weighter<Box<[u8]>, Arc<[u8]>> for Weigh {
        fn weight(&self, key: &Box<[u8]>, value: &Arc<[u8]>) -> u64 {
            entry_weight(&[key.len(), ARC_COUNTS + value.len()])
        }
    }

    #[test]
    fn the_largest_message_fits_in_the_smallest_store_and_a_large_one() {
        // The smallest: a quarter of the least [cache] size, the replayed answers' share.
        for bytes in [MIN_SHARD_BYTES, 64 << 20] {
            let store = store(bytes, Weigh);
            let key: Box<[u8]> = b"\x07example\x00\x00\x01".as_slice().into();
            store.insert(key.clone(), vec![0u8; 65_535].into());
            let kept = store.get(&key).expect("kept");
            assert_eq!(kept.len(), 65_535, "a store of {bytes} bytes");
            assert!(store.weight() <= bytes);
        }
    }
}
