//! `resolver`: the DNS of the textbook (Kurose & Ross, ch. 2), made real on
//! one machine: authoritative servers for a lab hierarchy, and a local DNS
//! server that resolves iteratively with a TTL cache.
//!
//! ```text
//! authoritative:  zones/*.toml, *.zone ─▶ zone::load, zone::master ─▶ dnssec::sign (zones/keys) ─▶ ZoneSet ─▶ lab (one server per address)
//!                 query ─▶ server ─▶ authority ─▶ lookup (RFC 1034 §4.3.2) ─▶ Answer ─▶ (DO: authority::secure) ─▶ message
//! ```

#![warn(missing_docs)]

pub mod authority;
mod batch;
pub mod builtin;
pub mod capture;
pub mod check;
pub mod clock;
pub mod commands;
pub mod config;
pub mod control;
pub mod dname;
pub mod dnssec;
pub mod export;
pub mod framing;
pub mod fuzz;
pub mod keepalive;
pub mod lab;
pub mod logging;
pub mod names;
pub mod resolver;
pub mod server;
pub mod store;
pub mod trace;
pub mod transport;
pub mod validator;
pub mod zone;
