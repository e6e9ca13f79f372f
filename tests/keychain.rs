//! The keychain store and the vault engine against a real Secret Service (gnome-keyring on a
//! private D-Bus session: run through `tests/tools/with-keyring.sh`). Entries are stored, read,
//! replaced and removed for real; every failure of a save is injected to check that a working
//! profile is left behind.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use keyrack::aws::{Credentials, Secret};
use keyrack::files::{AwsFiles, Dialect, FilePaths};
use keyrack::keychain::{KeychainError, StoredKey, SERVICE};
use keyrack::vault::{self, SecretStore, VaultError};
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
        AwsFiles::load(&FilePaths { config: self.config(), credentials: self.credentials() }).unwrap()
    }

    fn read(&self, path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn store_of(&self, profile: &str) -> SecretStore {
        vault::secret_store(&self.load().read(Dialect::Cli).profiles[profile])
    }
}

fn credentials_section(profile: &str, token: Option<&str>) -> String {
    let mut text = format!("[{profile}]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n");
    if let Some(token) = token {
        text.push_str(&format!("aws_session_token = {token}\n"));
    }
    text
}

#[test]
fn a_stored_key_reads_back_the_same_with_token_and_expiration() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "roundtrip");
    let stored = StoredKey { expiration: Some("2030-01-01T00:00:00Z".into()), ..key("ASIAEXAMPLE", SECRET, Some(TOKEN)) };
    keychain.store(&account, &stored).unwrap();
    assert_eq!(keychain.get(&account).unwrap(), stored);
    keychain.delete(&account).unwrap();
}

#[test]
fn storing_again_replaces_the_entry_instead_of_adding_one() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "replace");
    keychain.store(&account, &key(KEY_ID, SECRET, None)).unwrap();
    let newer = key("AKIANEWKEYEXAMPLE000", "newsecret", None);
    keychain.store(&account, &newer).unwrap();
    assert_eq!(keychain.get(&account).unwrap(), newer);
    let accounts = keychain.accounts().unwrap().expect("the Secret Service can be searched");
    assert_eq!(accounts.iter().filter(|a| **a == account).count(), 1);
    keychain.delete(&account).unwrap();
}

#[test]
fn a_missing_entry_is_no_entry_and_deleting_it_reports_there_was_none() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "missing");
    assert_eq!(keychain.get(&account).unwrap_err(), KeychainError::NoEntry { account: account.clone() });
    assert_eq!(keychain.find(&account).unwrap(), None);
    assert!(!keychain.delete(&account).unwrap());
    keychain.store(&account, &key(KEY_ID, SECRET, None)).unwrap();
    assert!(keychain.delete(&account).unwrap());
    assert_eq!(keychain.find(&account).unwrap(), None);
}

#[test]
fn entries_are_service_keyrack_account_profile_and_visible_to_secret_tool() {
    let keychain = keychain();
    let account = fresh_account(&keychain, "secret-tool");
    keychain.store(&account, &key(KEY_ID, SECRET, None)).unwrap();
    let out = Command::new("secret-tool").args(["lookup", "service", SERVICE, "username", &account]).output().expect("run secret-tool");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
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
        .args(["store", "--label", "not keyrack's", "service", SERVICE, "username", &account])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(SECRET.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let error = keychain.get(&account).unwrap_err();
    assert_eq!(error, KeychainError::Unreadable { account: account.clone() });
    assert!(!format!("{error} {error:?}").contains(SECRET));
    keychain.delete(&account).unwrap();
}

#[test]
fn move_puts_key_id_secret_and_token_in_the_keychain_and_none_in_the_files() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-token");
    let files = Files::new(&format!("[profile {profile}]\nregion = eu-west-1\n"), &credentials_section(&profile, Some(TOKEN)));
    let mut loaded = files.load();
    let outcome = vault::move_to_keychain(&mut loaded, &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(outcome.saved.len(), 2);
    assert_eq!(keychain.get(&profile).unwrap(), key(KEY_ID, SECRET, Some(TOKEN)));
    let credentials = files.read(&files.credentials());
    assert!(!credentials.contains(SECRET) && !credentials.contains(TOKEN) && !credentials.contains(KEY_ID), "{credentials}");
    assert_eq!(
        files.read(&files.config()),
        format!("[profile {profile}]\nregion = eu-west-1\ncredential_process = {PROGRAM} credential-process --profile {profile}\n")
    );
    assert_eq!(files.store_of(&profile), SecretStore::Keychain { account: profile.clone() });
    keychain.delete(&profile).unwrap();
}

#[test]
fn move_takes_keys_from_the_config_file_too() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-from-config");
    let files = Files::new(&format!("[profile {profile}]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"), "");
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(keychain.get(&profile).unwrap(), key(KEY_ID, SECRET, None));
    assert!(!files.read(&files.config()).contains(SECRET));
    keychain.delete(&profile).unwrap();
}

