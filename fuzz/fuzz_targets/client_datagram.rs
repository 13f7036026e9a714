//! A client's datagram → the authoritative server's and the resolver's reply.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use resolver::fuzz::ClientTarget;

static TARGET: LazyLock<ClientTarget> = LazyLock::new(|| {
    ClientTarget::new(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../zones"))
});

fuzz_target!(|data: &[u8]| {
    TARGET.run(data);
});
