//! Keychain entries belong to one file set: two projects with their own AWS files (a HOME's
//! `~/.aws`, or `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`) and the same profile names
//! never share, overwrite or remove each other's entry; entries from before entries were per file
//! set keep working and are migrated. Against the real throw-away Secret Service (run through
//! `tests/tools/with-keyring.sh`), checked with the lines the files hold and with botocore.

use keyrack_test_support as support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keyrack::aws::Credentials;
use keyrack::files::FilePaths;
use keyrack::keychain::StoredKey;
use support::home::Home;
use support::keyring::{fresh_account, keychain};

const KEY_A: &str = "AKIAAAAAAAAAAAAAAAAA";
const SECRET_A: &str = "secretAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const KEY_A2: &str = "AKIAAAAAAAAAAAAAAAA2";
const SECRET_A2: &str = "secretA2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const KEY_B: &str = "AKIABBBBBBBBBBBBBBBB";
const SECRET_B: &str = "secretBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const KEY_B2: &str = "AKIABBBBBBBBBBBBBBB2";
const SECRET_B2: &str = "secretB2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SECRETS: [&str; 4] = [SECRET_A, SECRET_A2, SECRET_B, SECRET_B2];

/// One project's pair of AWS files: a HOME's `~/.aws`, or files elsewhere named by
/// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` (as direnv sets them).
struct FileSet {
    home: Home,
    /// The files named by the environment variables, when not the HOME's.
    project: Option<(PathBuf, PathBuf)>,
}

impl FileSet {
    fn in_home(config: &str, credentials: &str) -> FileSet {
        FileSet {
            home: Home::new(config, credentials),
            project: None,
        }
    }

    fn in_project(config: &str, credentials: &str) -> FileSet {
        let home = Home::new("", "");
        let dir = home.path().join("project/.aws-files");
        std::fs::create_dir_all(&dir).unwrap();
        let paths = (dir.join("config"), dir.join("credentials"));
        std::fs::write(&paths.0, config).unwrap();
        std::fs::write(&paths.1, credentials).unwrap();
        FileSet {
            home,
            project: Some(paths),
        }
    }

    fn paths(&self) -> FilePaths {
        match &self.project {
            Some((config, credentials)) => FilePaths {
                config: config.clone(),
                credentials: credentials.clone(),
            },
            None => FilePaths {
                config: self.home.config(),
                credentials: self.home.credentials(),
            },
        }
    }

    fn set_id(&self) -> String {
        self.paths().set_id()
    }

    /// `program` run on this file set, as a user of the project would run it.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = self.home.command(program, args);
        if let Some((config, credentials)) = &self.project {
            command
                .env("AWS_CONFIG_FILE", config)
                .env("AWS_SHARED_CREDENTIALS_FILE", credentials);
        }
        command
    }

    /// Run keyrack on these files; no secret may appear in what it prints.
    fn keyrack(&self, args: &[&str]) -> Output {
        let out = self
            .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .output()
            .unwrap();
        assert_no_secret(&out);
        out
    }

    /// Both files as they are now: (config, credentials).
    fn files(&self) -> (String, String) {
        let paths = self.paths();
        (
            std::fs::read_to_string(paths.config).unwrap(),
            std::fs::read_to_string(paths.credentials).unwrap(),
        )
    }

    /// The `credential_process` value of `profile` in the config file.
    fn line(&self, profile: &str) -> String {
        let header = if profile == "default" {
            "[default]".to_string()
        } else {
            format!("[profile {profile}]")
        };
        let config = self.files().0;
        let mut in_section = false;
        for line in config.lines() {
            if line.starts_with('[') {
                in_section = line.trim() == header;
            } else if let Some(value) = line
                .strip_prefix("credential_process = ")
                .filter(|_| in_section)
            {
                return value.to_string();
            }
        }
        panic!("profile '{profile}' has no credential_process:\n{config}");
    }

    /// The key that `profile`'s `credential_process` line gives, run as the SDKs run it
    /// (`sh -c`): (key id, secret).
    fn served_key(&self, profile: &str) -> (String, String) {
        let line = self.line(profile);
        let out = self
            .command(Path::new("sh"), &["-c", &line])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            json["AccessKeyId"].as_str().unwrap().to_string(),
            json["SecretAccessKey"].as_str().unwrap().to_string(),
        )
    }

    /// The key botocore (the AWS CLI's library) resolves for `profile` from these files,
    /// running `credential_process` itself: (key id, secret).
    fn botocore_key(&self, profile: &str) -> (String, String) {
        let script = "import json, sys, botocore.session\n\
                      c = botocore.session.Session(profile=sys.argv[1]).get_credentials().get_frozen_credentials()\n\
                      print(json.dumps([c.access_key, c.secret_key]))";
        let mut command = self.command(&support::venv_bin("python"), &["-c", script, profile]);
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN");
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "botocore failed for profile '{profile}': {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let [id, secret]: [String; 2] = serde_json::from_slice(&out.stdout).unwrap();
        (id, secret)
    }

    /// Asserts that both the line and botocore give `profile` the key (`id`, `secret`). The
    /// messages name key ids only.
    fn assert_serves(&self, profile: &str, id: &str, secret: &str) {
        for (how, (got_id, got_secret)) in [
            ("its credential_process line", self.served_key(profile)),
            ("botocore", self.botocore_key(profile)),
        ] {
            assert_eq!(
                got_id,
                id,
                "{how} gives profile '{profile}' of file set {} another key",
                self.set_id()
            );
            assert!(
                got_secret == secret,
                "{how} gives profile '{profile}' key {id} with another secret"
            );
        }
    }

    /// Removes every entry these files' profiles could have made.
    fn clear_entries(&self, profiles: &[&str]) {
        let keychain = keychain();
        for profile in profiles {
            keychain
                .delete(&format!("{}:{profile}", self.set_id()))
                .unwrap();
        }
    }
}

