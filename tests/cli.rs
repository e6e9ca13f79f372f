//! The `keyrack` command line contract: JSON shapes, exit codes, one-line errors, the AWS
//! environment variables, and never a secret in any output.

use keyrack_test_support as support;

use serde_json::Value;
use std::fs;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::home::Home;
use support::read_until;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKENVALUE";

/// keyrack run on a home's files.
trait RunKeyrack {
    fn keyrack(&self, args: &[&str]) -> Output;
    fn keyrack_with_stdin(&self, args: &[&str], input: &str) -> Output;
    fn botocore_secret_is(&self, profile: &str, secret: &str) -> bool;
}

impl RunKeyrack for Home {
    /// Run keyrack with HOME pointing here and no AWS variables from the outside; no secret
    /// may appear in what it prints.
    fn keyrack(&self, args: &[&str]) -> Output {
        let out = self
            .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .output()
            .unwrap();
        assert_no_secret(&out);
        out
    }

    /// Run keyrack with `input` on its standard input.
    fn keyrack_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_no_secret(&out);
        out
    }

    /// Whether botocore reads `secret` as the secret access key of `profile`.
    fn botocore_secret_is(&self, profile: &str, secret: &str) -> bool {
        support::botocore_secret_is(&self.config(), &self.credentials(), profile, secret)
    }
}

/// A secret given to keyrack in the tests below, never to be printed either.
const NEW_SECRET: &str = "NEWsecretEXAMPLEKEYwJalrXUtnFEMI/K7MDENG";

fn assert_no_secret(out: &Output) {
    support::assert_output_has_no_secret(out, &[SECRET, TOKEN, NEW_SECRET]);
}

/// `keyrack profiles --json` as the maps botocore's reading is compared with.
fn reading(out: &Output) -> Value {
    support::reading_of(&json(out))
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "keyrack failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn creds() -> String {
    format!("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}\n")
}

#[test]
fn profiles_json_has_the_documented_members_and_masks_secrets() {
    let home = Home::new("[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = 20\n[sso-session corp]\nsso_region = eu-west-1\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:5000\n", &creds());
    let v = reading(&home.keyrack(&["profiles", "--json"]));
    assert_eq!(v["profiles"]["default"]["region"], "us-east-1");
    assert_eq!(
        v["profiles"]["default"]["s3"]["max_concurrent_requests"],
        "20"
    );
    assert_eq!(
        v["profiles"]["default"]["aws_access_key_id"],
        "AKIAIOSFODNN7EXAMPLE"
    );
    assert_eq!(
        v["profiles"]["default"]["aws_secret_access_key"],
        "********"
    );
    assert_eq!(v["profiles"]["default"]["aws_session_token"], "********");
    assert_eq!(v["sso_sessions"]["corp"]["sso_region"], "eu-west-1");
    assert_eq!(
        v["services"]["local"]["sts"]["endpoint_url"],
        "http://127.0.0.1:5000"
    );
    assert!(v["problems"].as_array().unwrap().is_empty());
    assert!(v["disagreements"].as_array().unwrap().is_empty());
    assert!(v["error"].is_null(), "{v}");
    // The listing the app shows, member for member.
    let listing = json(&home.keyrack(&["profiles", "--json"]));
    assert_eq!(
        support::members(&listing),
        [
            "revision",
            "dialect",
            "config_path",
            "credentials_path",
            "first_run",
            "default_profile",
            "profiles",
            "sso_sessions",
            "services",
            "problems",
            "disagreements",
            "findings",
            "rejection"
        ]
    );
    assert_eq!(
        support::members(&listing["profiles"][0]),
        [
            "name",
            "kind",
            "region",
            "output",
            "access_key_id",
            "is_default",
            "secret_store",
            "settings",
            "key_actions"
        ]
    );
    assert!(listing["rejection"].is_null());
}

#[test]
fn profiles_json_reports_a_rejected_file_with_its_line_but_still_shows_the_rest() {
    let home = Home::new("[profile a]\nregion = us-east-1\n[profile a]\noutput = json\n[profile b]\nregion = eu-west-1\n", "");
    let v = reading(&home.keyrack(&["profiles", "--json"]));
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains(":3:") && error.contains("more than once"),
        "{error}"
    );
    assert_eq!(v["profiles"]["b"]["region"], "eu-west-1");
    assert_eq!(v["problems"][0]["line"], 3);
    assert!(v["problems"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("/.aws/config"));
}

