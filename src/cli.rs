//! The command line of the `resolver` binary: every subcommand and option,
//! with the help text `resolver --help` prints (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use resolver::trace::{Format, TraceMode};

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
\x20   resolver check zones                       validate the zones and show who serves what\n\
\x20   resolver lab export mylab                  the built-in lab as files, to edit\n\
\x20   resolver zone export zones out             the zones as RFC 1035 master files\n\n\
FILES:\n\
\x20   resolver.toml   the configuration: --config FILE, else ./resolver.toml, else the built-in lab;\n\
\x20                   every key is documented in it (resolver lab export writes it out)\n\
\x20   zones/*.toml    one zone per file (see README.md for the format)\n\
\x20   zones/*.zone    RFC 1035 master files, as NSD and BIND read them\n\n\
SIGNALS:\n\
\x20   SIGINT, SIGTERM   stop, letting answers in progress finish (at most 5 s)\n\
\x20   SIGHUP            reload the lab's zones; an invalid folder keeps the zones being served\n\n\
EXIT STATUS:\n\
\x20   0 on success; 1 on any error (a bad configuration or zone says which file, key or record)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// The configuration file; its [lab] section names the zone folder and the port
        /// [default: ./resolver.toml when there is one, else the built-in lab].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
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
        /// The configuration file [default: ./resolver.toml when there is one, else the built-in lab].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
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
        /// The configuration file ([lab] and [resolver] are used) [default:
        /// ./resolver.toml when there is one, else the built-in lab].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
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
        /// Say why each query went to its server: whose servers they are,
        /// where they were learned, how the one asked ranked among the others.
        #[arg(long)]
        explain: bool,
        /// Validate with DNSSEC (the lab root's key as trust anchor): the DS
        /// and DNSKEY messages among the others, the host asking with DO,
        /// and the chain of trust at the end (RFC 4033 §3.1).
        #[arg(long)]
        dnssec: bool,
        /// How the local server gets the answer.
        #[arg(long, value_enum, default_value = "iterative")]
        mode: TraceMode,
    },
    /// Validate a zone folder and summarise it.
    ///
    /// Loads every zone of the folder (*.toml, and *.zone master files) and
    /// prints a one-screen summary: zones, record counts, and which server
    /// serves which zone at which address. On any error it prints every
    /// error, each with its file, line and record, and exits 1.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver check               ./zones, else the built-in lab's zones\n\
\x20   resolver check /etc/zones    another folder")]
    Check {
        /// The zone folder [default: ./zones when there is one, else the built-in lab's zones].
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// The lab built into the binary.
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Zone files.
    Zone {
        #[command(subcommand)]
        command: ZoneCommand,
    },
    /// Ask a running `resolver serve` through its control endpoint ([control]).
    ///
    /// The counters, the cache with where each entry came from, flushing,
    /// and the nameservers' round-trip times, as `unbound-control` shows
    /// them; --json prints the endpoint's JSON for scripts.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver control stats                          total.num.queries=... as unbound-control\n\
\x20   resolver control cache gaia.cs.umass.edu        what is cached, who said it, TTL left\n\
\x20   resolver control flush umass.edu --subtree      forget a zone and everything under it\n\
\x20   resolver control --json servers                 the nameservers timed, as JSON")]
    Control {
        /// The endpoint [default: http:// + [control] listen of the configuration, else 127.0.0.1:8053].
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The configuration whose [control] listen is used.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the endpoint's JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: ControlCommand,
    },
}

#[derive(Subcommand)]
pub enum ControlCommand {
    /// The counters, one key=value per line.
    Stats,
    /// Every cached entry at or under NAME, with its provenance.
    Cache {
        /// The name.
        name: String,
        /// Only entries of this type.
        #[arg(long = "type", short = 't', value_name = "TYPE")]
        record_type: Option<String>,
    },
    /// Forget NAME (of a type, or its whole subtree), or the whole cache.
    Flush {
        /// The name; the whole cache without one.
        name: Option<String>,
        /// Only entries of this type.
        #[arg(long = "type", short = 't', value_name = "TYPE", requires = "name")]
        record_type: Option<String>,
        /// Every name at or under NAME.
        #[arg(long, requires = "name")]
        subtree: bool,
    },
    /// The nameservers the resolver has timed.
    Servers,
    /// Each client question as it is answered, with its walk (until interrupted).
    Watch,
}

#[derive(Subcommand)]
pub enum LabCommand {
    /// Write the built-in lab to a folder: resolver.toml and zones/.
    ///
    /// The copy is the configuration and zones the binary uses when there is
    /// no --config and no ./resolver.toml; edit it and run with
    /// --config DIR/resolver.toml (its [lab] zones is DIR/zones).
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver lab export mylab                     mylab/resolver.toml, mylab/zones/*.toml\n\
\x20   resolver trace --config mylab/resolver.toml gaia.cs.umass.edu")]
    Export {
        /// The folder to write to (made if missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Overwrite files that exist already.
        #[arg(long)]
        force: bool,
    },
    /// Make a DNSSEC signing key for each zone of a folder, into ZONE_DIR/keys/.
    ///
    /// One combined signing key per zone (DNSKEY flags 257), algorithm 15
    /// (Ed25519) unless the zone says `algorithm = 13` (ECDSA P-256); zones
    /// that say `signed = false` get none. The zones are signed with them
    /// each time they load.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver lab keygen                           zones/keys/ORIGIN.key\n\
\x20   resolver lab keygen mylab/zones --force       new keys for a copy of the lab")]
    Keygen {
        /// The zone folder [default: zones].
        #[arg(value_name = "ZONE_DIR", default_value = "zones")]
        dir: PathBuf,
        /// Overwrite keys that exist already.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
pub enum ZoneCommand {
    /// Write every zone of a folder as an RFC 1035 master file.
    ///
    /// One file per zone, named ORIGIN.zone (root.zone for the root), each
    /// opening with $ORIGIN and $TTL, as NSD, BIND and this server read them.
    #[command(after_long_help = "EXAMPLES:\n\
\x20   resolver zone export zones out                out/umass.edu.zone, out/root.zone, ...\n\
\x20   nsd-checkzone umass.edu out/umass.edu.zone")]
    Export {
        /// The zone folder to read (*.toml and *.zone).
        #[arg(value_name = "ZONE_DIR")]
        zones: PathBuf,
        /// The folder to write to (made if missing).
        #[arg(value_name = "OUT_DIR")]
        out: PathBuf,
        /// Overwrite files that exist already.
        #[arg(long)]
        force: bool,
        /// Write the zones as signed at load: DNSKEY, DS, NSEC/NSEC3, RRSIGs (for ldns-verify-zone).
        #[arg(long)]
        signed: bool,
    },
}
