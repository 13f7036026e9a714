//! The `resolver` binary: parses the command line and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hickory_proto::rr::{Name, RecordType};
use resolver::commands::{self, TraceMode, TraceOptions, TraceRun};
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
    /// Run the recursive resolver (the textbook's local DNS server) on
    /// [server] listen, UDP and TCP, with the lab's authoritative servers
    /// in-process when the configuration has a [lab] section.
    ///
    /// Example: resolver serve, then dig @127.0.0.1 -p 5353 gaia.cs.umass.edu
    Serve {
        /// The configuration file.
        #[arg(long, default_value = "resolver.toml")]
        config: PathBuf,
    },
    /// Resolve names through a fresh local server, acting as the host
    /// cis.poly.edu, and print every DNS message that crosses the wire,
    /// numbered, in the textbook's form. The names share one cache, so later
    /// names show fewer messages.
    ///
    /// Example: resolver trace gaia.cs.umass.edu gaia.cs.umass.edu www.umass.edu cis.poly.edu
    Trace {
        /// The names to resolve, in turn.
        #[arg(required = true)]
        names: Vec<String>,
        /// The record type to ask for.
        #[arg(long = "type", short = 't', default_value = "A")]
        record_type: String,
        /// The configuration file ([lab] and [resolver] are used).
        #[arg(long, default_value = "resolver.toml")]
        config: PathBuf,
        /// Print one JSON object per message instead of text.
        #[arg(long)]
        json: bool,
        /// iterative: the local server asks each server itself (the default);
        /// recursive: each server passes the query on (the textbook's other figure).
        #[arg(long, value_enum, default_value = "iterative")]
        mode: TraceMode,
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
        Command::Serve { config } => {
            let config = Config::load(&config)?;
            resolver::logging::init(&config.log);
            runtime()?.block_on(commands::serve(&config))
        }
        Command::Trace {
            names,
            record_type,
            config,
            json,
            mode,
        } => {
            let config = Config::load(&config)?;
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
            };
            let run = runtime()?.block_on(commands::trace(&config, &options))?;
            print_trace(&run, json)
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

/// A name from the command line, fully qualified.
fn fqdn(text: &str) -> anyhow::Result<Name> {
    let mut name = Name::from_ascii(text).map_err(|e| anyhow::anyhow!("bad name {text:?}: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

fn print_trace(run: &TraceRun, json: bool) -> anyhow::Result<()> {
    let text = if json {
        trace_json(run)?
    } else {
        trace_text(run)
    };
    // A closed pipe (e.g. `| head`) is the reader's choice, not an error.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// One JSON object per message, with the question it belongs to.
fn trace_json(run: &TraceRun) -> anyhow::Result<String> {
    let mut text = String::new();
    for question in &run.questions {
        for message in &question.messages {
            let mut value = serde_json::to_value(message)?;
            value["question"] = serde_json::Value::from(question.name.to_string());
            text.push_str(&value.to_string());
            text.push('\n');
        }
    }
    Ok(text)
}

/// The textbook's form: a header, then each question's messages.
fn trace_text(run: &TraceRun) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let lab = if run.lab_in_process {
        "the lab's servers run in this process"
    } else {
        "the lab's servers are the ones already running"
    };
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "The host {} asks its local DNS server {} ({}), which starts with an empty cache; {lab}.",
        commands::HOST,
        commands::LOCAL_SERVER,
        run.local
    );
    for question in &run.questions {
        let _ = writeln!(text, "\n{} {}", question.name, question.record_type);
        text.push_str(&resolver::trace::render(
            &question.messages,
            question.span_ms,
        ));
    }
    text
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
