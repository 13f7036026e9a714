//! `.rpl` text → [`Scenario`].
//!
//! The language is line-oriented; `;` starts a comment anywhere outside
//! double quotes, `#` too inside CONFIG. Keywords:
//!
//! ```text
//! CONFIG     key: value lines up to CONFIG_END
//! SCENARIO   SCENARIO_BEGIN title … SCENARIO_END
//! RANGE      RANGE_BEGIN from to [address…] / ADDRESS a / entries / RANGE_END
//! STEP       STEP n TYPE [ELAPSE s] then, for most types, one entry
//! ENTRY      ENTRY_BEGIN
//!              MATCH field…   ADJUST copy_id copy_query raw_id do_not_answer
//!              REPLY flags rcode opcode [DO]
//!              SECTION QUESTION|ANSWER|AUTHORITY|ADDITIONAL, then record lines
//!              RAW hex / HEX_ANSWER_BEGIN hex HEX_ANSWER_END
//!            ENTRY_END
//! ```
//!
//! A RANGE_END outside a range is skipped (testbound accepts it; one
//! Unbound scenario has one).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode};
use hickory_proto::rr::Name;

use super::matching::MatchField;
use super::records;
use super::scenario::{Action, Adjust, Config, Entry, Range, Scenario, Step, StubZone, Wire};

/// Why a file is not a scenario this runner can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads a whole `.rpl` file.
pub fn parse(text: &str) -> Result<Scenario, ParseError> {
    let mut lines = Lines::new(text);
    let config = config(&mut lines)?;
    let (line, title) = lines.expect("SCENARIO_BEGIN")?;
    let mut scenario = Scenario {
        title: title.to_string(),
        config,
        ranges: Vec::new(),
        steps: Vec::new(),
    };
    loop {
        let (number, text) = lines.next_or(line, "SCENARIO_END")?;
        let (keyword, rest) = split_word(text);
        match keyword {
            "RANGE_BEGIN" => scenario.ranges.push(range(number, rest, &mut lines)?),
            "RANGE_END" => {}
            "STEP" => scenario.steps.push(step(number, rest, &mut lines)?),
            "SCENARIO_END" => return Ok(scenario),
            _ => {
                return Err(error(
                    number,
                    format!("unexpected {keyword:?} in the scenario"),
                ));
            }
        }
    }
}

/// The lines of a file without comments and blanks, with their numbers.
struct Lines<'a> {
    lines: Vec<(usize, &'a str)>,
    next: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let lines = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, strip_comment(line, ';').trim()))
            .filter(|(_, line)| !line.is_empty())
            .collect();
        Lines { lines, next: 0 }
    }

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let line = self.lines.get(self.next).copied();
        self.next += 1;
        line
    }

    fn peek(&self) -> Option<&'a str> {
        self.lines.get(self.next).map(|(_, text)| *text)
    }

    /// The next line, or an error saying that `wanted` (begun at line `from`) never came.
    fn next_or(&mut self, from: usize, wanted: &str) -> Result<(usize, &'a str), ParseError> {
        self.next()
            .ok_or_else(|| error(from, format!("the file ends before {wanted}")))
    }

    /// The next line, which must start with `keyword`; returns the rest of it.
    fn expect(&mut self, keyword: &str) -> Result<(usize, &'a str), ParseError> {
        let (number, text) = self.next_or(0, keyword)?;
        match split_word(text) {
            (word, rest) if word == keyword => Ok((number, rest)),
            (word, _) => Err(error(number, format!("expected {keyword}, found {word:?}"))),
        }
    }
}

/// `line` without the comment that `marker` starts outside double quotes.
fn strip_comment(line: &str, marker: char) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (index, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            _ if c == marker && !quoted => return &line[..index],
            _ => {}
        }
    }
    line
}

/// The first word of a line and the trimmed rest.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim()),
        None => (text, ""),
    }
}

