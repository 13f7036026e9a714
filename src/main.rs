//! The `resolver` binary: parses the command line and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: faster than the system allocator on the many small, short-lived
/// allocations of a resolution, and less fragmented over a long run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use hickory_proto::rr::{Name, RecordType};
use resolver::commands;
use resolver::config::Config;
use resolver::trace::{Format, TraceMode, TraceOptions};

#[derive(Parser)]
#[command(
    name = "resolver",
    version,
    about = "The textbook's DNS, made real: authoritative servers for a lab hierarchy and an iterative resolver with a TTL cache",
    long_about = "The textbook's DNS (Kurose & Ross, ch. 2), made real on one machine.\n\n\
The lab is a hierarchy of authoritative servers (root, edu, com, umass.edu, poly.edu, ...) \
loaded from TOML zones, each zone served on the loopback addresses of its nameservers. \
The resolver is the host's local DNS server: it walks root -> TLD -> authoritative with \
iterative queries and caches what it learns for as long as the TTLs allow. It also works on \
the real Internet (roots = \"iana\" in the configuration).",
    after_long_help = "EXAMPLES:\n\
\x20   resolver trace gaia.cs.umass.edu           the textbook's eight messages, as real datagrams\n\
\x20   resolver trace --format html -o trace.html gaia.cs.umass.edu   the same as a figure, in a page\n\
\x20   resolver serve                             the resolver on 127.0.0.1:5353 and the lab on port 5300\n\
\x20   dig @127.0.0.1 -p 5353 gaia.cs.umass.edu   ask it\n\
\x20   resolver auth                              only the lab's authoritative servers\n\
\x20   resolver check zones                       validate the zones and show who serves what\n\n\
FILES:\n\
\x20   resolver.toml   the configuration (the default is the lab); every key is documented in it\n\
\x20   zones/*.toml    one zone per file (see README.md for the format)\n\n\
SIGNALS:\n\
\x20   SIGINT, SIGTERM   stop, letting answers in progress finish (at most 5 s)\n\
\x20   SIGHUP            reload the lab's zones; an invalid folder keeps the zones being served\n\n\
EXIT STATUS:\n\
\x20   0 on success; 1 on any error (a bad configuration or zone says which file, key or record)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the lab's zones with authoritative servers.
    ///
    /// Starts one listener (UDP and TCP) per address that serves a zone: each
    /// zone is served on the addresses of its apex nameservers, all on one
    /// port, and each listener answers only for the zones at its address
    /// (REFUSED for others). Runs until SIGINT or SIGTERM; SIGHUP reloads the zones.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver auth                                   the lab of resolver.toml, on port 5300\n\
\x20   resolver auth --zones myzones --port 5400       another folder, another port\n\
\x20   dig @127.0.1.1 -p 5300 gaia.cs.umass.edu        the root: a referral to edu, with glue\n\
\x20   dig @127.0.3.1 -p 5300 gaia.cs.umass.edu        dns.umass.edu: the authoritative answer")]
    Auth {
        /// The configuration file; its [lab] section names the zone folder and the port.
        #[arg(long, value_name = "FILE", default_value = "resolver.toml")]
        config: PathBuf,
        /// Serve this zone folder instead of [lab] zones.
        #[arg(long, value_name = "DIR")]
        zones: Option<PathBuf>,
        /// Listen on this port instead of [lab] port (53 needs root or CAP_NET_BIND_SERVICE).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Run the recursive resolver (the textbook's local DNS server).
    ///
    /// Serves recursive queries on [server] listen (UDP and TCP) to the
    /// clients in [server] allow, answering from its cache or by walking the
    /// hierarchy from [resolver] roots. With a [lab] section the lab's
    /// authoritative servers run in the same process (unless they already
    /// run elsewhere). Runs until SIGINT or SIGTERM; SIGHUP reloads the lab's zones.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver serve                                 the lab and the resolver on 127.0.0.1:5353\n\
\x20   resolver serve --config /etc/resolver.toml     as a machine's DNS (see contrib/)\n\
\x20   dig @127.0.0.1 -p 5353 www.poly.edu            a CNAME chain across zones")]
    Serve {
        /// The configuration file.
        #[arg(long, value_name = "FILE", default_value = "resolver.toml")]
        config: PathBuf,
    },
    /// Print every DNS message of a resolution, as the textbook draws them.
    ///
    /// Starts a local DNS server (dns.poly.edu) with an empty cache, and the
    /// lab's servers unless they already run, then asks each name through it
    /// as the host cis.poly.edu. Every message that crosses the wire is
    /// printed, numbered: who sent it to whom, query / referral / answer /
    /// negative, the records that matter and the time each reply took. The
    /// names share one cache, so later names show fewer messages. With
    /// --format svg the messages are drawn as the textbook's figure (2.19,
    /// 2.20 for --mode recursive, a sequence diagram for anything longer);
    /// --format html puts the figure in a page with every datagram as dig prints it.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver trace gaia.cs.umass.edu                 8 messages: 4 queries, 4 replies\n\
\x20   resolver trace gaia.cs.umass.edu gaia.cs.umass.edu www.umass.edu cis.poly.edu\n\
\x20                                                    8, then 2, 4 and 6: the cache at work\n\
\x20   resolver trace --mode recursive gaia.cs.umass.edu   the all-recursive figure\n\
\x20   resolver trace -t MX umass.edu --json            one JSON object per message\n\
\x20   resolver trace --format svg -o fig.svg gaia.cs.umass.edu   the textbook's figure 2.19\n\
\x20   resolver trace --format svg --mode recursive -o fig.svg gaia.cs.umass.edu   figure 2.20\n\
\x20   resolver trace --format html -o trace.html gaia.cs.umass.edu www.umass.edu\n\
\x20                                                    the figure (here a sequence diagram) and every datagram")]
    Trace {
        /// The names to resolve, in turn (a final dot is optional).
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// The record type to ask for: A, AAAA, MX, NS, TXT, PTR, ...
        #[arg(long = "type", short = 't', value_name = "TYPE", default_value = "A")]
        record_type: String,
        /// The configuration file ([lab] and [resolver] are used).
        #[arg(long, value_name = "FILE", default_value = "resolver.toml")]
        config: PathBuf,
        /// The output: text (the default), json (one object per message),
        /// svg (the textbook's figure) or html (the figure with every datagram).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// The same as --format json.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Write to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// How the local server gets the answer.
        #[arg(long, value_enum, default_value = "iterative")]
        mode: TraceMode,
    },
    /// Validate a zone folder and summarise it.
    ///
    /// Loads every *.toml zone of the folder and prints a one-screen summary:
    /// zones, record counts, and which server serves which zone at which
    /// address. On any error it prints every error, each with its file, line
    /// and record, and exits 1.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver check               the lab's zones\n\
\x20   resolver check /etc/zones    another folder")]
    Check {
        /// The zone folder.
        #[arg(value_name = "DIR", default_value = "zones")]
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
            runtime(&config)?.block_on(commands::serve(&config))
        }
        Command::Trace {
            names,
            record_type,
            config,
            format,
            json,
            output,
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
            let config = Config::load(&config)?;
            resolver::logging::init(&config.log);
            let (zones, port) = commands::lab_settings(&config, zones, port)?;
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
