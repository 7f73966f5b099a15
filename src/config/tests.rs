//! Layering and error messages.

use std::collections::HashMap;
use std::io::Write;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn vars(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().copied())
}

#[test]
fn defaults_need_no_configuration() {
    let s = load_with(&ConfigFlags::default(), env(&[])).unwrap();
    assert_eq!(
        s.database_url,
        DatabaseUrl::Sqlite("sqlite://floodgate.db".into())
    );
    assert_eq!(s.amqp_url, None);
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8080/");
}

#[test]
fn flags_beat_environment_beat_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "listen = \"127.0.0.1:1000\"\ndatabase_url = \"postgres://u@h/db\"\nlog_format = \"json\""
    )
    .unwrap();
    let flags = ConfigFlags {
        config: Some(file.path().into()),
        listen: Some("127.0.0.1:3000".into()),
        ..Default::default()
    };
    let s = load_with(
        &flags,
        env(&[
            ("FLOODGATE_LISTEN", "127.0.0.1:2000"),
            ("AMQP_URL", "amqp://h"),
        ]),
    )
    .unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(
        s.database_url,
        DatabaseUrl::Postgres("postgres://u@h/db".into())
    );
    assert_eq!(s.amqp_url.as_deref(), Some("amqp://h"));
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(
        s.public_url.as_str(),
        "http://127.0.0.1:3000/",
        "derived from the final listen address"
    );
}

#[test]
fn a_bad_file_value_names_the_file_the_key_and_the_problem() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "listen = \"not-an-address\"").unwrap();
    let flags = ConfigFlags {
        config: Some(file.path().into()),
        ..Default::default()
    };
    let message = load_with(&flags, env(&[])).unwrap_err().to_string();
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("`listen`"), "{message}");
    assert!(message.contains("not a socket address"), "{message}");
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let message = load_with(
        &ConfigFlags::default(),
        env(&[("DATABASE_URL", "mysql://x")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("environment variable DATABASE_URL"),
        "{message}"
    );
    assert!(
        message.contains("not a supported database URL"),
        "{message}"
    );
}

#[test]
fn unknown_keys_and_wrong_types_are_errors() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "lisen = \"127.0.0.1:1\"").unwrap();
    let flags = ConfigFlags {
        config: Some(file.path().into()),
        ..Default::default()
    };
    assert!(
        load_with(&flags, env(&[]))
            .unwrap_err()
            .to_string()
            .contains("unknown key `lisen`")
    );

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "listen = 8080").unwrap();
    let flags = ConfigFlags {
        config: Some(file.path().into()),
        ..Default::default()
    };
    assert!(
        load_with(&flags, env(&[]))
            .unwrap_err()
            .to_string()
            .contains("expected a string, found integer")
    );
}

#[test]
fn passwords_do_not_reach_error_messages() {
    let message = load_with(
        &ConfigFlags::default(),
        env(&[("AMQP_URL", "http://u:hunter2@h/")]),
    )
    .unwrap_err()
    .to_string();
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn built_in_profiles_load_when_the_folder_is_missing() {
    let profiles =
        load_profiles(std::path::Path::new("/nonexistent/carriers"), &vars(&[])).unwrap();
    let names: Vec<_> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["sim", "telnyx", "twilio", "vonage"]);
    let twilio = &profiles[2];
    assert_eq!(twilio.limits.unit, LimitUnit::Segments);
    assert_eq!(twilio.api_base.as_str(), "https://api.twilio.com/");
}

#[test]
fn the_repository_profiles_match_the_built_in_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("carriers");
    let from_disk = load_profiles(&dir, &vars(&[])).unwrap();
    assert_eq!(from_disk.len(), 4);
}

#[test]
fn environment_overrides_any_profile_value_and_reads_secrets() {
    let vars = vars(&[
        ("FLOODGATE_CARRIER_TWILIO__LIMITS__RATE_PER_SECOND", "50"),
        (
            "FLOODGATE_CARRIER_TWILIO__API_BASE",
            "http://127.0.0.1:9000",
        ),
        (
            "FLOODGATE_CARRIER_TWILIO__SENDERS",
            r#"[{number = "+14155550100", kind = "long_code", rate_per_second = 1}]"#,
        ),
        ("TWILIO_AUTH_TOKEN", "tok-123"),
    ]);
    let text = include_str!("../../carriers/twilio.toml");
    let p = parse_profile("twilio", std::path::Path::new("twilio.toml"), text, &vars).unwrap();
    assert_eq!(p.limits.rate_per_second, 50.0);
    assert_eq!(p.api_base.as_str(), "http://127.0.0.1:9000/");
    assert_eq!(p.senders[0].kind, SenderKind::LongCode);
    assert_eq!(p.secret("auth_token").map(|s| s.expose()), Some("tok-123"));
    assert!(p.secret("account_sid").is_none());
    assert!(
        !format!("{p:?}").contains("tok-123"),
        "secrets must not print"
    );
}

