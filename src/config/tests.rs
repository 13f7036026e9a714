//! The configuration's unit tests: the shipped file, unknown keys, roots, sizes.

use super::*;

#[test]
fn the_shipped_configuration_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("resolver.toml");
    let config = Config::load(&path).expect("resolver.toml is valid");
    assert_eq!(
        config.server.listen,
        vec![SocketAddr::from(([127, 0, 0, 1], 5353))]
    );
    assert!(config.lab.is_some());
    assert_eq!(config.upstream_port(), 5300);
}

#[test]
fn cache_sizes_take_suffixes_and_bad_ones_are_named() {
    let config = Config::parse("[cache]\nsize = \"64M\"\n").expect("valid");
    assert_eq!(config.cache.size, 64 << 20);
    let config = Config::parse("[cache]\nsize = \"1g\"\n").expect("valid");
    assert_eq!(config.cache.size, 1 << 30);
    let config = Config::parse("[cache]\nsize = 2097152\n").expect("valid");
    assert_eq!(config.cache.size, 2 << 20);
    let error = Config::parse("[cache]\nsize = \"lots\"\n").expect_err("invalid");
    assert!(error.to_string().contains("lots"), "{error}");
    assert_eq!(parse_size("16X"), None);
    assert_eq!(parse_size("99999999999G"), None, "overflow is an error");
}

#[test]
fn unknown_keys_are_named() {
    let error = Config::parse("[server]\nlisten = [\"127.0.0.1:53\"]\nlistne = 1\n")
        .expect_err("unknown key");
    assert!(error.to_string().contains("listne"), "{error}");
}

#[test]
fn roots_are_iana_or_addresses() {
    let config = Config::parse("[resolver]\nroots = \"iana\"\n").expect("valid");
    assert_eq!(config.resolver.roots, Some(Roots::Iana));
    let config = Config::parse("[resolver]\nroots = [\"127.0.1.1\"]\n").expect("valid");
    assert_eq!(
        config.resolver.roots,
        Some(Roots::Addresses(vec!["127.0.1.1".parse().expect("valid")]))
    );
    assert!(Config::parse("[resolver]\nroots = \"icann\"\n").is_err());
}

#[test]
fn a_missing_file_names_the_path() {
    let error = Config::load(Path::new("/nonexistent/resolver.toml")).expect_err("missing");
    assert!(error.to_string().contains("/nonexistent/resolver.toml"));
}

#[test]
fn ttl_bounds_the_wrong_way_round_are_refused() {
    let checked = |text: &str| Config::parse(text).expect("parses").check();
    let error = checked("[cache]\nmin_ttl = 100\nmax_ttl = 10\n").expect_err("invalid");
    assert!(error.contains("min_ttl"), "{error}");
    let error = checked("[cache]\nmin_negative_ttl = 7200\n").expect_err("invalid");
    assert!(error.contains("min_negative_ttl"), "{error}");
    assert!(checked("[cache]\nmin_negative_ttl = 10\n").is_ok());
}

#[test]
fn serve_stale_is_off_by_default_with_the_rfc_8767_timers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("resolver.toml");
    let shipped = Config::load(&path).expect("resolver.toml is valid");
    let defaults = Config::parse("").expect("valid");
    for cache in [&shipped.cache, &defaults.cache] {
        assert!(!cache.serve_stale);
        assert_eq!(cache.stale_max, 86_400, "one day");
        assert_eq!(cache.stale_client_timeout, 1.8);
        assert!(!cache.prefetch);
    }
    let on = Config::parse("[cache]\nserve_stale = true\nstale_max = 3600\n").expect("valid");
    assert!(on.cache.serve_stale);
    assert_eq!(on.cache.stale_max, 3600);
}