fn error(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// The CONFIG section, up to CONFIG_END.
fn config(lines: &mut Lines<'_>) -> Result<Config, ParseError> {
    let mut config = Config::default();
    let mut stubs: Vec<Clause> = Vec::new();
    loop {
        let (number, text) = lines.next_or(1, "CONFIG_END")?;
        let text = strip_comment(text, '#').trim();
        if text == "CONFIG_END" {
            break;
        }
        if text.is_empty() {
            continue; // a line that was a `#` comment
        }
        let Some((key, value)) = text.split_once(':') else {
            return Err(error(
                number,
                format!("expected `key: value`, found {text:?}"),
            ));
        };
        let value = value.trim().trim_matches('"').trim();
        config_option(&mut config, &mut stubs, key.trim(), value)
            .map_err(|message| error(number, message))?;
    }
    for clause in stubs {
        let zone = StubZone {
            name: clause.name.unwrap_or_else(Name::root),
            addresses: clause.addresses,
        };
        if clause.forward {
            config.forward_zones.push(zone);
        } else {
            config.stub_zones.push(zone);
        }
    }
    Ok(config)
}

/// A `stub-zone:` or `forward-zone:` clause being read.
struct Clause {
    /// True for `forward-zone:`.
    forward: bool,
    /// Its `name:`, once read.
    name: Option<Name>,
    /// Its `stub-addr:` or `forward-addr:` lines.
    addresses: Vec<IpAddr>,
}

/// One CONFIG option. `stub-zone:` or `forward-zone:` opens a clause whose
/// `name:` and `stub-addr:` / `forward-addr:` follow; a `stub-addr:` before
/// any is Deckard's root stub.
fn config_option(
    config: &mut Config,
    stubs: &mut Vec<Clause>,
    key: &str,
    value: &str,
) -> Result<(), String> {
    let open = |forward| Clause {
        forward,
        name: None,
        addresses: Vec::new(),
    };
    match key {
        "server" => config.testbound = true,
        "stub-zone" | "forward-zone" => {
            config.testbound = true;
            stubs.push(open(key == "forward-zone"));
        }
        "name" => {
            let name = Name::parse(value, Some(&Name::root()))
                .map_err(|e| format!("bad zone name {value:?}: {e}"))?;
            match stubs.last_mut() {
                Some(clause) if clause.name.is_none() => clause.name = Some(name),
                _ => stubs.push(Clause {
                    name: Some(name),
                    ..open(false)
                }),
            }
        }
        "stub-addr" | "forward-addr" => {
            let address = value
                .split('@')
                .next()
                .unwrap_or(value)
                .parse::<IpAddr>()
                .map_err(|e| format!("bad {key} {value:?}: {e}"))?;
            if stubs.is_empty() {
                stubs.push(open(key == "forward-addr"));
            }
            if let Some(clause) = stubs.last_mut() {
                clause.addresses.push(address);
            }
        }
        "qname-minimisation" | "query-minimization" => {
            config.qname_minimisation = Some(yes(value));
        }
        "do-ip6" => config.do_ip6 = Some(yes(value)),
        "minimal-responses" => config.minimal_responses = Some(yes(value)),
        "cache-min-ttl" => config.min_ttl = Some(number(key, value)?),
        "cache-max-ttl" => config.max_ttl = Some(number(key, value)?),
        "cache-max-negative-ttl" => config.max_negative_ttl = Some(number(key, value)?),
        "cache-min-negative-ttl" => config.min_negative_ttl = Some(number(key, value)?),
        "features" => feature(config, value)?,
        "trust-anchor" => config.trust_anchors.push(value.to_string()),
        "val-override-date" | "val-override-timestamp" => {
            config.validation_date = Some(value.to_string());
        }
        _ => {} // val-*, harden-*, target-fetch-policy, …: no bearing on this resolver
    }
    Ok(())
}

/// Deckard's `features: key = value` (only `min_ttl` and `max_ttl` concern us).
fn feature(config: &mut Config, value: &str) -> Result<(), String> {
    let Some((key, value)) = value.split_once('=') else {
        return Ok(());
    };
    match key.trim() {
        "min_ttl" => config.min_ttl = Some(number(key, value.trim())?),
        "max_ttl" => config.max_ttl = Some(number(key, value.trim())?),
        _ => {}
    }
    Ok(())
}

fn yes(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "yes" | "on" | "true" | "1"
    )
}

fn number(key: &str, value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("{key}: {value:?} is not a number"))
}