#[test]
fn move_refuses_a_profile_whose_keys_cannot_leave_the_files_and_stores_nothing() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-default-section");
    // Keys inherited from [DEFAULT] apply to every section: keyrack will not edit them.
    let credentials = format!("[DEFAULT]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n[{profile}]\nregion = x\n");
    let files = Files::new("", &credentials);
    let error = vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap_err();
    assert!(matches!(error, VaultError::Edit(_)), "{error}");
    assert_eq!(keychain.find(&profile).unwrap(), None);
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
        let error = vault::move_to_keychain(&mut files.load(), &keychain, profile, Path::new(PROGRAM)).unwrap_err();
        assert!(matches!(error, VaultError::NothingToMove { .. }), "{profile}: {error}");
    }
    assert_eq!(files.read(&files.config()), config);
}

#[test]
fn a_failed_config_save_during_move_leaves_the_files_unchanged_and_a_rerun_finishes() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-config-fails");
    let files = Files::new(&format!("[profile {profile}]\nregion = eu-west-1\n"), &credentials_section(&profile, None));
    let mut loaded = files.load();
    // Another program changes the config file: keyrack must not overwrite it.
    fs::write(files.config(), format!("[profile {profile}]\nregion = eu-west-2\n")).unwrap();
    let error = vault::move_to_keychain(&mut loaded, &keychain, &profile, Path::new(PROGRAM)).unwrap_err();
    assert!(matches!(error, VaultError::Save { .. }), "{error}");
    assert!(error.to_string().contains("the files were not changed"), "{error}");
    assert_eq!(files.read(&files.credentials()), credentials_section(&profile, None));
    assert_eq!(files.store_of(&profile), SecretStore::File);
    // The entry written before the save stays; it is a copy of the key in the files.
    assert_eq!(keychain.get(&profile).unwrap(), key(KEY_ID, SECRET, None));

    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(files.store_of(&profile), SecretStore::Keychain { account: profile.clone() });
    assert!(files.read(&files.config()).contains("region = eu-west-2"));
    keychain.delete(&profile).unwrap();
}

#[test]
fn a_failed_credentials_save_during_move_keeps_the_key_in_both_places_and_a_rerun_finishes() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-credentials-fails");
    let files = Files::new(&format!("[profile {profile}]\nregion = eu-west-1\n"), &credentials_section(&profile, None));
    let mut loaded = files.load();
    let changed = format!("# touched by another program\n{}", credentials_section(&profile, None));
    fs::write(files.credentials(), &changed).unwrap();
    let error = vault::move_to_keychain(&mut loaded, &keychain, &profile, Path::new(PROGRAM)).unwrap_err();
    assert!(error.to_string().contains("works either way"), "{error}");
    // The config file has credential_process, the credentials file still has the key, and the
    // keychain holds the same key: the AWS tools get the right key whichever they pick.
    assert_eq!(files.read(&files.credentials()), changed);
    assert!(files.read(&files.config()).contains("credential_process"));
    assert_eq!(keychain.get(&profile).unwrap(), key(KEY_ID, SECRET, None));

    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    assert_eq!(files.read(&files.credentials()), format!("# touched by another program\n[{profile}]\n"));
    keychain.delete(&profile).unwrap();
}

#[test]
fn a_rerun_move_never_overwrites_a_different_key_in_the_keychain() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "move-two-keys");
    let config = format!("[profile {profile}]\ncredential_process = {PROGRAM} credential-process --profile {profile}\n");
    let files = Files::new(&config, &credentials_section(&profile, None));
    let other = key("AKIAOTHERKEYEXAMPLE0", "other-secret", None);
    keychain.store(&profile, &other).unwrap();
    let error = vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap_err();
    assert!(matches!(error, VaultError::TwoKeys { .. }), "{error}");
    assert_eq!(keychain.get(&profile).unwrap(), other);
    assert_eq!(files.read(&files.credentials()), credentials_section(&profile, None));
    keychain.delete(&profile).unwrap();
}

#[test]
fn restore_writes_the_key_back_removes_credential_process_then_the_entry() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore");
    let files = Files::new(&format!("[profile {profile}]\nregion = eu-west-1\n"), &credentials_section(&profile, Some(TOKEN)));
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    let outcome = vault::restore_from_keychain(&mut files.load(), &keychain, &profile).unwrap();
    assert_eq!(outcome.removed_entry.as_deref(), Some(profile.as_str()));
    assert_eq!(files.read(&files.config()), format!("[profile {profile}]\nregion = eu-west-1\n"));
    assert_eq!(files.read(&files.credentials()), credentials_section(&profile, Some(TOKEN)));
    assert_eq!(keychain.find(&profile).unwrap(), None);
}