fn assert_no_secret(out: &Output) {
    support::assert_output_has_no_secret(out, &SECRETS);
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "keyrack failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn section(profile: &str, id: &str, secret: &str) -> String {
    format!("[{profile}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n")
}

/// Two projects, each with a `[default]` and a `[dev]` holding keys of their own.
fn two_projects() -> (FileSet, FileSet) {
    let a = FileSet::in_home(
        "[default]\nregion = eu-west-1\n",
        &(section("default", KEY_A, SECRET_A) + &section("dev", KEY_A2, SECRET_A2)),
    );
    let b = FileSet::in_project(
        "[default]\nregion = us-east-1\n",
        &(section("default", KEY_B, SECRET_B) + &section("dev", KEY_B2, SECRET_B2)),
    );
    assert_ne!(a.set_id(), b.set_id());
    (a, b)
}

#[test]
fn two_file_sets_with_the_same_profile_names_keep_their_own_keychain_entries() {
    let (a, b) = two_projects();
    for set in [&a, &b] {
        succeeded(&set.keyrack(&["vault", "move", "default"]));
        succeeded(&set.keyrack(&["vault", "move", "dev"]));
    }
    assert!(
        !a.files().1.contains(SECRET_A) && !b.files().1.contains(SECRET_B),
        "the secrets left the files"
    );
    a.assert_serves("default", KEY_A, SECRET_A);
    a.assert_serves("dev", KEY_A2, SECRET_A2);
    b.assert_serves("default", KEY_B, SECRET_B);
    b.assert_serves("dev", KEY_B2, SECRET_B2);

    // Restoring B's default puts B's key back in B's files and leaves A's entry alone.
    succeeded(&b.keyrack(&["vault", "restore", "default"]));
    assert!(
        b.files().1.contains(&section("default", KEY_B, SECRET_B)),
        "{}",
        b.files().1
    );
    a.assert_serves("default", KEY_A, SECRET_A);

    // Deleting A's dev removes A's entry only: B's dev still works.
    succeeded(&a.keyrack(&["delete", "dev", "--yes"]));
    b.assert_serves("dev", KEY_B2, SECRET_B2);

    // Renaming and copying in one set neither take nor remove the other's entries.
    succeeded(&b.keyrack(&["rename", "dev", "work"]));
    b.assert_serves("work", KEY_B2, SECRET_B2);
    succeeded(&a.keyrack(&["copy", "default", "dev"]));
    a.assert_serves("dev", KEY_A, SECRET_A);
    succeeded(&a.keyrack(&["rename", "dev", "work"]));
    a.assert_serves("work", KEY_A, SECRET_A);
    a.assert_serves("default", KEY_A, SECRET_A);
    b.assert_serves("work", KEY_B2, SECRET_B2);

    a.clear_entries(&["default", "dev", "work"]);
    b.clear_entries(&["default", "dev", "work"]);
}

