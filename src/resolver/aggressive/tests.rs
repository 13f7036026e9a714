//! The store's bounds: bytes, expiry, and the cache's generation.

use std::time::Duration;

use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::Instant;

use super::store::{DENIAL_BYTES, Held, Inner, Slot};

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a name")
}

/// An NSEC at `owner` (TTL `ttl`), as held.
fn held(owner: &Name, ttl: u32, now: Instant) -> Held {
    let nsec = NSEC::new(name("z.example."), [RecordType::A]);
    let record = Record::from_rdata(owner.clone(), ttl, RData::DNSSEC(DNSSECRData::NSEC(nsec)));
    Held::new(vec![record], now)
}

#[test]
fn the_held_denials_stay_within_their_bytes_and_expired_ones_make_room() {
    let now = Instant::now();
    let zone = name("example.");
    let mut inner = Inner::default();
    let mut kept = 0;
    for index in 0..60_000 {
        let owner = owner_of(index);
        inner.keep(
            &zone,
            Slot::Nsec(owner.clone()),
            held(&owner, 300, now),
            now,
        );
        kept += 1;
    }
    assert_eq!(kept, 60_000);
    assert!(inner.bytes <= DENIAL_BYTES, "{} bytes", inner.bytes);
    let count = inner.zones[&zone].nsecs.len();
    assert!(count < 60_000, "emptied when full ({count} held)");
    assert!(
        inner.zones[&zone].nsecs.contains_key(&owner_of(59_999)),
        "the last one kept"
    );
    // Once they have expired, filling the store again drops them first:
    // everything kept since is still there.
    let later = now + Duration::from_secs(301);
    for index in 0..30_000 {
        let owner = name(&format!("m{index}.example."));
        inner.keep(
            &zone,
            Slot::Nsec(owner.clone()),
            held(&owner, 300, later),
            later,
        );
    }
    let nsecs = &inner.zones[&zone].nsecs;
    assert_eq!(
        nsecs.len(),
        30_000,
        "the expired ones went, the new ones stay"
    );
    assert!(!nsecs.contains_key(&owner_of(59_999)));
    assert!(inner.bytes <= DENIAL_BYTES);
}

fn owner_of(index: usize) -> Name {
    name(&format!("n{index}.example."))
}

#[test]
fn emptying_the_cache_empties_the_held_denials() {
    let now = Instant::now();
    let zone = name("example.");
    let mut inner = Inner::default();
    inner.follow(0);
    let owner = name("a.example.");
    inner.keep(
        &zone,
        Slot::Nsec(owner.clone()),
        held(&owner, 300, now),
        now,
    );
    inner.follow(0);
    assert_eq!(inner.zones.len(), 1, "the same generation keeps them");
    inner.follow(1);
    assert!(inner.zones.is_empty(), "a new generation empties them");
    assert_eq!(inner.bytes, 0);
}
