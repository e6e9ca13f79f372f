//! The keychain store and the vault engine against a real Secret Service (gnome-keyring on a
//! private D-Bus session: run through `tests/tools/with-keyring.sh`). Entries are stored, read,
//! replaced and removed for real; every failure of a save is injected to check that a working
//! profile is left behind.

use keyrack_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use keyrack::aws::Credentials;
use keyrack::files::{AwsFiles, Dialect, FilePaths};
use keyrack::keychain::places::SecretStore;
use keyrack::keychain::vault::{self, VaultError};
use keyrack::keychain::{KeychainError, StoredKey, SERVICE};
use keyrack::secret::Secret;
use support::keyring::{fresh_account, keychain};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKENVALUE";
const PROGRAM: &str = "/opt/keyrack/bin/keyrack";

fn key(id: &str, secret: &str, token: Option<&str>) -> StoredKey {
    StoredKey::new(Credentials::new(id, secret, token.map(Secret::new)))
}

/// Two AWS files in a temporary folder.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(config: &str, credentials: &str) -> Files {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("config"), config).unwrap();
        fs::write(dir.path().join("credentials"), credentials).unwrap();
        Files { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn credentials(&self) -> PathBuf {
        self.dir.path().join("credentials")
    }

    fn load(&self) -> AwsFiles {
        AwsFiles::load(&FilePaths {
            config: self.config(),
            credentials: self.credentials(),
        })
        .unwrap()
    }

    fn read(&self, path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn store_of(&self, profile: &str) -> SecretStore {
        keyrack::keychain::places::secret_store(&self.load().read(Dialect::Cli).profiles[profile])
    }

    /// The id of this file set.
    fn set_id(&self) -> String {
        keyrack::keychain::places::file_set(&self.load())
    }

    /// The account of `profile`'s entry in this file set.
    fn account(&self, profile: &str) -> String {
        keyrack::keychain::places::entry_account(&self.load(), profile)
    }

    /// The `credential_process` line keyrack writes for `profile`'s entry of this file set.
    fn line(&self, profile: &str) -> String {
        format!(
            "credential_process = {PROGRAM} credential-process --profile {profile} --file-set {}\n",
            self.set_id()
        )
    }
}

fn credentials_section(profile: &str, token: Option<&str>) -> String {
    let mut text =
        format!("[{profile}]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n");
    if let Some(token) = token {
        text.push_str(&format!("aws_session_token = {token}\n"));
    }
    text
}

#[test]
fn a_stored_key_reads_back_the_same_with_token_and_expiration() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "roundtrip");
    let stored = StoredKey {
        expiration: Some("2030-01-01T00:00:00Z".into()),
        ..key("ASIAEXAMPLE", SECRET, Some(TOKEN))
    };
    keychain.store(&account, &stored).unwrap();
    assert_eq!(keychain.get(&account).unwrap(), stored);
    keychain.delete(&account).unwrap();
}

#[test]
fn storing_again_replaces_the_entry_instead_of_adding_one() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "replace");
    keychain
        .store(&account, &key(KEY_ID, SECRET, None))
        .unwrap();
    let newer = key("AKIANEWKEYEXAMPLE000", "newsecret", None);
    keychain.store(&account, &newer).unwrap();
    assert_eq!(keychain.get(&account).unwrap(), newer);
    let accounts = keychain
        .accounts()
        .unwrap()
        .expect("the Secret Service can be searched");
    assert_eq!(accounts.iter().filter(|a| **a == account).count(), 1);
    keychain.delete(&account).unwrap();
}

#[test]
fn a_missing_entry_is_no_entry_and_deleting_it_reports_there_was_none() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "missing");
    assert_eq!(
        keychain.get(&account).unwrap_err(),
        KeychainError::NoEntry {
            account: account.clone()
        }
    );
    assert_eq!(keychain.find(&account).unwrap(), None);
    assert!(!keychain.delete(&account).unwrap());
    keychain
        .store(&account, &key(KEY_ID, SECRET, None))
        .unwrap();
    assert!(keychain.delete(&account).unwrap());
    assert_eq!(keychain.find(&account).unwrap(), None);
}