#[test]
fn a_failed_config_save_during_restore_keeps_the_entry_and_a_rerun_finishes() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore-config-fails");
    let files = Files::new(&format!("[profile {profile}]\nregion = eu-west-1\n"), &credentials_section(&profile, None));
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    let mut loaded = files.load();
    let config = files.read(&files.config()) + "# touched\n";
    fs::write(files.config(), &config).unwrap();
    let error = vault::restore_from_keychain(&mut loaded, &keychain, &profile).unwrap_err();
    assert!(error.to_string().contains("works either way"), "{error}");
    // Key in the credentials file, credential_process still in config, entry still there.
    assert_eq!(files.read(&files.credentials()), credentials_section(&profile, None));
    assert_eq!(files.read(&files.config()), config);
    assert!(keychain.find(&profile).unwrap().is_some());

    vault::restore_from_keychain(&mut files.load(), &keychain, &profile).unwrap();
    assert!(!files.read(&files.config()).contains("credential_process"));
    assert_eq!(keychain.find(&profile).unwrap(), None);
}

#[test]
fn a_failed_credentials_save_during_restore_changes_nothing() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore-credentials-fails");
    let files = Files::new(&format!("[profile {profile}]\nregion = eu-west-1\n"), &credentials_section(&profile, None));
    vault::move_to_keychain(&mut files.load(), &keychain, &profile, Path::new(PROGRAM)).unwrap();
    let config = files.read(&files.config());
    let mut loaded = files.load();
    fs::write(files.credentials(), "# touched\n").unwrap();
    let error = vault::restore_from_keychain(&mut loaded, &keychain, &profile).unwrap_err();
    assert!(error.to_string().contains("The files were not changed"), "{error}");
    assert_eq!(files.read(&files.config()), config);
    assert_eq!(files.read(&files.credentials()), "# touched\n");
    assert_eq!(keychain.get(&profile).unwrap(), key(KEY_ID, SECRET, None));
    keychain.delete(&profile).unwrap();
}

#[test]
fn restore_without_an_entry_fails_and_changes_nothing() {
    let keychain = keychain();
    let profile = fresh_account(&keychain, "restore-no-entry");
    let config = format!("[profile {profile}]\ncredential_process = {PROGRAM} credential-process --profile {profile}\n");
    let files = Files::new(&config, "");
    let error = vault::restore_from_keychain(&mut files.load(), &keychain, &profile).unwrap_err();
    assert!(matches!(error, VaultError::Keychain { error: KeychainError::NoEntry { .. } }), "{error}");
    assert_eq!(files.read(&files.config()), config);
}

#[test]
fn rename_moves_the_entry_and_points_credential_process_at_it() {
    let keychain = keychain();
    let old = fresh_account(&keychain, "rename-old");
    let new = fresh_account(&keychain, "rename-new");
    let files = Files::new(&format!("[profile {old}]\nregion = eu-west-1\n"), &credentials_section(&old, None));
    vault::move_to_keychain(&mut files.load(), &keychain, &old, Path::new(PROGRAM)).unwrap();
    let outcome = vault::rename(&mut files.load(), &keychain, &old, &new).unwrap();
    assert_eq!(outcome.removed_entry.as_deref(), Some(old.as_str()));
    assert_eq!(files.store_of(&new), SecretStore::Keychain { account: new.clone() });
    assert_eq!(keychain.get(&new).unwrap(), key(KEY_ID, SECRET, None));
    assert_eq!(keychain.find(&old).unwrap(), None);
    keychain.delete(&new).unwrap();
}

#[test]
fn copy_gives_the_copy_its_own_entry_and_delete_removes_only_its_own() {
    let keychain = keychain();
    let source = fresh_account(&keychain, "copy-source");
    let copy = fresh_account(&keychain, "copy-copy");
    let files = Files::new(&format!("[profile {source}]\nregion = eu-west-1\n"), &credentials_section(&source, None));
    vault::move_to_keychain(&mut files.load(), &keychain, &source, Path::new(PROGRAM)).unwrap();
    vault::copy(&mut files.load(), &keychain, &source, &copy).unwrap();
    assert_eq!(files.store_of(&copy), SecretStore::Keychain { account: copy.clone() });
    assert_eq!(keychain.get(&copy).unwrap(), keychain.get(&source).unwrap());

    let outcome = vault::delete(&mut files.load(), &keychain, &copy).unwrap();
    assert_eq!(outcome.removed_entry.as_deref(), Some(copy.as_str()));
    assert!(!files.load().read(Dialect::Cli).profiles.contains_key(&copy));
    assert_eq!(keychain.find(&copy).unwrap(), None);
    assert!(keychain.find(&source).unwrap().is_some());
    keychain.delete(&source).unwrap();
}

