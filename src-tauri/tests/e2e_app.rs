//! The desktop app end to end: the real window in WebKit under Xvfb, driven through
//! `tauri-driver` + `WebKitWebDriver`, on AWS files in a temporary HOME and, for identities and
//! rotation, the moto stand-in with signature checks on. Each test saves a screenshot in
//! `<target>/e2e-screenshots/`.
//!
//! Needs `tests/tools/setup-app.sh` (Xvfb, WebKitWebDriver, tauri-driver) and
//! `tests/tools/setup.sh` (botocore, the AWS CLI and moto in a venv).

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use support::desktop::{app_env, Desktop};
use support::keyring::{fresh_account, keychain};
use support::moto::MotoServer;
use support::{aws_cli, botocore_read};
use thirtyfour::prelude::*;

fn home() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("keyrack-e2e-")
        .tempdir()
        .expect("temp HOME")
}

fn write_aws(home: &Path, config: &str, credentials: &str) {
    let dir = home.join(".aws");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(dir.join("config"), config).unwrap();
    fs::write(dir.join("credentials"), credentials).unwrap();
    fs::set_permissions(dir.join("credentials"), fs::Permissions::from_mode(0o600)).unwrap();
}

fn read(home: &Path, file: &str) -> String {
    fs::read_to_string(home.join(".aws").join(file)).unwrap()
}

async fn open(home: &Path, endpoint: Option<&str>) -> Desktop {
    Desktop::open(home, app_env(home, endpoint)).await
}

/// Another access key of `user`, made while moto still accepts the setup key: its id.
async fn another_key(moto: &MotoServer, user: &str) -> String {
    moto.set_up_key(user).await.access_key_id
}

/// moto with signature checks on and one user, alice (IAM and STS allowed): her key and secret.
async fn alice_at_moto() -> (MotoServer, String, String) {
    let moto = MotoServer::start();
    let (key, secret) = moto_user(&moto, "alice").await;
    moto.enable_auth().await;
    (moto, key, secret)
}

