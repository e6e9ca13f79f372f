//! `keyrack vault`, `keyrack credential-process` and the keychain side of rename/copy/delete, as
//! a user runs them: against a real Secret Service (run through `tests/tools/with-keyring.sh`),
//! end to end with the AWS CLI and moto, and with no Secret Service at all.

use keyrack_test_support as support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use keyrack::aws::{iam, AwsClient, ClientSettings, Service};
use support::home::Home;
use support::keyring::{fresh_account, keychain};
use support::moto::MotoServer;

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKENVALUE";

/// keyrack run on a home's files.
trait RunKeyrack {
    fn keyrack(&self, args: &[&str]) -> Output;
    fn keyrack_without_bus(&self, args: &[&str]) -> Output;
}

impl RunKeyrack for Home {
    /// Run keyrack; no secret may appear in what it prints.
    fn keyrack(&self, args: &[&str]) -> Output {
        let out = self
            .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .output()
            .unwrap();
        assert_no_secret(&out);
        out
    }

    /// Run keyrack with no usable D-Bus session bus.
    fn keyrack_without_bus(&self, args: &[&str]) -> Output {
        let out = self
            .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap();
        assert_no_secret(&out);
        out
    }
}

fn assert_no_secret(out: &Output) {
    support::assert_output_has_no_secret(out, &[SECRET, TOKEN]);
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "keyrack failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one line keyrack printed on stderr when it failed.
fn failure_line(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "keyrack should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr, got:\n{stderr}"
    );
    stderr
}

fn credentials_section(profile: &str, id: &str, secret: &str, token: Option<&str>) -> String {
    let mut text =
        format!("[{profile}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
    if let Some(token) = token {
        text.push_str(&format!("aws_session_token = {token}\n"));
    }
    text
}

#[test]
fn vault_move_then_credential_process_prints_exactly_the_contract_json() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "cli-move-token");
    let home = Home::new(
        "",
        &credentials_section(&profile, KEY_ID, SECRET, Some(TOKEN)),
    );
    let said = succeeded(&home.keyrack(&["vault", "move", &profile]));
    assert!(said.contains("moved the key of profile"), "{said}");
    let (config, credentials) = home.files();
    assert!(
        !credentials.contains(SECRET)
            && !credentials.contains(TOKEN)
            && !credentials.contains(KEY_ID),
        "{credentials}"
    );
    let program = env!("CARGO_BIN_EXE_keyrack");
    let set = home.file_set_flag();
    assert!(
        config.contains(&format!(
            "credential_process = {program} credential-process --profile {profile}{set}\n"
        )),
        "{config}"
    );

    let out = Command::new(program)
        .args([
            "credential-process",
            "--profile",
            &profile,
            "--file-set",
            &set[" --file-set ".len()..],
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    let expected = format!("{{\"Version\":1,\"AccessKeyId\":\"{KEY_ID}\",\"SecretAccessKey\":\"{SECRET}\",\"SessionToken\":\"{TOKEN}\"}}\n");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    keychain.delete(&home.account(&profile)).unwrap();
}

#[test]
fn credential_process_for_a_profile_with_no_entry_fails_in_one_line() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "cli-no-entry");
    let home = Home::new("", "");
    let out = home.keyrack(&["credential-process", "--profile", &profile]);
    assert!(out.stdout.is_empty());
    let line = failure_line(&out);
    assert!(
        line.contains(&format!(
            "the keychain has no entry for profile '{profile}'"
        )),
        "{line}"
    );
}

#[test]
fn vault_restore_puts_the_files_back_as_they_were_and_removes_the_entry() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "cli-restore");
    let config = format!("# my settings\n[profile {profile}]\nregion = eu-west-1 # Ireland\n");
    let credentials = format!(
        "# keys\n{}",
        credentials_section(&profile, KEY_ID, SECRET, None)
    );
    let home = Home::new(&config, &credentials);
    succeeded(&home.keyrack(&["vault", "move", &profile]));
    let said = succeeded(&home.keyrack(&["vault", "restore", &profile]));
    assert!(
        said.contains(&format!(
            "removed the keychain entry '{}'",
            home.account(&profile)
        )),
        "{said}"
    );
    assert_eq!(home.files(), (config, credentials));
    assert_eq!(keychain.find(&home.account(&profile)).unwrap(), None);
}

