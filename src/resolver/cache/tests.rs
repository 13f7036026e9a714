//! The cache's unit tests: TTLs, negative answers, credibility, bytes.

use super::*;
use crate::resolver::delegation::Delegation;
use hickory_proto::rr::rdata::{A, SOA};
use std::net::Ipv4Addr;

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("valid")
}

fn a(owner: &str, ttl: u32) -> Record {
    Record::from_rdata(name(owner), ttl, RData::A(A(Ipv4Addr::new(192, 0, 2, 1))))
}

fn soa(ttl: u32, minimum: u32) -> Record {
    let data = SOA::new(name("ns.t."), name("h.t."), 1, 1, 1, 1, minimum);
    Record::from_rdata(name("t."), ttl, RData::SOA(data))
}

const AUTH: Credibility = Credibility::AuthoritativeAnswer;

fn cache() -> Cache {
    Cache::new(&CacheConfig::default(), 1 << 20)
}

#[test]
fn ttls_count_down_and_expire() {
    let cache = cache();
    let start = Instant::now();
    cache.insert_rrset(&[a("Host.T.", 600)], AUTH, start);
    let later = start + Duration::from_secs(100);
    let records = cache
        .rrset(&name("host.t."), RecordType::A, later)
        .expect("cached");
    assert_eq!(records[0].ttl, 500);
    assert!(
        cache
            .rrset(
                &name("host.t."),
                RecordType::A,
                start + Duration::from_secs(600)
            )
            .is_none()
    );
}

#[test]
fn an_rrset_gets_its_least_ttl() {
    let cache = cache();
    let now = Instant::now();
    cache.insert_rrset(&[a("h.t.", 600), a("h.t.", 300)], AUTH, now);
    let records = cache
        .rrset(&name("h.t."), RecordType::A, now)
        .expect("cached");
    assert!(records.iter().all(|r| r.ttl == 300));
}

#[test]
fn zero_ttl_is_not_cached() {
    let cache = cache();
    let now = Instant::now();
    cache.insert_rrset(&[a("h.t.", 0)], AUTH, now);
    assert!(cache.rrset(&name("h.t."), RecordType::A, now).is_none());
}

#[test]
fn nxdomain_covers_every_type_for_the_negative_ttl() {
    let cache = cache();
    let now = Instant::now();
    cache.insert_nx_domain(&name("gone.t."), &soa(3600, 300), AUTH, now);
    for record_type in [RecordType::A, RecordType::MX] {
        match cache.lookup(&name("gone.t."), record_type, now) {
            Some(Cached::NxDomain(soa)) => assert_eq!(soa.ttl, 300),
            other => panic!("expected NXDOMAIN, got {other:?}"),
        }
    }
    assert!(
        cache
            .lookup(
                &name("gone.t."),
                RecordType::A,
                now + Duration::from_secs(300)
            )
            .is_none()
    );
}

#[test]
fn ttls_are_capped() {
    let config = CacheConfig {
        max_ttl: 60,
        min_ttl: 10,
        ..CacheConfig::default()
    };
    let cache = Cache::new(&config, 1 << 20);
    let now = Instant::now();
    cache.insert_rrset(&[a("big.t.", 86_400)], AUTH, now);
    cache.insert_rrset(&[a("small.t.", 1)], AUTH, now);
    assert_eq!(
        cache
            .rrset(&name("big.t."), RecordType::A, now)
            .expect("cached")[0]
            .ttl,
        60
    );
    assert_eq!(
        cache
            .rrset(&name("small.t."), RecordType::A, now)
            .expect("cached")[0]
            .ttl,
        10
    );
}