/// RANGE_BEGIN from to [address…], up to RANGE_END.
fn range(line: usize, header: &str, lines: &mut Lines<'_>) -> Result<Range, ParseError> {
    let mut words = header.split_whitespace();
    let mut bound = |what: &str| -> Result<u64, ParseError> {
        words
            .next()
            .and_then(|word| word.parse().ok())
            .ok_or_else(|| error(line, format!("RANGE_BEGIN needs a {what} step number")))
    };
    let (first_step, last_step) = (bound("first")?, bound("last")?);
    let mut range = Range {
        first_step,
        last_step,
        addresses: Vec::new(),
        entries: Vec::new(),
    };
    for word in words {
        range.addresses.push(address(line, word)?);
    }
    loop {
        let (number, text) = lines.next_or(line, "RANGE_END")?;
        match split_word(text) {
            ("ADDRESS", value) => range.addresses.push(address(number, value)?),
            ("ENTRY_BEGIN", _) => range.entries.push(entry(number, lines)?),
            ("RANGE_END", _) => return Ok(range),
            (word, _) => return Err(error(number, format!("unexpected {word:?} in a range"))),
        }
    }
}

fn address(line: usize, text: &str) -> Result<IpAddr, ParseError> {
    text.parse()
        .map_err(|e| error(line, format!("bad address {text:?}: {e}")))
}

/// STEP n TYPE [args], with its entry when one follows.
fn step(line: usize, header: &str, lines: &mut Lines<'_>) -> Result<Step, ParseError> {
    let (id, rest) = split_word(header);
    let id = id
        .parse()
        .map_err(|_| error(line, format!("bad step number {id:?}")))?;
    let (kind, arguments) = split_word(rest);
    let entry = match lines.peek().map(split_word) {
        Some(("ENTRY_BEGIN", _)) => {
            let (number, _) = lines.next_or(line, "ENTRY_BEGIN")?;
            Some(entry(number, lines)?)
        }
        _ => None,
    };
    let needs_entry = |entry: Option<Entry>| {
        entry.ok_or_else(|| error(line, format!("STEP {kind} needs an entry")))
    };
    let action = match kind {
        "QUERY" => Action::Query(needs_entry(entry)?),
        "CHECK_ANSWER" => Action::CheckAnswer(needs_entry(entry)?),
        "REPLY" => Action::Reply(needs_entry(entry)?),
        "TIME_PASSES" => Action::TimePasses(elapse(line, arguments)?),
        "CHECK_OUT_QUERY" | "TRAFFIC" | "TIMEOUT" => Action::LockStep(kind.to_string()),
        _ => Action::Unsupported(kind.to_string()),
    };
    Ok(Step { line, id, action })
}

/// `ELAPSE seconds` of TIME_PASSES.
fn elapse(line: usize, arguments: &str) -> Result<f64, ParseError> {
    match split_word(arguments) {
        ("ELAPSE", seconds) => seconds
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| error(line, format!("bad ELAPSE {seconds:?}"))),
        _ => Err(error(line, "TIME_PASSES needs ELAPSE seconds")),
    }
}

/// Where record lines of an entry go.
#[derive(Clone, Copy)]
enum Section {
    Question,
    Answer,
    Authority,
    Additional,
}

/// ENTRY_BEGIN (already read at `line`) up to ENTRY_END.
fn entry(line: usize, lines: &mut Lines<'_>) -> Result<Entry, ParseError> {
    let mut entry = Entry {
        line,
        matches: BTreeSet::new(),
        adjust: BTreeSet::new(),
        message: Message::new(0, MessageType::Query, OpCode::Query),
        wire: None,
    };
    let mut section = None;
    loop {
        let (number, text) = lines.next_or(line, "ENTRY_END")?;
        let at = |message: String| error(number, message);
        match split_word(text) {
            ("ENTRY_END", _) => return Ok(entry),
            ("MATCH", words) => match_words(&mut entry, words).map_err(at)?,
            ("ADJUST", words) => adjust_words(&mut entry, words).map_err(at)?,
            ("REPLY", words) => reply_words(&mut entry.message, words).map_err(at)?,
            ("SECTION", name) => section = Some(section_named(name).map_err(at)?),
            ("RAW", _) => entry.wire = Some(Wire::Raw(hex_until(lines, line, "ENTRY_END")?)),
            ("HEX_ANSWER_BEGIN", _) => {
                entry.wire = Some(Wire::Hex(hex_until(lines, line, "HEX_ANSWER_END")?));
                lines.next(); // HEX_ANSWER_END
            }
            _ => {
                let section = section.ok_or_else(|| at(format!("{text:?} outside a SECTION")))?;
                add_record(&mut entry.message, section, text).map_err(at)?;
            }
        }
    }
}

