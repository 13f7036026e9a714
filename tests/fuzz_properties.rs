//! The fuzz targets' entry points under stable Rust: the seed corpus and
//! random mutations of it, checked for panics and broken invariants. The
//! coverage-guided runs (`cargo fuzz`, in .ci/fuzz) go much further; this
//! keeps the same properties in every `cargo test`.
//!
//! `FUZZ_ITERATIONS` sets the mutations per target (default 3000).

use std::path::{Path, PathBuf};

use rand::RngExt;
use resolver::fuzz::{ClientTarget, ReplyTarget, master_file};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the seed corpus is in the repository")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "seeds in {}", dir.display());
    files
        .iter()
        .map(|path| std::fs::read(path).expect("a seed"))
        .collect()
}

/// One random change: flip a bit, set a byte, insert, delete, truncate or splice.
fn mutate(input: &mut Vec<u8>, other: &[u8], rng: &mut impl rand::Rng) {
    let len = input.len().max(1);
    match rng.random_range(0..6) {
        0 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            input[i] ^= 1 << rng.random_range(0..8);
        }
        1 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            input[i] = rng.random();
        }
        2 => {
            let i = rng.random_range(0..=input.len());
            input.insert(i, rng.random());
        }
        3 if !input.is_empty() => {
            input.remove(rng.random_range(0..input.len()));
        }
        4 => input.truncate(rng.random_range(0..len)),
        _ if !other.is_empty() => {
            let at = rng.random_range(0..=input.len());
            let from = rng.random_range(0..other.len());
            input.splice(at.., other[from..].iter().copied());
        }
        _ => {}
    }
}

fn iterations() -> usize {
    std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000)
}

/// Runs `check` on every seed, then on mutated seeds, reporting a failing input in hex.
fn run(target: &str, check: impl Fn(&[u8])) {
    let seeds = corpus(target);
    let mut rng = rand::rng();
    let mut executions = 0;
    let attempt = |input: &[u8]| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(input)));
        if outcome.is_err() {
            let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
            panic!("{target} failed on input {hex}");
        }
    };
    for seed in &seeds {
        attempt(seed);
        executions += 1;
    }
    for _ in 0..iterations() {
        let mut input = seeds[rng.random_range(0..seeds.len())].clone();
        let other = &seeds[rng.random_range(0..seeds.len())];
        for _ in 0..rng.random_range(1..8) {
            mutate(&mut input, other, &mut rng);
        }
        attempt(&input);
        executions += 1;
    }
    println!("{target}: {executions} executions, no failure");
}

#[test]
fn client_datagrams_never_break_the_servers() {
    let target = ClientTarget::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("zones"));
    run("client_datagram", |input| target.run(input));
}

#[test]
fn upstream_replies_never_break_the_resolver() {
    let target = ReplyTarget::default();
    run("upstream_reply", |input| target.run(input));
}

#[test]
fn master_files_never_break_the_zone_loader_and_round_trip() {
    run("master_file", master_file);
}
