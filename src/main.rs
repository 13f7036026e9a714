//! The `resolver` binary: parses the command line and calls the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc: faster than the system allocator on the many small, short-lived
/// allocations of a resolution, and less fragmented over a long run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use hickory_proto::rr::{Name, RecordType};
use resolver::commands;
use resolver::config::{Config, ConfigSource};
use resolver::trace::{Format, TraceOptions};

mod cli;
use cli::{Cli, Command, ControlCommand, LabCommand, ZoneCommand};
use resolver::zone::ZoneSource;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("resolver: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes, each once. Many error types (ours, std's
/// `io::Error` around a custom error, hickory's) already print their cause in
/// their own message, so a cause whose text is already there is not repeated
/// (anyhow's `{:#}` would print it again).
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(part.trim_end()) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Check { dir } => {
            let zones = dir.map_or_else(resolver::check::default_zones, ZoneSource::Folder);
            print!("{}", commands::check(&zones)?);
            Ok(())
        }
        Command::Lab {
            command: LabCommand::Export { dir, force },
        } => {
            for path in resolver::export::lab(&dir, force)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Lab {
            command: LabCommand::Keygen { dir, force },
        } => {
            for path in resolver::dnssec::keygen::keygen(&dir, force)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Zone {
            command:
                ZoneCommand::Export {
                    zones,
                    out,
                    force,
                    signed,
                },
        } => {
            for path in resolver::export::zones(&zones, &out, force, signed)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Control {
            url,
            config,
            json,
            command,
        } => {
            use resolver::control::client::{self, Request};
            let url = match url {
                Some(url) => url,
                None => {
                    let config = ConfigSource::choose(config).load()?;
                    let listen = config.control.map(|control| control.listen);
                    format!("http://{}", listen.unwrap_or(([127, 0, 0, 1], 8053).into()))
                }
            };
            let request = match command {
                ControlCommand::Stats => Request::Stats,
                ControlCommand::Cache { name, record_type } => Request::Cache { name, record_type },
                ControlCommand::Flush {
                    name,
                    record_type,
                    subtree,
                } => Request::Flush {
                    name,
                    record_type,
                    subtree,
                },
                ControlCommand::Servers => Request::Servers,
                ControlCommand::Watch => return Ok(client::watch(&url, &mut std::io::stdout())?),
            };
            write_output(&client::run(&url, &request, json)?, None)
        }
        Command::Serve { config } => {
            let source = ConfigSource::choose(config);
            let config = source.load()?;
            resolver::logging::init(&config.log);
            tracing::info!("configuration: {source}");
            resolver::server::start_workers(commands::server_limits(&config).udp_sockets)?;
            runtime(&config)?.block_on(commands::serve(&config))
        }
        Command::Trace {
            names,
            record_type,
            config,
            format,
            json,
            output,
            explain,
            dnssec,
            mode,
        } => {
            let source = ConfigSource::choose(config);
            let config = source.load()?;
            resolver::logging::init(&resolver::config::LogConfig {
                level: "warn".to_string(),
                ..config.log.clone()
            });
            let options = TraceOptions {
                names: names
                    .iter()
                    .map(|n| fqdn(n))
                    .collect::<anyhow::Result<_>>()?,
                record_type: record_type
                    .to_ascii_uppercase()
                    .parse::<RecordType>()
                    .map_err(|_| anyhow::anyhow!("unknown record type {record_type:?}"))?,
                mode,
                explain,
                dnssec,
                configuration: Some(source.to_string()),
            };
            let run = runtime(&config)?.block_on(resolver::trace::trace(&config, &options))?;
            let format = if json { Format::Json } else { format };
            write_output(
                &resolver::trace::render_run(&run, format)?,
                output.as_deref(),
            )
        }
        Command::Auth {
            config,
            zones,
            port,
        } => {
            let source = ConfigSource::choose(config);
            let config = source.load()?;
            resolver::logging::init(&config.log);
            tracing::info!("configuration: {source}");
            let (zones, port) = commands::lab_settings(&config, zones, port)?;
            resolver::server::start_workers(commands::server_limits(&config).udp_sockets)?;
            runtime(&config)?.block_on(commands::auth(&config, &zones, port))
        }
    }
}

/// A name from the command line, fully qualified.
fn fqdn(text: &str) -> anyhow::Result<Name> {
    let mut name = Name::from_ascii(text).map_err(|e| anyhow::anyhow!("bad name {text:?}: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

/// Writes the output to `path`, or to standard output without one.
fn write_output(text: &str, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(path) = path {
        return std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()));
    }
    // A closed pipe (e.g. `| head`) is the reader's choice, not an error.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// The tokio runtime, with `[server] threads` workers (0: one per CPU).
fn runtime(config: &Config) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if config.server.threads > 0 {
        builder.worker_threads(config.server.threads);
    }
    builder.enable_all().build()
}
