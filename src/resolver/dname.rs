//! DNAME in the resolver (RFC 6672 §3.1, §3.4): the DNAME of a reply is
//! kept in the chain before the CNAME it synthesises; the CNAME itself is
//! made here, never taken from the reply (a server's CNAME that does not
//! match the substitution is not trusted, as Unbound re-synthesises it); the
//! DNAME is cached, the synthesised CNAME is not (Unbound gives it TTL 0:
//! it is made again from the cached DNAME, so answers from the cache carry
//! the DNAME too), and names below a cached DNAME are redirected from the
//! cache without asking anyone.
//!
//! ```text
//! reply:  y.example.com. DNAME z.example.com.        chain: DNAME, CNAME (ours), …
//! cache:  other.y.example.com. A? → DNAME cached → CNAME other.z.example.com. → resolve that
//! ```

use hickory_proto::rr::{Name, Record, RecordType};

use super::Resolver;
use super::iterate::{Outcome, Step};
use super::reply::follows_no_alias;
use crate::clock;
use crate::names::{label_count, strictly_below};

/// The DNAME among `answers` that redirects `name`: its owner strictly
/// above `name`; the one nearest the root if there are several (it hides
/// the others, RFC 6672 §2.4).
pub(super) fn applying<'a>(answers: &'a [Record], name: &Name) -> Option<&'a Record> {
    answers
        .iter()
        .filter(|record| record.record_type() == RecordType::DNAME)
        .filter(|record| strictly_below(name, &record.name))
        .min_by_key(|record| label_count(&record.name))
}

/// For a CNAME or ANY question below a DNAME of the reply, the answer we
/// make: the DNAME and the CNAME it synthesises for `qname`, which is the
/// data asked for (RFC 6672 §3.2); `Err` with the DNAME when the new name
/// would be too long.
pub(super) fn own_answer(
    answers: &[Record],
    qname: &Name,
) -> Option<Result<(Record, Record), Record>> {
    let dname = applying(answers, qname)?;
    Some(match crate::dname::synthesise(dname, qname)? {
        Ok(cname) => Ok((dname.clone(), cname)),
        Err(_) => Err(dname.clone()),
    })
}

/// True for a CNAME that a DNAME of `chain` synthesises.
pub(super) fn synthesised(chain: &[Record], record: &Record) -> bool {
    record.record_type() == RecordType::CNAME
        && chain.iter().any(|dname| {
            crate::dname::synthesise(dname, &record.name)
                .is_some_and(|made| made.is_ok_and(|cname| cname.data == record.data))
        })
}

/// The records of a chain worth caching: all but the CNAMEs a DNAME of
/// the chain synthesises, which are made again from the cached DNAME, so
/// that an answer from the cache carries the DNAME too.
pub(super) fn cacheable(chain: &[Record]) -> impl Iterator<Item = &Record> {
    chain.iter().filter(|record| !synthesised(chain, record))
}

/// Adds the links of a step to a chain; a DNAME already in it (one that
/// redirects twice, `x. DNAME .` for `a.x.x.`) is given once.
pub(super) fn extend(chain: &mut Vec<Record>, links: &[Record]) {
    for link in links {
        if link.record_type() != RecordType::DNAME || !chain.contains(link) {
            chain.push(link.clone());
        }
    }
}

/// The links of a chain that count against the CNAME chain limit: its
/// CNAMEs, a DNAME's synthesised one included (one per DNAME step).
pub(super) fn links(chain: &[Record]) -> usize {
    chain
        .iter()
        .filter(|record| record.record_type() == RecordType::CNAME)
        .count()
}

/// True when the chain has already been at `name` (a CNAME owned by it):
/// going there again is a loop. DNAME owners are not names visited.
pub(super) fn revisits(chain: &[Record], name: &Name) -> bool {
    chain
        .iter()
        .any(|record| record.record_type() == RecordType::CNAME && record.name == *name)
}