/// MATCH words (several MATCH lines add up).
fn match_words(entry: &mut Entry, words: &str) -> Result<(), String> {
    for word in words.split_whitespace() {
        let fields =
            MatchField::from_word(word).ok_or_else(|| format!("unsupported MATCH {word:?}"))?;
        entry.matches.extend(fields);
    }
    Ok(())
}

/// ADJUST words.
fn adjust_words(entry: &mut Entry, words: &str) -> Result<(), String> {
    for word in words.split_whitespace() {
        entry.adjust.insert(match word {
            "copy_id" => Adjust::CopyId,
            "copy_query" => Adjust::CopyQuery,
            "raw_id" => Adjust::RawId,
            "do_not_answer" => Adjust::DoNotAnswer,
            _ => return Err(format!("unsupported ADJUST {word:?}")),
        });
    }
    Ok(())
}

/// REPLY words: flags (QR AA TC RD RA AD CD, DO in EDNS), an RCODE, an OPCODE.
fn reply_words(message: &mut Message, words: &str) -> Result<(), String> {
    for word in words.split_whitespace() {
        let header = &mut message.metadata;
        match word {
            "QR" => header.message_type = MessageType::Response,
            "AA" => header.authoritative = true,
            "TC" => header.truncation = true,
            "RD" => header.recursion_desired = true,
            "RA" => header.recursion_available = true,
            "AD" => header.authentic_data = true,
            "CD" => header.checking_disabled = true,
            "DO" => {
                let mut edns = Edns::new();
                edns.set_dnssec_ok(true);
                message.edns = Some(edns);
            }
            _ => {
                if let Some(rcode) = records::rcode_from_name(word) {
                    header.response_code = rcode;
                } else if let Some(opcode) = records::opcode_from_name(word) {
                    header.op_code = opcode;
                } else {
                    return Err(format!("unsupported REPLY {word:?}"));
                }
            }
        }
    }
    Ok(())
}

fn section_named(name: &str) -> Result<Section, String> {
    Ok(match name {
        "QUESTION" => Section::Question,
        "ANSWER" => Section::Answer,
        "AUTHORITY" => Section::Authority,
        "ADDITIONAL" => Section::Additional,
        _ => return Err(format!("unknown SECTION {name:?}")),
    })
}

fn add_record(message: &mut Message, section: Section, text: &str) -> Result<(), String> {
    match section {
        Section::Question => message.queries.push(records::question(text)?),
        Section::Answer => message.answers.push(records::record(text)?),
        Section::Authority => message.authorities.push(records::record(text)?),
        Section::Additional => message.additionals.push(records::record(text)?),
    }
    Ok(())
}

/// Hex digits (spaces allowed) on the lines before `end`, which is left unread.
fn hex_until(lines: &mut Lines<'_>, line: usize, end: &str) -> Result<Vec<u8>, ParseError> {
    let mut digits = String::new();
    while let Some(text) = lines.peek() {
        if text == end {
            return decode_hex(line, &digits);
        }
        digits.extend(text.chars().filter(|c| !c.is_whitespace()));
        lines.next();
    }
    Err(error(line, format!("the file ends before {end}")))
}

