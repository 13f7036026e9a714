//! Logging through `tracing`: errors and the start-up summary always, the
//! rest by `[log] level` (or RUST_LOG).

use tracing_subscriber::EnvFilter;

use crate::config::LogConfig;

/// Installs the global subscriber, writing to standard error. Calling it twice is harmless.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("resolver={}", config.level)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