/// An IAM user on moto with one access key and permission for IAM and STS.
/// alice's access key ids, as the AWS CLI lists them signed with `profile`'s key.
fn alices_keys(home: &Path, endpoint: &str, profile: &str) -> Vec<String> {
    let out = aws_cli(
        home,
        endpoint,
        &[
            "iam",
            "list-access-keys",
            "--user-name",
            "alice",
            "--profile",
            profile,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ],
    );
    let keys: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("list-access-keys JSON");
    keys["AccessKeyMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["AccessKeyId"].as_str().unwrap().to_owned())
        .collect()
}

async fn moto_user(moto: &MotoServer, name: &str) -> (String, String) {
    let key = moto.set_up_user(name).await;
    (
        key.access_key_id.clone(),
        key.secret_access_key.expose().to_string(),
    )
}

#[tokio::test]
async fn first_run_asks_aws_configures_questions_and_creates_files_the_aws_cli_reads() {
    let (moto, key, secret) = alice_at_moto().await;
    let home = home();
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#onboarding-title", "Welcome").await;
    app.type_into("#ob-key", "AKIA EXAMPLE").await;
    app.wait_text("#ob-key-advice", "only letters and digits")
        .await;
    app.type_into("#ob-key", &key).await;
    app.type_into("#ob-secret", &secret).await;
    app.select_option("#ob-region", "eu-west-2").await;
    app.select_option("#ob-output", "table").await;
    app.screenshot("first-run-questions").await;
    app.click("#ob-create").await;
    app.wait_text("#profiles", "default").await;
    app.wait_text("#editor-title", "default").await;
    // The key just typed is checked at once.
    app.wait_text("#identity-card", "user alice").await;
    app.screenshot("first-run-done").await;
    app.close().await;

    let aws = home.path().join(".aws");
    assert_eq!(
        fs::metadata(&aws).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(aws.join("credentials"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        read(home.path(), "credentials"),
        format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    );
    assert_eq!(
        read(home.path(), "config"),
        "[default]\nregion = eu-west-2\noutput = table\n"
    );
    let seen = botocore_read(&aws.join("config"), &aws.join("credentials"));
    assert_eq!(seen["error"], serde_json::Value::Null);
    assert_eq!(
        seen["profiles"]["default"]["aws_access_key_id"],
        key.as_str()
    );
    assert_eq!(seen["profiles"]["default"]["region"], "eu-west-2");
    assert_eq!(seen["profiles"]["default"]["output"], "table");
}

#[tokio::test]
async fn first_run_can_be_skipped_and_writes_nothing() {
    let home = home();
    let app = open(home.path(), None).await;
    app.wait_text("#onboarding-title", "Welcome").await;
    app.click("#ob-skip").await;
    app.wait_text("#profile-count", "(0)").await;
    app.click("#new-profile").await;
    app.wait_text("#name-dialog-title", "New profile").await;
    app.close().await;
    assert!(!home.path().join(".aws").exists(), "nothing was written");
}

#[tokio::test]
async fn check_all_shows_each_profiles_arn_and_a_plain_words_error_for_a_bad_one() {
    let moto = MotoServer::start();
    let (alice_key, alice_secret) = moto_user(&moto, "alice").await;
    let (bob_key, bob_secret) = moto_user(&moto, "bob").await;
    moto.enable_auth().await;
    let home = home();
    let wrong_secret = "x".repeat(40);
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile bob]\nregion = eu-west-1\n",
        &format!(
            "[default]\naws_access_key_id = {alice_key}\naws_secret_access_key = {alice_secret}\n\n\
             [bob]\naws_access_key_id = {bob_key}\naws_secret_access_key = {bob_secret}\n\n\
             [typo]\naws_access_key_id = {alice_key}\naws_secret_access_key = {wrong_secret}\n\n\
             [gone]\naws_access_key_id = AKIAGONEGONEGONEGONE\naws_secret_access_key = {wrong_secret}\n"
        ),
    );
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#profiles", "gone").await;
    // Ctrl+R is the shortcut for "Check all".
    app.driver
        .find(By::Css("#profiles"))
        .await
        .unwrap()
        .send_keys(Key::Control + "r")
        .await
        .unwrap();
    app.wait_text("#progress-text", "Checked 4 profiles").await;
    let row = |name: &str| format!("#profiles li[data-name='{name}'] .who");
    app.wait_text(&row("default"), "123456789012 · user alice")
        .await;
    app.wait_text(&row("bob"), "user bob").await;
    app.wait_text(&row("typo"), "Wrong secret").await;
    app.wait_text(&row("gone"), "Key deleted or unknown").await;
    let arn = app
        .driver
        .find(By::Css(row("bob")))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap();
    assert_eq!(arn.as_deref(), Some("arn:aws:iam::123456789012:user/bob"));
    app.open_profile("typo").await;
    app.wait_text("#identity-card", "Wrong secret").await;
    app.screenshot("check-all").await;
    app.close().await;
}

#[tokio::test]
async fn check_all_asks_for_a_roles_mfa_code_in_a_dialog_and_again_after_a_wrong_one() {
    let (moto, key, secret) = alice_at_moto().await;
    let sts = support::sts_mfa::MfaSts::start(&moto.url);
    let serial = "arn:aws:iam::123456789012:mfa/alice";
    sts.show(serial, "802468");
    let home = home();
    write_aws(
        home.path(),
        &format!(
            "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = dev\n\
             mfa_serial = {serial}\nduration_seconds = 1800\n"
        ),
        &format!("[dev]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let app = open(home.path(), Some(&sts.url)).await;
    app.wait_text("#profiles", "admin").await;
    app.click("#check-all").await;
    app.wait_text("#mfa-text", serial).await;
    app.wait_text("#mfa-text", "30 minutes").await;
    app.type_into("#mfa-code", "111 111").await;
    app.click("#mfa-ok").await;
    app.wait_text("#mfa-error", "AWS did not accept that code")
        .await;
    app.type_into("#mfa-code", "802 468").await;
    app.screenshot("mfa-dialog").await;
    app.click("#mfa-ok").await;
    app.wait_text("#profiles li[data-name='admin'] .who", "role admin")
        .await;
    // The list says how long the session lasts (duration_seconds = 1800).
    let row = app
        .wait_text("#profiles li[data-name='admin'] .who", "min left")
        .await;
    let text = row.text().await.unwrap();
    assert!(
        text.contains("session 29 min left") || text.contains("session 30 min left"),
        "{text}"
    );
    assert_eq!(sts.accepted(serial), 1);
    // The session is where the AWS CLI finds it.
    let cache = home.path().join(".aws/cli/cache");
    assert_eq!(fs::read_dir(cache).unwrap().count(), 1);
    assert!(!app.body_text().await.contains("802468"));
    app.screenshot("mfa-signed-in").await;
    // Forgetting the session removes it; the next check asks for a new code.
    app.open_profile("admin").await;
    app.click("#forget-session").await;
    app.wait_text("#notice", "Forgot the session of admin")
        .await;
    assert_eq!(
        fs::read_dir(home.path().join(".aws/cli/cache"))
            .unwrap()
            .count(),
        0
    );
    // The next launch shows the kept result marked for what happened to it, not as a change
    // the person made to the profile.
    app.close().await;
    let app = open(home.path(), Some(&sts.url)).await;
    let admin = "#profiles li[data-name='admin'] .who";
    app.wait_text(admin, "session forgotten").await;
    app.wait_js(
        "const badge = document.querySelector(\"#profiles li[data-name='admin'] .badge.stale\");
         const row = badge.closest('li').getBoundingClientRect();
         return badge.getBoundingClientRect().right <= row.right - 8;",
        "the whole stale badge inside the row, not cut off at its edge",
    )
    .await;
    app.open_profile("admin").await;
    app.wait_text("#identity-stale", "was forgotten since")
        .await;
    app.screenshot("stale-session-forgotten").await;
    assert!(!app.body_text().await.contains("changed after this check"));
    sts.show(serial, "135791");
    app.click("#check-all").await;
    app.wait_text("#mfa-text", serial).await;
    app.click("#mfa-cancel").await;
    app.wait_text("#profiles li[data-name='admin'] .who", "Needs an MFA code")
        .await;
    app.close().await;
}

async fn shown(app: &Desktop, css: &str) -> bool {
    app.driver
        .find(By::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

#[tokio::test]
async fn check_all_names_each_failure_by_its_cause_and_an_incomplete_key_offers_no_key_buttons() {
    let moto = MotoServer::start();
    let (alice_key, alice_secret) = moto_user(&moto, "alice").await;
    moto.enable_auth().await;
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = eu-west-1\noutput = json\n\n[profile oregon]\nregion = us-west-2 # oregon\n",
        &format!(
            "[work]\naws_access_key_id = {alice_key}\naws_secret_access_key = {alice_secret}\n\n\
             [oregon]\naws_access_key_id = {alice_key}\naws_secret_access_key = {alice_secret}\n\n\
             [half]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        ),
    );
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#profiles", "half").await;
    app.click("#check-all").await;
    app.wait_text(
        "#progress-text",
        "Checked 4 profiles: 1 working, 2 failing, 1 with settings only",
    )
    .await;
    let row = |name: &str| format!("#profiles li[data-name='{name}'] .who");
    app.wait_text(&row("work"), "user alice").await;
    app.wait_text(&row("default"), "Settings only").await;
    let class = app
        .driver
        .find(By::Css(row("default")))
        .await
        .unwrap()
        .class_name()
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        class.contains("neutral") && !class.contains("bad"),
        "a settings-only profile is shown neutrally: {class}"
    );
    app.wait_text(&row("oregon"), "Region the AWS CLI refuses")
        .await;
    app.wait_text(&row("half"), "Incomplete credentials").await;
    app.open_profile("oregon").await;
    app.wait_text("#identity-card", "move '# oregon' to its own line")
        .await;
    assert!(
        !app.body_text().await.contains("Wrong secret"),
        "no failure here is the secret's"
    );

    app.open_profile("work").await;
    assert!(
        shown(&app, "#rotate").await && shown(&app, "#vault-move").await,
        "a complete key can be rotated and moved"
    );
    app.open_profile("half").await;
    assert!(
        !shown(&app, "#rotate").await,
        "a key id without its secret cannot be rotated"
    );
    assert!(
        !shown(&app, "#vault-move").await,
        "a key id without its secret cannot be moved to the keychain"
    );
    // The panel opens by itself when the files have errors.
    if !shown(&app, "#problems").await {
        app.click("#problems-toggle").await;
    }
    app.wait_text(
        "#problem-list",
        "aws_access_key_id but no aws_secret_access_key",
    )
    .await;
    app.wait_text(
        "#problem-list",
        "which the AWS CLI refuses as a region name",
    )
    .await;
    assert!(
        !app.body_text().await.contains(&alice_secret),
        "a secret reached the window"
    );
    app.screenshot("diagnosis").await;
    app.close().await;
}

#[tokio::test]
async fn editing_a_region_changes_exactly_that_line() {
    let home = home();
    let config = "# my settings\n[default]\nregion = us-east-1\noutput = json\n\n; work account\n[profile work]\nregion=eu-west-1   \ncli_pager =\nunknown_key = kept as is\n";
    let credentials = "[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    write_aws(home.path(), config, credentials);
    let app = open(home.path(), None).await;
    app.open_profile("work").await;
    app.wait_text("#f-region-where", "config file, line 8")
        .await;
    app.select_option("#f-region", "ap-southeast-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    // Validation as typed: a key id that cannot be one blocks saving, with the reason beside it.
    app.type_into("#f-key", "akia-bad").await;
    app.wait_text("#f-key-advice", "only letters and digits")
        .await;
    assert!(!app
        .driver
        .find(By::Css("#save"))
        .await
        .unwrap()
        .is_enabled()
        .await
        .unwrap());
    app.type_into("#f-key", "AKIAIOSFODNN7EXAMPLE").await;
    app.wait_js(
        "return !document.querySelector('#save').disabled",
        "Save to be enabled",
    )
    .await;
    app.screenshot("edit-region").await;
    // Ctrl+S saves.
    app.driver
        .find(By::Css("#f-region"))
        .await
        .unwrap()
        .send_keys(Key::Control + "s")
        .await
        .unwrap();
    app.wait_text(
        "#notice",
        "Saved 1 change to profile work in the config file",
    )
    .await;
    app.close().await;

    let after = read(home.path(), "config");
    let changed: Vec<(&str, &str)> = config
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed, [("region=eu-west-1   ", "region=ap-southeast-2")]);
    assert_eq!(config.lines().count(), after.lines().count());
    assert_eq!(
        read(home.path(), "credentials"),
        credentials,
        "the credentials file was not touched"
    );
    assert!(!after.contains("wJalr"));
}

#[tokio::test]
async fn copy_rename_and_delete_a_profile_through_their_dialogs() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n# the dev account\n[profile dev]\nregion = eu-west-1\n",
        "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    let app = open(home.path(), None).await;
    app.open_profile("dev").await;

    // Copy (Ctrl+D), with a name the AWS tools cannot read back refused as typed.
    app.driver
        .find(By::Css("#profiles"))
        .await
        .unwrap()
        .send_keys(Key::Control + "d")
        .await
        .unwrap();
    app.wait_text("#name-dialog-title", "Copy profile dev")
        .await;
    app.type_into("#name-input", "dev copy").await;
    app.wait_text("#name-advice", "cannot read this name back")
        .await;
    app.type_into("#name-input", "staging").await;
    app.wait_js(
        "return !document.querySelector('#name-ok').disabled",
        "OK to be enabled",
    )
    .await;
    app.click("#name-ok").await;
    app.wait_text("#profiles", "staging").await;

    // Rename staging to qa.
    app.open_profile("staging").await;
    app.click("#rename-profile").await;
    app.wait_text("#name-dialog-title", "Rename profile staging")
        .await;
    app.type_into("#name-input", "qa").await;
    app.click("#name-ok").await;
    app.wait_text("#editor-title", "qa").await;

    // Delete dev, after confirming.
    app.open_profile("dev").await;
    app.click("#delete-profile").await;
    app.wait_text("#confirm-title", "Delete profile dev?").await;
    app.screenshot("delete-confirmation").await;
    app.click("#confirm-ok").await;
    app.wait_js(
        "return !document.querySelector(\"#profiles li[data-name='dev']\")",
        "dev to leave the list",
    )
    .await;
    app.screenshot("after-copy-rename-delete").await;
    app.close().await;

    let aws = home.path().join(".aws");
    let seen = botocore_read(&aws.join("config"), &aws.join("credentials"));
    let profiles = seen["profiles"].as_object().unwrap();
    let names: Vec<&str> = profiles.keys().map(String::as_str).collect();
    assert_eq!(names, ["default", "qa"]);
    assert_eq!(seen["profiles"]["qa"]["region"], "eu-west-1");
    assert_eq!(
        seen["profiles"]["qa"]["aws_access_key_id"],
        "AKIAIOSFODNN7EXAMPLE"
    );
    assert!(
        !read(home.path(), "config").contains("the dev account"),
        "the comment glued to dev went with it"
    );
}

#[tokio::test]
async fn an_outside_edit_appears_at_once_and_is_never_overwritten() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\noutput = json\n",
        "",
    );
    let app = open(home.path(), None).await;
    app.open_profile("default").await;

    // The person starts changing the region...
    app.select_option("#f-region", "eu-central-1").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    // ...while another program adds a profile and changes the output format.
    let outside = "[default]\nregion = us-east-1\noutput = text\n\n[profile added-outside]\nregion = sa-east-1\n";
    fs::write(home.path().join(".aws/config"), outside).unwrap();
    app.wait_text("#profiles", "added-outside").await;
    app.wait_text("#editor-changed", "changed on disk").await;
    app.screenshot("outside-edit-while-editing").await;
    app.click("#save").await;
    app.wait_text("#notice", "their changes were kept").await;
    assert_eq!(
        read(home.path(), "config"),
        "[default]\nregion = eu-central-1\noutput = text\n\n[profile added-outside]\nregion = sa-east-1\n"
    );

    // Now the other program changes the very setting the person is editing: keyrack asks.
    app.select_option("#f-region", "us-west-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    fs::write(home.path().join(".aws/config"), "[default]\nregion = ap-south-1\noutput = text\n\n[profile added-outside]\nregion = sa-east-1\n").unwrap();
    app.wait_text("#editor-changed", "changed on disk").await;
    app.click("#save").await;
    app.wait_text("#confirm-title", "Changed by another program")
        .await;
    app.wait_text("#confirm-text", "region").await;
    app.screenshot("outside-edit-conflict").await;
    app.click("#confirm-cancel").await; // "Discard mine"
    app.wait_js(
        "return document.querySelector('#f-region').value === 'ap-south-1'",
        "the editor to show their region",
    )
    .await;
    app.close().await;
    assert!(
        read(home.path(), "config").contains("region = ap-south-1"),
        "their change was kept"
    );
}

#[tokio::test]
async fn secrets_stay_masked_until_shown_and_the_keyboard_reaches_everything() {
    let home = home();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let mut config = String::new();
    for i in 0..12 {
        config.push_str(&format!("[profile p{i:02}]\nregion = eu-west-1\n\n"));
    }
    write_aws(
        home.path(),
        &config,
        &format!(
            "[p03]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {secret}\n"
        ),
    );
    let app = open(home.path(), None).await;
    // Ctrl+F filters.
    app.driver
        .find(By::Tag("body"))
        .await
        .unwrap()
        .send_keys(Key::Control + "f")
        .await
        .unwrap();
    app.wait_js(
        "return document.activeElement.id === 'filter'",
        "the filter to have focus",
    )
    .await;
    app.driver
        .find(By::Css("#filter"))
        .await
        .unwrap()
        .send_keys("p03")
        .await
        .unwrap();
    app.wait_text("#profile-count", "(1 of 12)").await;
    app.driver
        .find(By::Css("#filter"))
        .await
        .unwrap()
        .send_keys(Key::Enter)
        .await
        .unwrap();
    app.wait_text("#editor-title", "p03").await;
    assert!(!app.body_text().await.contains(secret));
    let html = app.driver.source().await.unwrap();
    assert!(
        !html.contains(secret),
        "the secret reached the page before it was asked for"
    );
    app.click("#f-secret + .reveal").await;
    app.wait_js(
        &format!("return document.querySelector('#f-secret').value === '{secret}'"),
        "the secret to be shown",
    )
    .await;
    // Every control has an accessible name.
    let unnamed = app
        .driver
        .execute(
            "return [...document.querySelectorAll('button, input, select')].filter(e => e.offsetParent !== null)
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim() && !e.title)
               .map(e => e.id || e.outerHTML)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        unnamed.json(),
        &serde_json::json!([]),
        "controls without an accessible name"
    );
    // Ctrl+N opens the new-profile dialog; Escape closes it.
    app.driver
        .find(By::Css("#profiles"))
        .await
        .unwrap()
        .send_keys(Key::Control + "n")
        .await
        .unwrap();
    app.wait_text("#name-dialog-title", "New profile").await;
    app.screenshot("new-profile-dialog").await;
    app.driver
        .find(By::Css("#name-input"))
        .await
        .unwrap()
        .send_keys(Key::Escape)
        .await
        .unwrap();
    app.wait_js(
        "return !document.querySelector('#name-dialog').open",
        "the dialog to close",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.close().await;
}

#[tokio::test]
async fn the_rotate_button_rotates_the_key_of_every_profile_sharing_it() {
    let moto = MotoServer::start();
    let (old_key, old_secret) = moto_user(&moto, "alice").await;
    moto.enable_auth().await;
    let home = home();
    let credentials = format!(
        "# alice's key, twice\n[default]\naws_access_key_id = {old_key}\naws_secret_access_key = {old_secret}\n\n\
         [alice-too]\naws_access_key_id = {old_key}\naws_secret_access_key = {old_secret}\n"
    );
    write_aws(home.path(), "[default]\nregion = eu-west-1\n", &credentials);
    let app = open(home.path(), Some(&moto.url)).await;
    app.open_profile("default").await;
    app.click("#rotate").await;
    app.wait_text("#rotate-content", "These profiles hold the key")
        .await;
    app.wait_text("#rotate-content", "alice-too").await;
    app.wait_text("#rotate-content", "(this one)").await;
    app.screenshot("rotate-plan").await;
    app.click("#rotate-start").await;
    app.wait_text("#rotate-result", "Done.").await;
    app.wait_text("#rotate-result", "is deleted").await;
    app.screenshot("rotate-done").await;
    app.close().await;

    let after = read(home.path(), "credentials");
    assert!(
        !after.contains(&old_key) && !after.contains(&old_secret),
        "the old key is gone from the files:\n{after}"
    );
    assert!(
        after.starts_with("# alice's key, twice\n[default]\n"),
        "comments kept:\n{after}"
    );
    let out = aws_cli(
        home.path(),
        &moto.url,
        &[
            "sts",
            "get-caller-identity",
            "--profile",
            "alice-too",
            "--region",
            "us-east-1",
            "--output",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "the AWS CLI works with the new key: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("user/alice"));
    let ids = alices_keys(home.path(), &moto.url, "alice-too");
    assert_eq!(ids.len(), 1, "one key left: {ids:?}");
    assert_ne!(ids[0], old_key);
    assert!(after.contains(&ids[0]));
}

#[tokio::test]
async fn the_window_can_reach_only_keyracks_commands_and_no_remote_content() {
    let home = home();
    write_aws(home.path(), "[default]\nregion = us-east-1\n", "");
    let app = open(home.path(), None).await;
    // A core command that no capability grants is refused.
    let refused = app
        .driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('plugin:window|close', { label: 'main' })
               .then(() => done('allowed'), (e) => done('refused: ' + e));",
            vec![],
        )
        .await
        .expect("invoke a core command");
    let refused = refused.json().as_str().unwrap_or_default().to_string();
    assert!(
        refused.starts_with("refused"),
        "the window could call plugin:window|close: {refused}"
    );
    // The file chooser is opened by keyrack's own command only: the page may not open it (or
    // read or write files through it) itself.
    let refused = app
        .driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('plugin:dialog|open', { options: {} })
               .then(() => done('allowed'), (e) => done('refused: ' + e));",
            vec![],
        )
        .await
        .expect("invoke the dialog plugin");
    let refused = refused.json().as_str().unwrap_or_default().to_string();
    assert!(
        refused.starts_with("refused"),
        "the window could call plugin:dialog|open: {refused}"
    );
    // Remote content and inline scripts are blocked by the Content-Security-Policy.
    app.driver
        .execute(
            "const img = document.createElement('img'); img.src = 'https://example.com/x.png'; document.body.append(img);
             const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s);",
            vec![],
        )
        .await
        .unwrap();
    app.wait_js(
        "return (window.__keyrackErrors || []).some(e => e.startsWith('CSP blocked'))",
        "the CSP to block remote content",
    )
    .await;
    let inline_ran = app
        .driver
        .execute("return window.__inline === 1", vec![])
        .await
        .unwrap();
    assert_eq!(
        inline_ran.json(),
        &serde_json::json!(false),
        "an inline script ran"
    );
    app.driver
        .execute("window.__keyrackErrors.length = 0", vec![])
        .await
        .unwrap();
    app.close().await;
}

#[tokio::test]
async fn an_interrupted_rotation_is_offered_for_completion_when_the_app_opens() {
    let moto = MotoServer::start();
    let (old_key, old_secret) = moto_user(&moto, "alice").await;
    // The interrupted run got as far as AWS creating a key whose secret never reached the files.
    let lost = another_key(&moto, "alice").await;
    moto.enable_auth().await;
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n",
        &format!(
            "[default]\naws_access_key_id = {old_key}\naws_secret_access_key = {old_secret}\n"
        ),
    );
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let journal = keyrack::rotation::Journal {
        version: 1,
        old_key_id: old_key.clone(),
        new_key_id: None,
        user: "alice".into(),
        arn: "arn:aws:iam::123456789012:user/alice".into(),
        profile: "default".into(),
        profiles: vec![keyrack::rotation::JournalProfile {
            profile: "default".into(),
            file: "credentials".into(),
        }],
        config_file: home.path().join(".aws/config"),
        credentials_file: home.path().join(".aws/credentials"),
        started_at: now.clone(),
        updated_at: now,
        step: keyrack::rotation::JournalStep::Started,
        keep_old: false,
        replacement: false,
    };
    let dir = home.path().join(".local/state/keyrack/rotations");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(
        dir.join(format!("{old_key}.json")),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();

    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#interrupted", "was interrupted").await;
    app.screenshot("interrupted-rotation-offered").await;
    app.click("#interrupted button").await;
    app.wait_text("#rotate-content", &lost).await;
    app.click("#rotate-start").await;
    app.wait_text("#rotate-result", "Done.").await;
    app.screenshot("interrupted-rotation-finished").await;
    app.click("#rotate-buttons button").await;
    app.wait_js(
        "return document.querySelector('#interrupted').hidden",
        "the offer to go away",
    )
    .await;
    app.close().await;

    let out = aws_cli(
        home.path(),
        &moto.url,
        &[
            "iam",
            "list-access-keys",
            "--user-name",
            "alice",
            "--profile",
            "default",
            "--output",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = keys["AccessKeyMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["AccessKeyId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one Active key left: {ids:?}");
    assert!(ids[0] != old_key && ids[0] != lost);
    assert!(read(home.path(), "credentials").contains(ids[0]));
    assert!(
        fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .all(|e| e.file_name().to_string_lossy().starts_with('.')),
        "the journal is gone"
    );
}

#[tokio::test]
async fn an_unsaved_edit_outlives_its_profile_leaving_the_files_for_a_moment() {
    let home = home();
    write_aws(home.path(), "[default]\nregion = us-east-1\n", "");
    let app = open(home.path(), None).await;
    app.open_profile("default").await;
    app.select_option("#f-region", "us-west-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    // A program that writes the file by emptying it first, or renames the profile away and back:
    // for a moment the profile is not in the files. The person's edit stays, and says why.
    let config = home.path().join(".aws/config");
    fs::write(&config, "").unwrap();
    app.wait_text("#editor-changed", "no longer in the files")
        .await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    // Nothing acts on a profile that is not there: no save (it would make a stub of it), no
    // delete, no rotation.
    app.wait_js(
        "return ['#save', '#delete-profile', '#copy-profile', '#rename-profile'].every((s) => document.querySelector(s).disabled)",
        "Save and the profile's actions disabled while it is gone",
    )
    .await;
    app.screenshot("edit-kept-profile-gone").await;
    fs::write(&config, "[default]\nregion = ap-south-1\n").unwrap();
    app.wait_text("#editor-changed", "changed on disk").await;
    app.wait_js(
        "return document.querySelector('#f-region').value === 'us-west-2'",
        "the person's region still in the editor",
    )
    .await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    app.click("#save").await;
    app.wait_text("#confirm-title", "Changed by another program")
        .await;
    app.click("#confirm-ok").await; // "Save mine"
    app.wait_text("#notice", "Saved 1 change").await;
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
    assert_eq!(
        read(home.path(), "config"),
        "[default]\nregion = us-west-2\n"
    );
}

#[tokio::test]
async fn opening_another_profile_asks_before_unsaved_changes_go() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\n",
        "",
    );
    let app = open(home.path(), None).await;
    app.open_profile("default").await;
    app.select_option("#f-region", "us-west-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    app.open_profile_row("dev").await;
    app.wait_text("#confirm-title", "Unsaved changes to default")
        .await;
    app.click("#confirm-cancel").await; // "Keep editing"
    app.wait_text("#editor-title", "default").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    app.wait_js(
        "return document.querySelector('#f-region').value === 'us-west-2'",
        "the person's region still in the editor",
    )
    .await;
    app.open_profile_row("dev").await;
    app.wait_text("#confirm-title", "Unsaved changes to default")
        .await;
    app.click("#confirm-ok").await; // "Discard and open"
    app.wait_text("#editor-title", "dev").await;
    app.wait_text("#dirty-note", "No unsaved changes").await;
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
    assert_eq!(
        read(home.path(), "config"),
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\n",
        "nothing was written"
    );
}

#[tokio::test]
async fn discarding_the_kept_edits_of_a_profile_gone_from_the_files_shows_the_default_one() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\n",
        "",
    );
    let app = open(home.path(), None).await;
    app.open_profile("dev").await;
    app.select_option("#f-region", "us-west-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = us-east-1\n",
    )
    .unwrap();
    app.wait_text("#editor-changed", "no longer in the files")
        .await;
    app.click("#discard").await;
    app.wait_text("#editor-title", "default").await;
    app.wait_text("#dirty-note", "No unsaved changes").await;
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
    assert_eq!(
        read(home.path(), "config"),
        "[default]\nregion = us-east-1\n"
    );
}

#[tokio::test]
async fn deleting_the_profile_being_edited_lets_its_unsaved_changes_go_with_it() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\n",
        "",
    );
    let app = open(home.path(), None).await;
    app.open_profile("dev").await;
    app.select_option("#f-region", "us-west-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    app.click("#delete-profile").await;
    app.wait_text("#confirm-title", "Delete profile dev?").await;
    app.click("#confirm-ok").await;
    app.wait_text("#notice", "Deleted profile dev").await;
    // keyrack deleted it at the person's word: not kept as if another program had removed it.
    app.wait_text("#editor-title", "default").await;
    app.wait_text("#dirty-note", "No unsaved changes").await;
    assert!(!app.body_text().await.contains("no longer in the files"));
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
    assert!(!read(home.path(), "config").contains("dev"));
}

#[tokio::test]
async fn seventeen_outside_changes_during_one_edit_make_keyrack_ask_instead_of_guessing() {
    let home = home();
    write_aws(home.path(), "[default]\nregion = us-east-1\n", "");
    let app = open(home.path(), None).await;
    app.open_profile("default").await;
    app.select_option("#f-region", "us-west-2").await;
    app.wait_text("#dirty-note", "1 unsaved change").await;
    // Another program changes the region the person is editing, then 16 other things; the
    // window shows each version as it comes.
    let mut config = "[default]\nregion = ap-south-1\n".to_string();
    fs::write(home.path().join(".aws/config"), &config).unwrap();
    app.wait_text("#editor-changed", "changed on disk").await;
    for n in 1..=16 {
        config.push_str(&format!("\n[profile outside-{n}]\nregion = sa-east-1\n"));
        fs::write(home.path().join(".aws/config"), &config).unwrap();
        app.wait_js(&format!("return !!document.querySelector('#profiles') && document.querySelector('#profiles').textContent.includes('outside-{n}')"), &format!("profile outside-{n} in the list")).await;
    }
    app.click("#save").await;
    app.wait_text("#confirm-title", "Changed by another program")
        .await;
    app.wait_text("#confirm-text", "too many times").await;
    app.screenshot("view-too-old").await;
    app.click("#confirm-cancel").await; // "Discard mine"
    app.wait_js(
        "return document.querySelector('#f-region').value === 'ap-south-1'",
        "the editor to show their region",
    )
    .await;
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
    assert_eq!(
        read(home.path(), "config"),
        config,
        "nothing was written over a change the person never saw"
    );
}

#[tokio::test]
async fn the_problems_panel_offers_to_clean_up_a_backup_that_keeps_a_secret_no_longer_in_the_files()
{
    let home = home();
    let kept = "[kept]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\naws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";
    write_aws(home.path(), "[default]\nregion = us-east-1\n", kept);
    let backup = home.path().join(".aws/credentials.keyrack.bak");
    fs::write(&backup, format!("[gone]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n{kept}")).unwrap();
    fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).unwrap();
    let app = open(home.path(), None).await;
    app.wait_text("#problem-count", "1").await;
    app.click("#problems-toggle").await;
    app.wait_text("#problem-list", "credentials.keyrack.bak")
        .await;
    app.wait_text("#problem-list", "no longer in the files")
        .await;
    app.screenshot("problems-leftover-backup").await;
    app.click("#problem-list button.fix").await;
    app.wait_text("#problem-list", "No problems found").await;
    app.wait_text("#notice", "Cleaned 1 leftover file").await;
    assert!(
        !backup.exists(),
        "the backup holding the removed secret is gone"
    );
    assert_eq!(
        read(home.path(), "credentials"),
        kept,
        "the live file is untouched"
    );
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
}