#[test]
fn the_app_list_shows_a_keychain_profiles_key_id_from_its_entry_and_never_its_secret() {
    let keychain = keychain();
    let moved = fresh_account(&keychain, "app-list-key-id");
    let gone = fresh_account(&keychain, "app-list-no-entry");
    let home = Home::new("", &credentials_section(&moved, KEY_ID, SECRET, None));
    let config = format!(
        "[profile {moved}]\nregion = eu-west-1\n[profile {gone}]\ncredential_process = /usr/bin/keyrack credential-process --profile {gone}{}\n",
        home.file_set_flag()
    );
    fs::write(home.config(), config).unwrap();
    succeeded(&home.keyrack(&["vault", "move", &moved]));

    let files = keyrack::files::AwsFiles::load(&keyrack::files::FilePaths {
        config: home.config(),
        credentials: home.credentials(),
    })
    .unwrap();
    let mut snapshot = keyrack::profiles::listing(&files, keyrack::files::Dialect::Cli);
    let key_id = |snapshot: &keyrack::profiles::Listing, name: &str| {
        snapshot
            .profiles
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .access_key_id
            .clone()
    };
    assert_eq!(
        key_id(&snapshot, &moved),
        None,
        "the files no longer hold it"
    );
    keyrack::profiles::show_keychain_key_ids(&mut snapshot, &files, &keychain);
    assert_eq!(key_id(&snapshot, &moved).as_deref(), Some(KEY_ID));
    assert_eq!(
        key_id(&snapshot, &gone),
        None,
        "no entry: nothing to show, and no failure"
    );
    assert!(!serde_json::to_string(&snapshot).unwrap().contains(SECRET));
    keychain.delete(&home.account(&moved)).unwrap();
}

#[test]
fn vault_list_and_profiles_show_where_each_secret_lives() {
    let keychain = keychain();
    let moved = fresh_account(&keychain, "cli-list-moved");
    let config = format!("[profile {moved}]\nregion = eu-west-1\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = plain\n");
    let home = Home::new(
        &config,
        &(credentials_section(&moved, KEY_ID, SECRET, None)
            + &credentials_section("plain", KEY_ID, SECRET, None)),
    );
    succeeded(&home.keyrack(&["vault", "move", &moved]));

    let listed: serde_json::Value =
        serde_json::from_str(&succeeded(&home.keyrack(&["vault", "list", "--json"]))).unwrap();
    let stores: Vec<(String, String)> = listed["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["profile"].as_str().unwrap().to_string(),
                p["store"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        stores,
        [
            (moved.clone(), "keychain".into()),
            ("role".into(), "elsewhere".into()),
            ("plain".into(), "file".into())
        ]
    );
    assert_eq!(listed["profiles"][0]["entry_found"], true);

    let text = succeeded(&home.keyrack(&["vault", "list"]));
    assert!(
        text.lines()
            .any(|l| l.starts_with(&moved) && l.contains("keychain")),
        "{text}"
    );

    let profiles = support::reading_of(
        &serde_json::from_str(&succeeded(&home.keyrack(&["profiles", "--json"]))).unwrap(),
    );
    assert_eq!(
        profiles["secret_stores"],
        serde_json::json!({moved.clone(): "keychain", "role": "elsewhere", "plain": "file"})
    );
    assert_eq!(
        profiles["profiles"]["plain"]["aws_secret_access_key"], "********",
        "the existing members are unchanged"
    );
    keychain.delete(&home.account(&moved)).unwrap();
}

#[test]
fn vault_list_fails_when_a_keychain_profile_has_lost_its_entry() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "cli-list-lost");
    let home = Home::new("", &credentials_section(&profile, KEY_ID, SECRET, None));
    succeeded(&home.keyrack(&["vault", "move", &profile]));
    keychain.delete(&home.account(&profile)).unwrap();
    let out = home.keyrack(&["vault", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISSING"));
    assert!(failure_line(&out).contains(&profile));
}

#[test]
fn rename_copy_and_delete_take_the_keychain_entry_along() {
    let keychain = keychain();
    let first = fresh_account(&keychain, "cli-follow-a");
    let second = fresh_account(&keychain, "cli-follow-b");
    let third = fresh_account(&keychain, "cli-follow-c");
    let home = Home::new("", &credentials_section(&first, KEY_ID, SECRET, None));
    succeeded(&home.keyrack(&["vault", "move", &first]));

    let [first, second, third] = [&first, &second, &third].map(|p| (p.clone(), home.account(p)));
    succeeded(&home.keyrack(&["rename", &first.0, &second.0]));
    assert_eq!(keychain.find(&first.1).unwrap(), None);
    assert_eq!(
        keychain.get(&second.1).unwrap().credentials.access_key_id,
        KEY_ID
    );
    assert!(home.files().0.contains(&format!(
        "credential-process --profile {}{}\n",
        second.0,
        home.file_set_flag()
    )));

    succeeded(&home.keyrack(&["copy", &second.0, &third.0]));
    assert_eq!(
        keychain.get(&third.1).unwrap(),
        keychain.get(&second.1).unwrap()
    );

    let asked = failure_line(&home.keyrack(&["delete", &third.0]));
    assert!(
        asked.contains("and its key from the keychain; add --yes to confirm"),
        "{asked}"
    );
    assert!(
        keychain.find(&third.1).unwrap().is_some(),
        "nothing is removed before --yes"
    );
    succeeded(&home.keyrack(&["delete", &third.0, "--yes"]));
    assert_eq!(keychain.find(&third.1).unwrap(), None);
    assert!(keychain.find(&second.1).unwrap().is_some());
    keychain.delete(&second.1).unwrap();
}

#[test]
fn vault_move_refuses_a_profile_already_in_the_keychain_in_one_line() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "cli-twice");
    let home = Home::new("", &credentials_section(&profile, KEY_ID, SECRET, None));
    succeeded(&home.keyrack(&["vault", "move", &profile]));
    let before = home.files();
    let line = failure_line(&home.keyrack(&["vault", "move", &profile]));
    assert!(
        line.contains("already in the keychain") && line.contains("nothing was changed"),
        "{line}"
    );
    assert_eq!(home.files(), before);
    keychain.delete(&home.account(&profile)).unwrap();
}