#[test]
fn entries_are_service_keyrack_account_profile_and_visible_to_secret_tool() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "secret-tool");
    keychain
        .store(&account, &key(KEY_ID, SECRET, None))
        .unwrap();
    let out = Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", &account])
        .output()
        .expect("run secret-tool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let payload: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(payload["aws_access_key_id"], KEY_ID);
    assert_eq!(payload["aws_secret_access_key"], SECRET);
    assert!(keychain.accounts().unwrap().unwrap().contains(&account));
    keychain.delete(&account).unwrap();
}

#[test]
fn an_entry_keyrack_did_not_write_is_unreadable_without_showing_its_contents() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "foreign");
    let mut child = Command::new("secret-tool")
        .args([
            "store",
            "--label",
            "not keyrack's",
            "service",
            SERVICE,
            "username",
            &account,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SECRET.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let error = keychain.get(&account).unwrap_err();
    assert_eq!(
        error,
        KeychainError::Unreadable {
            account: account.clone()
        }
    );
    assert!(!format!("{error} {error:?}").contains(SECRET));
    keychain.delete(&account).unwrap();
}

#[test]
fn move_puts_key_id_secret_and_token_in_the_keychain_and_none_in_the_files() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-token");
    let files = Files::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &credentials_section(&profile, Some(TOKEN)),
    );
    let mut loaded = files.load();
    let outcome =
        vault::move_to_keychain(&mut loaded, &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(outcome.saved.len(), 2);
    let account = files.account(&profile);
    assert_eq!(account, format!("{}:{profile}", files.set_id()));
    assert_eq!(
        keychain.get(&account).unwrap(),
        key(KEY_ID, SECRET, Some(TOKEN))
    );
    let credentials = files.read(&files.credentials());
    assert!(
        !credentials.contains(SECRET)
            && !credentials.contains(TOKEN)
            && !credentials.contains(KEY_ID),
        "{credentials}"
    );
    assert_eq!(
        files.read(&files.config()),
        format!(
            "[profile {profile}]\nregion = eu-west-1\n{}",
            files.line(&profile)
        )
    );
    assert_eq!(
        files.store_of(&profile),
        SecretStore::Keychain {
            account: account.clone()
        }
    );
    assert_eq!(
        keychain.find(&profile).unwrap(),
        None,
        "no entry under the bare profile name"
    );
    keychain.delete(&account).unwrap();
}

#[test]
fn move_takes_keys_from_the_config_file_too() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-from-config");
    let files = Files::new(
        &format!(
            "[profile {profile}]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
        ),
        "",
    );
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(
        keychain.get(&files.account(&profile)).unwrap(),
        key(KEY_ID, SECRET, None)
    );
    assert!(!files.read(&files.config()).contains(SECRET));
    keychain.delete(&files.account(&profile)).unwrap();
}

#[test]
fn move_refuses_a_profile_whose_keys_cannot_leave_the_files_and_stores_nothing() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-default-section");
    // Keys inherited from [DEFAULT] apply to every section: keyrack will not edit them.
    let credentials = format!("[DEFAULT]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n[{profile}]\nregion = x\n");
    let files = Files::new("", &credentials);
    let error = vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM))
        .unwrap_err();
    assert!(matches!(error, VaultError::Edit(_)), "{error}");
    assert_eq!(keychain.find(&files.account(&profile)).unwrap(), None);
    assert_eq!(files.read(&files.credentials()), credentials);
}

#[test]
fn move_refuses_role_sso_and_settings_only_profiles() {
    let keychain = keychain();
    let config = "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n\
                  [profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_start_url = https://x\nsso_region = us-east-1\n\
                  [profile plain]\nregion = eu-west-1\n";
    let files = Files::new(config, &credentials_section("base", None));
    for profile in ["role", "sso", "plain"] {
        let error =
            vault::move_to_keychain(&mut files.load(), &keychain, profile, Path::new(PROGRAM))
                .unwrap_err();
        assert!(
            matches!(error, VaultError::NothingToMove { .. }),
            "{profile}: {error}"
        );
    }
    assert_eq!(files.read(&files.config()), config);
}