#[tokio::test]
async fn the_problems_panel_shows_what_check_finds_with_line_numbers() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile typo]\nregion = eu-wset-1\n",
        "",
    );
    let app = open(home.path(), None).await;
    app.wait_text("#problem-count", "1").await;
    app.click("#problems-toggle").await;
    app.wait_text("#problem-list", "config:5").await;
    app.wait_text("#problem-list", "eu-wset-1").await;
    // An outside fix makes the problem go away without a restart.
    fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = us-east-1\n\n[profile typo]\nregion = eu-west-1\n",
    )
    .unwrap();
    app.wait_text("#problem-list", "No problems found").await;
    app.screenshot("problems-panel").await;
    app.close().await;
}

/// alice at moto with two Active keys, the first in profile `default`, and the window's rotate
/// dialog opened on it.
struct TwoKeys {
    moto: MotoServer,
    home: tempfile::TempDir,
    key: String,
    secret: String,
    /// alice's second key, Active and held by no profile here.
    other: String,
    credentials: String,
    app: Desktop,
}

async fn rotate_with_two_keys() -> TwoKeys {
    let moto = MotoServer::start();
    let (key, secret) = moto_user(&moto, "alice").await;
    let other = another_key(&moto, "alice").await;
    moto.enable_auth().await;
    let home = home();
    let credentials =
        format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n");
    write_aws(home.path(), "[default]\nregion = us-east-1\n", &credentials);
    let app = open(home.path(), Some(&moto.url)).await;
    app.open_profile("default").await;
    app.click("#rotate").await;
    TwoKeys {
        moto,
        home,
        key,
        secret,
        other,
        credentials,
        app,
    }
}