#[test]
fn lower_ranked_data_never_replaces_higher_before_it_expires() {
    let cache = cache();
    let now = Instant::now();
    let other = |ttl| {
        Record::from_rdata(
            name("h.t."),
            ttl,
            RData::A(A(Ipv4Addr::new(198, 51, 100, 9))),
        )
    };
    cache.insert_rrset(&[a("h.t.", 600)], AUTH, now);
    cache.insert_rrset(&[other(600)], Credibility::NonAuthoritativeAnswer, now);
    let held = cache
        .rrset(&name("h.t."), RecordType::A, now)
        .expect("cached");
    assert_eq!(
        held[0].data,
        a("h.t.", 600).data,
        "the authoritative RRset stays"
    );
    // A lower-ranked NXDOMAIN does not hide it either.
    cache.insert_nx_domain(
        &name("h.t."),
        &soa(600, 600),
        Credibility::NonAuthoritativeAnswer,
        now,
    );
    assert!(matches!(
        cache.lookup(&name("h.t."), RecordType::A, now),
        Some(Cached::Records(_))
    ));
    // Equal or higher rank replaces; once expired, anything does.
    let later = now + Duration::from_secs(601);
    cache.insert_rrset(&[other(600)], Credibility::NonAuthoritativeAnswer, later);
    let held = cache
        .rrset(&name("h.t."), RecordType::A, later)
        .expect("cached");
    assert_eq!(held[0].data, other(600).data);
    cache.insert_rrset(&[a("h.t.", 600)], AUTH, later);
    let held = cache
        .rrset(&name("h.t."), RecordType::A, later)
        .expect("cached");
    assert_eq!(held[0].data, a("h.t.", 600).data);
}

#[test]
fn top_bit_ttls_count_as_zero_and_only_min_ttl_raises_zero() {
    let cache = cache();
    let now = Instant::now();
    cache.insert_rrset(&[a("top.t.", 0x8000_0001)], AUTH, now);
    assert!(cache.rrset(&name("top.t."), RecordType::A, now).is_none());
    assert_eq!(cache.clamp_ttl(0x8000_0001), 0, "RFC 2181 §8: as if zero");
    assert_eq!(cache.negative_ttl(&soa(0x8000_0000, 300)), 0);
    let raised = Cache::new(
        &CacheConfig {
            min_ttl: 30,
            ..CacheConfig::default()
        },
        1 << 20,
    );
    assert_eq!(raised.clamp_ttl(0), 30, "as Unbound's cache-min-ttl");
    assert_eq!(raised.clamp_ttl(0x8000_0001), 30);
}

#[test]
fn the_cache_holds_no_more_bytes_than_its_size() {
    let size = 1 << 20;
    let cache = Cache::new(&CacheConfig::default(), size);
    let now = Instant::now();
    let big = |owner: &str| {
        let text = hickory_proto::rr::rdata::TXT::new(vec!["x".repeat(250); 16]);
        Record::from_rdata(name(owner), 600, RData::TXT(text))
    };
    for i in 0..2_000 {
        cache.insert_rrset(&[big(&format!("h{i}.t."))], AUTH, now); // ~4 KB each
    }
    let held = cache.weighted_size();
    assert!(held <= size, "{held} bytes held for a size of {size}");
    assert!(held > size / 2, "the cache is used: {held} bytes");
}

#[test]
fn sections_count_down_each_record_and_live_as_long_as_their_answer() {
    use hickory_proto::rr::rdata::NS;
    let cache = cache();
    let start = Instant::now();
    let ns = Record::from_rdata(name("t."), 3600, RData::NS(NS(name("ns.t."))));
    let sections = Sections {
        authority: vec![ns],
        additional: vec![a("ns.t.", 100)],
    };
    cache.insert_sections(&name("Host.T."), RecordType::A, &sections, 300, start);
    let held = cache.sections(&name("host.t."), RecordType::A, start);
    assert_eq!(held, sections, "as given, names and TTLs");
    let later = cache.sections(
        &name("host.t."),
        RecordType::A,
        start + Duration::from_secs(150),
    );
    assert_eq!(later.authority[0].ttl, 3450, "its own TTL, counted down");
    assert!(later.additional.is_empty(), "the address ran out first");
    assert!(
        cache
            .sections(&name("host.t."), RecordType::AAAA, start)
            .is_empty(),
        "another type's answer has none"
    );
    assert!(
        cache
            .sections(
                &name("host.t."),
                RecordType::A,
                start + Duration::from_secs(301)
            )
            .is_empty(),
        "gone with the answer"
    );
    assert!(
        cache
            .lookup(&name("host.t."), RecordType::A, start)
            .is_none(),
        "never an answer themselves"
    );
}

