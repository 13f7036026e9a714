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

/// `resolver control watch`: prints each client question as it is
/// answered, with its upstream messages in the trace's text form, until the
/// endpoint closes the stream (it ends every connection after a time: then
/// it reconnects) or the output is closed.
pub fn watch(base: &str, out: &mut dyn std::io::Write) -> Result<(), ClientError> {
    use std::io::BufRead;
    let url = format!("{}/events", base.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(CLIENT_TIMEOUT))
        .build()
        .into();
    loop {
        let unreachable = |source| ClientError::Unreachable {
            url: url.clone(),
            source,
        };
        let mut response = agent.get(&url).call().map_err(unreachable)?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.body_mut().read_to_string().unwrap_or_default();
            return Err(ClientError::Refused {
                url,
                status,
                body: body.trim().to_string(),
            });
        }
        let reader = std::io::BufReader::new(response.body_mut().as_reader());
        for line in reader.lines() {
            let Ok(line) = line else {
                break; // the stream ended: connect again
            };
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            let text = answered_text(data);
            if out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return Ok(()); // the reader went away (a closed pipe)
            }
        }
    }
}

/// One `/events` answer as text: a header line, then its messages as `trace` prints them.
fn answered_text(data: &str) -> String {
    let Ok(event) = serde_json::from_str::<Value>(data) else {
        return format!("missed {data} questions (too slow to follow)\n");
    };
    let how = match event["cached"] {
        Value::Bool(true) => "from the cache".to_string(),
        _ => format!("{} upstream queries", event["upstream_queries"]),
    };
    let mut text = format!(
        "\n{} asks {} {}: {}, {how}, {} ms\n",
        event["client"].as_str().unwrap_or("?"),
        event["name"].as_str().unwrap_or("?"),
        event["type"].as_str().unwrap_or("?"),
        event["rcode"].as_str().unwrap_or("?"),
        event["ms"],
    );
    let messages: Vec<crate::trace::MessageView> =
        serde_json::from_value(event["messages"].clone()).unwrap_or_default();
    if !messages.is_empty() {
        let ms = event["ms"].as_f64().unwrap_or(0.0);
        text.push_str(&crate::trace::render(&messages, &[], &[], ms));
    }
    text
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
            Value::Object(p) => {
                let server = p["server"].as_str().unwrap_or("?");
                let server = match p["server_name"].as_str() {
                    Some(name) => format!("{name} ({server})"),
                    None => server.to_string(),
                };
                format!(
                    "from {server} for {} {}",
                    p["question"].as_str().unwrap_or("?"),
                    p["question_type"].as_str().unwrap_or("?")
                )
            }
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

/// An aligned table: address, name, smoothed RTT, replies answered, failed and lame, penalised.
fn servers(value: &Value) -> String {
    let servers = value.as_array().cloned().unwrap_or_default();
    let width = servers
        .iter()
        .filter_map(|s| s["address"].as_str().map(str::len))
        .max()
        .unwrap_or(7)
        .max(7);
    let names = servers
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::len))
        .max()
        .unwrap_or(4)
        .max(4);
    let mut text = format!(
        "{:<width$}  {:<names$}  {:>10}  {:>8}  {:>6}  {:>4}  penalised\n",
        "address", "name", "rtt (ms)", "answered", "failed", "lame"
    );
    for server in &servers {
        let penalised = server["penalised"] == Value::Bool(true);
        let _ = writeln!(
            text,
            "{:<width$}  {:<names$}  {:>10.2}  {:>8}  {:>6}  {:>4}  {}",
            server["address"].as_str().unwrap_or("?"),
            server["name"].as_str().unwrap_or("-"),
            server["smoothed_rtt_ms"].as_f64().unwrap_or(0.0),
            server["answered"],
            server["failed"],
            server["lame"],
            if penalised { "yes" } else { "no" },
        );
    }
    text
}