#[test]
fn a_bad_override_names_the_variable_and_key() {
    let vars = vars(&[("FLOODGATE_CARRIER_TWILIO__LIMITS__BURST", "lots")]);
    let text = include_str!("../../carriers/twilio.toml");
    let message = parse_profile("twilio", std::path::Path::new("twilio.toml"), text, &vars)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("FLOODGATE_CARRIER_TWILIO__LIMITS__BURST"),
        "{message}"
    );
    assert!(message.contains("limits.burst"), "{message}");
}

#[test]
fn bad_profile_values_name_the_file_and_key() {
    let cases = [
        (
            "adapter = \"twillio\"\napi_base = \"http://x\"\n[limits]\nrate_per_second = 1.0\nburst = 1\nmax_in_flight = 1\n",
            "adapter",
        ),
        (
            "adapter = \"twilio\"\napi_base = \"http://x\"\n[limits]\nrate_per_second = -1.0\nburst = 1\nmax_in_flight = 1\n",
            "limits.rate_per_second",
        ),
        (
            "adapter = \"twilio\"\napi_base = \"not a url\"\n[limits]\nrate_per_second = 1.0\nburst = 1\nmax_in_flight = 1\n",
            "api_base",
        ),
        (
            "adapter = \"twilio\"\napi_base = \"http://x\"\n[limits]\nrate_per_second = 1.0\nburst = 1\nmax_in_flight = 1\n[[senders]]\nnumber = \"555\"\nkind = \"long_code\"\n",
            "senders[0].number",
        ),
        (
            "adapter = \"twilio\"\napi_base = \"http://x\"\nrate = 3\n[limits]\nrate_per_second = 1.0\nburst = 1\nmax_in_flight = 1\n",
            "rate",
        ),
        (
            "adapter = \"twilio\"\napi_base = \"http://x\"\n[limits]\nrate_per_second = 1.0\nburst = 1\nmax_in_flight = 1\n[limits.daily_cap]\nlimit = 2000\ntime_zone = \"Pacific Time\"\n",
            "limits.daily_cap.time_zone",
        ),
    ];
    for (text, key) in cases {
        let err = parse_profile(
            "x",
            std::path::Path::new("carriers/x.toml"),
            text,
            &vars(&[]),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("carriers/x.toml"), "{message}");
        assert!(
            message.contains(&format!("`{key}")),
            "expected key {key}: {message}"
        );
    }
}

#[test]
fn the_pipeline_table_is_typed_and_checked() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[pipeline]\ndeliver_chunk = 10\nclaim_lease_ms = 5000"
    )
    .unwrap();
    let flags = ConfigFlags {
        config: Some(file.path().into()),
        ..Default::default()
    };
    let s = load_with(&flags, env(&[])).unwrap();
    assert_eq!(s.pipeline.deliver_chunk, 10);
    assert_eq!(s.pipeline.claim_lease_ms, 5000);
    assert_eq!(
        s.pipeline.inbound_concurrency,
        PipelineConfig::default().inbound_concurrency
    );

    for (text, key) in [
        ("[pipeline]\nmax_attempts = 9", "pipeline.max_attempts"),
        ("[pipeline]\ndeliver_chunks = 1", "pipeline"),
        (
            "[pipeline]\ndeliver_chunk = \"x\"",
            "pipeline.deliver_chunk",
        ),
    ] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{text}").unwrap();
        let flags = ConfigFlags {
            config: Some(file.path().into()),
            ..Default::default()
        };
        let message = load_with(&flags, env(&[])).unwrap_err().to_string();
        assert!(message.contains(&format!("`{key}")), "{key}: {message}");
    }
}

/// Parses the repository's Twilio profile with `pairs` as the whole environment.
fn twilio_with(pairs: &[(&str, &str)]) -> Result<CarrierProfile, ConfigError> {
    let text = include_str!("../../carriers/twilio.toml");
    parse_profile(
        "twilio",
        std::path::Path::new("(built-in) carriers/twilio.toml"),
        text,
        &vars(pairs),
    )
}

#[test]
fn an_override_that_fails_validation_names_the_variable_not_the_file() {
    for (var, value, key) in [
        (
            "FLOODGATE_CARRIER_TWILIO__LIMITS__RATE_PER_SECOND",
            "-5",
            "limits.rate_per_second",
        ),
        (
            "FLOODGATE_CARRIER_TWILIO__LIMITS__BURST",
            "0",
            "limits.burst",
        ),
        (
            "FLOODGATE_CARRIER_TWILIO__SENDERS",
            r#"[{number = "555", kind = "long_code"}]"#,
            "senders[0].number",
        ),
        (
            "FLOODGATE_CARRIER_TWILIO__LIMITS__DAILY_CAP",
            r#"{limit = 5, time_zone = "Pacific Time"}"#,
            "limits.daily_cap.time_zone",
        ),
    ] {
        let message = twilio_with(&[(var, value)]).unwrap_err().to_string();
        assert!(
            message.contains(&format!("environment variable {var}")),
            "{message}"
        );
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(!message.contains("twilio.toml"), "{message}");
    }
}