#[test]
fn negative_ttls_stay_within_their_bounds() {
    let config = CacheConfig {
        min_negative_ttl: 10,
        max_negative_ttl: 600,
        ..CacheConfig::default()
    };
    let cache = Cache::new(&config, 1 << 20);
    assert_eq!(
        cache.negative_ttl(&soa(3600, 1)),
        10,
        "raised to the minimum"
    );
    assert_eq!(cache.negative_ttl(&soa(3600, 300)), 300, "as the SOA says");
    assert_eq!(
        cache.negative_ttl(&soa(3600, 7200)),
        600,
        "cut to the maximum"
    );
    let start = Instant::now();
    cache.insert_nx_domain(&name("gone.t."), &soa(3600, 1), AUTH, start);
    let later = start + Duration::from_secs(5);
    assert!(
        cache
            .lookup(&name("gone.t."), RecordType::A, later)
            .is_some(),
        "still cached after the SOA's 1 s"
    );
}

#[test]
fn a_cached_dname_redirects_what_is_below_it_until_the_cache_is_emptied() {
    let cache = cache();
    let start = Instant::now();
    let below = name("www.old.t.");
    assert!(cache.dname_above(&below, start).is_none(), "none cached");
    let dname = crate::dname::record(name("old.t."), 300, &name("new.t."));
    cache.insert_rrset(&[dname], AUTH, start);
    let found = cache.dname_above(&below, start).expect("cached above");
    assert_eq!(found.name, name("old.t."));
    assert!(
        cache.dname_above(&name("old.t."), start).is_none(),
        "not above its own owner"
    );
    cache.clear();
    assert!(cache.dname_above(&below, start).is_none(), "emptied");
}

#[test]
fn signatures_follow_the_rank_of_what_they_sign() {
    let cache = cache();
    let now = Instant::now();
    let owner = name("www.t.");
    // Any record stands in for an RRSIG here: the cache keeps what it is given.
    let signed = Sections {
        authority: vec![a("www.t.", 300)],
        additional: Vec::new(),
    };
    let what = (&owner, RecordType::A);
    let kept = |cache: &Cache| cache.beside(Beside::Signatures, &owner, RecordType::A, now);
    cache.insert_beside(Beside::Signatures, what, &signed, 300, AUTH, now);
    assert_eq!(kept(&cache), signed);
    let none = Sections::default();
    let lower = Credibility::NonAuthoritativeAnswer;
    cache.insert_beside(Beside::Signatures, what, &none, 300, lower, now);
    assert_eq!(kept(&cache), signed, "a lower rank neither removes them");
    let other = Sections {
        authority: vec![a("www.t.", 100)],
        additional: Vec::new(),
    };
    cache.insert_beside(Beside::Signatures, what, &other, 300, lower, now);
    assert_eq!(kept(&cache), signed, "nor replaces them");
    cache.insert_beside(Beside::Signatures, what, &none, 300, AUTH, now);
    assert!(
        kept(&cache).is_empty(),
        "the same rank without any removes them"
    );
}