// --- Without a Secret Service: a clear error and nothing lost. These need no keyring. ---

#[test]
fn without_a_session_bus_vault_move_says_so_and_changes_nothing() {
    let credentials = credentials_section("dev", KEY_ID, SECRET, None);
    let home = Home::new("[profile dev]\nregion = eu-west-1\n", &credentials);
    let before = home.files();
    let line = failure_line(&home.keyrack_without_bus(&["vault", "move", "dev"]));
    assert!(
        line.contains("no D-Bus session bus") && line.contains("nothing was changed"),
        "{line}"
    );
    assert_eq!(
        home.files(),
        before,
        "the files are unchanged: the key is still in them"
    );
}

#[test]
fn without_a_session_bus_credential_process_fails_in_one_line_and_prints_nothing() {
    let home = Home::new("", "");
    let out = home.keyrack_without_bus(&["credential-process", "--profile", "dev"]);
    assert!(out.stdout.is_empty());
    assert!(failure_line(&out).contains("no D-Bus session bus"));
}

#[test]
fn without_a_session_bus_a_keychain_profile_is_neither_renamed_nor_deleted() {
    let config =
        "[profile dev]\ncredential_process = /usr/bin/keyrack credential-process --profile dev\n";
    let home = Home::new(config, "");
    for args in [
        &["rename", "dev", "prod"][..],
        &["delete", "dev", "--yes"],
        &["vault", "restore", "dev"],
    ] {
        let line = failure_line(&home.keyrack_without_bus(args));
        assert!(
            line.contains("no D-Bus session bus") && line.contains("nothing was changed"),
            "{args:?}: {line}"
        );
        assert_eq!(home.files(), (config.to_string(), String::new()));
    }
}