#[test]
fn a_failed_config_save_during_move_leaves_the_files_unchanged_and_a_rerun_finishes() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-config-fails");
    let files = Files::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &credentials_section(&profile, None),
    );
    let mut loaded = files.load();
    // Another program changes the config file: keyrack must not overwrite it.
    fs::write(
        files.config(),
        format!("[profile {profile}]\nregion = eu-west-2\n"),
    )
    .unwrap();
    let error =
        vault::move_to_keychain(&mut loaded, &keychain, &profile, Path::new(PROGRAM)).unwrap_err();
    assert!(matches!(error, VaultError::Save { .. }), "{error}");
    assert!(
        error.to_string().contains("the files were not changed"),
        "{error}"
    );
    assert_eq!(
        files.read(&files.credentials()),
        credentials_section(&profile, None)
    );
    assert_eq!(files.store_of(&profile), SecretStore::File);
    // The entry written before the save stays; it is a copy of the key in the files.
    assert_eq!(
        keychain.get(&files.account(&profile)).unwrap(),
        key(KEY_ID, SECRET, None)
    );

    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(
        files.store_of(&profile),
        SecretStore::Keychain {
            account: files.account(&profile)
        }
    );
    assert!(files.read(&files.config()).contains("region = eu-west-2"));
    keychain.delete(&files.account(&profile)).unwrap();
}

#[test]
fn a_failed_credentials_save_during_move_keeps_the_key_in_both_places_and_a_rerun_finishes() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-credentials-fails");
    let files = Files::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &credentials_section(&profile, None),
    );
    let mut loaded = files.load();
    let changed = format!(
        "# touched by another program\n{}",
        credentials_section(&profile, None)
    );
    fs::write(files.credentials(), &changed).unwrap();
    let error =
        vault::move_to_keychain(&mut loaded, &keychain, &profile, Path::new(PROGRAM)).unwrap_err();
    assert!(error.to_string().contains("works either way"), "{error}");
    // The config file has credential_process, the credentials file still has the key, and the
    // keychain holds the same key: the AWS tools get the right key whichever they pick.
    assert_eq!(files.read(&files.credentials()), changed);
    assert!(files.read(&files.config()).contains("credential_process"));
    assert_eq!(
        keychain.get(&files.account(&profile)).unwrap(),
        key(KEY_ID, SECRET, None)
    );

    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(
        files.read(&files.credentials()),
        format!("# touched by another program\n[{profile}]\n")
    );
    keychain.delete(&files.account(&profile)).unwrap();
}

#[test]
fn a_rerun_move_never_overwrites_a_different_key_in_the_keychain() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-two-keys");
    let files = Files::new("", &credentials_section(&profile, None));
    let config = format!("[profile {profile}]\n{}", files.line(&profile));
    fs::write(files.config(), &config).unwrap();
    let other = key("AKIAOTHERKEYEXAMPLE0", "other-secret", None);
    keychain.store(&files.account(&profile), &other).unwrap();
    let error = vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM))
        .unwrap_err();
    assert!(matches!(error, VaultError::TwoKeys { .. }), "{error}");
    assert_eq!(keychain.get(&files.account(&profile)).unwrap(), other);
    assert_eq!(
        files.read(&files.credentials()),
        credentials_section(&profile, None)
    );
    assert_eq!(files.read(&files.config()), config);
    keychain.delete(&files.account(&profile)).unwrap();
}