#[tokio::test]
async fn a_refused_rotation_explains_what_to_do_and_changes_nothing() {
    let TwoKeys {
        moto: _moto,
        home,
        other,
        credentials,
        app,
        ..
    } = rotate_with_two_keys().await;
    app.wait_text("#rotate-content", &other).await;
    let refusal = app
        .wait_text("#rotate-content", "Nothing was changed")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !refusal.contains("--delete-inactive"),
        "the window does not talk in command-line flags: {refusal}"
    );
    assert!(
        app.driver.find(By::Css("#rotate-start")).await.is_err(),
        "no way to start a refused rotation"
    );
    app.screenshot("rotate-refused").await;
    app.click("#rotate-buttons button").await;
    app.close().await;
    assert_eq!(read(home.path(), "credentials"), credentials);
}

#[tokio::test]
async fn the_keychain_button_moves_a_key_out_of_the_file_and_back_while_the_aws_cli_keeps_working()
{
    let keychain = keychain();
    let profile = fresh_account(&keychain, "e2e-app-vault");
    let moto = MotoServer::start();
    let (key, secret) = moto_user(&moto, "carol").await;
    moto.enable_auth().await;
    let home = home();
    let config = format!("[profile {profile}]\nregion = us-east-1\n");
    let credentials = format!(
        "# carol's key\n[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    );
    write_aws(home.path(), &config, &credentials);
    let caller_arn = || {
        let out = aws_cli(
            home.path(),
            &moto.url,
            &[
                "sts",
                "get-caller-identity",
                "--output",
                "json",
                "--profile",
                &profile,
            ],
        );
        assert!(
            out.status.success(),
            "the AWS CLI failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        answer["Arn"].as_str().unwrap().to_string()
    };
    // The app talks to the throw-away keyring of tests/tools/with-keyring.sh, not to none.
    let env = app_env_with_keyring(home.path(), &moto.url);
    let app = Desktop::open(home.path(), env).await;

    app.open_profile(&profile).await;
    app.wait_text("#vault-move", "Move key to keychain").await;
    app.click("#vault-move").await;
    app.wait_text(
        "#confirm-title",
        &format!("Move the key of {profile} into the keychain?"),
    )
    .await;
    app.click("#confirm-ok").await;
    app.wait_text(
        "#notice",
        &format!("The key of {profile} is in the keychain now."),
    )
    .await;
    let row = app
        .wait_text(&format!("#profiles li[data-name='{profile}']"), "Keychain")
        .await;
    // The key id (not a secret) is shown from the keychain entry, as for keys in the file.
    app.wait_text(&format!("#profiles li[data-name='{profile}']"), &key)
        .await;
    assert!(!row.text().await.unwrap().contains(&secret));
    let placeholder = app
        .driver
        .find(By::Css("#f-key"))
        .await
        .unwrap()
        .attr("placeholder")
        .await
        .unwrap();
    assert_eq!(
        placeholder,
        Some(format!("{key} (kept in the OS keychain)"))
    );
    app.wait_text("#vault-move", "Move key to file").await;
    // Who the profile is, now read through the keychain.
    app.click("#identity-card button").await;
    app.wait_text("#identity-card", "user carol").await;
    app.screenshot("keychain-moved").await;

    let (config_moved, credentials_moved) = (
        read(home.path(), "config"),
        read(home.path(), "credentials"),
    );
    // The messages do not quote the files: on failure they would hold the secret.
    assert!(
        !credentials_moved.contains(&secret),
        "the secret is still in the credentials file"
    );
    assert!(
        !credentials_moved.contains(&key),
        "the key id is still in the credentials file"
    );
    assert!(
        !config_moved.contains(&secret),
        "the secret went into the config file"
    );
    let left = support::files_holding(home.path(), &[&secret]);
    assert!(
        left.is_empty(),
        "the moved secret is still on disk in {left:?}"
    );
    // The command the AWS tools run is the keyrack installed beside the app.
    let beside_app = support::desktop::app_binary().with_file_name("keyrack");
    // Its entry is the one of this file set (the HOME's two files).
    let set = keyrack::files::FilePaths {
        config: home.path().join(".aws/config"),
        credentials: home.path().join(".aws/credentials"),
    }
    .set_id();
    assert!(
        config_moved.contains(&format!(
            "credential_process = {} credential-process --profile {profile} --file-set {set}\n",
            beside_app.display()
        )),
        "{config_moved}"
    );
    assert!(
        caller_arn().ends_with(":user/carol"),
        "the AWS CLI signs through keyrack's credential_process"
    );

    app.click("#vault-move").await;
    app.wait_text(
        "#confirm-title",
        &format!("Move the key of {profile} back into the file?"),
    )
    .await;
    app.click("#confirm-ok").await;
    app.wait_text(
        "#notice",
        &format!("The key of {profile} is in the credentials file again."),
    )
    .await;
    app.wait_text("#vault-move", "Move key to keychain").await;
    app.screenshot("keychain-restored").await;
    app.close().await;

    let (config_back, credentials_back) = (
        read(home.path(), "config"),
        read(home.path(), "credentials"),
    );
    assert_eq!(config_back, config, "the config file is as it was");
    assert!(
        credentials_back.starts_with("# carol's key\n"),
        "{credentials_back}"
    );
    let aws = home.path().join(".aws");
    let seen = botocore_read(&aws.join("config"), &aws.join("credentials"));
    assert_eq!(
        seen["profiles"][&profile]["aws_access_key_id"],
        key.as_str()
    );
    assert_eq!(
        seen["profiles"][&profile]["aws_secret_access_key"], "********",
        "botocore reads a secret (its helper masks it)"
    );
    assert!(
        credentials_back.contains(&format!("aws_secret_access_key = {secret}\n")),
        "the secret is back in the file"
    );
    assert_eq!(
        keychain
            .find(&keyrack::keychain::account(&set, &profile))
            .unwrap(),
        None,
        "the keychain entry is gone"
    );
    assert!(
        caller_arn().ends_with(":user/carol"),
        "the AWS CLI reads the key from the file again"
    );
}

/// What the X clipboard of `display` holds, compared with `expected` in a Tk helper so the
/// secret is never printed: "same", "empty" or "other".
fn clipboard_of(display: &str, expected: &str) -> String {
    use std::io::Write as _;
    const SCRIPT: &str = "import sys, tkinter\n\
        root = tkinter.Tk(); root.withdraw()\n\
        try:\n    text = root.clipboard_get()\nexcept tkinter.TclError:\n    text = ''\n\
        print('same' if text == sys.stdin.read() else 'empty' if text == '' else 'other')\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .env("DISPLAY", display)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with tkinter reads the clipboard");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(expected.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "could not read the clipboard");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn wait_clipboard(display: &str, expected: &str, state: &str, within: Duration) -> Duration {
    let start = std::time::Instant::now();
    loop {
        let now = clipboard_of(display, expected);
        if now == state {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "the clipboard is {now}, not {state}, after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_copied_secret_leaves_the_clipboard_after_30_seconds_unless_something_else_was_copied() {
    let home = home();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    write_aws(
        home.path(),
        "[profile a]\nregion = eu-west-1\n",
        &format!("[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {secret}\n\n[b]\naws_access_key_id = AKIAIOSFODNN7EXAMPL2\naws_secret_access_key =\n"),
    );
    let app = open(home.path(), None).await;
    // An empty secret is shown as empty, with nothing to show or copy.
    app.open_profile("b").await;
    app.wait_js(
        "const f = document.querySelector('#f-secret'); return f.placeholder.startsWith('empty') && f.parentElement.querySelector('.reveal').disabled && f.parentElement.querySelector('.copy-secret').disabled",
        "the empty secret to show as empty",
    )
    .await;

    app.open_profile("a").await;
    let display = app.display.clone();
    // Copied, then something else copied by another program: that is left alone.
    app.click("#f-secret ~ .copy-secret").await;
    wait_clipboard(&display, secret, "same", Duration::from_secs(5)).await;
    assert!(
        !app.driver.source().await.unwrap().contains(secret),
        "the copied secret went through the page"
    );
    let holder = "import tkinter, time\nroot = tkinter.Tk(); root.withdraw()\nroot.clipboard_clear(); root.clipboard_append('mine'); root.update()\nend = time.time() + 50\nwhile time.time() < end:\n    root.update(); time.sleep(0.05)\n";
    let mut other = std::process::Command::new("python3")
        .args(["-c", holder])
        .env("DISPLAY", &display)
        .spawn()
        .unwrap();
    wait_clipboard(&display, "mine", "same", Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_secs(33)).await;
    assert_eq!(
        clipboard_of(&display, "mine"),
        "same",
        "keyrack emptied a clipboard that no longer held its secret"
    );
    other.kill().unwrap();
    other.wait().unwrap();

    // Copied and left there: gone after about 30 s, not before.
    app.click("#f-secret ~ .copy-secret").await;
    wait_clipboard(&display, secret, "same", Duration::from_secs(5)).await;
    let emptied = wait_clipboard(&display, secret, "empty", Duration::from_secs(40)).await;
    assert!(
        emptied >= Duration::from_secs(25),
        "emptied after only {emptied:?}"
    );
    assert!(app.console_errors().await.is_empty());
    app.close().await;
}

/// An AWS tool run with no terminal (as from an IDE): `aws ARGS` on `home`'s files through
/// `endpoint`, on `display`, with keyrack's state in the home.
fn aws_on_display(
    home: &Path,
    endpoint: &str,
    display: &str,
    args: &[&str],
) -> std::process::Child {
    let aws = support::venv_bin("aws");
    std::process::Command::new("setsid")
        .arg(&aws)
        .args(args)
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("DISPLAY", display)
        .env("NO_AT_BRIDGE", "1")
        .env_remove("KEYRACK_MFA_ASKPASS")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the AWS CLI")
}

/// alice's key behind her MFA device `serial` in profile `base` of a new home, moved into the
/// test keyring by `keyrack vault move` (so every AWS call signs with the device's session), with
/// moto and the MFA stand-in in front of it (`mfa_required`: IAM refuses the key alone).
struct KeyBehindDevice {
    /// Keep it bound (not `..`): moto stops when it is dropped.
    _moto: MotoServer,
    sts: support::sts_mfa::MfaSts,
    home: tempfile::TempDir,
    keychain: keyrack::keychain::Keychain,
    key: String,
}

async fn key_behind_device(serial: &str, mfa_required: bool) -> KeyBehindDevice {
    let (moto, key, secret) = alice_at_moto().await;
    let sts = support::sts_mfa::MfaSts::start(&moto.url);
    let arn = "arn:aws:iam::123456789012:user/alice";
    sts.user_key(&key, &secret, arn, mfa_required);
    let home = home();
    write_aws(
        home.path(),
        &format!("[profile base]\nmfa_serial = {serial}\n"),
        &format!("[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let keychain = keychain();
    let _ = keychain.forget_mfa_session(serial);
    let keyrack = support::desktop::app_binary().with_file_name("keyrack");
    let moved = std::process::Command::new(&keyrack)
        .args(["vault", "move", "base"])
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join(".local/state"))
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .output()
        .unwrap();
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    KeyBehindDevice {
        _moto: moto,
        sts,
        home,
        keychain,
        key,
    }
}

/// The app's environment with the test keyring's bus instead of none.
fn app_env_with_keyring(home: &Path, endpoint: &str) -> Vec<(String, String)> {
    let mut env = app_env(home, Some(endpoint));
    env.retain(|(name, _)| name != "DBUS_SESSION_BUS_ADDRESS");
    env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("the test keyring's bus"),
    ));
    env
}

#[tokio::test]
async fn an_aws_tool_that_needs_an_mfa_code_gets_it_through_keyracks_prompt_window() {
    // alice's key behind her MFA device, moved into the keychain: every AWS call signs with the
    // device's session, which the keyrack that the AWS CLI runs has to ask a code for.
    let serial = "arn:aws:iam::123456789012:mfa/alice-prompt-window";
    let KeyBehindDevice {
        _moto: _kept_running,
        sts,
        home,
        keychain,
        key,
    } = key_behind_device(serial, true).await;
    sts.show(serial, "577215");
    let account = keyrack::keychain::account(
        &keyrack::files::FilePaths {
            config: home.path().join(".aws/config"),
            credentials: home.path().join(".aws/credentials"),
        }
        .set_id(),
        "base",
    );

    let display = support::desktop::Display::start().await;
    let call = aws_on_display(
        home.path(),
        &sts.url,
        &display.name,
        &["iam", "list-access-keys", "--profile", "base"],
    );
    display.wait_window("keyrack: MFA code");
    // The page loads after the window maps (slower on a busy machine).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // A code of the wrong shape is refused in the window, which asks again.
    display.type_keys("57721", &["Return"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let shot = display.screenshot("mfa-prompt-window-refuses-five-digits");
    display.type_keys("577 215", &["Return"]);
    let out = call.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "aws: {} (screenshot {})",
        String::from_utf8_lossy(&out.stderr),
        shot.display()
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["AccessKeyMetadata"][0]["AccessKeyId"], key.as_str());
    assert_eq!(sts.accepted(serial), 1);
    assert_eq!(
        sts.refused_without_mfa(),
        0,
        "IAM was called through the MFA session"
    );
    for shown in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(shown).contains("577215"));
    }

    // The next call uses the kept session: no window, no code.
    let again = aws_on_display(
        home.path(),
        &sts.url,
        &display.name,
        &["sts", "get-caller-identity", "--profile", "base"],
    )
    .wait_with_output()
    .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(sts.sessions_issued(), 1);

    // Cancelled: the AWS CLI fails with keyrack's one line, nothing is kept.
    keychain.forget_mfa_session(serial).unwrap();
    let call = aws_on_display(
        home.path(),
        &sts.url,
        &display.name,
        &["sts", "get-caller-identity", "--profile", "base"],
    );
    display.wait_window("keyrack: MFA code");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    display.type_keys("", &["Escape"]);
    let out = call.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("keyrack mfa login base"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(keychain.mfa_session(serial).unwrap(), None);
    keychain.delete(&account).unwrap();
}

#[tokio::test]
async fn a_key_behind_an_mfa_device_signs_in_from_its_card_and_is_rotated_with_a_code_for_each_key()
{
    // alice must use MFA for IAM: her key alone may not list or rotate keys.
    let (moto, key, secret) = alice_at_moto().await;
    let sts = support::sts_mfa::MfaSts::start(&moto.url);
    let serial = "arn:aws:iam::123456789012:mfa/alice-card";
    sts.user_key(&key, &secret, "arn:aws:iam::123456789012:user/alice", true);
    let home = home();
    write_aws(
        home.path(),
        &format!(
            "[profile base]\nmfa_serial = {serial}\n\
             [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
        ),
        &format!("[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let keychain = keychain();
    let _ = keychain.forget_mfa_session(serial);
    let env = app_env_with_keyring(home.path(), &sts.url);
    let app = Desktop::open(home.path(), env).await;

    // Who the key is needs no code; its card offers to sign in with the device.
    app.open_profile("base").await;
    app.click("#identity-card button:last-child").await;
    app.wait_text("#identity-card", "user/alice").await;
    sts.show(serial, "662607");
    app.click("#mfa-sign-in").await;
    app.wait_text("#mfa-text", serial).await;
    app.wait_text("#mfa-text", "One code unlocks base, admin")
        .await;
    app.wait_text("#mfa-text", "12 hours").await;
    app.type_into("#mfa-code", "662 607").await;
    app.screenshot("mfa-key-sign-in").await;
    app.click("#mfa-ok").await;
    app.wait_text("#notice", "Signed in with").await;
    app.wait_text("#identity-card", "min left").await;
    assert_eq!(sts.sessions_issued(), 1);

    // The rotation signs IAM with that session, then asks a code for the new key's session,
    // which retires the old key.
    app.click("#rotate").await;
    app.wait_text("#rotate-content", "These profiles hold the key")
        .await;
    sts.show(serial, "141421");
    app.click("#rotate-start").await;
    app.wait_text("#mfa-text", serial).await;
    app.type_into("#mfa-code", "141421").await;
    app.click("#mfa-ok").await;
    app.wait_text("#rotate-result", "Done.").await;
    app.screenshot("mfa-rotation-done").await;
    assert_eq!(sts.refused_without_mfa(), 0, "no IAM call went without MFA");
    assert_eq!(sts.sessions_issued(), 2);
    let credentials = read(home.path(), "credentials");
    assert!(
        !credentials.contains(&key),
        "the old key is gone from the file"
    );
    let kept = keychain
        .mfa_session(serial)
        .unwrap()
        .expect("the new key's session");
    assert!(credentials.contains(&kept.made_with), "{credentials}");
    keychain.forget_mfa_session(serial).unwrap();
    app.close().await;
}

#[tokio::test]
async fn an_aws_tool_that_needs_an_mfa_code_asks_the_open_window() {
    let serial = "arn:aws:iam::123456789012:mfa/alice-open-window";
    let KeyBehindDevice {
        _moto: _kept_running,
        sts,
        home,
        keychain,
        ..
    } = key_behind_device(serial, false).await;
    let env = app_env_with_keyring(home.path(), &sts.url);
    let app = Desktop::open(home.path(), env).await;

    // The AWS CLI, started elsewhere, needs the code: the open window asks in its own dialog.
    sts.show(serial, "299792");
    let call = aws_on_display(
        home.path(),
        &sts.url,
        &app.display,
        &["sts", "get-caller-identity", "--profile", "base"],
    );
    app.wait_text("#mfa-text", serial).await;
    app.wait_text("#mfa-text", "kept in the keychain").await;
    app.type_into("#mfa-code", "299 792").await;
    app.screenshot("mfa-asked-by-an-aws-tool").await;
    app.click("#mfa-ok").await;
    let out = call.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "aws: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let who: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(who["Arn"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(sts.accepted(serial), 1);
    keychain.forget_mfa_session(serial).unwrap();
    app.close().await;
}

#[tokio::test]
async fn an_sso_profile_signs_in_from_its_card_and_adds_a_profile_per_role_that_the_aws_cli_uses() {
    use keyrack_test_support::sso_portal::{reserved_role, SsoPortal};
    // moto holds the roles Identity Center assumes; the portal stand-in hands out their
    // credentials to alice, whose browser is signed in.
    let moto = MotoServer::start();
    let admin = moto.set_up_user("identity-center").await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/identity-center"},"Action":"sts:AssumeRole"}]}"#;
    for role in ["Dev", "Ops"] {
        let name = reserved_role(role);
        let params = [
            ("RoleName", name.as_str()),
            ("AssumeRolePolicyDocument", trust),
        ];
        moto.set_up("CreateRole", &params).await;
    }
    moto.enable_auth().await;
    let portal = SsoPortal::start(&moto.url, &admin);
    portal.name_account("123456789012", "sandbox");
    portal.assign("123456789012", "Dev");
    portal.assign("123456789012", "Ops");
    portal.browser_signed_in_as(Some("alice@example.com"));
    let home = home();
    let config = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
                  sso_registration_scopes = sso:account:access\n\n\
                  [profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n";
    write_aws(home.path(), config, "");
    // The person's browser: the test opens what the app asked it to open.
    let browser = home.path().join("browser");
    let opened = home.path().join("opened");
    fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).unwrap();
    let mut env = app_env(home.path(), Some(&moto.url));
    env.push(("AWS_ENDPOINT_URL_SSO".into(), portal.url.clone()));
    env.push(("AWS_ENDPOINT_URL_SSO_OIDC".into(), portal.url.clone()));
    env.push(("BROWSER".into(), browser.display().to_string()));
    let app = Desktop::open(home.path(), env).await;

    // Not signed in yet: the card says so and offers to sign in.
    app.open_profile("dev").await;
    app.click("#identity-card button:last-child").await;
    app.wait_text("#identity-card", "keyrack sso login corp")
        .await;
    let page_opened = |n: usize| {
        let opened = opened.clone();
        async move {
            loop {
                let pages: Vec<String> = fs::read_to_string(&opened)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                if pages.len() >= n {
                    return pages[n - 1].clone();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // The person closes the dialog: the sign-in ends, its page no longer signs in.
    app.click("#sso-sign-in").await;
    app.wait_text("#sso-text", "in the browser page that opened")
        .await;
    let left = page_opened(1).await;
    app.click("#sso-close").await;
    app.wait_text("#notice", "Sign-in cancelled; nothing was kept.")
        .await;
    let (left_back, portal) =
        tokio::task::spawn_blocking(move || (portal.play_browser(&left), portal))
            .await
            .unwrap();
    assert!(
        left_back.is_err(),
        "the cancelled sign-in no longer listens"
    );
    // Signing in again works at once (nothing of the first one waits on).
    app.click("#sso-sign-in").await;
    app.wait_text("#sso-text", "in the browser page that opened")
        .await;
    app.screenshot("sso-sign-in").await;
    let page = page_opened(2).await;
    let back = tokio::task::spawn_blocking(move || portal.play_browser(&page).map(|b| (b, portal)))
        .await
        .unwrap();
    let (body, portal) = back.expect("the browser comes back to keyrack");
    assert!(body.contains("Signed in"), "{body}");
    let role = reserved_role("Dev");
    app.wait_text("#identity-card", &role).await;
    app.wait_text("#identity-card", "in account 123456789012 (sandbox)")
        .await;
    app.wait_text("#notice", "Signed in to sso-session 'corp'")
        .await;

    // Every role of the sign-in gets a profile, previewed first.
    app.click("#sso-populate").await;
    app.wait_text("#populate-content", "sandbox-Ops: role Ops in sandbox")
        .await;
    app.wait_text("#populate-content", "Already there: dev")
        .await;
    app.screenshot("sso-populate-preview").await;
    assert_eq!(
        read(home.path(), "config"),
        config,
        "the preview wrote nothing"
    );
    app.click("#populate-ok").await;
    app.wait_text("#notice", "Wrote 1 change").await;
    let written = read(home.path(), "config");
    assert!(written.starts_with(config), "{written}");
    assert!(written.contains("[profile sandbox-Ops]"), "{written}");
    app.wait_text("#profiles", "sandbox-Ops").await;
    app.close().await;

    // The AWS CLI signs in as the new profile's role with the app's sign-in.
    let mut aws = std::process::Command::new(support::venv_bin("aws"));
    let out = aws
        .args(["sts", "get-caller-identity", "--profile", "sandbox-Ops"])
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join(".aws/config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join(".aws/credentials"),
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ENDPOINT_URL_SSO", &portal.url)
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&reserved_role("Ops")));
}

/// Where each of `selectors` is on the page now: (selector, left, top, width, height).
async fn places(app: &Desktop, selectors: &[&str]) -> Vec<(String, i64, i64, i64, i64)> {
    let mut out = Vec::new();
    for css in selectors {
        let script = format!(
            "const r = document.querySelector({css:?}).getBoundingClientRect(); \
             return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];"
        );
        let rect = app.driver.execute(&script, vec![]).await.unwrap();
        let v: Vec<i64> = serde_json::from_value(rect.json().clone()).unwrap();
        out.push(((*css).to_owned(), v[0], v[1], v[2], v[3]));
    }
    out
}

#[tokio::test]
async fn no_control_moves_while_progress_and_notices_come_and_go() {
    let (moto, key, secret) = alice_at_moto().await;
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n",
        &format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let app = open(home.path(), Some(&moto.url)).await;
    app.open_profile("default").await;
    let controls = [
        "#check-all",
        "#profiles li[data-name='default']",
        "#identity-card",
        "#editor input",
        "#save",
    ];
    let before = places(&app, &controls).await;
    // Check all: the progress bar comes, then goes.
    app.click("#check-all").await;
    app.wait_text("#progress-text", "Checked 1 profile").await;
    let checking = places(&app, &controls[..2]).await;
    assert_eq!(checking, before[..2], "the progress bar moved the controls");
    app.wait_js(
        "return document.querySelector('#progress').classList.contains('idle')",
        "the progress bar to go",
    )
    .await;
    let after_progress = places(&app, &controls[..2]).await;
    assert_eq!(after_progress, before[..2]);
    // A notice comes (copying the secret) and is closed.
    let card = places(&app, &controls[2..]).await;
    app.click("#f-secret ~ .copy-secret").await;
    app.wait_text("#notice", "Copied to the clipboard").await;
    assert_eq!(
        places(&app, &controls[2..]).await,
        card,
        "a notice moved the controls"
    );
    app.screenshot("notice-floats").await;
    app.click("#notice-close").await;
    app.wait_js(
        "return document.querySelector('#notice').hidden",
        "the notice to close",
    )
    .await;
    assert_eq!(places(&app, &controls[2..]).await, card);
    app.close().await;
}

#[tokio::test]
async fn check_all_says_when_the_aws_tools_cannot_read_the_files_though_aws_answers() {
    let (moto, key, secret) = alice_at_moto().await;
    let home = home();
    // A line without `=`: the AWS CLI refuses the whole file.
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\nthis line has no equals sign\n",
        &format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let aws = aws_cli(home.path(), &moto.url, &["sts", "get-caller-identity"]);
    assert!(!aws.status.success(), "the AWS CLI refuses these files");
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#files-banner", "cannot read these files")
        .await;
    app.wait_text("#files-banner", "config:3").await;
    app.click("#check-all").await;
    app.wait_text(
        "#progress-text",
        "0 working, 0 failing, 1 that keyrack can read but the AWS tools cannot",
    )
    .await;
    app.wait_text(
        "#profiles li[data-name='default'] .who",
        "keyrack can read it, the AWS tools cannot",
    )
    .await;
    app.open_profile("default").await;
    app.wait_text("#identity-card", "user/alice").await;
    app.wait_text(
        "#identity-card",
        "Every aws command fails until that line is fixed",
    )
    .await;
    app.screenshot("aws-tools-cannot-read").await;
    app.close().await;
}

#[tokio::test]
async fn a_new_profile_with_a_key_id_and_no_secret_is_refused_in_its_dialog() {
    let home = home();
    write_aws(home.path(), "[default]\nregion = us-east-1\n", "");
    let app = open(home.path(), None).await;
    app.wait_text("#profiles", "default").await;
    app.click("#new-profile").await;
    let height = || async {
        app.driver
            .execute(
                "return document.querySelector('#name-dialog').getBoundingClientRect().height",
                vec![],
            )
            .await
            .unwrap()
            .json()
            .as_f64()
            .unwrap()
    };
    let before = height().await;
    // Advice coming and going while typing does not resize the dialog.
    app.type_into("#np-key", "AKIA1").await;
    app.wait_text("#np-key-advice", "20 characters long").await;
    assert_eq!(
        height().await,
        before,
        "the dialog kept its height with the advice shown"
    );
    app.type_into("#name-input", "half").await;
    app.type_into("#np-key", "AKIAIOSFODNN7EXAMPLE").await;
    app.click("#name-ok").await;
    app.wait_text("#name-error", "needs both halves of an access key")
        .await;
    app.wait_text("#name-error", "add its secret access key")
        .await;
    app.screenshot("new-profile-half-key").await;
    assert_eq!(read(home.path(), "credentials"), "", "nothing was written");
    assert!(!read(home.path(), "config").contains("half"));
    app.close().await;
}

/// `xdotool ARGS` on `display`: its output.
fn xdotool(display: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("timeout")
        .arg("30")
        .arg("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("run xdotool");
    assert!(out.status.success(), "xdotool {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The system's file chooser keyrack opened for a .csv, as a person uses it: type the path,
/// press Enter.
async fn choose_in_file_chooser(app: &Desktop, csv: &Path) {
    let chooser = xdotool(
        &app.display,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--name",
            "Access key file from the IAM console",
        ],
    );
    let chooser = chooser.lines().next().unwrap().to_owned();
    // A chooser still filling in may drop early keys: type again while it is still open.
    for _ in 0..5 {
        xdotool(&app.display, &["windowfocus", "--sync", &chooser]);
        tokio::time::sleep(Duration::from_millis(700)).await;
        xdotool(&app.display, &["key", "ctrl+l"]);
        xdotool(
            &app.display,
            &["type", "--delay", "20", &csv.display().to_string()],
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        xdotool(&app.display, &["key", "Return"]);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let open = std::process::Command::new("xdotool")
            .args([
                "search",
                "--onlyvisible",
                "--name",
                "Access key file from the IAM console",
            ])
            .env("DISPLAY", &app.display)
            .output()
            .unwrap();
        if !open.status.success() {
            break;
        }
    }
}

#[tokio::test]
async fn the_consoles_key_file_picked_in_the_window_becomes_a_profile_and_is_deleted_on_request() {
    let (moto, key, secret) = alice_at_moto().await;
    let home = home();
    write_aws(home.path(), "[default]\nregion = us-east-1\n", "");
    let csv = home.path().join("Downloads/alice_accessKeys.csv");
    fs::create_dir_all(csv.parent().unwrap()).unwrap();
    fs::write(
        &csv,
        format!("Access key ID,Secret access key\r\n{key},{secret}\r\n"),
    )
    .unwrap();
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#profiles", "default").await;

    app.click("#import-key-file").await;
    choose_in_file_chooser(&app, &csv).await;

    app.wait_text("#import-text", &format!("holds the key {key}"))
        .await;
    app.type_into("#import-name", "work").await;
    app.select_option("#import-region", "eu-west-1").await;
    app.screenshot("import-key-file").await;
    app.click("#import-ok").await;
    app.wait_text(
        "#import-saved",
        "Saved profile work (arn:aws:iam::123456789012:user/alice)",
    )
    .await;
    assert!(csv.exists(), "kept until the person says");
    app.click("#import-delete").await;
    app.wait_text("#notice", "and deleted").await;
    assert!(!csv.exists());
    let credentials = read(home.path(), "credentials");
    assert!(
        credentials.contains("[work]") && credentials.contains(&key),
        "{credentials}"
    );
    app.wait_text("#profiles", "work").await;
    app.close().await;
    let aws = aws_cli(
        home.path(),
        &moto.url,
        &["sts", "get-caller-identity", "--profile", "work"],
    );
    assert!(
        aws.status.success(),
        "{}",
        String::from_utf8_lossy(&aws.stderr)
    );
}

#[tokio::test]
async fn a_problem_row_leads_to_its_profile_and_escape_closes_the_panel() {
    let home = home();
    // The credentials file has the profile too: the secret in the config file is a leak all the
    // same (it was not pointed out before when the credentials file had the profile).
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile leaky]\nregion = eu-west-1\naws_secret_access_key = leaked-in-config\n",
        "[leaky]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    let app = open(home.path(), None).await;
    app.wait_text("#profiles", "leaky").await;
    app.open_profile("default").await;
    app.click("#problems-toggle").await;
    let row = "#problem-list li[data-profile='leaky']";
    app.wait_text(row, "keeps its aws_secret_access_key in the config file")
        .await;
    app.click(row).await;
    app.wait_text("#editor-title", "leaky").await;
    app.screenshot("problem-row-leads").await;
    app.driver
        .find(By::Css("body"))
        .await
        .unwrap()
        .send_keys(Key::Escape)
        .await
        .unwrap();
    app.wait_js(
        "return document.querySelector('#problems').hidden",
        "Escape to close Problems",
    )
    .await;
    app.close().await;
}

#[tokio::test]
async fn key_health_shows_at_a_glance_with_the_threshold_from_keyracks_settings() {
    let (moto, key, secret) = alice_at_moto().await;
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile settings-only]\nregion = eu-west-1\n",
        &format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    );
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#profiles", "settings-only").await;
    // A brand-new key is not due at 90 days; at 0 days (the setting) every key is.
    app.click("#check-all").await;
    app.wait_text("#progress-text", "Checked 2 profiles").await;
    app.open_profile("default").await;
    app.wait_text("#identity-card", &format!("Key {key} is 0 days old"))
        .await;
    assert!(!app.body_text().await.contains("rotate: 0 days old"));
    app.click("#settings-open").await;
    app.driver
        .find(By::Css("#set-rotate"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    app.type_into("#set-rotate", "0").await;
    app.click("#settings-save").await;
    app.wait_text("#notice", "Settings saved").await;
    let ini = fs::read_to_string(home.path().join(".config/keyrack/settings.ini")).unwrap();
    assert!(ini.contains("rotate_after_days=0"), "{ini}");
    app.click("#check-all").await;
    app.wait_text(
        "#profiles li[data-name='default'] .who",
        "rotate: 0 days old",
    )
    .await;
    app.wait_text("#identity-card", "Due for rotation").await;
    // Only what needs the person.
    app.click("#attention-filter").await;
    app.wait_js(
        "return !document.querySelector(\"#profiles li[data-name='settings-only']\") && !!document.querySelector(\"#profiles li[data-name='default']\")",
        "the filter to keep only the key due for rotation",
    )
    .await;
    app.screenshot("key-health").await;
    app.close().await;
}

#[tokio::test]
async fn results_stay_true_a_fixed_secret_is_checked_again_and_results_are_kept_between_launches() {
    let (moto, key, secret) = alice_at_moto().await;
    let home = home();
    write_aws(
        home.path(),
        "[profile other]\nregion = eu-west-1\n",
        &format!(
            "[typo]\naws_access_key_id = {key}\naws_secret_access_key = {}\n",
            "x".repeat(40)
        ),
    );
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text("#profiles", "typo").await;
    app.click("#check-all").await;
    app.wait_text("#progress-text", "Checked 2 profiles").await;
    let typo = "#profiles li[data-name='typo'] .who";
    app.wait_text(typo, "Wrong secret").await;

    // The person fixes the secret: the red result goes, checked again unasked.
    app.open_profile("typo").await;
    app.wait_text("#identity-card", "Wrong secret").await;
    app.type_into("#f-secret", &secret).await;
    app.click("#save").await;
    app.wait_text(typo, "user alice").await;
    app.wait_text("#identity-card", "user alice").await;
    assert!(!app.body_text().await.contains("Wrong secret"));
    app.close().await;

    // Another launch shows what was found, without checking again.
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text(typo, "user alice").await;
    app.wait_text(typo, "just now").await;
    // Nothing was checked: the progress row has said nothing since the launch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let progress = app.driver.find(By::Css("#progress-text")).await.unwrap();
    assert_eq!(progress.text().await.unwrap(), "", "no check ran at launch");
    app.close().await;

    // A change made while keyrack was closed: the kept result is shown as stale until checked.
    let credentials = read(home.path(), "credentials").replace(&secret, &"y".repeat(40));
    fs::write(home.path().join(".aws/credentials"), credentials).unwrap();
    let app = open(home.path(), Some(&moto.url)).await;
    app.wait_text(typo, "changed since").await;
    app.open_profile("typo").await;
    app.wait_text("#identity-stale", "changed after this check")
        .await;
    app.screenshot("stale-result").await;
    app.click("#check-one").await;
    app.wait_text(typo, "Wrong secret").await;
    assert!(!app.body_text().await.contains("changed since"));
    app.close().await;
}

/// Run the app binary itself on `display` with `env` (as a second double-click would), for at
/// most 20 s.
fn launch_again(display: &str, env: &[(String, String)], args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new("timeout");
    command
        .arg("20")
        .arg(support::desktop::app_binary())
        .args(args)
        .env("DISPLAY", display)
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run keyrack-app")
}

/// The X window id of the visible keyrack window on `display`.
fn main_window(display: &str) -> String {
    let found = xdotool(display, &["search", "--onlyvisible", "--name", "^keyrack$"]);
    found.lines().next().expect("the keyrack window").to_owned()
}

fn visible_windows(display: &str) -> usize {
    let out = std::process::Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", "^keyrack$"])
        .env("DISPLAY", display)
        .output()
        .expect("run xdotool");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[tokio::test]
async fn a_second_launch_on_the_same_files_brings_the_first_window_back_and_help_prints() {
    let home = home();
    write_aws(home.path(), "[default]\nregion = us-east-1\n", "");
    let env = app_env(home.path(), None);
    let app = Desktop::open(home.path(), env.clone()).await;
    app.wait_text("#profiles", "default").await;
    // The person hides it (here: unmapped under the bare X server), then opens keyrack again.
    let window = main_window(&app.display);
    xdotool(&app.display, &["windowunmap", "--sync", &window]);
    assert_eq!(visible_windows(&app.display), 0);

    let again = launch_again(&app.display, &env, &[]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{again:?}");
    assert!(said.contains("already open on"), "{said}");
    assert!(said.contains("brought to the front"), "{said}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while visible_windows(&app.display) != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first window did not come back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // --help and --version print and end, opening nothing.
    for (flag, expect) in [("--help", "Usage:"), ("--version", "keyrack-app ")] {
        let out = launch_again(&app.display, &env, &[flag]);
        assert!(out.status.success(), "{flag}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(expect),
            "{flag}: {out:?}"
        );
    }
    assert_eq!(visible_windows(&app.display), 1);

    // Other files are another file set: their window opens beside this one.
    let other = tempfile::tempdir().unwrap();
    fs::write(
        other.path().join("config"),
        "[profile elsewhere]\nregion = eu-west-1\n",
    )
    .unwrap();
    let mut other_env = env.clone();
    for (k, v) in other_env.iter_mut() {
        if k == "AWS_CONFIG_FILE" {
            *v = other.path().join("config").display().to_string();
        } else if k == "AWS_SHARED_CREDENTIALS_FILE" {
            *v = other.path().join("credentials").display().to_string();
        }
    }
    let mut second = std::process::Command::new(support::desktop::app_binary());
    second
        .env("DISPLAY", &app.display)
        .stdin(std::process::Stdio::null());
    for (k, v) in &other_env {
        second.env(k, v);
    }
    let mut second = second.spawn().expect("start a window on other files");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while visible_windows(&app.display) != 2 {
        assert!(
            second.try_wait().unwrap().is_none(),
            "the window on other files ended instead of opening"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no window opened on the other files"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    app.close().await;
}

#[tokio::test]
async fn with_two_active_keys_the_other_one_is_made_inactive_from_the_dialog_and_the_rotation_goes_on(
) {
    let TwoKeys {
        moto,
        home,
        key,
        secret,
        other,
        app,
        credentials: _,
    } = rotate_with_two_keys().await;
    app.wait_text("#rotate-content", "Nothing was changed")
        .await;
    // Delete asks first; Back leaves the key alone.
    app.click("#delete-other").await;
    app.wait_text(
        "#delete-other-confirm",
        &format!("Delete {other} for good?"),
    )
    .await;
    app.screenshot("rotate-two-keys-delete").await;
    app.click("#rotate-buttons button").await;
    app.click("#make-other-inactive").await;
    // The other key is Inactive now: the rotation goes on once its deletion is confirmed.
    app.wait_text("#rotate-content", "Delete it to make room")
        .await;
    app.wait_text("#notice", &format!("Made {other} Inactive"))
        .await;
    app.click("#rotate-buttons button.primary").await;
    app.wait_text("#rotate-content", "These profiles hold the key")
        .await;
    app.click("#rotate-start").await;
    app.wait_text("#rotate-result", "Done.").await;
    app.close().await;

    let after = read(home.path(), "credentials");
    assert!(!after.contains(&key) && !after.contains(&secret), "{after}");
    let ids = alices_keys(home.path(), &moto.url, "default");
    assert_eq!(ids.len(), 1, "only the new key is left: {ids:?}");
    assert!(after.contains(&ids[0]));
}

#[tokio::test]
async fn the_editor_helps_with_what_people_paste_type_and_clear() {
    let home = home();
    let mut config = String::from("[profile work]\nregion = eu-west-1\n\n[profile long]\n");
    for i in 0..30 {
        config.push_str(&format!("setting_{i:02} = value {i}\n"));
    }
    let credentials = "[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
                       aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
                       aws_session_token = an-old-session-token\n";
    write_aws(home.path(), &config, credentials);
    let app = open(home.path(), None).await;
    app.open_profile("work").await;
    // A secret pasted into the key id's field is named for what it is.
    app.type_into("#f-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .await;
    app.wait_text("#f-key-advice", "goes in Secret access key")
        .await;
    // Spaces around a value are dropped when the field is left, not refused.
    app.type_into("#f-key", "  AKIAIOSFODNN7EXAMPLE ").await;
    app.driver
        .find(By::Css("#f-key"))
        .await
        .unwrap()
        .send_keys(Key::Tab)
        .await
        .unwrap();
    app.wait_js(
        "return document.querySelector('#f-key').value === 'AKIAIOSFODNN7EXAMPLE'",
        "the spaces to be trimmed",
    )
    .await;
    app.wait_text("#dirty-note", "No unsaved changes").await;
    // A secret just typed can be shown before it is saved.
    app.type_into("#f-secret", "a-new-secret-typed-here").await;
    app.click("#f-secret + .reveal").await;
    app.wait_js(
        "const f = document.querySelector('#f-secret'); return f.type === 'text' && f.value === 'a-new-secret-typed-here'",
        "the typed secret to be shown",
    )
    .await;
    // Emptying the saved session token says what saving does, and saving removes it.
    let token = app.driver.find(By::Css("#f-token")).await.unwrap();
    token.send_keys("x").await.unwrap();
    token.send_keys(Key::Backspace).await.unwrap();
    app.wait_js(
        "return document.querySelector('#f-token').placeholder === 'removed when you save'",
        "the emptied token to say it goes",
    )
    .await;
    app.screenshot("editor-typed-secret").await;
    app.click("#save").await;
    app.wait_text("#notice", "Saved 2 changes to profile work")
        .await;
    let after = read(home.path(), "credentials");
    assert!(!after.contains("aws_session_token"), "{after}");
    assert!(
        after.contains("aws_secret_access_key = a-new-secret-typed-here"),
        "{after}"
    );
    // Another profile opens at its top, its name in view.
    app.open_profile("long").await;
    app.driver
        .execute(
            "document.querySelector('#editor').scrollTop = 10000",
            vec![],
        )
        .await
        .unwrap();
    app.open_profile("work").await;
    app.wait_js(
        "return document.querySelector('#editor').scrollTop === 0",
        "the editor to start at the top",
    )
    .await;
    app.close().await;
}

#[tokio::test]
async fn in_a_window_of_800_by_500_problems_leave_the_editor_its_height() {
    let home = home();
    write_aws(
        home.path(),
        "[default]\nregion = us-east-1\n\n[profile leaky]\nregion = eu-west-1\naws_secret_access_key = leaked-in-config\n",
        "",
    );
    let app = open(home.path(), None).await;
    app.wait_text("#profiles", "leaky").await;
    let window = main_window(&app.display);
    xdotool(
        &app.display,
        &["windowsize", "--sync", &window, "800", "500"],
    );
    app.wait_js(
        "return window.innerHeight === 500",
        "the window to be 800x500",
    )
    .await;
    let editor_height = || async {
        app.driver
            .execute(
                "return document.querySelector('#editor').getBoundingClientRect().height",
                vec![],
            )
            .await
            .unwrap()
            .json()
            .as_f64()
            .unwrap()
    };
    // The top bar keeps its buttons on one line and the filter room to type.
    let sizes = app
        .driver
        .execute(
            "const r = (s) => document.querySelector(s).getBoundingClientRect(); return [r('#filter').width, r('#check-all').height, r('#new-profile').height]",
            vec![],
        )
        .await
        .unwrap();
    let sizes: Vec<f64> = serde_json::from_value(sizes.json().clone()).unwrap();
    assert!(sizes[0] >= 120.0, "the filter is {} px wide", sizes[0]);
    assert!(
        sizes[1] < 40.0 && sizes[2] < 40.0,
        "a button wraps: {sizes:?}"
    );
    // The files have an error: Problems opened by itself.
    app.wait_text("#problem-list", "leaky").await;
    let open = editor_height().await;
    app.screenshot("problems-800x500").await;
    app.click("#problems-close").await;
    app.wait_js(
        "return document.querySelector('#problems').hidden",
        "Problems to close",
    )
    .await;
    let closed = editor_height().await;
    assert_eq!(open, closed, "Problems took the editor's height");
    assert!(closed > 350.0, "the editor is {closed} px tall at 800x500");
    app.close().await;
}

#[tokio::test]
async fn a_wrong_secret_is_replaced_by_the_consoles_key_file_in_every_profile_and_the_old_key_goes()
{
    let moto = MotoServer::start();
    let (old_key, _) = moto_user(&moto, "alice").await;
    // The key alice makes in the IAM console, and the .csv the console downloads.
    let new = moto.set_up_key("alice").await;
    moto.enable_auth().await;
    let home = home();
    let wrong = "wrongWrongWrongWrongWrongWrongWrong00000";
    let credentials = format!(
        "# alice's key, twice\n[default]\naws_access_key_id = {old_key}\naws_secret_access_key = {wrong}\n\n\
         [alice-too]\naws_access_key_id = {old_key}\naws_secret_access_key = {wrong}\n"
    );
    write_aws(home.path(), "[default]\nregion = eu-west-1\n", &credentials);
    let csv = home.path().join("Downloads/alice_accessKeys.csv");
    fs::create_dir_all(csv.parent().unwrap()).unwrap();
    fs::write(
        &csv,
        format!(
            "Access key ID,Secret access key\r\n{},{}\r\n",
            new.access_key_id,
            new.secret_access_key.expose()
        ),
    )
    .unwrap();
    let app = open(home.path(), Some(&moto.url)).await;
    app.open_profile("default").await;
    app.click("#check-one").await;
    app.wait_text("#identity-card", "Wrong secret").await;
    app.click("#replace-key").await;
    app.wait_text(
        "#rotate-content",
        &format!("AWS refuses the secret of the key {old_key}"),
    )
    .await;
    app.wait_text("#rotate-content", "Download .csv file").await;
    app.wait_text(
        "#replace-console",
        "https://console.aws.amazon.com/iam/home#/users",
    )
    .await;
    app.screenshot("replace-guide").await;
    app.click("#replace-pick").await;
    choose_in_file_chooser(&app, &csv).await;
    app.wait_text("#replace-file", "alice_accessKeys.csv").await;
    app.click("#replace-check").await;
    app.wait_text(
        "#replace-proven",
        &format!(
            "The new key {} works and is IAM user alice's",
            new.access_key_id
        ),
    )
    .await;
    app.wait_text("#rotate-content", "alice-too").await;
    app.screenshot("replace-plan").await;
    assert_eq!(
        read(home.path(), "credentials"),
        credentials,
        "nothing written before Replace now"
    );
    app.click("#replace-start").await;
    app.wait_text("#rotate-result", "Done.").await;
    app.wait_text("#rotate-result", "is deleted").await;
    assert!(csv.exists(), "kept until the person says");
    app.click("#replace-delete-csv").await;
    app.wait_text("#replace-csv-text", "Deleted").await;
    app.screenshot("replace-done").await;
    assert!(!csv.exists());
    app.close().await;

    let after = read(home.path(), "credentials");
    assert_eq!(
        after,
        credentials
            .replace(&old_key, &new.access_key_id)
            .replace(wrong, new.secret_access_key.expose()),
        "only the key lines changed"
    );
    for profile in ["default", "alice-too"] {
        let out = aws_cli(
            home.path(),
            &moto.url,
            &[
                "sts",
                "get-caller-identity",
                "--profile",
                profile,
                "--region",
                "us-east-1",
            ],
        );
        assert!(
            out.status.success(),
            "the AWS CLI works with {profile}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ids = alices_keys(home.path(), &moto.url, "alice-too");
    assert_eq!(ids, [new.access_key_id.as_str()], "the old key is gone");
}

#[tokio::test]
async fn at_two_keys_the_lost_key_is_deleted_from_the_dialog_then_replaced() {
    let moto = MotoServer::start();
    let (old_key, _) = moto_user(&moto, "alice").await;
    let spare = moto.set_up_key("alice").await;
    moto.enable_auth().await;
    let home = home();
    let wrong = "wrongWrongWrongWrongWrongWrongWrong00000";
    let credentials = format!(
        "[default]\naws_access_key_id = {old_key}\naws_secret_access_key = {wrong}\n\n\
         [spare]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        spare.access_key_id,
        spare.secret_access_key.expose()
    );
    write_aws(home.path(), "[default]\nregion = eu-west-1\n", &credentials);
    let app = open(home.path(), Some(&moto.url)).await;
    app.open_profile("default").await;
    app.click("#check-one").await;
    app.wait_text("#identity-card", "Wrong secret").await;
    app.click("#replace-key").await;
    app.wait_text("#replace-room", "IAM user alice has two access keys")
        .await;
    app.wait_text("#replace-room", &spare.access_key_id).await;
    app.screenshot("replace-two-keys").await;
    app.click("#replace-delete-old").await;
    app.wait_text("#replace-delete-old-confirm", "Delete").await;
    app.click("#replace-delete-old-yes").await;
    app.wait_text("#notice", "the console can make the new key now")
        .await;
    let ids = alices_keys(home.path(), &moto.url, "spare");
    assert_eq!(
        ids,
        [spare.access_key_id.as_str()],
        "the lost key is deleted"
    );

    // The console makes the new key (here: the AWS CLI, signed with the spare key).
    let made = aws_cli(
        home.path(),
        &moto.url,
        &[
            "iam",
            "create-access-key",
            "--user-name",
            "alice",
            "--profile",
            "spare",
            "--region",
            "us-east-1",
            "--output",
            "json",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let (new_key, new_secret) = (
        made["AccessKey"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_owned(),
        made["AccessKey"]["SecretAccessKey"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    app.type_into("#replace-key-id", &new_key).await;
    app.type_into("#replace-secret", &new_secret).await;
    app.click("#replace-check").await;
    app.wait_text("#replace-proven", &format!("The new key {new_key} works"))
        .await;
    app.click("#replace-start").await;
    app.wait_text("#rotate-result", "Done.").await;
    app.close().await;
    let after = read(home.path(), "credentials");
    assert!(
        after.contains(&new_key) && !after.contains(wrong) && !after.contains(&old_key),
        "{after}"
    );
    let mut ids = alices_keys(home.path(), &moto.url, "default");
    ids.sort();
    let mut expected = vec![new_key.clone(), spare.access_key_id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
}