fn decode_hex(line: usize, digits: &str) -> Result<Vec<u8>, ParseError> {
    records::decode_hex(digits).ok_or_else(|| error(line, format!("bad hex data {digits:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::RecordType;

    const SMALL: &str = "\
server:
\tqname-minimisation: no   ; a comment
stub-zone:
\tname: \".\"
\tstub-addr: 193.0.14.129 \t# K.ROOT-SERVERS.NET.
CONFIG_END

SCENARIO_BEGIN A small one
RANGE_BEGIN 0 100 192.5.6.30
\tADDRESS 1.2.3.4
ENTRY_BEGIN
MATCH opcode subdomain
ADJUST copy_id copy_query
REPLY QR NOERROR
SECTION QUESTION
com. IN A
SECTION AUTHORITY
com.\tIN NS\ta.gtld-servers.net.
ENTRY_END
RANGE_END

STEP 1 QUERY
ENTRY_BEGIN
REPLY RD DO
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 5 TIME_PASSES ELAPSE 2.5
STEP 7 CHECK_OUT_QUERY
ENTRY_BEGIN
MATCH qname
SECTION QUESTION
www.example.com. IN A
ENTRY_END
STEP 10 CHECK_ANSWER
ENTRY_BEGIN
MATCH all ttl
REPLY QR RD RA SERVFAIL
SECTION QUESTION
www.example.com. IN A
ENTRY_END
SCENARIO_END
";

    #[test]
    fn stub_and_forward_zones_are_read_with_their_addresses() {
        let text = "server:\nstub-zone:\n\tname: \".\"\n\tstub-addr: 193.0.14.129\n\
                    stub-zone:\n\tname: \"example.com\"\n\tstub-addr: 1.2.3.4@53\n\
                    forward-zone:\n\tname: \"net.\"\n\tforward-addr: 10.0.0.1\n\tforward-addr: 10.0.0.2\n\
                    CONFIG_END\nSCENARIO_BEGIN t\nSCENARIO_END\n";
        let config = parse(text).expect("parses").config;
        let zone = |name: &str, addresses: &[&str]| StubZone {
            name: Name::from_ascii(name).expect("valid"),
            addresses: addresses
                .iter()
                .map(|a| a.parse().expect("valid"))
                .collect(),
        };
        assert_eq!(
            config.stub_zones,
            [
                zone(".", &["193.0.14.129"]),
                zone("example.com.", &["1.2.3.4"])
            ]
        );
        assert_eq!(
            config.forward_zones,
            [zone("net.", &["10.0.0.1", "10.0.0.2"])]
        );
    }

    #[test]
    fn a_small_scenario_is_read_whole() {
        let scenario = parse(SMALL).expect("parses");
        assert_eq!(scenario.title, "A small one");
        assert_eq!(scenario.config.qname_minimisation, Some(false));
        assert_eq!(
            scenario.config.stub_zones,
            vec![StubZone {
                name: Name::root(),
                addresses: vec!["193.0.14.129".parse().expect("valid")],
            }]
        );
        let range = &scenario.ranges[0];
        assert_eq!((range.first_step, range.last_step), (0, 100));
        assert_eq!(range.addresses.len(), 2);
        let entry = &range.entries[0];
        assert!(entry.matches.contains(&MatchField::Subdomain));
        assert!(entry.adjust.contains(&Adjust::CopyQuery));
        assert_eq!(entry.message.authorities[0].record_type(), RecordType::NS);

        let kinds: Vec<&str> = scenario.steps.iter().map(|s| s.action.name()).collect();
        assert_eq!(
            kinds,
            ["QUERY", "TIME_PASSES", "CHECK_OUT_QUERY", "CHECK_ANSWER"]
        );
        let Action::Query(query) = &scenario.steps[0].action else {
            panic!("a query");
        };
        assert!(query.message.metadata.recursion_desired);
        assert!(
            query
                .message
                .edns
                .as_ref()
                .is_some_and(|e| e.flags().dnssec_ok)
        );
        assert_eq!(scenario.total_elapse(), 2.5);
        let Action::CheckAnswer(check) = &scenario.steps[3].action else {
            panic!("a check");
        };
        assert_eq!(check.message.metadata.response_code, ResponseCode::ServFail);
        assert!(check.matches.contains(&MatchField::Ttl));
        assert!(check.matches.contains(&MatchField::Additional));
    }

    #[test]
    fn errors_name_the_line() {
        let broken = SMALL.replace("MATCH opcode subdomain", "MATCH opcode telepathy");
        let error = parse(&broken).err().expect("an error");
        assert_eq!(error.line, 12);
        assert!(error.message.contains("telepathy"), "{error}");
        let unfinished = &SMALL[..SMALL.find("SCENARIO_END").expect("present")];
        assert!(parse(unfinished).is_err());
    }

    #[test]
    fn hex_packets_keep_their_bytes() {
        let text = SMALL.replace(
            "REPLY RD DO\n",
            "REPLY RD\nHEX_ANSWER_BEGIN\n00 00 01 00 ; RD\n00 01\nHEX_ANSWER_END\n",
        );
        let scenario = parse(&text).expect("parses");
        let Action::Query(query) = &scenario.steps[0].action else {
            panic!("a query");
        };
        assert!(matches!(&query.wire, Some(Wire::Hex(bytes)) if bytes == &[0, 0, 1, 0, 0, 1]));
    }
}