#[test]
fn a_move_onto_an_entry_that_holds_another_key_is_refused_and_changes_nothing() {
    let a = FileSet::in_home(
        "[default]\nregion = eu-west-1\n",
        &section("default", KEY_A, SECRET_A),
    );
    succeeded(&a.keyrack(&["vault", "move", "default"]));
    let line = a.line("default");
    // The person puts another key into the files by hand, and drops the keychain line.
    std::fs::write(a.paths().config, "[default]\nregion = eu-west-1\n").unwrap();
    std::fs::write(a.paths().credentials, section("default", KEY_B, SECRET_B)).unwrap();
    let before = a.files();

    let out = a.keyrack(&["vault", "move", "default"]);
    assert!(
        !out.status.success(),
        "the move overwrote the entry: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("will not overwrite")
            && said.contains(KEY_A)
            && said.contains("nothing was changed"),
        "{said}"
    );
    assert_eq!(a.files(), before, "the files are unchanged");
    // The entry still holds the first key: the line the move wrote still gives it.
    std::fs::write(
        a.paths().config,
        format!("[default]\ncredential_process = {line}\n"),
    )
    .unwrap();
    std::fs::write(a.paths().credentials, "").unwrap();
    a.assert_serves("default", KEY_A, SECRET_A);
    a.clear_entries(&["default"]);
}

#[test]
fn vault_list_shows_another_file_sets_entries_as_theirs_not_as_unused() {
    let (a, b) = two_projects();
    succeeded(&a.keyrack(&["vault", "move", "default"]));
    succeeded(&b.keyrack(&["vault", "move", "dev"]));

    let listed: serde_json::Value =
        serde_json::from_str(&succeeded(&a.keyrack(&["vault", "list", "--json"]))).unwrap();
    let names = |key: &str| -> Vec<String> {
        listed[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {listed}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let b_dev = format!("{}:dev", b.set_id());
    assert!(!names("unused_entries").contains(&b_dev), "{listed}");
    assert!(names("other_file_set_entries").contains(&b_dev), "{listed}");
    let text = succeeded(&a.keyrack(&["vault", "list"]));
    let line = text
        .lines()
        .find(|l| l.contains(&b_dev))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("other file sets") && !line.contains("no profile uses"),
        "{text}"
    );

    a.clear_entries(&["default"]);
    b.clear_entries(&["dev"]);
}

#[test]
fn a_legacy_entry_and_its_old_line_keep_working_and_are_migrated_on_first_use() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "legacy");
    keychain
        .store(
            &profile,
            &StoredKey::new(Credentials::new(KEY_A, SECRET_A, None)),
        )
        .unwrap();
    let old_line = format!(
        "{} credential-process --profile {profile}",
        env!("CARGO_BIN_EXE_keyrack")
    );
    // Two projects whose files an older keyrack pointed at the same (legacy) entry.
    let config =
        format!("[profile {profile}]\nregion = eu-west-1\ncredential_process = {old_line}\n");
    let a = FileSet::in_home(&config, "");
    let b = FileSet::in_project(&config, "");
    a.assert_serves(&profile, KEY_A, SECRET_A);

    // The first use migrates A's line to A's own entry; the legacy entry is kept for B.
    let listed: serde_json::Value =
        serde_json::from_str(&succeeded(&a.keyrack(&["vault", "list", "--json"]))).unwrap();
    let new_line = a.line(&profile);
    assert_eq!(new_line, format!("{old_line} --file-set {}", a.set_id()));
    assert_eq!(
        listed["profiles"][0]["account"],
        format!("{}:{profile}", a.set_id()),
        "{listed}"
    );
    assert!(
        listed["legacy_entries"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(profile)),
        "{listed}"
    );
    a.assert_serves(&profile, KEY_A, SECRET_A);
    assert_eq!(b.line(&profile), old_line);
    b.assert_serves(&profile, KEY_A, SECRET_A);

    // Restoring in B puts the key in B's files and keeps the legacy entry (another set may use it).
    succeeded(&b.keyrack(&["vault", "restore", &profile]));
    assert!(b.files().1.contains(SECRET_A));
    assert!(
        keychain.find(&profile).unwrap().is_some(),
        "the legacy entry was kept"
    );
    // Once no file set needs it, it can be removed; A has its own entry by now.
    succeeded(&b.keyrack(&["vault", "forget", &profile]));
    assert_eq!(keychain.find(&profile).unwrap(), None);
    a.assert_serves(&profile, KEY_A, SECRET_A);
    a.clear_entries(&[&profile]);
}

#[test]
fn credential_process_for_a_missing_entry_names_the_profile_and_its_file_set_in_one_line() {
    let a = FileSet::in_home("", "");
    let set = a.set_id();
    let out = a.keyrack(&[
        "credential-process",
        "--profile",
        "nobody-here",
        "--file-set",
        &set,
    ]);
    assert!(!out.status.success() && out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no entry for profile 'nobody-here' of file set {set}"
        )),
        "{stderr}"
    );
    let out = a.keyrack(&[
        "credential-process",
        "--profile",
        "dev",
        "--file-set",
        "not-an-id",
    ]);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a file set id"));
}
