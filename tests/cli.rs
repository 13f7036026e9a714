//! The command line reads like a man page: every subcommand explains itself
//! and shows examples; it works from any folder with the lab built in; and
//! every error says its cause once.

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::Process;

fn help(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .args(args)
        .output()
        .expect("resolver runs");
    assert!(output.status.success(), "{args:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn every_subcommand_has_a_description_options_and_examples() {
    let top = help(&["--help"]);
    for section in ["EXAMPLES:", "FILES:", "SIGNALS:", "EXIT STATUS:"] {
        assert!(top.contains(section), "resolver --help lacks {section}");
    }
    for command in [
        "auth",
        "serve",
        "trace",
        "check",
        "lab export",
        "zone export",
        "control",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let text = help(&args);
        assert!(text.contains("EXAMPLES:"), "{command}: {text}");
        assert!(
            text.contains(&format!("resolver {command}")),
            "{command} shows itself in use"
        );
        // Every option has a sentence of its own.
        for line in text.lines().filter(|l| l.trim_start().starts_with("--")) {
            let next = text.lines().skip_while(|l| *l != line).nth(1).unwrap_or("");
            assert!(
                !next.trim().is_empty(),
                "{command}: option {line:?} is undocumented"
            );
        }
    }
}

/// The binary run in `dir` with these arguments.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_resolver"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("resolver runs")
}

/// Standard output of a run that must succeed.
fn stdout_of(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The numbered message lines of a trace (who → whom, kind, records),
/// without the wire lines, whose ports and times change from run to run,
/// and with either root server (the first one asked is picked at random).
fn message_lines(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|word| word.parse::<u32>().is_ok())
                && line.contains('→')
                && !line.contains(':')
        })
        .map(|line| {
            line.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("b.root-servers.net", "a.root-servers.net")
        })
        .collect()
}

#[test]
fn trace_works_from_an_empty_folder_with_the_built_in_lab_and_from_its_export() {
    let empty = tempfile::tempdir().expect("a folder");
    let built_in = stdout_of(run_in(empty.path(), &["trace", "gaia.cs.umass.edu"]));
    let header = built_in.lines().next().expect("a header");
    assert!(
        header.contains("(configuration: the built-in lab)"),
        "{header}"
    );
    assert!(
        built_in.contains("8 messages: 4 queries, 4 replies"),
        "{built_in}"
    );
    let messages = message_lines(&built_in);
    assert_eq!(messages.len(), 8, "{built_in}");
    assert!(
        messages[6].contains("gaia.cs.umass.edu. 600 A 128.119.245.12"),
        "{messages:?}"
    );

    let written = stdout_of(run_in(empty.path(), &["lab", "export", "exported"]));
    assert!(written.contains("resolver.toml"), "{written}");
    assert!(written.contains("umass.edu.toml"), "{written}");
    let config = "exported/resolver.toml";
    let exported = stdout_of(run_in(
        empty.path(),
        &["trace", "--config", config, "gaia.cs.umass.edu"],
    ));
    let header = exported.lines().next().expect("a header");
    assert!(
        header.contains("(configuration: exported/resolver.toml)"),
        "{header}"
    );
    assert_eq!(message_lines(&exported), messages, "{exported}");

    // The exported configuration serves the exported zones: an edit shows.
    let zone = empty.path().join("exported/zones/umass.edu.toml");
    let text = std::fs::read_to_string(&zone).expect("exported");
    assert!(text.contains("128.119.245.12"));
    std::fs::write(&zone, text.replace("128.119.245.12", "128.119.245.99")).expect("edit");
    let edited = stdout_of(run_in(
        empty.path(),
        &["trace", "--config", config, "gaia.cs.umass.edu"],
    ));
    assert!(edited.contains("A 128.119.245.99"), "{edited}");
    the_figure_and_its_page_are_made_in(&empty);
}