impl Resolver {
    /// The step a cached DNAME above `name` gives, if one is cached: the
    /// DNAME and the CNAME it synthesises, then on to its target (for CNAME
    /// and ANY questions the CNAME is the answer); YXDOMAIN when the
    /// substitution is too long (RFC 6672 §2.2).
    pub(super) fn cached_redirect(&self, name: &Name, qtype: RecordType) -> Option<Step> {
        let now = clock::now();
        let dname = self.cache.dname_above(name, now)?;
        Some(match crate::dname::synthesise(&dname, name)? {
            Ok(cname) if follows_no_alias(qtype) => {
                Step::Done(vec![dname], Outcome::Answer(vec![cname]))
            }
            Ok(cname) => {
                let target = super::iterate::cname_target(&cname);
                Step::Alias(vec![dname, cname], target)
            }
            Err(_) => Step::Done(vec![dname], Outcome::YxDomain),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::resolver::reply::{Classified, Lameness, classify};
    use hickory_proto::op::{Message, OpCode, ResponseCode};
    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::{A, CNAME};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("valid")
    }

    fn chain() -> Vec<Record> {
        let dname = crate::dname::record(name("y.example.com."), 300, &name("z.example.com."));
        let synthesised = Record::from_rdata(
            name("x.y.example.com."),
            300,
            RData::CNAME(CNAME(name("x.z.example.com."))),
        );
        let plain = Record::from_rdata(
            name("x.z.example.com."),
            300,
            RData::CNAME(CNAME(name("host.example.net."))),
        );
        vec![dname, synthesised, plain]
    }

    #[test]
    fn the_synthesised_cname_is_not_cached_and_the_dname_and_plain_cnames_are() {
        let kept: Vec<RecordType> = cacheable(&chain()).map(|r| r.record_type()).collect();
        assert_eq!(kept, [RecordType::DNAME, RecordType::CNAME]);
        assert_eq!(
            cacheable(&chain()).nth(1).map(|r| r.name.clone()),
            Some(name("x.z.example.com."))
        );
    }

    #[test]
    fn a_dname_step_counts_as_one_link_and_its_owner_is_no_loop() {
        assert_eq!(links(&chain()), 2);
        assert!(!revisits(&chain(), &name("y.example.com.")));
        assert!(revisits(&chain(), &name("x.y.example.com.")));
    }

    fn reply(rcode: ResponseCode, answers: Vec<Record>) -> Message {
        let mut message = Message::response(1, OpCode::Query);
        message.metadata.authoritative = true;
        message.metadata.response_code = rcode;
        message.answers = answers;
        message
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 60, RData::CNAME(CNAME(name(target))))
    }

    #[test]
    fn a_cname_that_does_not_match_the_dname_is_replaced_by_ours() {
        let dname = crate::dname::record(name("y.example.com."), 300, &name("z.example.com."));
        let address = Record::from_rdata(
            name("x.z.example.com."),
            300,
            RData::A(A(Ipv4Addr::new(10, 20, 30, 40))),
        );
        let forged = reply(
            ResponseCode::NoError,
            vec![
                dname.clone(),
                cname("x.y.example.com.", "x.evil.example.com."),
                address.clone(),
            ],
        );
        let classified = classify(
            &forged,
            &name("x.y.example.com."),
            RecordType::A,
            &name("example.com."),
        );
        let Classified::Answer { chain, records } = classified else {
            panic!("an answer: {classified:?}");
        };
        assert_eq!(chain[0], dname);
        assert_eq!(chain[1].data, RData::CNAME(CNAME(name("x.z.example.com."))));
        assert_eq!(chain[1].ttl, 300, "the DNAME's TTL");
        assert_eq!(records, [address]);
    }

    #[test]
    fn a_cname_question_below_a_dname_is_answered_with_the_dname_and_our_cname() {
        let dname = crate::dname::record(name("y.example.com."), 300, &name("z.example.com."));
        let forged = reply(
            ResponseCode::NoError,
            vec![
                dname.clone(),
                cname("x.y.example.com.", "x.evil.example.com."),
            ],
        );
        let classified = classify(
            &forged,
            &name("x.y.example.com."),
            RecordType::CNAME,
            &name("example.com."),
        );
        let made = Record::from_rdata(
            name("x.y.example.com."),
            300,
            RData::CNAME(CNAME(name("x.z.example.com."))),
        );
        assert_eq!(
            classified,
            Classified::Answer {
                chain: vec![dname.clone()],
                records: vec![made.clone()],
            }
        );
        assert!(synthesised(&[dname], &made), "so it is not cached");
    }

    #[test]
    fn yxdomain_after_a_dname_is_an_outcome_and_without_one_a_failure() {
        let label = "x".repeat(63);
        let long = name(&format!("{label}.{label}.{label}.{}.", "y".repeat(58)));
        let dname = crate::dname::record(name("long."), 3600, &long);
        let qname = name("too.long.");
        let zone = Name::root();
        let yx = reply(ResponseCode::YXDomain, vec![dname.clone()]);
        assert_eq!(
            classify(&yx, &qname, RecordType::A, &zone),
            Classified::YxDomain { chain: vec![dname] }
        );
        let bare = reply(ResponseCode::YXDomain, Vec::new());
        assert_eq!(
            classify(&bare, &qname, RecordType::A, &zone),
            Classified::Lame(Lameness::Rcode(ResponseCode::YXDomain))
        );
    }

    #[test]
    fn the_dname_nearest_the_root_applies() {
        let high = crate::dname::record(name("example.com."), 1, &name("example.net."));
        let low = crate::dname::record(name("y.example.com."), 1, &name("z.example.com."));
        let answers = [low.clone(), high.clone()];
        assert_eq!(applying(&answers, &name("x.y.example.com.")), Some(&high));
        assert_eq!(applying(&answers, &name("example.com.")), None);
        assert_eq!(
            applying(std::slice::from_ref(&low), &name("y.example.com.")),
            None
        );
    }
}
