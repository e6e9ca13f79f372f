//! The `keyrack` command line contract: JSON shapes, exit codes, one-line errors, the AWS
//! environment variables, and never a secret in any output.

mod support;

use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use support::home::Home;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKENVALUE";

/// keyrack run on a home's files.
impl Home {
    /// Run keyrack with HOME pointing here and no AWS variables from the outside; no secret
    /// may appear in what it prints.
    fn keyrack(&self, args: &[&str]) -> Output {
        let out = self.command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args).output().unwrap();
        assert_no_secret(&out);
        out
    }
}

fn assert_no_secret(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(SECRET) && !text.contains(TOKEN), "a secret was printed:\n{text}");
    }
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "keyrack failed: {}", String::from_utf8_lossy(&out.stderr));
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
    let v = json(&home.keyrack(&["profiles", "--json"]));
    assert_eq!(v["profiles"]["default"]["region"], "us-east-1");
    assert_eq!(v["profiles"]["default"]["s3"]["max_concurrent_requests"], "20");
    assert_eq!(v["profiles"]["default"]["aws_access_key_id"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(v["profiles"]["default"]["aws_secret_access_key"], "********");
    assert_eq!(v["profiles"]["default"]["aws_session_token"], "********");
    assert_eq!(v["sso_sessions"]["corp"]["sso_region"], "eu-west-1");
    assert_eq!(v["services"]["local"]["sts"]["endpoint_url"], "http://127.0.0.1:5000");
    assert!(v["problems"].as_array().unwrap().is_empty());
    assert!(v["disagreements"].as_array().unwrap().is_empty());
    assert!(v.get("error").is_none(), "{v}");
}

#[test]
fn profiles_json_reports_a_rejected_file_with_its_line_but_still_shows_the_rest() {
    let home = Home::new("[profile a]\nregion = us-east-1\n[profile a]\noutput = json\n[profile b]\nregion = eu-west-1\n", "");
    let v = json(&home.keyrack(&["profiles", "--json"]));
    let error = v["error"].as_str().unwrap();
    assert!(error.contains(":3:") && error.contains("more than once"), "{error}");
    assert_eq!(v["profiles"]["b"]["region"], "eu-west-1");
    assert_eq!(v["problems"][0]["line"], 3);
    assert!(v["problems"][0]["file"].as_str().unwrap().ends_with("/.aws/config"));
}

#[test]
fn profiles_as_sdk_reads_the_sdk_way_and_disagreements_carry_lines() {
    let home = Home::new("[default]\nregion = us-east-1 # prod\n", "");
    let cli = json(&home.keyrack(&["profiles", "--json"]));
    let sdk = json(&home.keyrack(&["profiles", "--json", "--as", "sdk"]));
    assert_eq!(cli["profiles"]["default"]["region"], "us-east-1 # prod");
    assert_eq!(sdk["profiles"]["default"]["region"], "us-east-1");
    assert_eq!(cli["disagreements"][0]["line"], 2);
    assert!(cli["disagreements"][0]["message"].as_str().unwrap().contains("inline comment"));
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
    let v = json(&out);
    assert!(v["profiles"].get("from-env").is_some() && v["profiles"].get("from-home").is_none(), "{v}");
    let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .args(["set", "from-env", "output", "json"])
        .env("HOME", home.dir.path())
        .env("AWS_CONFIG_FILE", &elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "[profile from-env]\nregion = eu-west-1\noutput = json\n");
    let flagged = home.keyrack(&["--config", elsewhere.to_str().unwrap(), "profiles", "--json"]);
    assert!(json(&flagged)["profiles"].get("from-env").is_some());
}

#[test]
fn edits_through_the_cli_change_exactly_the_asked_lines() {
    let home = Home::new("# mine\n[default]\nregion = us-east-1\n\n[profile dev]\noutput = json\n", &creds());
    let run = |args: &[&str]| {
        let out = home.keyrack(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    run(&["set", "dev", "region", "eu-west-1"]);
    run(&["set", "dev", "s3.max_concurrent_requests", "20"]);
    run(&["add", "ci", "region=us-west-2", "aws_access_key_id=AKIAEXAMPLE000000001"]);
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
    assert_eq!(fs::read_to_string(home.config()).unwrap(), "[default]\nregion = us-east-1\n");
    assert_eq!(fs::read_to_string(home.credentials()).unwrap(), creds());
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
        findings.iter().any(|f| f["line"].as_u64() == line && f["message"].as_str().unwrap().contains(needle))
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
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
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
    assert!(!out.status.success(), "saving to a full disk must fail: {err}");
    assert!(err.contains("No space left on device") && err.contains("left as it was"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), original, "the file on the full disk changed");
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
            f["severity"] == "error" && f["file"].as_str().unwrap().ends_with(&format!("/.aws/{file}")) && f["line"].as_u64() == Some(line)
                && needles.iter().all(|n| f["message"].as_str().unwrap().contains(n))
        })
    };
    assert!(error("credentials", 2, &["'a'", "aws_access_key_id but no aws_secret_access_key"]), "{v:#}");
    assert!(error("config", 4, &["'b'", "aws_secret_access_key but no aws_access_key_id"]), "{v:#}");
    assert!(error("config", 2, &["us-west-2 # oregon", "move '# oregon' to its own line"]), "{v:#}");
    // botocore reads static keys from one file: a key id in config with its secret in credentials
    // is PartialCredentialsError too.
    assert!(error("config", 6, &["'c'", "PartialCredentialsError"]), "{v:#}");
    let text = home.keyrack(&["check"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("aws_access_key_id but no aws_secret_access_key"), "{stdout}");
}