#[test]
fn each_ancestors_key_is_the_key_of_that_name() {
    let full = name("WWW.a.Example.COM.");
    let mut seen = Vec::new();
    let found =
        KeyBuf::find_in_ancestors(Kind::Delegation, RecordType::NS, &full, |labels, key| {
            let ancestor = full.trim_to(labels);
            assert_eq!(
                key,
                KeyBuf::new(Kind::Delegation, RecordType::NS, &ancestor).as_slice(),
                "{ancestor}"
            );
            seen.push(ancestor.to_lowercase().to_ascii());
            (labels == 2).then_some(labels)
        });
    assert_eq!(found, Some(2), "stops at the first found");
    assert_eq!(
        seen,
        ["www.a.example.com.", "a.example.com.", "example.com."]
    );
    let mut all = 0;
    let none: Option<()> = KeyBuf::find_in_ancestors(Kind::RRset, RecordType::A, &full, |_, _| {
        all += 1;
        None
    });
    assert_eq!((none, all), (None, 5), "down to the root");
}

#[test]
fn the_deepest_delegation_is_found_below_the_root_and_at_it() {
    let cache = cache();
    let now = Instant::now();
    let delegation = |zone: &str| Delegation {
        zone: name(zone),
        name_servers: vec![name("ns.example.")],
        glue: Vec::new(),
    };
    cache.insert_delegation(delegation("."), 600, Credibility::Referral, now);
    assert_eq!(
        cache
            .deepest_delegation(&name("www.example.com."), now)
            .map(|d| d.zone.clone()),
        Some(Name::root())
    );
    cache.insert_delegation(delegation("Example.COM."), 600, Credibility::Referral, now);
    let found = cache
        .deepest_delegation(&name("www.sub.example.com."), now)
        .expect("cached");
    assert_eq!(found.zone, name("example.com."));
    assert_eq!(found.name_servers, [name("ns.example.")]);
}

#[test]
fn a_decoded_delegation_is_shared_until_its_entry_changes_or_expires() {
    let cache = cache();
    let now = Instant::now();
    let delegation = |ns: &str| Delegation {
        zone: name("example.com."),
        name_servers: vec![name(ns)],
        glue: Vec::new(),
    };
    cache.insert_delegation(delegation("a.ns.example."), 600, Credibility::Referral, now);
    let first = cache
        .deepest_delegation(&name("www.example.com."), now)
        .expect("cached");
    let again = cache
        .deepest_delegation(&name("mail.example.com."), now)
        .expect("cached");
    assert!(std::sync::Arc::ptr_eq(&first, &again), "decoded once");
    // A new referral replaces the entry: the new NS set, at once.
    cache.insert_delegation(delegation("b.ns.example."), 60, Credibility::Referral, now);
    let replaced = cache
        .deepest_delegation(&name("www.example.com."), now)
        .expect("cached");
    assert_eq!(replaced.name_servers, [name("b.ns.example.")]);
    // Expired: gone, decoded or not.
    let later = now + std::time::Duration::from_secs(61);
    assert!(
        cache
            .deepest_delegation(&name("www.example.com."), later)
            .is_none()
    );
    // Emptied: gone.
    cache.insert_delegation(delegation("c.ns.example."), 600, Credibility::Referral, now);
    assert!(
        cache
            .deepest_delegation(&name("www.example.com."), now)
            .is_some()
    );
    cache.clear();
    assert!(
        cache
            .deepest_delegation(&name("www.example.com."), now)
            .is_none()
    );
}

#[test]
fn a_decoded_delegation_weighs_what_it_holds() {
    use quick_cache::Weighter;
    let referral = |count: usize| {
        std::sync::Arc::new(Delegation {
            zone: name("example.com."),
            name_servers: (0..count)
                .map(|i| name(&format!("ns{i}.attacker.example.")))
                .collect(),
            glue: Vec::new(),
        })
    };
    let key: Box<[u8]> = Box::from(&b"key"[..]);
    let from: std::sync::Arc<[u8]> = std::sync::Arc::from(&[0u8; 100][..]);
    let weigh = |delegation| delegations::WeighDecoded.weight(&key, &(from.clone(), delegation));
    let (small, large) = (weigh(referral(2)), weigh(referral(300)));
    assert!(small < 1024, "two NS names: {small} bytes");
    assert!(
        large >= 300 * std::mem::size_of::<Name>() as u64,
        "a referral to 300 names weighs them all: {large} bytes"
    );
}