#[test]
fn lab_export_refuses_to_overwrite_unless_forced() {
    let dir = tempfile::tempdir().expect("a folder");
    stdout_of(run_in(dir.path(), &["lab", "export", "."]));
    std::fs::write(dir.path().join("resolver.toml"), "# mine\n").expect("edit");
    let refused = run_in(dir.path(), &["lab", "export", "."]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("resolver.toml already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    let kept = std::fs::read_to_string(dir.path().join("resolver.toml")).expect("kept");
    assert_eq!(kept, "# mine\n", "nothing is overwritten");
    stdout_of(run_in(dir.path(), &["lab", "export", ".", "--force"]));
    let config = std::fs::read_to_string(dir.path().join("resolver.toml")).expect("written");
    assert_eq!(config, resolver::builtin::CONFIG);
}

#[test]
fn a_missing_configuration_is_named_once_with_its_cause_once() {
    let dir = tempfile::tempdir().expect("a folder");
    for command in ["trace", "serve", "auth"] {
        let mut args = vec![command, "--config", "nosuch.toml"];
        if command == "trace" {
            args.push("gaia.cs.umass.edu");
        }
        let output = run_in(dir.path(), &args);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.matches("nosuch.toml").count(),
            1,
            "{command}: {stderr}"
        );
        assert_eq!(
            stderr.matches("No such file or directory").count(),
            1,
            "{command}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
    }
}

#[test]
fn check_without_an_argument_checks_the_built_in_zones_outside_a_checkout() {
    let empty = tempfile::tempdir().expect("a folder");
    let text = stdout_of(run_in(empty.path(), &["check"]));
    assert!(text.contains("10 zones"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("umass.edu.") && l.contains("umass.edu.toml")),
        "{text}"
    );
}

/// The first line a command writes to standard error, run in `dir`.
fn first_log_line(dir: &Path, args: &[&str]) -> String {
    let mut child = Process(
        Command::new(env!("CARGO_BIN_EXE_resolver"))
            .current_dir(dir)
            .args(args)
            .env("RUST_LOG", "resolver=info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("resolver starts"),
    );
    let stderr = child.0.stderr.take().expect("piped");
    std::io::BufReader::new(stderr)
        .lines()
        .next()
        .expect("a line")
        .expect("UTF-8")
}

#[test]
fn auth_and_serve_say_first_which_configuration_they_use() {
    let config = {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let _inside = runtime.enter(); // binding the probe needs a runtime
        common::shipped_config_on_free_port()
    };
    let port = config.lab.as_ref().expect("a lab").port;
    let empty = tempfile::tempdir().expect("a folder");
    let first = first_log_line(empty.path(), &["auth", "--port", &port.to_string()]);
    assert!(first.contains("configuration: the built-in lab"), "{first}");

    let listen = common::free_listen_address();
    std::fs::write(
        empty.path().join("mine.toml"),
        format!(
            "[server]\nlisten = [\"{listen}\"]\n[lab]\nzones = \"{}\"\nport = {port}\n",
            common::lab_zones_dir().display()
        ),
    )
    .expect("write a configuration");
    let first = first_log_line(empty.path(), &["serve", "--config", "mine.toml"]);
    assert!(first.contains("configuration: mine.toml"), "{first}");
}

/// `trace --format svg|html -o FILE` in `dir` draws the eight messages.
/// Called from the test above: the built-in lab has fixed ports, so two
/// tests using it at once would share (and stop) each other's servers.
fn the_figure_and_its_page_are_made_in(empty: &tempfile::TempDir) {
    for (format, file) in [("svg", "fig.svg"), ("html", "trace.html")] {
        let output = run_in(
            empty.path(),
            &["trace", "--format", format, "-o", file, "gaia.cs.umass.edu"],
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout.is_empty(),
            "-o writes to the file, not standard output"
        );
        let written =
            std::fs::read_to_string(empty.path().join(file)).expect("the file was written");
        let messages = written.matches("<g class=\"message ").count();
        assert_eq!(messages, 8, "{format}: the eight messages of figure 2.19");
    }
}