#[test]
fn vault_list_without_a_session_bus_still_lists_from_the_files_and_says_why_it_could_not_check() {
    let config =
        "[profile dev]\ncredential_process = /usr/bin/keyrack credential-process --profile dev\n";
    let home = Home::new(config, &credentials_section("plain", KEY_ID, SECRET, None));
    let out = home.keyrack_without_bus(&["vault", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dev") && text.contains("plain"), "{text}");
    assert!(failure_line(&out).contains("cannot be reached"));
}

/// A private D-Bus session bus on which nothing provides (or can start) a Secret Service.
struct BareBus {
    daemon: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl BareBus {
    fn start() -> BareBus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        // No <servicedir>: nothing can be activated, gnome-keyring included.
        fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>\
                 </busconfig>\n",
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .args(["--nofork", "--print-address=1"])
            .arg(format!("--config-file={}", config.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus) is needed: run the tests through tests/tools/with-keyring.sh, which installs it");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        BareBus {
            daemon,
            address: line.trim().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn with_a_bus_but_no_secret_service_vault_move_says_how_to_get_one_and_changes_nothing() {
    let bus = BareBus::start();
    let home = Home::new("", &credentials_section("dev", KEY_ID, SECRET, None));
    let before = home.files();
    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["vault", "move", "dev"],
        )
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .output()
        .unwrap();
    assert_no_secret(&out);
    let line = failure_line(&out);
    assert!(
        line.contains("no Secret Service is running")
            && line.contains("gnome-keyring")
            && line.contains("KeePassXC"),
        "{line}"
    );
    assert_eq!(home.files(), before);
}

#[test]
fn with_a_locked_keyring_vault_move_says_so_and_changes_nothing() {
    // A keyring of its own (the shared one must stay unlocked), locked before keyrack runs.
    let home = Home::new("", &credentials_section("dev", KEY_ID, SECRET, None));
    let before = home.files();
    let script = support::repo_root().join("tests/tools/with-keyring.sh");
    let lock = "dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
                org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null \
                && exec \"$0\" vault move dev";
    let out = home
        .command(&script, &["sh", "-c", lock, env!("CARGO_BIN_EXE_keyrack")])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_no_secret(&out);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("keyrack:"))
        .unwrap_or_else(|| panic!("no keyrack error in:\n{stderr}"));
    assert!(
        line.contains("the keychain is locked") && line.contains("nothing was changed"),
        "{line}"
    );
    assert_eq!(home.files(), before);
}

// --- End to end: the AWS CLI signs through credential_process, against moto. ---

/// `aws sts get-caller-identity --profile NAME` from the venv, on the home's files, at moto.
fn aws_caller_arn(home: &Home, moto: &MotoServer, profile: &str) -> Result<String, String> {
    let mut command = home.command(
        &support::venv_bin("aws"),
        &[
            "sts",
            "get-caller-identity",
            "--output",
            "json",
            "--profile",
            profile,
        ],
    );
    command
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = command.output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(answer["Arn"].as_str().unwrap().to_string())
}

#[test]
fn after_vault_move_the_aws_cli_signs_through_credential_process_and_no_secret_is_on_disk() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "e2e-move");
    let (moto, alice) = MotoServer::with_user("alice");
    let secret = alice.secret_access_key.expose().to_string();
    let home = Home::new(
        &format!("[profile {profile}]\nregion = us-east-1\n"),
        &credentials_section(&profile, &alice.access_key_id, &secret, None),
    );
    let arn = aws_caller_arn(&home, &moto, &profile).expect("the key works from the file");
    assert!(arn.ends_with(":user/alice"), "{arn}");

    succeeded(&home.keyrack(&["vault", "move", &profile]));
    let (config, credentials) = home.files();
    assert!(
        !credentials.contains(&secret) && !credentials.contains(&alice.access_key_id),
        "{credentials}"
    );
    assert!(!config.contains(&secret), "{config}");
    assert_eq!(
        aws_caller_arn(&home, &moto, &profile).expect("the key works through credential_process"),
        arn
    );

    succeeded(&home.keyrack(&["vault", "restore", &profile]));
    assert_eq!(
        aws_caller_arn(&home, &moto, &profile).expect("the key works from the file again"),
        arn
    );
    assert_eq!(keychain.find(&home.account(&profile)).unwrap(), None);
}

#[test]
fn a_keyrack_installed_under_a_path_with_spaces_is_quoted_so_the_aws_cli_runs_it() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "e2e-spaces");
    let (moto, alice) = MotoServer::with_user("alice");
    let home = Home::new(
        &format!("[profile {profile}]\nregion = us-east-1\n"),
        &credentials_section(
            &profile,
            &alice.access_key_id,
            alice.secret_access_key.expose(),
            None,
        ),
    );
    let installed = home.dir.path().join("My Tools/bin dir");
    fs::create_dir_all(&installed).unwrap();
    let program = installed.join("keyrack");
    fs::copy(env!("CARGO_BIN_EXE_keyrack"), &program).unwrap();

    let out = home
        .command(&program, &["vault", "move", &profile])
        .output()
        .unwrap();
    assert_no_secret(&out);
    succeeded(&out);
    let config = home.files().0;
    assert!(
        config.contains(&format!(
            "credential_process = \"{}\" credential-process --profile {profile}{}\n",
            program.display(),
            home.file_set_flag()
        )),
        "{config}"
    );
    let arn =
        aws_caller_arn(&home, &moto, &profile).expect("the AWS CLI splits the quoted path back");
    assert!(arn.ends_with(":user/alice"), "{arn}");
    keychain.delete(&home.account(&profile)).unwrap();
}

