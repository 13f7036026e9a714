//! An RFC 1035 master file → a validated zone, and back (`resolver zone export`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    resolver::fuzz::master_file(data);
});