#[test]
fn a_rerun_of_an_older_keyracks_interrupted_move_takes_the_key_in_the_files_to_its_own_entry() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-legacy-rerun");
    // An older keyrack saved the config file (legacy line) but not the credentials file; the
    // legacy entry now holds another key (another file set moved a profile of that name).
    let config = format!("[profile {profile}]\ncredential_process = {PROGRAM} credential-process --profile {profile}\n");
    let files = Files::new(&config, &credentials_section(&profile, None));
    let other = key("AKIAOTHERKEYEXAMPLE0", "other-secret", None);
    keychain.store(&profile, &other).unwrap();
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(
        keychain.get(&files.account(&profile)).unwrap(),
        key(KEY_ID, SECRET, None),
        "the key of these files"
    );
    assert_eq!(
        keychain.get(&profile).unwrap(),
        other,
        "the legacy entry is left to whoever uses it"
    );
    assert_eq!(
        files.read(&files.config()),
        format!("[profile {profile}]\n{}", files.line(&profile))
    );
    keychain.delete(&profile).unwrap();
    keychain.delete(&files.account(&profile)).unwrap();
}

#[test]
fn a_move_onto_an_entry_of_these_files_that_holds_another_key_is_refused() {
    let keychain = keychain();
    let files = Files::new("", &credentials_section("dev", None));
    let other = key("AKIAOTHERKEYEXAMPLE0", "other-secret", None);
    keychain.store(&files.account("dev"), &other).unwrap();
    let error = vault::move_to_keychain(&mut files.load(), &keychain, "dev", Path::new(PROGRAM))
        .unwrap_err();
    assert!(
        matches!(error, VaultError::EntryHoldsAnotherKey { .. }),
        "{error}"
    );
    let said = error.to_string();
    assert!(
        said.contains("AKIAOTHERKEYEXAMPLE0")
            && said.contains(KEY_ID)
            && said.contains("nothing was changed"),
        "{said}"
    );
    assert!(!said.contains("other-secret") && !said.contains(SECRET));
    assert_eq!(keychain.get(&files.account("dev")).unwrap(), other);
    assert_eq!(
        files.read(&files.credentials()),
        credentials_section("dev", None)
    );
    assert_eq!(files.read(&files.config()), "");
    keychain.delete(&files.account("dev")).unwrap();
}

#[test]
fn a_moved_entry_is_labelled_with_the_config_file_it_belongs_to() {
    let keychain = keychain();
    let files = Files::new("", &credentials_section("dev", None));
    vault::move_to_keychain(&mut files.load(), &keychain, "dev", Path::new(PROGRAM)).unwrap();
    let out = Command::new("secret-tool")
        .args([
            "search",
            "service",
            SERVICE,
            "username",
            &files.account("dev"),
        ])
        .output()
        .expect("run secret-tool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // secret-tool prints the secret too: only the label line is looked at, or shown.
    let printed =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let label = printed
        .lines()
        .find(|l| l.starts_with("label = "))
        .unwrap_or("no label")
        .to_string();
    assert_eq!(
        label,
        format!(
            "label = AWS access key of profile dev in {} (keyrack)",
            files.config().display()
        )
    );
    keychain.delete(&files.account("dev")).unwrap();
}

#[test]
fn restore_writes_the_key_back_removes_credential_process_then_the_entry() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore");
    let files = Files::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &credentials_section(&profile, Some(TOKEN)),
    );
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    let outcome = vault::restore_from_keychain(&mut files.load(), &keychain, &profile).unwrap();
    assert_eq!(outcome.removed_entry, Some(files.account(&profile)));
    assert_eq!(
        files.read(&files.config()),
        format!("[profile {profile}]\nregion = eu-west-1\n")
    );
    assert_eq!(
        files.read(&files.credentials()),
        credentials_section(&profile, Some(TOKEN))
    );
    assert_eq!(keychain.find(&files.account(&profile)).unwrap(), None);
}

