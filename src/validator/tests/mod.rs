//! Unit tests of the validator, one file per job, named after the rule checked.

mod anchors;
mod budget;
mod chain;
mod dnskey;
mod nsec;
mod nsec3;
mod reason;
mod rrset;