#[test]
fn the_credential_process_line_splits_back_the_same_for_botocore_and_for_sh() {
    let programs = [
        "/usr/local/bin/keyrack",
        "/opt/My Tools/keyrack",
        "/o p/$HOME \"q\" back\\slash/keyrack",
        "/a/it's here/keyrack",
    ];
    for program in programs {
        for account in ["dev", "team/prod@corp:1+x%"] {
            let line = keyrack::keychain::command::KeyrackCommand::new(
                Path::new(program),
                account,
                "0123456789ab",
            )
            .to_line()
            .unwrap();
            let expected = vec![
                program.to_string(),
                "credential-process".into(),
                "--profile".into(),
                account.to_string(),
                "--file-set".into(),
                "0123456789ab".into(),
            ];
            // botocore: compat_shell_split, which is shlex.split on Unix.
            let python = Command::new(support::venv_bin("python"))
                .args([
                    "-c",
                    "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))",
                    &line,
                ])
                .output()
                .unwrap();
            assert!(
                python.status.success(),
                "{}",
                String::from_utf8_lossy(&python.stderr)
            );
            let by_botocore: Vec<String> = serde_json::from_slice(&python.stdout).unwrap();
            assert_eq!(by_botocore, expected, "botocore splits {line}");
            // The SDKs run it with `sh -c`.
            let sh = Command::new("sh")
                .args(["-c", &format!("printf '%s\\n' {line}")])
                .output()
                .unwrap();
            let by_sh: Vec<String> = String::from_utf8(sh.stdout)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect();
            assert_eq!(by_sh, expected, "sh splits {line}");
        }
    }
}

#[test]
fn whoami_reads_a_keychain_profiles_key_from_the_keychain_without_running_the_process() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "e2e-whoami");
    let missing = fresh_account(&keychain, "e2e-whoami-missing");
    let (moto, alice) = MotoServer::with_user("alice");
    keychain
        .store(&profile, &keyrack::keychain::StoredKey::new(alice.clone()))
        .unwrap();
    // The program named in credential_process does not exist: only a direct keychain read works.
    let config = format!(
        "[profile {profile}]\nregion = us-east-1\ncredential_process = /nonexistent/keyrack credential-process --profile {profile}\n\
         [profile {missing}]\nregion = us-east-1\ncredential_process = /nonexistent/keyrack credential-process --profile {missing}\n"
    );
    let home = Home::new(&config, "");
    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["whoami", &profile, &missing, "--json"],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(alice.secret_access_key.expose()));
    let answers: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        answers[0]["arn"].as_str().unwrap().ends_with(":user/alice"),
        "{answers}"
    );
    assert_eq!(answers[0]["secret_store"]["store"], "keychain", "{answers}");
    assert_eq!(
        answers[1]["error"]["code"], "no_keychain_entry",
        "{answers}"
    );
    let text = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["whoami", &profile],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&text.stdout);
    assert!(
        line.contains("(account 123456789012, key in the OS keychain, key 0 days old"),
        "{line}"
    );
    keychain.delete(&profile).unwrap();
}

