//! Where each profile's secret lives, judged from the files: in a file, in a keyrack keychain
//! entry (which one, and whose: this file set's, another's, legacy), or elsewhere; and the
//! listing `keyrack vault list` and the app show.

use serde::Serialize;

use crate::files::{AwsFiles, Dialect, FileKind, FilePaths, Origin, Settings};
use crate::keychain::command::KeyrackCommand;
use crate::keychain::{self, Keychain, KeychainError};

/// Settings that make the AWS tools take credentials from somewhere other than the profile's keys.
const OTHER_SOURCES: &[&str] = &[
    "role_arn",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "login_session",
    "credential_process",
];

/// Where a profile's secret lives, judged from the files alone (no keychain access).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "store", rename_all = "snake_case")]
pub enum SecretStore {
    /// `aws_secret_access_key` is in one of the files.
    File,
    /// In the keychain entry of `account` (`SETID:PROFILE`, or a bare profile name for a legacy
    /// entry), served by `keyrack credential-process`.
    Keychain { account: String },
    /// Somewhere keyrack does not manage: a role, SSO, web identity, another credential_process.
    Elsewhere,
    /// The profile has no credentials of its own.
    None,
}

impl SecretStore {
    /// `file`, `keychain`, `elsewhere` or `none`.
    pub fn name(&self) -> &'static str {
        match self {
            SecretStore::File => "file",
            SecretStore::Keychain { .. } => "keychain",
            SecretStore::Elsewhere => "elsewhere",
            SecretStore::None => "none",
        }
    }
}

/// Where the secret of a profile (its settings as the AWS CLI reads them) lives. A secret in the
/// files wins over a keyrack `credential_process`, as it does for botocore.
pub fn secret_store(settings: &Settings) -> SecretStore {
    if settings.contains_key("aws_secret_access_key") {
        return SecretStore::File;
    }
    if let Some(command) = keyrack_command(settings) {
        return SecretStore::Keychain {
            account: command.account(),
        };
    }
    if OTHER_SOURCES.iter().any(|k| settings.contains_key(*k)) {
        SecretStore::Elsewhere
    } else {
        SecretStore::None
    }
}

/// The keyrack `credential_process` of a profile, if it has one.
pub fn keyrack_command(settings: &Settings) -> Option<KeyrackCommand> {
    settings
        .get("credential_process")
        .and_then(|s| s.value.as_text())
        .and_then(KeyrackCommand::parse)
}

/// The id of the file set these files form ([`FilePaths::set_id`]): the scope of their keychain
/// entries.
pub fn file_set(files: &AwsFiles) -> String {
    FilePaths {
        config: files.path(FileKind::Config).to_path_buf(),
        credentials: files.path(FileKind::Credentials).to_path_buf(),
    }
    .set_id()
}

/// The account of the entry that `profile` of these files gets when its key is moved: `SETID:PROFILE`.
pub fn entry_account(files: &AwsFiles, profile: &str) -> String {
    keychain::account(&file_set(files), profile)
}

/// Whose entry `account` is, seen from the files of file set `file_set`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryOwner {
    /// An entry of these files.
    ThisFileSet,
    /// An entry of another pair of files (another project's `AWS_CONFIG_FILE`...).
    OtherFileSet,
    /// An entry from before entries were per file set: any file set may use it.
    Legacy,
}

/// Whose entry `account` is, seen from file set `file_set`.
pub fn entry_owner(account: &str, file_set: &str) -> EntryOwner {
    match keychain::split_account(account) {
        Some((set, _)) if set == file_set => EntryOwner::ThisFileSet,
        Some(_) => EntryOwner::OtherFileSet,
        None => EntryOwner::Legacy,
    }
}

/// The Secret Service label of `profile`'s entry of these files.
pub(crate) fn entry_label(files: &AwsFiles, profile: &str) -> String {
    keychain::label(profile, files.path(FileKind::Config))
}

/// The keychain account holding a profile's key, when its secret is in the keychain.
pub fn keychain_account(files: &AwsFiles, profile: &str) -> Option<String> {
    match files
        .read(Dialect::Cli)
        .profiles
        .get(profile)
        .map(secret_store)
    {
        Some(SecretStore::Keychain { account }) => Some(account),
        _ => None,
    }
}

/// The profile (other than `except`) whose `credential_process` serves `account`, if any.
pub(crate) fn user_of_account(files: &AwsFiles, account: &str, except: &str) -> Option<String> {
    files
        .read(Dialect::Cli)
        .profiles
        .iter()
        .find(|(name, s)| {
            name.as_str() != except && keyrack_command(s).is_some_and(|c| c.account() == account)
        })
        .map(|(name, _)| name.clone())
}

