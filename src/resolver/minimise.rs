//! QNAME minimisation (RFC 9156): which name and type to ask a zone's
//! servers next, one label more at a time.

use hickory_proto::rr::{Name, RecordType};

use super::iterate::{Outcome, Step};
use crate::names::label_count;

/// The most minimised questions for one name before asking it whole (RFC 9156 §2.3).
pub const MAX_MINIMISE_COUNT: usize = 10;

/// Which name and type to ask next, label by label (RFC 9156 §3).
pub(super) struct Minimiser {
    name: Name,
    qtype: RecordType,
    /// Labels beyond the zone to ask about; `None` once minimising stopped.
    extra: Option<usize>,
    /// Minimised questions answered so far (each a step down the name); a
    /// server that fails and is replaced by the next does not count.
    asked: usize,
}

impl Minimiser {
    pub(super) fn new(enabled: bool, name: &Name, qtype: RecordType) -> Self {
        Minimiser {
            name: name.clone(),
            qtype,
            extra: enabled.then_some(1),
            asked: 0,
        }
    }

    /// The question for a server of `zone`: the next label with type A, or the whole question.
    pub(super) fn question(&mut self, zone: &Name) -> (Name, RecordType) {
        let full = label_count(&self.name);
        let Some(extra) = self.extra else {
            return (self.name.clone(), self.qtype);
        };
        let labels = label_count(zone) + extra;
        if labels >= full || self.asked >= MAX_MINIMISE_COUNT {
            self.extra = None;
            return (self.name.clone(), self.qtype);
        }
        (self.name.trim_to(labels), RecordType::A)
    }

    /// Whether the last question given was minimised (not the whole one).
    pub(super) fn minimising(&self) -> bool {
        self.extra.is_some()
    }

    /// No more minimising: the whole question from now on.
    pub(super) fn stop(&mut self) {
        self.extra = None;
    }

    /// A referral: start again one label below the new zone.
    pub(super) fn next_zone(&mut self) {
        if self.extra.is_some() {
            self.asked += 1;
            self.extra = Some(1);
        }
    }

    /// A minimised question was answered without a referral.
    pub(super) fn learned(&mut self, step: &Step) {
        self.extra = match (step, self.extra) {
            (Step::Done(_, Outcome::Answer(_) | Outcome::NoData(_)), Some(extra)) => {
                self.asked += 1;
                Some(extra + 1)
            }
            _ => None, // NXDOMAIN or a CNAME: ask the whole question
        };
    }
}
