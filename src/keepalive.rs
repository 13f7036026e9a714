//! The edns-tcp-keepalive option (RFC 7828 §3.1): a client asks with it
//! empty, a server answers with its idle timeout in units of 100 ms. The
//! one place the option is written and read, for the server, the
//! transport and the tests.
//!
//! ```text
//! ┌──────────────────┬──────────────────┬────────────────────────────┐
//! │ OPTION-CODE (11) │ OPTION-LENGTH    │ TIMEOUT (u16, 100 ms units)│
//! │                  │ 0: asked, 2: told│ only when told             │
//! └──────────────────┴──────────────────┴────────────────────────────┘
//! ```

use std::time::Duration;

use hickory_proto::op::Edns;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};

/// What an OPT's edns-tcp-keepalive option says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keepalive {
    /// Empty: a client asking for the idle timeout (RFC 7828 §3.2.1).
    Asked,
    /// A server's idle timeout (RFC 7828 §3.3.2); zero: close the connection.
    Told(Duration),
}

/// The option of `edns`, if it carries one of a length RFC 7828 allows (0 or 2).
pub fn in_opt(edns: &Edns) -> Option<Keepalive> {
    match edns.option(EdnsCode::Keepalive)? {
        EdnsOption::Unknown(_, data) if data.is_empty() => Some(Keepalive::Asked),
        EdnsOption::Unknown(_, data) => {
            let timeout: [u8; 2] = data.as_slice().try_into().ok()?;
            let units = u64::from(u16::from_be_bytes(timeout));
            Some(Keepalive::Told(Duration::from_millis(units * 100)))
        }
        _ => None,
    }
}

/// Whether a query's OPT carries the option with data: a TIMEOUT is the
/// server's to give, a client sends the option empty (RFC 7828 §3.1,
/// §3.2.1). Over TCP such a query is malformed (FORMERR, as Unbound answers
/// it); over UDP the option is ignored whatever it holds (RFC 7828 §3.3.1).
pub fn malformed_in_query(edns: &Edns) -> bool {
    matches!(edns.option(EdnsCode::Keepalive), Some(EdnsOption::Unknown(_, data)) if malformed_option(EdnsCode::Keepalive, data))
}

/// The same for one option of a query's OPT, as `code` and `data`.
pub fn malformed_option(code: EdnsCode, data: &[u8]) -> bool {
    code == EdnsCode::Keepalive && !data.is_empty()
}

/// Whether one option of a query's OPT, as `code` and `data`, is the
/// option asking for the idle timeout: empty (RFC 7828 §3.2.1).
pub fn asked_option(code: EdnsCode, data: &[u8]) -> bool {
    code == EdnsCode::Keepalive && data.is_empty()
}

/// The option saying `what`; a timeout in 100 ms units rounded down, at
/// most what 16 bits hold.
pub fn option(what: Keepalive) -> EdnsOption {
    let data = match what {
        Keepalive::Asked => Vec::new(),
        Keepalive::Told(idle) => {
            let units = u16::try_from(idle.as_millis() / 100).unwrap_or(u16::MAX);
            units.to_be_bytes().to_vec()
        }
    };
    EdnsOption::Unknown(u16::from(EdnsCode::Keepalive), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An OPT whose edns-tcp-keepalive option carries `data`.
    fn opt_with(data: &[u8]) -> Edns {
        let mut edns = Edns::new();
        let code = u16::from(EdnsCode::Keepalive);
        edns.options_mut()
            .insert(EdnsOption::Unknown(code, data.to_vec()));
        edns
    }

    #[test]
    fn the_option_is_read_as_rfc_7828_lays_it_out() {
        let read = |data: &[u8]| in_opt(&opt_with(data));
        assert_eq!(read(&[]), Some(Keepalive::Asked));
        let told = |millis| Some(Keepalive::Told(Duration::from_millis(millis)));
        assert_eq!(read(&[0x01, 0x2c]), told(30_000));
        assert_eq!(read(&[0, 0]), told(0), "0: close");
        assert_eq!(read(&[0xff, 0xff]), told(6_553_500));
        for malformed in [&[1][..], &[0, 1, 2]] {
            assert_eq!(read(malformed), None, "{malformed:?}: no TIMEOUT");
        }
        assert_eq!(in_opt(&Edns::new()), None, "no option");
    }

    #[test]
    fn a_query_may_carry_the_option_empty_only() {
        assert!(!malformed_in_query(&opt_with(&[])), "asked");
        assert!(!malformed_in_query(&Edns::new()), "no option");
        for data in [&[0, 100][..], &[1], &[0, 1, 2]] {
            assert!(malformed_in_query(&opt_with(data)), "{data:?}");
        }
    }

    #[test]
    fn the_option_is_written_in_units_of_100_ms() {
        let written = |what| match option(what) {
            EdnsOption::Unknown(11, data) => data,
            other => panic!("not the keepalive option: {other:?}"),
        };
        assert_eq!(written(Keepalive::Asked), Vec::<u8>::new());
        let told = |millis| written(Keepalive::Told(Duration::from_millis(millis)));
        assert_eq!(told(10_000), [0, 100]);
        assert_eq!(told(550), [0, 5], "rounded down");
        assert_eq!(told(10_000_000), [0xff, 0xff], "at most 16 bits");
    }
}
