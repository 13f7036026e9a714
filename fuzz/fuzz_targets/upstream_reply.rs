//! An upstream server's reply → the resolver's verification, scrubbing,
//! classification and caching of it.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use resolver::fuzz::ReplyTarget;

static TARGET: LazyLock<ReplyTarget> = LazyLock::new(ReplyTarget::default);

fuzz_target!(|data: &[u8]| {
    TARGET.run(data);
});