#[test]
fn rotating_a_keychain_profile_writes_the_new_key_into_every_entry_and_file_that_held_the_old_one()
{
    let keychain = keychain();
    let moved = fresh_account(&keychain, "e2e-rotate");
    let also_moved = fresh_account(&keychain, "e2e-rotate-also");
    let (moto, alice) = MotoServer::with_user("alice");
    let old_secret = alice.secret_access_key.expose().to_string();
    let config = format!("[profile {moved}]\nregion = us-east-1\n[profile {also_moved}]\nregion = us-east-1\n[profile plain]\nregion = us-east-1\n");
    let credentials: String = [&moved, &also_moved, "plain"]
        .iter()
        .map(|p| credentials_section(p, &alice.access_key_id, &old_secret, None))
        .collect();
    let home = Home::new(&config, &credentials);
    succeeded(&home.keyrack(&["vault", "move", &moved]));
    succeeded(&home.keyrack(&["vault", "move", &also_moved]));
    let keys = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["keys", &moved, "--json"],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    let keys: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();
    assert_eq!(
        keys["keys"][0]["profiles"],
        serde_json::json!(["plain", moved, also_moved]),
        "keychain profiles hold the key too"
    );

    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["rotate", &moved, "--yes", "--json"],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("XDG_STATE_HOME", home.dir.path().join("state"))
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "rotate failed:\n{printed}");
    assert!(!printed.contains(&old_secret), "a secret was printed");

    let new = keychain.get(&home.account(&moved)).unwrap().credentials;
    assert_ne!(new.access_key_id, alice.access_key_id);
    assert!(
        !printed.contains(new.secret_access_key.expose()),
        "a secret was printed"
    );
    assert_eq!(
        keychain
            .get(&home.account(&also_moved))
            .unwrap()
            .credentials,
        new,
        "every entry that held the old key"
    );
    let (config_after, credentials_after) = home.files();
    assert!(credentials_after.contains(&credentials_section(
        "plain",
        &new.access_key_id,
        new.secret_access_key.expose(),
        None
    )));
    assert!(
        !credentials_after.contains(&old_secret)
            && !config_after.contains(new.secret_access_key.expose())
    );
    for profile in [&moved, &also_moved, "plain"] {
        assert!(aws_caller_arn(&home, &moto, profile)
            .unwrap_or_else(|e| panic!("{profile}: {e}"))
            .ends_with(":user/alice"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = AwsClient::new(ClientSettings::default()).unwrap();
    let keys = runtime
        .block_on(iam::list_access_keys(
            &client,
            &moto.endpoint(Service::Iam),
            &new,
            Some("alice"),
        ))
        .unwrap();
    let ids: Vec<&str> = keys.iter().map(|k| k.access_key_id.as_str()).collect();
    assert_eq!(ids, [new.access_key_id.as_str()], "the old key is deleted");
    keychain.delete(&home.account(&moved)).unwrap();
    keychain.delete(&home.account(&also_moved)).unwrap();
}

#[test]
fn without_a_session_bus_a_rotation_next_to_keychain_profiles_is_refused_before_anything_changes() {
    let config = "[profile moved]\ncredential_process = /usr/bin/keyrack credential-process --profile moved\n";
    let credentials = credentials_section("plain", KEY_ID, SECRET, None);
    let home = Home::new(config, &credentials);
    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["rotate", "plain", "--yes"],
        )
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("XDG_STATE_HOME", home.dir.path().join("state"))
        .output()
        .unwrap();
    assert_no_secret(&out);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no D-Bus session bus") && stderr.contains("moved"),
        "{stderr}"
    );
    assert_eq!(home.files(), (config.to_string(), credentials));
}

#[test]
fn after_vault_move_no_file_keyrack_writes_holds_the_moved_secret() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "no-secret-left");
    let other = (
        "AKIAOTHEROTHEROTHER1",
        "stays/in/the/file/OTHEROTHEROTHEROTHER1",
    );
    let home = Home::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &(credentials_section(&profile, KEY_ID, SECRET, Some(TOKEN))
            + &credentials_section("plain", other.0, other.1, None)),
    );
    // Everything keyrack writes is inside the temporary HOME: the AWS files' folder, and its
    // state folder (named here so that no outside XDG_STATE_HOME takes it elsewhere).
    let state = home.path().join("state");
    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["vault", "move", &profile],
        )
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    assert_no_secret(&out);
    succeeded(&out);
    assert_eq!(
        keychain
            .get(&home.account(&profile))
            .unwrap()
            .credentials
            .secret_access_key
            .expose(),
        SECRET,
        "the key is safe in the keychain"
    );
    let left = support::files_holding(home.path(), &[SECRET, TOKEN]);
    assert!(
        left.is_empty(),
        "the moved secret is still on disk in {left:?}"
    );
    assert!(
        home.files().1.contains(other.1),
        "the other profile's key is untouched"
    );
    keychain.delete(&home.account(&profile)).unwrap();
}

