//! The command line reads like a man page: every subcommand explains itself
//! and shows examples.

use std::process::Command;

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
    for command in ["auth", "serve", "trace", "check"] {
        let text = help(&[command, "--help"]);
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