#[test]
fn a_failed_config_save_during_restore_keeps_the_entry_and_a_rerun_finishes() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore-config-fails");
    let files = Files::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &credentials_section(&profile, None),
    );
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    let mut loaded = files.load();
    let config = files.read(&files.config()) + "# touched\n";
    fs::write(files.config(), &config).unwrap();
    let error = vault::restore_from_keychain(&mut loaded, &keychain, &profile).unwrap_err();
    assert!(error.to_string().contains("works either way"), "{error}");
    // Key in the credentials file, credential_process still in config, entry still there.
    assert_eq!(
        files.read(&files.credentials()),
        credentials_section(&profile, None)
    );
    assert_eq!(files.read(&files.config()), config);
    assert!(keychain.find(&files.account(&profile)).unwrap().is_some());

    vault::restore_from_keychain(&mut files.load(), &keychain, &profile).unwrap();
    assert!(!files.read(&files.config()).contains("credential_process"));
    assert_eq!(keychain.find(&files.account(&profile)).unwrap(), None);
}

#[test]
fn a_failed_credentials_save_during_restore_changes_nothing() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore-credentials-fails");
    let files = Files::new(
        &format!("[profile {profile}]\nregion = eu-west-1\n"),
        &credentials_section(&profile, None),
    );
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    let config = files.read(&files.config());
    let mut loaded = files.load();
    fs::write(files.credentials(), "# touched\n").unwrap();
    let error = vault::restore_from_keychain(&mut loaded, &keychain, &profile).unwrap_err();
    assert!(
        error.to_string().contains("The files were not changed"),
        "{error}"
    );
    assert_eq!(files.read(&files.config()), config);
    assert_eq!(files.read(&files.credentials()), "# touched\n");
    assert_eq!(
        keychain.get(&files.account(&profile)).unwrap(),
        key(KEY_ID, SECRET, None)
    );
    keychain.delete(&files.account(&profile)).unwrap();
}

#[test]
fn restore_without_an_entry_fails_and_changes_nothing() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore-no-entry");
    let config = format!("[profile {profile}]\ncredential_process = {PROGRAM} credential-process --profile {profile}\n");
    let files = Files::new(&config, "");
    let error = vault::restore_from_keychain(&mut files.load(), &keychain, &profile).unwrap_err();
    assert!(
        matches!(
            error,
            VaultError::Keychain {
                error: KeychainError::NoEntry { .. }
            }
        ),
        "{error}"
    );
    assert_eq!(files.read(&files.config()), config);
}

#[test]
fn rename_moves_the_entry_and_points_credential_process_at_it() {
    let keychain = keychain();
    let old = fresh_account(&keychain, "rename-old");
    let new = fresh_account(&keychain, "rename-new");
    let files = Files::new(
        &format!("[profile {old}]\nregion = eu-west-1\n"),
        &credentials_section(&old, None),
    );
    vault::move_to_keychain(&mut files.load(), &keychain, &old, Path::new(PROGRAM)).unwrap();
    let outcome = vault::rename(&mut files.load(), &keychain, &old, &new).unwrap();
    assert_eq!(outcome.removed_entry, Some(files.account(&old)));
    assert_eq!(
        files.store_of(&new),
        SecretStore::Keychain {
            account: files.account(&new)
        }
    );
    assert_eq!(
        keychain.get(&files.account(&new)).unwrap(),
        key(KEY_ID, SECRET, None)
    );
    assert_eq!(keychain.find(&files.account(&old)).unwrap(), None);
    keychain.delete(&files.account(&new)).unwrap();
}

#[test]
fn copy_gives_the_copy_its_own_entry_and_delete_removes_only_its_own() {
    let keychain = keychain();
    let source = fresh_account(&keychain, "copy-source");
    let copy = fresh_account(&keychain, "copy-copy");
    let files = Files::new(
        &format!("[profile {source}]\nregion = eu-west-1\n"),
        &credentials_section(&source, None),
    );
    vault::move_to_keychain(&mut files.load(), &keychain, &source, Path::new(PROGRAM)).unwrap();
    vault::copy(&mut files.load(), &keychain, &source, &copy).unwrap();
    assert_eq!(
        files.store_of(&copy),
        SecretStore::Keychain {
            account: files.account(&copy)
        }
    );
    assert_eq!(
        keychain.get(&files.account(&copy)).unwrap(),
        keychain.get(&files.account(&source)).unwrap()
    );

    let outcome = vault::delete(&mut files.load(), &keychain, &copy).unwrap();
    assert_eq!(outcome.removed_entry, Some(files.account(&copy)));
    assert!(!files.load().read(Dialect::Cli).profiles.contains_key(&copy));
    assert_eq!(keychain.find(&files.account(&copy)).unwrap(), None);
    assert!(keychain.find(&files.account(&source)).unwrap().is_some());
    keychain.delete(&files.account(&source)).unwrap();
}

