//! `keyrack profiles --json`, `keyrack whoami --all --json` and the app's views (the Rack's
//! listing and identity views, which the window's `load` and `check_identities` commands return
//! as they are) give the same answer for the same files: static keys, session keys, a role, a
//! credential_process and a keychain profile, against moto with signature checks on.

use keyrack_test_support as support;

use std::fs;
use std::path::Path;

use keyrack::aws::{Credentials, EndpointEnv};
use keyrack::files::{Dialect, FilePaths};
use keyrack::keychain::Keychain;
use keyrack::Rack;
use serde_json::Value;
use support::home::Home;
use support::keyring::keychain;
use support::moto::MotoServer;

fn keys(c: &Credentials) -> String {
    format!(
        "aws_access_key_id = {}\naws_secret_access_key = {}\n",
        c.access_key_id,
        c.secret_access_key.expose()
    )
}

/// The members that do not depend on when the view was made (a key's last use included). moto also gives each AssumeRole a
/// fresh role id (the `AROA…` part of an assumed role's user id), so that is left out too.
fn without_times(mut views: Value) -> Value {
    for view in views.as_array_mut().unwrap() {
        view["checked_at"] = Value::Null;
        // Each check uses the key, so its last use is the moment it was checked.
        if view["key_health"].is_object() {
            view["key_health"]["last_used"] = Value::Null;
        }
        if view["profile"] == "role" {
            let user_id = view["user_id"].as_str().unwrap_or_default();
            let session = user_id.split_once(':').map(|(_, s)| s.to_string());
            view["user_id"] = serde_json::json!(session);
        }
    }
    views
}

#[test]
fn the_command_line_and_the_app_see_the_same_profiles_and_identities() {
    let _keyring = keychain();
    let (moto, alice) = MotoServer::with_user("alice");
    let process = format!(
        "credential_process = sh -c 'printf \"{{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"{}\\\",\\\"SecretAccessKey\\\":\\\"{}\\\"}}\"'\n",
        alice.access_key_id,
        alice.secret_access_key.expose()
    );
    let config = format!(
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/none\nsource_profile = static\nrole_session_name = same-name\n\
         [profile process]\n{process}[profile moved]\nregion = eu-west-1\n[profile plain]\nregion = eu-west-1\n"
    );
    let credentials = format!(
        "[static]\n{}[session]\n{}aws_session_token = not-a-real-token\n[moved]\n{}",
        keys(&alice),
        keys(&alice),
        keys(&alice)
    );
    let home = Home::new(&config, &credentials);
    let run = |args: &[&str]| {
        home.command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("XDG_STATE_HOME", home.path().join("state"))
            .output()
            .unwrap()
    };
    let moved = run(&["vault", "move", "moved"]);
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );

    let cli_listing: Value = serde_json::from_slice(&run(&["profiles", "--json"]).stdout).unwrap();
    let whoami = run(&["whoami", "--all", "--json"]);
    support::assert_output_has_no_secret(&whoami, &[alice.secret_access_key.expose()]);
    let cli_identities: Value = serde_json::from_slice(&whoami.stdout).unwrap();

    // What the window's commands return: the same surface, called in this process.
    let rack = Rack::new(
        FilePaths {
            config: home.config(),
            credentials: home.credentials(),
        },
        Keychain::platform(),
        home.path().join("state/keyrack"),
        EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", moto.url.as_str())]),
        "the keyrack app",
    );
    let mut app_listing = serde_json::to_value(rack.listing(Dialect::Cli, true).unwrap()).unwrap();
    let names: Vec<String> = app_listing["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app_identities = runtime
        .block_on(rack.identities(&names, true, None, |_| {}))
        .unwrap();
    let app_identities = serde_json::to_value(app_identities).unwrap();

    // The kinds the list shows, one of each.
    let kinds: Vec<(&str, &str)> = app_listing["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("role", "role"),
            ("process", "credential_process"),
            ("moved", "keychain"),
            ("plain", "settings_only"),
            ("static", "static_keys"),
            ("session", "session"),
        ]
    );
    // The app also reads the moved profile's key id from its entry; the command line does not
    // ask the keychain to list profiles. Apart from that (and the revision, a count of what this
    // process has seen) the listings are the same.
    let moved = &mut app_listing["profiles"][2];
    assert_eq!(moved["access_key_id"], alice.access_key_id.as_str());
    moved["access_key_id"] = Value::Null;
    app_listing["revision"] = cli_listing["revision"].clone();
    assert_eq!(app_listing, cli_listing);

    assert_eq!(
        without_times(app_identities.clone()),
        without_times(cli_identities)
    );
    let status = |profile: &str| {
        let view = app_identities
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["profile"] == profile)
            .unwrap();
        view["status"].as_str().unwrap().to_string()
    };
    // Each kind that can sign answers as alice; the settings-only one is neutral.
    for profile in ["static", "process", "moved"] {
        assert_eq!(status(profile), "ok", "{profile}: {app_identities}");
    }
    assert_eq!(status("plain"), "settings_only");
    let vocabulary = keyrack::vocabulary::Vocabulary::new();
    for view in app_identities.as_array().unwrap() {
        if let Some(code) = view["error"]["code"].as_str() {
            assert!(vocabulary.headline(code).is_some(), "{view}");
        }
    }
    let account = format!("{}:moved", rack.paths().set_id());
    keyrack::keychain::Keychain::platform()
        .delete(&account)
        .unwrap();
    let _ = fs::remove_dir_all(home.path().join("state"));
}