#[test]
fn an_entry_another_profile_still_uses_is_not_removed() {
    let keychain = keychain();
    let shared = fresh_account(&keychain, "shared-entry");
    let line = format!("credential_process = {PROGRAM} credential-process --profile {shared}\n");
    let files = Files::new(&format!("[profile {shared}]\n{line}[profile alias]\n{line}"), "");
    keychain.store(&shared, &key(KEY_ID, SECRET, None)).unwrap();
    let outcome = vault::delete(&mut files.load(), &keychain, "alias").unwrap();
    assert_eq!(outcome.removed_entry, None);
    assert!(keychain.find(&shared).unwrap().is_some());
    keychain.delete(&shared).unwrap();
}

#[test]
fn list_tells_file_keychain_elsewhere_none_missing_entries_and_unused_entries() {
    let keychain = keychain();
    let moved = fresh_account(&keychain, "list-moved");
    let lost = fresh_account(&keychain, "list-lost");
    let unused = fresh_account(&keychain, "list-unused");
    keychain.store(&moved, &key(KEY_ID, SECRET, None)).unwrap();
    keychain.store(&unused, &key(KEY_ID, SECRET, None)).unwrap();
    let config = format!(
        "[profile moved]\ncredential_process = {PROGRAM} credential-process --profile {moved}\n\
         [profile lost]\ncredential_process = {PROGRAM} credential-process --profile {lost}\n\
         [profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = plain\n[profile bare]\nregion = x\n"
    );
    let files = Files::new(&config, &credentials_section("plain", None));
    let listing = vault::list(&files.load(), Some(&keychain)).unwrap();
    let found: Vec<(&str, &str, Option<bool>)> = listing.profiles.iter().map(|p| (p.profile.as_str(), p.store.name(), p.entry_found)).collect();
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
    keychain.delete(&moved).unwrap();
    keychain.delete(&unused).unwrap();
}

#[test]
fn keychain_holders_of_a_key_are_found_and_a_rotated_key_replaces_it_in_every_entry() {
    let keychain = keychain();
    let first = fresh_account(&keychain, "rotate-first");
    let second = fresh_account(&keychain, "rotate-second");
    let other = fresh_account(&keychain, "rotate-other");
    keychain.store(&first, &key(KEY_ID, SECRET, None)).unwrap();
    keychain.store(&second, &key(KEY_ID, SECRET, None)).unwrap();
    keychain.store(&other, &key("AKIAOTHERKEYEXAMPLE0", "x", None)).unwrap();
    let line = |account: &str| format!("credential_process = {PROGRAM} credential-process --profile {account}\n");
    let config = format!(
        "[profile a]\n{}[profile b]\n{}[profile alias]\n{}[profile c]\n{}",
        line(&first),
        line(&second),
        line(&first),
        line(&other)
    );
    let files = Files::new(&config, "");
    let holders = vault::keychain_holders(&files.load(), &keychain, KEY_ID).unwrap();
    let found: Vec<(&str, &str, usize)> = holders.iter().map(|h| (h.profile.as_str(), h.account.as_str(), h.origin.line)).collect();
    assert_eq!(found, [("a", first.as_str(), 2), ("b", second.as_str(), 4), ("alias", first.as_str(), 6)]);
    assert_eq!(vault::keychain_credentials(&files.load(), KEY_ID), Some(Credentials::new(KEY_ID, SECRET, None)));
    assert_eq!(vault::read_keychain_profiles(&files.load()), Ok(()));

    let new = Credentials::new("AKIANEWROTATEDKEY000", "new-secret", None);
    let written = vault::replace_key_in_keychain(&files.load(), KEY_ID, &new).unwrap();
    assert_eq!(written.len(), 3, "every profile holding the key, each entry written once");
    assert_eq!(keychain.get(&first).unwrap(), StoredKey::new(new.clone()));
    assert_eq!(keychain.get(&second).unwrap(), StoredKey::new(new.clone()));
    assert_eq!(keychain.get(&other).unwrap().credentials.access_key_id, "AKIAOTHERKEYEXAMPLE0");
    assert!(vault::keychain_holders(&files.load(), &keychain, KEY_ID).unwrap().is_empty());
    assert_eq!(vault::keychain_holders_or_all(&files.load(), "AKIANEWROTATEDKEY000").len(), 3);
    for account in [first, second, other] {
        keychain.delete(&account).unwrap();
    }
}
