//! What a resolution does, reported as it does it (for `trace`): the
//! cached RRsets it uses ("why did the second lookup take only two
//! messages?") and the servers it chooses, among which. Nothing is looked
//! up or built unless a report tap is set.

use hickory_proto::rr::{Name, RecordType};

use super::Resolver;
use super::delegation::{Candidate, DelegationPoint};
use crate::capture::{Alternative, CacheUse, Report, ReportTap, ServerChoice, UsedFor};
use crate::clock;

impl Resolver {
    /// Reports to `tap` every cached RRset used instead of asking a
    /// server, and every server chosen.
    pub fn with_reports(mut self, tap: ReportTap) -> Self {
        self.reports = Some(tap);
        self
    }

    /// Reports that the cached `name`/`record_type` (the delegation of zone
    /// `name`, for [`UsedFor::Delegation`]) was used, as it stands now.
    pub(super) fn report_use(&self, used_for: UsedFor, name: &Name, record_type: RecordType) {
        let Some(reports) = &self.reports else {
            return;
        };
        let now = clock::now();
        let info = match used_for {
            UsedFor::Delegation => self.cache.delegation_info(name, now),
            _ => self.cache.rrset_info(name, record_type, now),
        };
        let Some(info) = info else {
            return;
        };
        reports(Report::CacheUse(CacheUse {
            used_for,
            name: name.clone(),
            record_type,
            records: info.records,
            negative: info.negative,
            credibility: info.credibility.words(),
            ttl_left: info.ttl_left,
            age: info.age,
            source: info.provenance.as_ref().map(|p| p.server),
            question: info.provenance.map(|p| (p.question, p.question_type)),
            at: tokio::time::Instant::now(),
        }));
    }

    /// Reports that `chosen` was chosen among the servers of `point`.
    pub(super) fn report_choice(&self, point: &DelegationPoint, chosen: &Candidate) {
        let Some(reports) = &self.reports else {
            return;
        };
        let alternative = |candidate: &Candidate| Alternative {
            address: candidate.endpoint().socket(self.settings.port),
            name: candidate.name.clone(),
            tried: candidate.tried(),
            rtt: self.stats.measured(candidate.endpoint()),
            score: self.stats.score(candidate.endpoint()),
        };
        let mut chosen = alternative(chosen);
        chosen.tried = false; // marked tried as it was chosen
        let others = point
            .candidates()
            .iter()
            .map(alternative)
            .filter(|other| other.address != chosen.address)
            .collect();
        reports(Report::Choice(ServerChoice {
            zone: point.zone.clone(),
            chosen,
            others,
            unresolved: point.unresolved().to_vec(),
            at: tokio::time::Instant::now(),
        }));
    }
}
