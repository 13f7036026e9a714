//! The `resolver` binary: parses the command line and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use resolver::commands;
use resolver::config::Config;

#[derive(Parser)]
#[command(
    name = "resolver",
    version,
    about = "The textbook's DNS, made real: authoritative servers for a lab hierarchy and an iterative resolver with a TTL cache"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the zones of the lab with authoritative servers, each zone on the
    /// addresses of its nameservers (UDP and TCP), until SIGINT or SIGTERM.
    ///
    /// Example: resolver auth, then dig @127.0.3.1 -p 5300 gaia.cs.umass.edu
    Auth {
        /// The configuration file; its [lab] section names the zones and the port.
        #[arg(long, default_value = "resolver.toml")]
        config: PathBuf,
        /// Serve this zone folder instead of [lab] zones.
        #[arg(long)]
        zones: Option<PathBuf>,
        /// Listen on this port instead of [lab] port.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Validate a zone folder: print a summary (zones, record counts, which
    /// server serves which zone at which address), or every error and exit 1.
    ///
    /// Example: resolver check zones
    Check {
        /// The zone folder.
        #[arg(default_value = "zones")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("resolver: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Check { dir } => {
            print!("{}", commands::check(&dir)?);
            Ok(())
        }
        Command::Auth {
            config,
            zones,
            port,
        } => {
            let config = Config::load(&config)?;
            resolver::logging::init(&config.log);
            let (zones, port) = commands::lab_settings(&config, zones, port)?;
            runtime()?.block_on(commands::auth(&zones, port))
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