#[test]
fn an_override_matching_no_key_is_refused_with_the_keys_there_are() {
    let typo = "FLOODGATE_CARRIER_TWILIO__LIMITS__RATE_PER_SECONDS";
    let message = twilio_with(&[(typo, "5")]).unwrap_err().to_string();
    assert!(
        message.contains(&format!("environment variable {typo}")),
        "{message}"
    );
    assert!(
        message.contains("FLOODGATE_CARRIER_TWILIO__LIMITS__RATE_PER_SECOND,"),
        "the known keys are listed: {message}"
    );
}

#[test]
fn an_override_for_no_profile_is_refused_with_the_profiles_there_are() {
    let typo = "FLOODGATE_CARRIER_TWILLIO__LIMITS__RATE_PER_SECOND";
    let message = load_profiles(
        std::path::Path::new("/nonexistent/carriers"),
        &vars(&[
            (typo, "5"),
            ("FLOODGATE_CARRIERS_DIR", "/nonexistent/carriers"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains(&format!("environment variable {typo}")),
        "{message}"
    );
    assert!(message.contains("sim, telnyx, twilio, vonage"), "{message}");
}

#[test]
fn toml_syntax_errors_name_the_line_and_column() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "listen = \"127.0.0.1:1\"\nthis is not toml").unwrap();
    let flags = ConfigFlags {
        config: Some(file.path().into()),
        ..Default::default()
    };
    let message = load_with(&flags, env(&[])).unwrap_err().to_string();
    assert!(message.contains("line 2, column"), "{message}");

    let message = parse_profile(
        "x",
        std::path::Path::new("carriers/x.toml"),
        "adapter = \"twilio\"\n[limits\n",
        &vars(&[]),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("carriers/x.toml"), "{message}");
    assert!(message.contains("line 2, column"), "{message}");
}

#[test]
fn an_unknown_table_or_key_of_any_type_is_an_unknown_key() {
    for text in ["[nosuch]\na = \"x\"", "bogus_key = 1"] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{text}").unwrap();
        let flags = ConfigFlags {
            config: Some(file.path().into()),
            ..Default::default()
        };
        let message = load_with(&flags, env(&[])).unwrap_err().to_string();
        assert!(message.contains("unknown key"), "{text}: {message}");
        assert!(
            message.contains("database_url"),
            "known keys listed: {message}"
        );
    }
}

#[test]
fn settings_debug_hides_the_database_and_broker_passwords() {
    let settings = load_with(
        &ConfigFlags::default(),
        env(&[
            (
                "DATABASE_URL",
                "postgres://floodgate:db-secret@db/floodgate",
            ),
            ("AMQP_URL", "amqp://guest:mq-secret@mq:5672/%2f"),
        ]),
    )
    .unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains("db-secret"), "{debug}");
    assert!(!debug.contains("mq-secret"), "{debug}");
    assert!(debug.contains("floodgate:***@db"), "{debug}");
    assert!(debug.contains("guest:***@mq"), "{debug}");
}

#[test]
fn urls_that_do_not_parse_still_lose_their_password() {
    assert_eq!(
        redact_url("amqp://guest:mq-secret@mq:notaport/x"),
        "amqp://guest:***@mq:notaport/x"
    );
    assert_eq!(redact_url("sqlite://floodgate.db"), "sqlite://floodgate.db");
    assert_eq!(redact_url("amqp://mq:bad/x"), "amqp://mq:bad/x");
}

#[test]
fn sender_defaults_by_kind_come_from_section_6_and_can_be_overridden() {
    let profiles =
        load_profiles(std::path::Path::new("/nonexistent/carriers"), &vars(&[])).unwrap();
    let by_name = |name: &str| profiles.iter().find(|p| p.name == name).unwrap();
    let twilio = &by_name("twilio").sender_defaults;
    assert_eq!(
        (twilio.long_code, twilio.toll_free, twilio.short_code),
        (Some(1.0), Some(3.0), Some(100.0))
    );
    let telnyx = &by_name("telnyx").sender_defaults;
    assert_eq!(
        (telnyx.toll_free, telnyx.short_code),
        (Some(20.0), Some(1000.0))
    );
    assert_eq!(by_name("vonage").sender_defaults, SenderDefaults::default());
    assert_eq!(by_name("sim").sender_defaults, SenderDefaults::default());
    let twilio = by_name("twilio");
    assert_eq!(
        twilio.sender_rate("+14155550100", SenderKind::LongCode, None),
        Some(1.0)
    );
    assert_eq!(
        twilio.sender_rate("+14155550100", SenderKind::LongCode, Some(7.0)),
        Some(7.0),
        "a number's own rate overrides its kind's"
    );

    let p = twilio_with(&[("FLOODGATE_CARRIER_TWILIO__SENDER_DEFAULTS__LONG_CODE", "2")]).unwrap();
    assert_eq!(p.sender_defaults.long_code, Some(2.0));
    let message = twilio_with(&[("FLOODGATE_CARRIER_TWILIO__SENDER_DEFAULTS__TOLL_FREE", "0")])
        .unwrap_err()
        .to_string();
    assert!(
        message
            .contains("environment variable FLOODGATE_CARRIER_TWILIO__SENDER_DEFAULTS__TOLL_FREE"),
        "{message}"
    );
    assert!(message.contains("`sender_defaults.toll_free`"), "{message}");
}