#[test]
fn profiles_as_sdk_reads_the_sdk_way_and_disagreements_carry_lines() {
    let home = Home::new("[default]\nregion = us-east-1 # prod\n", "");
    let cli = reading(&home.keyrack(&["profiles", "--json"]));
    let sdk = reading(&home.keyrack(&["profiles", "--json", "--as", "sdk"]));
    assert_eq!(cli["profiles"]["default"]["region"], "us-east-1 # prod");
    assert_eq!(sdk["profiles"]["default"]["region"], "us-east-1");
    assert_eq!(cli["disagreements"][0]["line"], 2);
    assert!(cli["disagreements"][0]["message"]
        .as_str()
        .unwrap()
        .contains("inline comment"));
}

#[test]
fn the_aws_file_variables_are_honoured_and_flags_win_over_them() {
    let home = Home::new("[profile from-home]\n", "");
    let elsewhere = home.dir.path().join("elsewhere");
    fs::write(&elsewhere, "[profile from-env]\nregion = eu-west-1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .args(["profiles", "--json"])
        .env("HOME", home.dir.path())
        .env("AWS_CONFIG_FILE", &elsewhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", home.dir.path().join("nope"))
        .output()
        .unwrap();
    let v = reading(&out);
    assert!(
        v["profiles"].get("from-env").is_some() && v["profiles"].get("from-home").is_none(),
        "{v}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .args(["set", "from-env", "output", "json"])
        .env("HOME", home.dir.path())
        .env("AWS_CONFIG_FILE", &elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(&elsewhere).unwrap(),
        "[profile from-env]\nregion = eu-west-1\noutput = json\n"
    );
    let flagged = home.keyrack(&[
        "--config",
        elsewhere.to_str().unwrap(),
        "profiles",
        "--json",
    ]);
    assert!(reading(&flagged)["profiles"].get("from-env").is_some());
}

#[test]
fn edits_through_the_cli_change_exactly_the_asked_lines() {
    let home = Home::new(
        "# mine\n[default]\nregion = us-east-1\n\n[profile dev]\noutput = json\n",
        &creds(),
    );
    let run = |args: &[&str]| {
        let out = home.keyrack(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    run(&["set", "dev", "region", "eu-west-1"]);
    run(&["set", "dev", "s3.max_concurrent_requests", "20"]);
    run(&[
        "add",
        "ci",
        "region=us-west-2",
        "aws_access_key_id=AKIAEXAMPLE000000001",
    ]);
    run(&["copy", "dev", "dev2"]);
    run(&["rename", "dev2", "staging"]);
    run(&["unset", "dev", "output"]);
    run(&["delete", "ci", "--yes"]);
    assert_eq!(
        fs::read_to_string(home.config()).unwrap(),
        "# mine\n[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 20\n\n[profile staging]\noutput = json\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 20\n"
    );
    assert_eq!(fs::read_to_string(home.credentials()).unwrap(), creds());
}

#[test]
fn refused_edits_exit_non_zero_with_one_line_and_change_nothing() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    for args in [
        &["set", "default", "region", "a\nb"][..],
        &["set", "bad name", "region", "x"],
        &["set", "default", "re:gion", "x"],
        &["delete", "default"],
        &["delete", "nope", "--yes"],
        &["rename", "default", "x\ny"],
        &["unset", "default", "output"],
        &["add", "new", "novalue"],
    ] {
        let out = home.keyrack(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("keyrack: "), "{err}");
    }
    assert_eq!(
        fs::read_to_string(home.config()).unwrap(),
        "[default]\nregion = us-east-1\n"
    );
    assert_eq!(fs::read_to_string(home.credentials()).unwrap(), creds());
}

#[test]
fn a_secret_on_the_command_line_is_refused_never_repeated_and_changes_nothing() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let pair = format!("aws_secret_access_key={NEW_SECRET}");
    let token = format!("aws_session_token={NEW_SECRET}");
    for (args, way) in [
        (
            &["set", "default", "aws_secret_access_key", NEW_SECRET][..],
            "| keyrack set default aws_secret_access_key -",
        ),
        (
            &["set", "default", "AWS_Session_Token", NEW_SECRET],
            "| keyrack set default aws_session_token -",
        ),
        (
            &["set", "default", "aws_security_token", NEW_SECRET],
            "| keyrack set default aws_security_token -",
        ),
        (
            &["add", "ci", "aws_access_key_id=AKIAIOSFODNN7EXAMPLE", &pair],
            "| keyrack add ci aws_secret_access_key=-",
        ),
        (
            &["add", "ci", &token],
            "| keyrack add ci aws_session_token=-",
        ),
    ] {
        let out = home.keyrack(args);
        assert!(!out.status.success(), "{args:?} should be refused");
        let err = stderr(&out);
        assert!(
            err.contains("not take secrets on the command line") && err.contains(way),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(
        home.files(),
        ("[default]\nregion = us-east-1\n".to_string(), creds())
    );
}

#[test]
fn a_secret_piped_in_with_a_dash_is_written_and_botocore_reads_it() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let out = home.keyrack_with_stdin(
        &["set", "default", "aws_secret_access_key", "-"],
        NEW_SECRET,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(home.botocore_secret_is("default", NEW_SECRET));
    // What `echo` adds is not part of the secret.
    let out = home.keyrack_with_stdin(
        &[
            "add",
            "ci",
            "aws_access_key_id=AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key=-",
            "region=eu-west-1",
        ],
        &format!("{NEW_SECRET}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(home.botocore_secret_is("ci", NEW_SECRET));
    assert!(home.files().1.contains(&format!(
        "[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {NEW_SECRET}\n"
    )));
}

#[test]
fn two_secrets_cannot_both_come_from_stdin_and_an_empty_one_is_refused() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let out = home.keyrack_with_stdin(
        &[
            "add",
            "ci",
            "aws_secret_access_key=-",
            "aws_session_token=-",
        ],
        NEW_SECRET,
    );
    assert!(
        !out.status.success() && stderr(&out).contains("only one secret"),
        "{}",
        stderr(&out)
    );
    let out = home.keyrack_with_stdin(&["set", "default", "aws_secret_access_key", "-"], "\n");
    assert!(
        !out.status.success() && stderr(&out).contains("empty"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        home.files(),
        ("[default]\nregion = us-east-1\n".to_string(), creds())
    );
}

#[test]
fn without_a_terminal_an_omitted_secret_is_asked_to_be_piped_in() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    // setsid: a new session, with no controlling terminal to ask on.
    let bin = env!("CARGO_BIN_EXE_keyrack");
    let out = home
        .command(
            Path::new("setsid"),
            &["-w", bin, "set", "default", "aws_secret_access_key"],
        )
        .output()
        .unwrap();
    assert_no_secret(&out);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("no terminal")
            && err.contains("printf %s \"$SECRET\" | keyrack set default aws_secret_access_key -"),
        "{err}"
    );
    assert_eq!(
        home.files(),
        ("[default]\nregion = us-east-1\n".to_string(), creds())
    );
}

/// `shell` run by `script` on a new pseudo-terminal: what it types goes in through stdin, and
/// everything the terminal shows comes out on stdout.
fn on_a_terminal(home: &Home, shell: &str) -> std::process::Child {
    home.command(Path::new("script"), &["-qefc", shell, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

const PROMPT: &str = "not shown as you type";

#[test]
fn an_omitted_secret_is_asked_for_on_the_terminal_without_echo() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let mut child = on_a_terminal(
        &home,
        &format!(
            "'{}' set default aws_secret_access_key",
            env!("CARGO_BIN_EXE_keyrack")
        ),
    );
    let (mut stdout, mut shown) = (child.stdout.take().unwrap(), Vec::new());
    // Type the secret only once the prompt is up (and echo is off).
    read_until(&mut stdout, &mut shown, PROMPT);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{NEW_SECRET}\n").as_bytes())
        .unwrap();
    stdout.read_to_end(&mut shown).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let shown = String::from_utf8_lossy(&shown);
    assert!(status.success(), "{shown}");
    assert!(
        !shown.contains(NEW_SECRET) && !shown.contains(&NEW_SECRET[..12]),
        "the secret was echoed: {shown}"
    );
    assert!(
        shown.contains("aws_secret_access_key for profile 'default'"),
        "{shown}"
    );
    assert!(home.botocore_secret_is("default", NEW_SECRET));
}

#[test]
fn a_person_typing_a_secret_at_the_prompt_does_not_hold_up_other_writers() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let mut child = on_a_terminal(
        &home,
        &format!(
            "'{}' set default aws_secret_access_key",
            env!("CARGO_BIN_EXE_keyrack")
        ),
    );
    let (mut stdout, mut shown) = (child.stdout.take().unwrap(), Vec::new());
    read_until(&mut stdout, &mut shown, PROMPT);
    // While the person types, another writer (the app, a script) edits the same files.
    let started = std::time::Instant::now();
    let other = home.keyrack(&["set", "other", "region", "eu-west-1"]);
    assert!(
        other.status.success(),
        "the other writer was held up: {}",
        stderr(&other)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "it waited for the person: {:?}",
        started.elapsed()
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{NEW_SECRET}\n").as_bytes())
        .unwrap();
    stdout.read_to_end(&mut shown).unwrap();
    drop(stdin);
    assert!(
        child.wait().unwrap().success(),
        "{}",
        String::from_utf8_lossy(&shown)
    );
    assert!(home.botocore_secret_is("default", NEW_SECRET));
    let v = reading(&home.keyrack(&["profiles", "--json"]));
    assert_eq!(
        v["profiles"]["other"]["region"], "eu-west-1",
        "the other edit is kept: {v}"
    );
}

#[test]
fn ctrl_c_at_the_secret_prompt_leaves_the_terminal_echoing_and_the_files_unchanged() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    // The shell waits for keyrack, then shows the terminal's settings.
    let shell = format!(
        "trap 'echo; stty -a; exit 0' INT; '{}' set default aws_secret_access_key",
        env!("CARGO_BIN_EXE_keyrack")
    );
    let mut child = on_a_terminal(&home, &shell);
    let (mut stdout, mut shown) = (child.stdout.take().unwrap(), Vec::new());
    read_until(&mut stdout, &mut shown, PROMPT);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    read_until(&mut stdout, &mut shown, "speed");
    stdout.read_to_end(&mut shown).unwrap();
    drop(stdin);
    child.wait().unwrap();
    let shown = String::from_utf8_lossy(&shown);
    let after = &shown[shown.find("speed").unwrap()..];
    let flags: Vec<&str> = after.split_whitespace().collect();
    assert!(
        flags.contains(&"echo") && !flags.contains(&"-echo"),
        "echo is off after Ctrl+C: {after}"
    );
    assert_eq!(
        home.files(),
        ("[default]\nregion = us-east-1\n".to_string(), creds())
    );
}

#[test]
fn a_setting_that_is_not_key_value_is_refused_without_repeating_it() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    for args in [
        &["add", "new", NEW_SECRET][..],
        &["add", "new", "region=eu-west-1", SECRET],
    ] {
        let out = home.keyrack(args);
        let err = stderr(&out);
        assert!(
            !out.status.success() && err.contains("is not KEY=VALUE"),
            "{args:?}: {err}"
        );
    }
    // A swapped name and value: the name is refused without being repeated.
    let out = home.keyrack(&[
        "set",
        "default",
        &format!("{NEW_SECRET}="),
        "aws_secret_access_key",
    ]);
    assert!(
        stderr(&out).contains("cannot use the KEY argument as a setting name: it contains '='"),
        "{}",
        stderr(&out)
    );
    let out = home.keyrack(&["set", "default", NEW_SECRET, "aws_secret_access_key"]);
    assert!(
        stderr(&out).contains("the value is the name of a secret setting"),
        "{}",
        stderr(&out)
    );
    let out = home.keyrack(&["add", "new", &format!("{NEW_SECRET}:=x")]);
    assert!(
        stderr(&out).contains("cannot use the KEY of setting 1 as a setting name: it contains ':'"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        home.files(),
        ("[default]\nregion = us-east-1\n".to_string(), creds())
    );
}

#[test]
fn a_command_line_error_does_not_repeat_what_may_be_a_secret() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let flag = format!("--aws-secret-access-key={NEW_SECRET}");
    // (`home.keyrack` checks that no secret is printed.)
    for args in [
        &["set", "default", "region", "eu-west-1", NEW_SECRET][..],
        &["set", "default", "aws_secret_access_key", "-", TOKEN],
        &["add", "ci", &flag],
    ] {
        let out = home.keyrack(args);
        let err = stderr(&out);
        assert!(
            !out.status.success() && err.contains("unexpected argument"),
            "{args:?}: {err}"
        );
    }
    let err = stderr(&home.keyrack(&["set", "default", "region", "eu-west-1", NEW_SECRET]));
    assert!(
        err.contains("unexpected argument '<not shown: it may be a secret>'"),
        "{err}"
    );
    // Arguments that cannot be secrets are still named.
    let err = stderr(&home.keyrack(&["set", "default", "region", "eu-west-1", "extra"]));
    assert!(err.contains("'extra'"), "{err}");
    assert_eq!(
        home.files(),
        ("[default]\nregion = us-east-1\n".to_string(), creds())
    );
}

#[test]
fn check_reports_what_is_wrong_with_file_and_line() {
    let home = Home::new(
        "[profile a]\nregion = us-esat-1\nsource_profile = ghost\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = c\n[profile c]\nrole_arn = arn:aws:iam::123456789012:role/y\nsource_profile = b\n[profile d]\naws_secret_access_key = x\n",
        "[d]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    );
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(home.credentials(), fs::Permissions::from_mode(0o644)).unwrap();
    let out = home.keyrack(&["check", "--json"]);
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let has = |line: Option<u64>, needle: &str| {
        findings
            .iter()
            .any(|f| f["line"].as_u64() == line && f["message"].as_str().unwrap().contains(needle))
    };
    assert!(has(Some(2), "us-esat-1"), "{v:#}");
    assert!(has(Some(3), "no profile 'ghost'"), "{v:#}");
    assert!(has(Some(6), "loop"), "{v:#}");
    assert!(has(Some(2), "PartialCredentialsError"), "{v:#}");
    assert!(has(None, "chmod 600"), "{v:#}");
}

#[test]
fn check_is_quiet_and_succeeds_on_clean_files() {
    let home = Home::new("[default]\nregion = us-east-1\n", "");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(home.credentials(), fs::Permissions::from_mode(0o600)).unwrap();
    let out = home.keyrack(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no problems"));
}

/// A full disk: the save fails with a clear message and the original file is intact.
/// Runs keyrack in a private mount namespace with a tiny tmpfs as its HOME.
#[test]
fn a_full_disk_leaves_the_file_intact_and_says_so() {
    let padding = "# ".to_string() + &"x".repeat(7000) + "\n";
    let original = format!("{padding}[default]\nregion = us-east-1\n");
    let script = "set -e; mount -t tmpfs -o size=12k tmpfs \"$1\"; mkdir \"$1/.aws\"; printf '%s' \"$2\" > \"$1/.aws/config\"; \
         status=0; HOME=\"$1\" \"$3\" set default output json || status=$?; cat \"$1/.aws/config\"; exit $status";
    let mount_point = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", script, "sh"])
        .arg(mount_point.path())
        .arg(&original)
        .arg(env!("CARGO_BIN_EXE_keyrack"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "saving to a full disk must fail: {err}"
    );
    assert!(
        err.contains("No space left on device") && err.contains("left as it was"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        original,
        "the file on the full disk changed"
    );
}

#[test]
fn check_reports_a_backup_holding_a_secret_that_left_the_files_and_clean_removes_it() {
    let kept = "[kept]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\naws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";
    let home = Home::new("", &(creds() + kept));
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(home.credentials(), fs::Permissions::from_mode(0o600)).unwrap();
    let out = home.keyrack(&["delete", "default", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let backup = home.path().join(".aws/credentials.keyrack.bak");
    assert!(
        fs::read_to_string(&backup).unwrap().contains(SECRET),
        "the save keeps the previous version"
    );
    assert!(
        stderr(&out).contains(&format!("warning: {} (keyrack's backup", backup.display()))
            && stderr(&out).contains("keyrack clean"),
        "the edit says where the removed secret still is: {}",
        stderr(&out)
    );

    let out = home.keyrack(&["check"]);
    assert!(
        out.status.success(),
        "a leftover is a warning, not an error: {}",
        stderr(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(&backup.display().to_string()))
        .unwrap_or_else(|| panic!("the backup is not reported:\n{text}"));
    assert!(
        line.contains("warning")
            && line.contains("no longer in the files")
            && line.contains("keyrack clean"),
        "{line}"
    );
    let v = json(&home.keyrack(&["check", "--json"]));
    let finding = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("keyrack clean"))
        .cloned();
    assert_eq!(
        finding.expect("reported in JSON too")["fix"],
        "clean",
        "{v:#}"
    );

    let out = home.keyrack(&["clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("removed {}", backup.display())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!backup.exists());
    assert_eq!(
        fs::read_to_string(home.credentials()).unwrap(),
        kept,
        "the live file is untouched"
    );
    let out = home.keyrack(&["check"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no problems"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = home.keyrack(&["clean"]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("nothing to clean"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Twelve `keyrack set`s started at once on the same files (scripts, the app and a terminal at
/// the same moment): each waits for the file set's lock instead of failing on the others' saves,
/// and every setting arrives.
#[test]
fn concurrent_writers_wait_for_each_other_and_every_edit_arrives() {
    let home = Home::new("[default]\nregion = us-east-1\n", &creds());
    let children: Vec<_> = (0..12)
        .map(|i| {
            let profile = format!("p{i}");
            let mut command = home.command(
                Path::new(env!("CARGO_BIN_EXE_keyrack")),
                &["set", &profile, "region", "eu-west-1"],
            );
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_no_secret(&out);
        assert!(
            out.status.success(),
            "a concurrent set failed: {}",
            stderr(&out)
        );
    }
    let v = reading(&home.keyrack(&["profiles", "--json"]));
    for i in 0..12 {
        assert_eq!(v["profiles"][format!("p{i}")]["region"], "eu-west-1", "{v}");
    }
    assert_eq!(
        v["profiles"]["default"]["aws_access_key_id"],
        "AKIAIOSFODNN7EXAMPLE"
    );
}

#[test]
fn check_lists_incomplete_credentials_and_a_region_the_aws_cli_refuses() {
    let home = Home::new(
        &format!("[profile a]\nregion = us-west-2 # oregon\n[profile b]\naws_secret_access_key = {SECRET}\n[profile c]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"),
        &format!("[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n[c]\naws_secret_access_key = {SECRET}\n"),
    );
    let out = home.keyrack(&["check", "--json"]);
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let error = |file: &str, line: u64, needles: &[&str]| {
        findings.iter().any(|f| {
            f["severity"] == "error"
                && f["path"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/.aws/{file}"))
                && f["line"].as_u64() == Some(line)
                && needles
                    .iter()
                    .all(|n| f["message"].as_str().unwrap().contains(n))
        })
    };
    assert!(
        error(
            "credentials",
            2,
            &["'a'", "aws_access_key_id but no aws_secret_access_key"]
        ),
        "{v:#}"
    );
    assert!(
        error(
            "config",
            4,
            &["'b'", "aws_secret_access_key but no aws_access_key_id"]
        ),
        "{v:#}"
    );
    assert!(
        error(
            "config",
            2,
            &["us-west-2 # oregon", "move '# oregon' to its own line"]
        ),
        "{v:#}"
    );
    // botocore reads static keys from one file: a key id in config with its secret in credentials
    // is PartialCredentialsError too.
    assert!(
        error("config", 6, &["'c'", "PartialCredentialsError"]),
        "{v:#}"
    );
    let text = home.keyrack(&["check"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("aws_access_key_id but no aws_secret_access_key"),
        "{stdout}"
    );
}