#[test]
fn an_entry_another_profile_still_uses_is_not_removed() {
    let keychain = keychain();
    let files = Files::new("", "");
    let line = files.line("shared");
    fs::write(
        files.config(),
        format!("[profile shared]\n{line}[profile alias]\n{line}"),
    )
    .unwrap();
    keychain
        .store(&files.account("shared"), &key(KEY_ID, SECRET, None))
        .unwrap();
    let outcome = vault::delete(&mut files.load(), &keychain, "alias").unwrap();
    assert_eq!(outcome.removed_entry, None);
    assert!(keychain.find(&files.account("shared")).unwrap().is_some());
    keychain.delete(&files.account("shared")).unwrap();
}

#[test]
fn list_tells_file_keychain_elsewhere_none_missing_entries_and_whose_the_unused_entries_are() {
    let keychain = keychain();
    let files = Files::new("", &credentials_section("plain", None));
    let (moved, unused) = (files.account("moved"), files.account("gone"));
    let legacy = fresh_account(&keychain, "list-legacy");
    let other_set = keyrack::keychain::account("ffffffffffff", "list-other");
    for account in [&moved, &unused, &legacy, &other_set] {
        keychain.store(account, &key(KEY_ID, SECRET, None)).unwrap();
    }
    let config = format!(
        "[profile moved]\n{}[profile lost]\n{}\
         [profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = plain\n[profile bare]\nregion = x\n",
        files.line("moved"),
        files.line("lost")
    );
    fs::write(files.config(), config).unwrap();
    let listing = keyrack::keychain::places::list(&files.load(), Some(&keychain)).unwrap();
    let found: Vec<(&str, &str, Option<bool>)> = listing
        .profiles
        .iter()
        .map(|p| (p.profile.as_str(), p.store.name(), p.entry_found))
        .collect();
    assert_eq!(
        found,
        [
            ("moved", "keychain", Some(true)),
            ("lost", "keychain", Some(false)),
            ("role", "elsewhere", None),
            ("bare", "none", None),
            ("plain", "file", None)
        ]
    );
    assert!(listing.unused_entries.contains(&unused) && !listing.unused_entries.contains(&moved));
    assert!(
        listing
            .unused_entries
            .iter()
            .all(|a| a.starts_with(&files.set_id())),
        "only entries of these files are unused: {listing:?}"
    );
    assert!(listing.legacy_entries.contains(&legacy) && !listing.unused_entries.contains(&legacy));
    assert!(
        listing.other_file_set_entries.contains(&other_set)
            && !listing.unused_entries.contains(&other_set)
    );
    for account in [&moved, &unused, &legacy, &other_set] {
        keychain.delete(account).unwrap();
    }
}