/// A profile whose key is in the keychain: the profile, the entry (account) it names, and where
/// its `credential_process` line is (what makes it a keychain profile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeychainHolder {
    pub profile: String,
    pub account: String,
    pub origin: Origin,
}

/// Every profile of the files whose secret is in the keychain, in file order.
pub fn keychain_profiles(files: &AwsFiles) -> Vec<KeychainHolder> {
    let reading = files.read(Dialect::Cli);
    let mut holders = Vec::new();
    for (profile, settings) in &reading.profiles {
        if let (SecretStore::Keychain { account }, Some(setting)) =
            (secret_store(settings), settings.get("credential_process"))
        {
            holders.push(KeychainHolder {
                profile: profile.clone(),
                account,
                origin: setting.origin,
            });
        }
    }
    holders
}

/// Where one profile's secret lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretPlace {
    pub profile: String,
    #[serde(flatten)]
    pub store: SecretStore,
    /// For keychain profiles: whether the entry is there (`None`: the keychain was not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_found: Option<bool>,
}

/// Every profile's secret store, and the keyrack entries that no profile of these files uses,
/// by whose they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VaultListing {
    pub profiles: Vec<SecretPlace>,
    /// Entries of this file set that no profile uses (left behind by a failed last step).
    pub unused_entries: Vec<String>,
    /// Entries of other file sets (other projects' files): theirs, not unused.
    pub other_file_set_entries: Vec<String>,
    /// Entries from before entries were per file set that no profile of these files uses:
    /// another file set may still use them.
    pub legacy_entries: Vec<String>,
}

/// Where each profile's secret lives; with a keychain, also whether each keychain profile's
/// entry is there and which keyrack entries no profile of these files uses.
pub fn list(files: &AwsFiles, keychain: Option<&Keychain>) -> Result<VaultListing, KeychainError> {
    let reading = files.read(Dialect::Cli);
    let mut listing = VaultListing::default();
    let accounts = match keychain {
        Some(k) => k.accounts()?,
        None => None,
    };
    for (name, settings) in &reading.profiles {
        let store = secret_store(settings);
        let entry_found = match (&store, keychain, &accounts) {
            (SecretStore::Keychain { account }, _, Some(accounts)) => {
                Some(accounts.contains(account))
            }
            (SecretStore::Keychain { account }, Some(k), None) => Some(k.find(account)?.is_some()),
            _ => None,
        };
        listing.profiles.push(SecretPlace {
            profile: name.clone(),
            store,
            entry_found,
        });
    }
    if let Some(accounts) = accounts {
        let set = file_set(files);
        for account in accounts
            .into_iter()
            .filter(|a| user_of_account(files, a, "").is_none())
        {
            match entry_owner(&account, &set) {
                EntryOwner::ThisFileSet => listing.unused_entries.push(account),
                EntryOwner::OtherFileSet => listing.other_file_set_entries.push(account),
                EntryOwner::Legacy => listing.legacy_entries.push(account),
            }
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::AwsFiles;

    fn store_of(config: &str, credentials: &str, profile: &str) -> SecretStore {
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        secret_store(&files.read(Dialect::Cli).profiles[profile])
    }

    #[test]
    fn a_secret_in_either_file_lives_in_the_file() {
        assert_eq!(
            store_of(
                "",
                "[a]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n",
                "a"
            ),
            SecretStore::File
        );
        assert_eq!(
            store_of(
                "[profile a]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n",
                "",
                "a"
            ),
            SecretStore::File
        );
    }

    #[test]
    fn a_keyrack_credential_process_means_the_keychain_entry_it_names() {
        let config = "[profile a]\ncredential_process = \"/opt/My Tools/keyrack\" credential-process --profile b\n";
        assert_eq!(
            store_of(config, "", "a"),
            SecretStore::Keychain {
                account: "b".into()
            }
        );
    }

    #[test]
    fn roles_sso_and_other_processes_are_elsewhere_and_settings_only_is_none() {
        assert_eq!(
            store_of(
                "[profile a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\n",
                "",
                "a"
            ),
            SecretStore::Elsewhere
        );
        assert_eq!(
            store_of(
                "[profile a]\ncredential_process = aws-vault exec a --json\n",
                "",
                "a"
            ),
            SecretStore::Elsewhere
        );
        assert_eq!(
            store_of("[profile a]\nregion = eu-west-1\n", "", "a"),
            SecretStore::None
        );
    }

    #[test]
    fn secret_store_serialises_as_a_tagged_object() {
        let place = SecretPlace {
            profile: "a".into(),
            store: SecretStore::Keychain {
                account: "a".into(),
            },
            entry_found: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&place).unwrap(),
            serde_json::json!({"profile": "a", "store": "keychain", "account": "a", "entry_found": true})
        );
    }
}
