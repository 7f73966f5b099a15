//! `floodgate community create` and `floodgate key create|revoke`, run as the built binary.

use std::process::Output;

use crate::support::{problem, spawn_app_opts, test_settings};

fn floodgate(database_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env(
            "FLOODGATE_CARRIERS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/carriers"),
        )
        .env_remove("AMQP_URL")
        .output()
        .expect("the floodgate binary runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_creates_a_community_and_a_key_that_authenticates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let create = [
        "community",
        "create",
        "--name",
        "Rally",
        "--keyword",
        "rally",
        "--number",
        "+14155550100",
        "--carrier",
        "twilio",
        "--daily-cap",
        "500",
    ];
    let id: i64 = stdout(&floodgate(&url, &create))
        .parse()
        .expect("prints the community id");

    let taken = floodgate(&url, &create);
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already belongs to community"));
    let bad = floodgate(
        &url,
        &[
            "community",
            "create",
            "--name",
            "X",
            "--keyword",
            "JOIN",
            "--number",
            "555-0100",
            "--carrier",
            "twilio",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("E.164"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let carrier = floodgate(
        &url,
        &[
            "community",
            "create",
            "--name",
            "X",
            "--keyword",
            "JOIN",
            "--number",
            "+14155550101",
            "--carrier",
            "nope",
        ],
    );
    assert!(String::from_utf8_lossy(&carrier.stderr).contains("no profile"));

    let out = floodgate(&url, &["key", "create", "--community", &id.to_string()]);
    let key = stdout(&out);
    assert!(key.starts_with("fg_"), "{key}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be shown again"));

    let app = spawn_app_opts(test_settings(&url), None, false).await;
    app.wait_ready().await;
    let get = |key: String| {
        app.client
            .get(format!("{}/v1/broadcasts", app.base))
            .bearer_auth(key)
            .send()
    };
    assert_eq!(get(key.clone()).await.expect("request").status(), 200);
    let community = app
        .state
        .store
        .community(id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (community.join_keyword.as_str(), community.daily_message_cap),
        ("RALLY", Some(500))
    );

    let prefix = floodgate::api::keys::prefix_of(&key)
        .expect("prefix")
        .to_owned();
    stdout(&floodgate(&url, &["key", "revoke", "--prefix", &prefix]));
    problem(get(key).await.expect("request"), 401, "unauthorized").await;
    assert!(
        !floodgate(&url, &["key", "revoke", "--prefix", "zzzzzzzz"])
            .status
            .success()
    );
}

/// `community create` with `args` appended to a valid Twilio community; (success, stderr).
fn create(url: &str, number: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec![
        "community",
        "create",
        "--name",
        "Rally",
        "--keyword",
        "JOIN",
        "--number",
        number,
        "--carrier",
        "twilio",
    ];
    all.extend_from_slice(args);
    let out = floodgate(url, &all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_code_is_accepted_for_the_short_code_kind_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let (ok, stderr) = create(&url, "12345", &[]);
    assert!(!ok);
    assert!(
        stderr.contains("--number: `12345` is a short code"),
        "{stderr}"
    );
    let (ok, stderr) = create(&url, "+14155550100", &["--kind", "short_code"]);
    assert!(!ok);
    assert!(stderr.contains("must be 5 or 6 digits"), "{stderr}");

    let (ok, stderr) = create(&url, "12345", &["--kind", "short_code"]);
    assert!(ok, "{stderr}");
    let store = floodgate::store::Store::connect(&url).await.expect("store");
    let code =
        floodgate::domain::SenderAddress::parse("12345", floodgate::domain::SenderKind::ShortCode)
            .expect("a short code");
    let (_, sender) = store
        .community_by_address(&code)
        .await
        .expect("read")
        .expect("the short code is stored as its digits");
    assert_eq!(sender.kind, floodgate::domain::SenderKind::ShortCode);
    let (ok, stderr) = create(&url, "12345", &["--kind", "short_code"]);
    assert!(!ok);
    assert!(stderr.contains("already belongs to community"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_daily_cap_or_rate_is_named_and_a_rate_is_kept_for_the_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let (ok, stderr) = create(&url, "+14155550100", &["--daily-cap", "0"]);
    assert!(!ok);
    assert!(
        stderr.contains("--daily-cap 0: must be at least 1"),
        "{stderr}"
    );
    assert!(!stderr.contains("CHECK"), "{stderr}");
    let (ok, stderr) = create(&url, "+14155550100", &["--rate", "-1"]);
    assert!(!ok);
    assert!(
        stderr.contains("--rate -1.0: must be a number from"),
        "{stderr}"
    );

    let (ok, stderr) = create(&url, "+14155550100", &["--rate", "2.5"]);
    assert!(ok, "{stderr}");
    let store = floodgate::store::Store::connect(&url).await.expect("store");
    let limits = store.sender_limits("twilio").await.expect("read");
    assert_eq!(limits.len(), 1, "one community, one number: {limits:?}");
    assert_eq!(limits[0].rate_per_second, Some(2.5));
}