#[test]
fn keychain_holders_of_a_key_are_found_and_a_rotated_key_replaces_it_in_every_entry() {
    // Its own keychain: a rotation also writes every other entry that holds the key, so in the
    // shared test keyring it would write (and race) the entries of the tests running beside it.
    let keychain = keyrack::keychain::Keychain::in_memory();
    let first = fresh_account(&keychain, "rotate-first");
    let second = fresh_account(&keychain, "rotate-second");
    let other = fresh_account(&keychain, "rotate-other");
    keychain.store(&first, &key(KEY_ID, SECRET, None)).unwrap();
    keychain.store(&second, &key(KEY_ID, SECRET, None)).unwrap();
    keychain
        .store(&other, &key("AKIAOTHERKEYEXAMPLE0", "x", None))
        .unwrap();
    let line = |account: &str| {
        format!("credential_process = {PROGRAM} credential-process --profile {account}\n")
    };
    let config = format!(
        "[profile a]\n{}[profile b]\n{}[profile alias]\n{}[profile c]\n{}",
        line(&first),
        line(&second),
        line(&first),
        line(&other)
    );
    let files = Files::new(&config, "");
    let holders =
        keyrack::rotation::holders::keychain_holders(&files.load(), &keychain, KEY_ID).unwrap();
    let found: Vec<(&str, &str, usize)> = holders
        .iter()
        .map(|h| (h.profile.as_str(), h.account.as_str(), h.origin.line))
        .collect();
    assert_eq!(
        found,
        [
            ("a", first.as_str(), 2),
            ("b", second.as_str(), 4),
            ("alias", first.as_str(), 6)
        ]
    );
    assert_eq!(
        keyrack::rotation::holders::keychain_credentials(&files.load(), &keychain, KEY_ID),
        Some(Credentials::new(KEY_ID, SECRET, None))
    );
    assert_eq!(
        keyrack::rotation::holders::read_keychain_profiles(&files.load(), &keychain),
        Ok(())
    );

    let new = Credentials::new("AKIANEWROTATEDKEY000", "new-secret", None);
    let written =
        keyrack::rotation::holders::replace_key_in_keychain(&files.load(), &keychain, KEY_ID, &new)
            .unwrap();
    assert_eq!(
        written.len(),
        3,
        "every profile holding the key, each entry written once"
    );
    assert_eq!(keychain.get(&first).unwrap(), StoredKey::new(new.clone()));
    assert_eq!(keychain.get(&second).unwrap(), StoredKey::new(new.clone()));
    assert_eq!(
        keychain.get(&other).unwrap().credentials.access_key_id,
        "AKIAOTHERKEYEXAMPLE0"
    );
    assert!(
        keyrack::rotation::holders::keychain_holders(&files.load(), &keychain, KEY_ID)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        keyrack::rotation::holders::keychain_holders_or_all(
            &files.load(),
            &keychain,
            "AKIANEWROTATEDKEY000"
        )
        .len(),
        3
    );
    for account in [first, second, other] {
        keychain.delete(&account).unwrap();
    }
}

#[test]
fn a_profile_whose_line_names_another_file_sets_entry_reads_it_but_never_removes_it() {
    let keychain = keychain();
    // A config file copied from another project: its line names that project's entry.
    let theirs = keyrack::keychain::account("ffffffffffff", "copied-from-elsewhere");
    keychain.store(&theirs, &key(KEY_ID, SECRET, None)).unwrap();
    let line = format!("credential_process = {PROGRAM} credential-process --profile copied-from-elsewhere --file-set ffffffffffff\n");
    let files = Files::new(&format!("[profile dev]\n{line}[profile ops]\n{line}"), "");
    assert_eq!(
        files.store_of("dev"),
        SecretStore::Keychain {
            account: theirs.clone()
        }
    );

    let restored = vault::restore_from_keychain(&mut files.load(), &keychain, "dev").unwrap();
    assert!(
        files.read(&files.credentials()).contains(SECRET),
        "the key was read from their entry"
    );
    let outcome = vault::delete(&mut files.load(), &keychain, "ops").unwrap();
    assert_eq!(
        (restored.removed_entry, outcome.removed_entry),
        (None, None)
    );
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("belongs to another file set")),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(
        keychain.get(&theirs).unwrap(),
        key(KEY_ID, SECRET, None),
        "their entry is intact"
    );
    let error = vault::forget_entry(&files.load(), &keychain, &theirs).unwrap_err();
    assert!(
        matches!(error, VaultError::EntryOfAnotherFileSet { .. }),
        "{error}"
    );
    assert!(keychain.find(&theirs).unwrap().is_some());
    keychain.delete(&theirs).unwrap();
}
