//! The response to a client (RFC 1035 §4.1, RFC 4035 §3.2): the resolution
//! or its failure made into a message, with the NS set and addresses when
//! responses are not minimal, the DNSSEC records for DO clients, AD, and the
//! Extended DNS Error of a failure (RFC 8914).

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::EdnsOption;

use super::validate::Verdict;
use super::{Outcome, Resolution, ResolveError, Resolver};
use crate::server::Request;
use crate::validator::Security;

/// The EDNS option code of an Extended DNS Error (RFC 8914 §2).
pub const EDE_OPTION: u16 = 15;

/// An Extended DNS Error option: the info code, then the text (RFC 8914 §2).
pub(super) fn extended_error(code: u16, text: &str) -> EdnsOption {
    let mut data = code.to_be_bytes().to_vec();
    data.extend_from_slice(text.as_bytes());
    EdnsOption::Unknown(EDE_OPTION, data)
}

impl Resolver {
    /// The response to a client: [`answer`], with the NS set (authority)
    /// and addresses (additional) that came with the answer unless
    /// responses are minimal; minimal, a negative answer still carries the
    /// NS set that came beside its SOA, as Unbound's and Knot Resolver's do.
    /// A client that set DO gets the RRSIGs and denial proofs too (RFC 4035 §3.2.1).
    ///
    /// With its DNSSEC `security` (RFC 4035 §3.2.3): AD when secure and the
    /// client set DO or AD (RFC 6840 §5.8); SERVFAIL with the Extended DNS
    /// Error that says why when bogus, unless the client set CD (RFC 4035
    /// §3.2.2, RFC 8914 §4); SERVFAIL too for a key sentinel whose claim is
    /// false (sentinel.rs, RFC 8509).
    pub fn response(
        &self,
        request: &Request,
        result: &Result<Resolution, ResolveError>,
        security: Option<&Verdict>,
    ) -> Message {
        let checking_disabled = request.message.metadata.checking_disabled;
        if let (Ok(_), Some(Security::Bogus(why)), false) = (result, security, checking_disabled) {
            return answer(request, &Err(ResolveError::Bogus(*why)));
        }
        let query = request.query();
        if let (Ok(_), false) = (result, checking_disabled)
            && let Some(failure) = self.sentinel_failure(&query.name, query.query_type, security)
        {
            return answer(request, &Err(failure)); // RFC 8509 §3.2
        }
        let mut response = answer(request, result);
        let Ok(resolution) = result else {
            return response;
        };
        match security {
            Some(Security::Secure(())) => {
                response.metadata.authentic_data =
                    request.dnssec_ok() || request.message.metadata.authentic_data;
            }
            Some(insecure @ Security::Insecure(_)) => {
                if let (Some((code, text)), Some(edns)) =
                    (insecure.extended_error(), response.edns.as_mut())
                {
                    edns.options_mut().insert(extended_error(code, text));
                }
            }
            _ => {}
        }
        let negative = matches!(
            resolution.outcome,
            Outcome::NoData(_) | Outcome::NxDomain(_)
        );
        if !self.minimal_responses() || negative {
            let end = super::iterate::chain_end(&resolution.chain, &query.name);
            let sections = self
                .cache()
                .sections(&end, query.query_type, crate::clock::now());
            // The NS set's RRSIGs only to clients that set DO (RFC 4035 §3.2.1).
            let dnssec_ok = request.dnssec_ok();
            let authority = sections.authority.into_iter();
            response.authorities.extend(
                authority.filter(|record| dnssec_ok || record.record_type() != RecordType::RRSIG),
            );
            if !self.minimal_responses() {
                response.additionals.extend(sections.additional);
            }
        }
        if request.dnssec_ok() {
            self.add_signatures(&mut response, resolution, &query.name, query.query_type);
        }
        response
    }
}

/// The response to a client: the chain and the answer, or the negative
/// answer with its SOA, or SERVFAIL.
pub fn answer(request: &Request, result: &Result<Resolution, ResolveError>) -> Message {
    let mut response = request.response();
    response.metadata.recursion_available = true;
    match result {
        Ok(resolution) => {
            response.answers = resolution.chain.clone();
            match &resolution.outcome {
                Outcome::Answer(records) => response.answers.extend(records.iter().cloned()),
                Outcome::NoData(soa) => response.authorities.extend(soa.iter().cloned()),
                Outcome::NxDomain(soa) => {
                    response.metadata.response_code = ResponseCode::NXDomain;
                    response.authorities.extend(soa.iter().cloned());
                }
                Outcome::YxDomain => response.metadata.response_code = ResponseCode::YXDomain,
            }
        }
        Err(error) => {
            super::failures::report(request, error);
            response.metadata.response_code = ResponseCode::ServFail;
            if let Some(edns) = response.edns.as_mut() {
                edns.options_mut()
                    .insert(extended_error(error.extended_error(), &error.to_string()));
            }
        }
    }
    response
}
