//! `resolver control`: the control endpoint from the command line, output
//! for people (as `unbound-control` prints it: `key=value` lines, aligned
//! tables) or, with `--json`, the endpoint's own JSON for scripts.
//!
//! ```text
//! resolver control stats                    total.num.queries=3 ...
//! resolver control cache gaia.cs.umass.edu  one line per entry: TTL left, credibility, who gave it
//! resolver control flush umass.edu --subtree
//! resolver control servers
//! ```

use std::fmt::Write;
use std::time::Duration;

use serde_json::Value;

/// How long the client waits for the endpoint.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a control request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint could not be reached or did not answer.
    #[error(
        "cannot reach the control endpoint at {url}: {source} (is `resolver serve` running with a [control] section?)"
    )]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why.
        source: ureq::Error,
    },
    /// The endpoint refused the request.
    #[error("{url}: {status}: {body}")]
    Refused {
        /// What was asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What it said.
        body: String,
    },
    /// It answered something that is not the JSON expected.
    #[error("{url}: not the JSON expected: {source}")]
    NotJson {
        /// What was asked.
        url: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// What `resolver control` asks.
#[derive(Debug, Clone)]
pub enum Request {
    /// The counters.
    Stats,
    /// The entries at or under a name, of a type if given.
    Cache {
        /// The name.
        name: String,
        /// The type.
        record_type: Option<String>,
    },
    /// Forget a name (a type of it, its subtree), or everything.
    Flush {
        /// The name; everything without one.
        name: Option<String>,
        /// The type.
        record_type: Option<String>,
        /// The whole subtree.
        subtree: bool,
    },
    /// The nameservers timed.
    Servers,
}

/// Sends `request` to the endpoint at `base` (`http://127.0.0.1:8053`) and
/// returns what to print: for people, or the JSON itself.
pub fn run(base: &str, request: &Request, json: bool) -> Result<String, ClientError> {
    let base = base.trim_end_matches('/');
    let (method, path) = match request {
        Request::Stats => ("GET", "/stats".to_string()),
        Request::Cache { name, record_type } => (
            "GET",
            format!(
                "/cache?name={}{}",
                encode(name),
                type_parameter(record_type)
            ),
        ),
        Request::Flush {
            name,
            record_type,
            subtree,
        } => {
            let mut path = "/cache/flush".to_string();
            if let Some(name) = name {
                path += &format!("?name={}{}", encode(name), type_parameter(record_type));
                if *subtree {
                    path += "&subtree=1";
                }
            }
            ("POST", path)
        }
        Request::Servers => ("GET", "/servers".to_string()),
    };
    let url = format!("{base}{path}");
    let value = fetch(method, &url)?;
    if json {
        return Ok(format!("{value}\n"));
    }
    Ok(match request {
        Request::Stats => stats(&value),
        Request::Cache { .. } => cache(&value),
        Request::Flush { .. } => format!("removed {} entries\n", value["removed"]),
        Request::Servers => servers(&value),
    })
}

fn fetch(method: &str, url: &str) -> Result<Value, ClientError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(CLIENT_TIMEOUT))
        .build()
        .into();
    let response = match method {
        "POST" => agent.post(url).send_empty(),
        _ => agent.get(url).call(),
    };
    let unreachable = |source| ClientError::Unreachable {
        url: url.to_string(),
        source,
    };
    let mut response = response.map_err(unreachable)?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().map_err(unreachable)?;
    if status != 200 {
        return Err(ClientError::Refused {
            url: url.to_string(),
            status,
            body: body.trim().to_string(),
        });
    }
    serde_json::from_str(&body).map_err(|source| ClientError::NotJson {
        url: url.to_string(),
        source,
    })
}

/// `&type=T`, or nothing.
fn type_parameter(record_type: &Option<String>) -> String {
    record_type
        .as_ref()
        .map(|t| format!("&type={}", encode(t)))
        .unwrap_or_default()
}

/// A name or type as a query-string value: letters, digits, `-`, `.` and `_` as they are, the rest %-escaped.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `key=value` lines, as `unbound-control stats` prints them.
fn stats(value: &Value) -> String {
    let mut text = String::new();
    if let Some(map) = value.as_object() {
        for (key, value) in map {
            // Writing to a String cannot fail.
            let _ = writeln!(text, "{key}={value}");
        }
    }
    text
}

/// One entry per line: name, type, TTL left, credibility, who gave it; its records under it.
fn cache(value: &Value) -> String {
    let entries = value.as_array().cloned().unwrap_or_default();
    if entries.is_empty() {
        return "nothing cached at or under this name\n".to_string();
    }
    let mut text = String::new();
    for entry in &entries {
        let from = match &entry["provenance"] {
            Value::Object(p) => format!(
                "from {} for {} {}",
                p["server"].as_str().unwrap_or("?"),
                p["question"].as_str().unwrap_or("?"),
                p["question_type"].as_str().unwrap_or("?")
            ),
            _ => "configured".to_string(),
        };
        let negative = if entry["negative"] == Value::Bool(true) {
            " negative"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "{} {} ({}{negative}) {}s left of {}s, cached {}s ago, {}; {from}",
            entry["name"].as_str().unwrap_or("?"),
            entry["type"].as_str().unwrap_or("?"),
            entry["kind"].as_str().unwrap_or("?"),
            entry["ttl_left"],
            entry["ttl"],
            entry["age"],
            entry["credibility"].as_str().unwrap_or("?"),
        );
        for record in entry["records"].as_array().into_iter().flatten() {
            let _ = writeln!(text, "    {}", record.as_str().unwrap_or("?"));
        }
    }
    text
}

/// An aligned table: address, smoothed RTT, penalised.
fn servers(value: &Value) -> String {
    let servers = value.as_array().cloned().unwrap_or_default();
    let width = servers
        .iter()
        .filter_map(|s| s["address"].as_str().map(str::len))
        .max()
        .unwrap_or(7)
        .max(7);
    let mut text = format!("{:<width$}  {:>10}  penalised\n", "address", "rtt (ms)");
    for server in &servers {
        let _ = writeln!(
            text,
            "{:<width$}  {:>10.2}  {}",
            server["address"].as_str().unwrap_or("?"),
            server["smoothed_rtt_ms"].as_f64().unwrap_or(0.0),
            if server["penalised"] == Value::Bool(true) {
                "yes"
            } else {
                "no"
            },
        );
    }
    text
}