/// An older keyrack moved a key into a legacy entry (named by the profile alone) that another
/// file set still reads; this file set holds the same key in its credentials file. Rotating here
/// gives that legacy entry the new key too, so the other file set keeps working once the old key
/// is deleted.
#[test]
fn rotating_in_one_file_set_also_updates_a_legacy_entry_that_another_file_set_reads() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "e2e-legacy-shared");
    let (moto, alice) = MotoServer::with_user("alice");
    let old_secret = alice.secret_access_key.expose().to_string();
    keychain
        .store(&profile, &keyrack::keychain::StoredKey::new(alice.clone()))
        .unwrap();
    let legacy_line = format!(
        "{} credential-process --profile {profile}",
        env!("CARGO_BIN_EXE_keyrack")
    );
    let other = Home::new(
        &format!("[profile {profile}]\nregion = us-east-1\ncredential_process = {legacy_line}\n"),
        "",
    );
    assert!(aws_caller_arn(&other, &moto, &profile)
        .expect("the legacy line works")
        .ends_with(":user/alice"));
    let here = Home::new(
        &format!("[profile {profile}]\nregion = us-east-1\n"),
        &credentials_section(&profile, &alice.access_key_id, &old_secret, None),
    );

    let out = here
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["rotate", &profile, "--yes", "--json"],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("XDG_STATE_HOME", here.dir.path().join("state"))
        .output()
        .unwrap();
    assert_no_secret(&out);
    assert!(
        out.status.success(),
        "rotate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let legacy = keychain.get(&profile).unwrap().credentials;
    assert_ne!(
        legacy.access_key_id, alice.access_key_id,
        "the legacy entry got the new key"
    );
    assert!(aws_caller_arn(&here, &moto, &profile)
        .expect("this file set works")
        .ends_with(":user/alice"));
    assert!(aws_caller_arn(&other, &moto, &profile)
        .expect("the other file set still works")
        .ends_with(":user/alice"));
    keychain.delete(&profile).unwrap();
}

#[test]
fn replacing_a_lost_key_writes_the_console_key_into_its_keychain_entry_and_every_file_profile() {
    let keychain = keychain();
    let moved = fresh_account(&keychain, "replace-lost");
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (old, new) = runtime.block_on(async {
        let old = moto.set_up_user("alice").await;
        // The key alice makes in the IAM console.
        let new = moto.set_up_key("alice").await;
        moto.enable_auth().await;
        (old, new)
    });
    let wrong = "wrongWrongWrongWrongWrongWrongWrong00000";
    let config =
        format!("[profile {moved}]\nregion = us-east-1\n[profile plain]\nregion = us-east-1\n");
    let credentials: String = [moved.as_str(), "plain"]
        .iter()
        .map(|p| credentials_section(p, &old.access_key_id, wrong, None))
        .collect();
    let home = Home::new(&config, &credentials);
    succeeded(&home.keyrack(&["vault", "move", &moved]));
    let mut child = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &[
                "replace",
                &moved,
                "--key-id",
                &new.access_key_id,
                "--secret",
                "-",
                "--yes",
            ],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("XDG_STATE_HOME", home.dir.path().join("state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    write!(
        child.stdin.take().unwrap(),
        "{}",
        new.secret_access_key.expose()
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "replace failed:\n{printed}");
    assert!(
        !printed.contains(new.secret_access_key.expose()) && !printed.contains(wrong),
        "a secret was printed"
    );
    assert_eq!(
        keychain.get(&home.account(&moved)).unwrap().credentials,
        new,
        "the keychain entry holds the console key"
    );
    let (_, credentials_after) = home.files();
    assert!(credentials_after.contains(&credentials_section(
        "plain",
        &new.access_key_id,
        new.secret_access_key.expose(),
        None
    )));
    for profile in [moved.as_str(), "plain"] {
        assert!(aws_caller_arn(&home, &moto, profile)
            .unwrap_or_else(|e| panic!("{profile}: {e}"))
            .ends_with(":user/alice"));
    }
    let client = AwsClient::new(ClientSettings::default()).unwrap();
    let keys = runtime
        .block_on(iam::list_access_keys(
            &client,
            &moto.endpoint(Service::Iam),
            &new,
            Some("alice"),
        ))
        .unwrap();
    let ids: Vec<&str> = keys.iter().map(|k| k.access_key_id.as_str()).collect();
    assert_eq!(ids, [new.access_key_id.as_str()], "the lost key is deleted");
    // Neither the kept copy of the new key nor a backup of the wrong secret is left.
    let left = support::files_holding(home.dir.path(), &[new.secret_access_key.expose(), wrong]);
    let left: Vec<_> = left
        .iter()
        .filter(|p| !p.ends_with("credentials"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    keychain.delete(&home.account(&moved)).unwrap();
}
