//! Secrets off the disk: move a profile's access key from the AWS files into the OS keychain and
//! back, find where each profile's secret lives, and make the keychain entry follow its profile
//! when the profile is renamed, copied or deleted.
//!
//! A moved profile keeps no secret in the files. Its `aws_access_key_id`,
//! `aws_secret_access_key` and `aws_session_token` are in its keychain entry (see
//! [`crate::keychain`]; the key id goes too, because botocore rejects a key id without its
//! secret), and the profile gets `credential_process = <keyrack> credential-process --profile
//! NAME --file-set SETID`, so the AWS CLI, boto3, the SDKs and Terraform keep working unchanged.
//!
//! **Entries belong to one file set** (the pair of files, [`FilePaths::set_id`]): the entry of
//! profile NAME of these files is `SETID:NAME`, so two projects with their own files and the same
//! profile name (`[default]`, usually) never share, overwrite or remove each other's entry. A
//! move never overwrites an entry that holds a different key. Restore, rename, copy and delete
//! remove only entries of this file set: a profile whose line names another file set's entry (a
//! config file copied from another project) reads it, but never removes it.
//!
//! **Legacy entries** (account = the bare profile name, named by lines without `--file-set`,
//! written before entries were per file set) keep working: their lines still run. After each
//! successful vault operation, and before `vault list`, keyrack migrates the legacy lines of these
//! files ([`migrate_legacy_entries`]): it copies each entry to this file set's own account, reads
//! it back, then rewrites the line (one atomic save). It never deletes a legacy entry, because
//! another file set may still use it: `vault list` shows the ones no profile of these files uses
//! as "legacy", with `keyrack vault forget NAME` to remove one once no file set needs it. A
//! rotation migrates nothing: it writes the new key into whatever entry each line names, legacy
//! ones included, so that another file set still reading a shared legacy entry gets the new key
//! too, rather than the old one the rotation deletes.
//!
//! Every operation is ordered so that a failure at any step leaves a working profile:
//! - **move**: the edits are made and verified in memory; the entry is written and read back;
//!   only then are the files saved, config first (`credential_process` added), credentials
//!   second (keys removed). If a save fails, the key is still in the files and in the keychain:
//!   the profile works either way, and running the move again finishes it. Once both are saved,
//!   the backups that still hold the moved key are removed ([`leftovers::clean`]).
//! - **restore**: the keys go into the credentials file first, `credential_process` leaves
//!   config second, and the entry is deleted last.
//! - **rename / copy**: the entry is copied to the new name and read back before the files are
//!   saved; the old entry is removed last, and only when no profile uses it any more.
//! - **delete**: the files first, the entry last.
//!
//! An entry left behind by a failed last step is a copy of a key that is safe elsewhere; `vault
//! list` shows such entries as unused (`keyrack vault forget` removes one).

use std::path::Path;

use crate::aws::Credentials;
use crate::files::edit::{EditError, EditOutcome, KeyPath, Section};
use crate::files::leftovers;
use crate::files::model::{has_complete_keys, profile_kind, ProfileKind};
use crate::files::{AwsFiles, Dialect, FileKind, FilesError, Settings};
use crate::keychain::command::{CommandError, KeyrackCommand};
use crate::keychain::places::{
    entry_label, entry_owner, file_set, keyrack_command, secret_store, user_of_account, EntryOwner,
    SecretStore,
};
use crate::keychain::{self, Keychain, KeychainError, StoredKey};
use crate::secret::Secret;

/// The keys of a static-key profile, in the order they are removed from the files.
const KEY_SETTINGS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// Why a vault operation stopped. Each message ends with the state things were left in; none
/// carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("there is no profile '{0}'; nothing was changed")]
    NoProfile(String),
    #[error(
        "profile '{profile}' has no access key in the files to move: {reason}; nothing was changed"
    )]
    NothingToMove { profile: String, reason: String },
    #[error("profile '{0}' is not in the keychain (it has no `credential_process` that runs keyrack); nothing was changed")]
    NotInKeychain(String),
    #[error(
        "profile '{profile}' holds one key in the files and a different one in the keychain; keyrack will not overwrite \
         either: remove the one you do not want by hand; nothing was changed"
    )]
    TwoKeys { profile: String },
    #[error("the keychain entry '{account}' is used by profile '{other}'; nothing was changed")]
    EntryInUse { account: String, other: String },
    #[error(
        "the keychain already has an entry for profile '{profile}' of these files (account '{account}') that holds \
         another access key ({held}; the files hold {wanted}); keyrack will not overwrite it. If that key is no \
         longer needed, remove the entry with `keyrack vault forget {account}` and try again; nothing was changed"
    )]
    EntryHoldsAnotherKey {
        profile: String,
        account: String,
        held: String,
        wanted: String,
    },
    #[error(
        "the keychain entry '{account}' belongs to another file set (its label in your keyring manager names its \
         config file); keyrack removes an entry only from its own file set: run this with that set's \
         AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE; nothing was changed"
    )]
    EntryOfAnotherFileSet { account: String },
    #[error("{error}; nothing was changed")]
    Keychain { error: KeychainError },
    #[error("{0}; nothing was changed")]
    Edit(#[from] EditError),
    #[error("{0}; nothing was changed")]
    Command(#[from] CommandError),
    #[error("{error}. {state}")]
    Save { error: FilesError, state: String },
}

impl VaultError {
    /// A stable snake_case code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::NoProfile(_) => "no_such_profile",
            VaultError::NothingToMove { .. } => "nothing_to_move",
            VaultError::NotInKeychain(_) => "not_in_keychain",
            VaultError::TwoKeys { .. } => "two_keys",
            VaultError::EntryInUse { .. } => "entry_in_use",
            VaultError::EntryHoldsAnotherKey { .. } => "entry_holds_another_key",
            VaultError::EntryOfAnotherFileSet { .. } => "entry_of_another_file_set",
            VaultError::Keychain { error } => error.code(),
            VaultError::Edit(_) => "refused",
            VaultError::Command(_) => "bad_command_line",
            VaultError::Save { .. } => "files",
        }
    }
}

impl From<KeychainError> for VaultError {
    fn from(error: KeychainError) -> Self {
        VaultError::Keychain { error }
    }
}

/// What a vault operation did: the files it saved and what the user should know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultOutcome {
    pub saved: Vec<FileKind>,
    /// The keychain entry removed at the end (restore, rename, delete), if one was.
    pub removed_entry: Option<String>,
    pub warnings: Vec<String>,
}

impl VaultOutcome {
    fn add_saved(&mut self, kinds: Vec<FileKind>) {
        for kind in kinds {
            if !self.saved.contains(&kind) {
                self.saved.push(kind);
            }
        }
    }
}

fn key_path(name: &str) -> KeyPath {
    KeyPath::parse(name).expect("a valid setting name")
}

fn profile_settings(files: &AwsFiles, profile: &str) -> Result<Settings, VaultError> {
    files
        .read(Dialect::Cli)
        .profiles
        .get(profile)
        .cloned()
        .ok_or_else(|| VaultError::NoProfile(profile.to_string()))
}

fn text<'s>(settings: &'s Settings, key: &str) -> Option<&'s str> {
    settings.get(key).and_then(|s| s.value.as_text())
}

/// The key a profile holds in the files, if it has one.
fn key_in_files(settings: &Settings) -> Option<StoredKey> {
    let id = text(settings, "aws_access_key_id")?;
    let secret = text(settings, "aws_secret_access_key")?;
    // botocore reads aws_session_token first, then the older aws_security_token.
    let token =
        text(settings, "aws_session_token").or_else(|| text(settings, "aws_security_token"));
    Some(StoredKey::new(Credentials::new(
        id,
        secret,
        token.map(Secret::new),
    )))
}

/// Save `draft`'s files one at a time in `order`, so that the state between the two saves is a
/// working one. After an error `files` holds what is on disk.
fn save_in_order(
    files: &mut AwsFiles,
    draft: &AwsFiles,
    order: [FileKind; 2],
) -> Result<Vec<FileKind>, (Vec<FileKind>, FilesError)> {
    let mut saved = Vec::new();
    for kind in order {
        let before = std::mem::replace(&mut files.file_mut(kind).doc, draft.file(kind).doc.clone());
        match files.save() {
            Ok(kinds) => saved.extend(kinds),
            Err(error) => {
                files.file_mut(kind).doc = before;
                return Err((saved, error));
            }
        }
    }
    Ok(saved)
}

/// Whether the key of `profile` (its settings as the AWS CLI reads them, in file set `set`) can
/// be moved into the keychain, judged from the files alone: `Ok(true)` when an interrupted move
/// left the profile's own line, which a move finishes; else why not. The app offers "Move key to
/// keychain" exactly when this is `Ok`.
pub fn movable(settings: &Settings, profile: &str, set: &str) -> Result<bool, &'static str> {
    match secret_store(settings) {
        SecretStore::File => {}
        SecretStore::Keychain { .. } => return Err("it is already in the keychain"),
        SecretStore::Elsewhere => {
            return Err("its credentials come from a role, SSO or a credential_process")
        }
        SecretStore::None => return Err("it has no aws_secret_access_key"),
    }
    match profile_kind(settings) {
        ProfileKind::StaticKeys | ProfileKind::Session => {}
        ProfileKind::Role | ProfileKind::Sso => {
            return Err(
                "it assumes a role or uses SSO, so the AWS tools do not sign with its own key",
            )
        }
        _ => return Err("it has aws_secret_access_key but no aws_access_key_id"),
    }
    if key_in_files(settings).is_none() {
        return Err("its access key is not plain text");
    }
    if !has_complete_keys(settings) {
        return Err(
            "its key id and secret are not both set in the same file, so the AWS tools cannot use them",
        );
    }
    // A move interrupted after the config file was saved left this profile's own line (a legacy
    // one, if an older keyrack wrote it).
    match keyrack_command(settings) {
        Some(c) if c.profile == profile && c.file_set.as_deref().is_none_or(|s| s == set) => {
            Ok(true)
        }
        Some(_) => Err("it already runs keyrack for another profile's keychain entry"),
        None if settings.contains_key("credential_process") => {
            Err("it already has a credential_process")
        }
        None => Ok(false),
    }
}

/// Move a profile's access key (key id, secret, session token) from the files into the
/// keychain entry of this file set (`SETID:PROFILE`), and point the profile at `program
/// credential-process --profile NAME --file-set SETID` (and `--mfa-serial DEVICE` for a key with
/// `mfa_serial`, whose MFA session is then served). `program` is the absolute path of the
/// keyrack command line the AWS tools will run. An entry that already holds another key is never
/// overwritten.
///
/// Running it again after a failed save finishes the move.
pub fn move_to_keychain(
    files: &mut AwsFiles,
    keychain: &Keychain,
    profile: &str,
    program: &Path,
) -> Result<VaultOutcome, VaultError> {
    let settings = profile_settings(files, profile)?;
    let set = file_set(files);
    let resuming = match movable(&settings, profile, &set) {
        Ok(resuming) => resuming,
        Err(reason) => {
            return Err(VaultError::NothingToMove {
                profile: profile.to_string(),
                reason: reason.to_string(),
            })
        }
    };
    let key = key_in_files(&settings).expect("movable: the key is in the files");
    let account = keychain::account(&set, profile);
    if let Some(other) = user_of_account(files, &account, profile) {
        return Err(VaultError::EntryInUse { account, other });
    }
    if let Some(held) = keychain.find(&account)?.filter(|held| *held != key) {
        if resuming {
            return Err(VaultError::TwoKeys {
                profile: profile.to_string(),
            });
        }
        return Err(VaultError::EntryHoldsAnotherKey {
            profile: profile.to_string(),
            account,
            held: held.credentials.access_key_id,
            wanted: key.credentials.access_key_id,
        });
    }

    let section = Section::Profile(profile.to_string());
    // A key behind an MFA device is served as that device's session, so every AWS tool signs
    // with MFA (the AWS tools ignore mfa_serial on a key-only profile).
    let mfa = match crate::identity::credential_source(&files.read(Dialect::Cli).profiles, profile)
    {
        Ok(crate::identity::CredentialSource::MfaSession { mfa, .. }) => Some(mfa),
        _ => None,
    };
    let line = KeyrackCommand::new(program, profile, &set)
        .through(mfa)
        .to_line()?;
    let mut draft = files.clone();
    draft.set(&section, &key_path("credential_process"), &line)?;
    for name in KEY_SETTINGS {
        if settings.contains_key(*name) {
            draft.unset(&section, &key_path(name))?;
        }
    }

    keychain.store_labelled(&account, Some(&entry_label(files, profile)), &key)?;

    match save_in_order(files, &draft, [FileKind::Config, FileKind::Credentials]) {
        Ok(saved) => {
            let mut outcome = VaultOutcome {
                saved,
                ..Default::default()
            };
            then_migrate(files, keychain, &mut outcome);
            remove_leftovers(files, &key.credentials, &mut outcome);
            Ok(outcome)
        }
        Err((saved, error)) => {
            let state = if saved.is_empty() {
                format!("The key is in the keychain, but the files were not changed: profile '{profile}' still uses the key in the files. Run `keyrack vault move {profile}` again to finish")
            } else {
                format!("The key is in the keychain and credential_process was added to the config file, but the key is still in the credentials file; profile '{profile}' works either way. Run `keyrack vault move {profile}` again to finish")
            };
            Err(VaultError::Save { error, state })
        }
    }
}

/// After a move: the backups the saves just kept hold the moved secret; it is safe in the
/// keychain, so they go (a leftover that also keeps another secret that left the files stays,
/// for `keyrack check`). Each removal is said; a failure is only a warning: the move is done.
fn remove_leftovers(files: &AwsFiles, moved: &Credentials, outcome: &mut VaultOutcome) {
    let mut gone = vec![&moved.secret_access_key];
    gone.extend(moved.session_token.as_ref());
    match leftovers::remove_copies_of(&files.paths(), &gone) {
        Ok(removed) => outcome.warnings.extend(removed.iter().map(|path| {
            format!(
                "removed {}, keyrack's backup, which still held the key now in the keychain",
                path.display()
            )
        })),
        Err(error) => outcome
            .warnings
            .push(format!("the key is in the keychain, but {error}")),
    }
}

/// Put a keychain profile's key back into the credentials file, remove its
/// `credential_process`, then delete the keychain entry if it is one of this file set's that no
/// other profile uses (a legacy entry or another file set's is kept).
///
/// Running it again after a failed save finishes the restore.
pub fn restore_from_keychain(
    files: &mut AwsFiles,
    keychain: &Keychain,
    profile: &str,
) -> Result<VaultOutcome, VaultError> {
    let settings = profile_settings(files, profile)?;
    let command =
        keyrack_command(&settings).ok_or_else(|| VaultError::NotInKeychain(profile.to_string()))?;
    let account = command.account();
    let key = keychain.get(&account)?;
    // After an interrupted restore the files already hold the key: it must be this very key.
    if settings.contains_key("aws_secret_access_key")
        && key_in_files(&settings).as_ref() != Some(&key)
    {
        return Err(VaultError::TwoKeys {
            profile: profile.to_string(),
        });
    }

    let section = Section::Profile(profile.to_string());
    let c = &key.credentials;
    let mut draft = files.clone();
    draft.set(&section, &key_path("aws_access_key_id"), &c.access_key_id)?;
    draft.set(
        &section,
        &key_path("aws_secret_access_key"),
        c.secret_access_key.expose(),
    )?;
    if let Some(token) = &c.session_token {
        draft.set(&section, &key_path("aws_session_token"), token.expose())?;
    }
    draft.unset(&section, &key_path("credential_process"))?;

    let saved = save_in_order(files, &draft, [FileKind::Credentials, FileKind::Config]).map_err(|(saved, error)| {
        let state = if saved.is_empty() {
            format!("The files were not changed: profile '{profile}' still uses its key in the keychain")
        } else {
            format!("The key was written to the credentials file but credential_process is still in the config file; profile '{profile}' works either way and the keychain entry was kept. Run `keyrack vault restore {profile}` again to finish")
        };
        VaultError::Save { error, state }
    })?;
    let mut outcome = VaultOutcome {
        saved,
        ..Default::default()
    };
    remove_unused_entry(files, keychain, &account, &mut outcome);
    then_migrate(files, keychain, &mut outcome);
    Ok(outcome)
}

/// Delete `account`'s entry when it is one of this file set's and no profile uses it any more;
/// a failure is only a warning (the key is safe elsewhere). A legacy entry or another file set's
/// is never deleted: another file set may use it.
fn remove_unused_entry(
    files: &AwsFiles,
    keychain: &Keychain,
    account: &str,
    outcome: &mut VaultOutcome,
) {
    if user_of_account(files, account, "").is_some() {
        return;
    }
    match entry_owner(account, &file_set(files)) {
        EntryOwner::ThisFileSet => {}
        EntryOwner::Legacy => {
            outcome.warnings.push(format!(
                "the keychain entry '{account}' was kept: it is from before entries were per file set and another file \
                 set may still use it; once none does, remove it with `keyrack vault forget {account}`"
            ));
            return;
        }
        EntryOwner::OtherFileSet => {
            outcome.warnings.push(format!(
                "the keychain entry '{account}' was kept: it belongs to another file set"
            ));
            return;
        }
    }
    match keychain.delete(account) {
        Ok(_) => outcome.removed_entry = Some(account.to_string()),
        Err(error) => outcome.warnings.push(format!(
            "the keychain entry '{account}' is no longer used but could not be removed: {error}"
        )),
    }
}

/// Rename a keychain profile: the entry is copied to the new name (and read back), the files
/// are renamed with `credential_process` naming the new entry, then the old entry is removed
/// (when it is this file set's).
pub fn rename(
    files: &mut AwsFiles,
    keychain: &Keychain,
    old: &str,
    new: &str,
) -> Result<VaultOutcome, VaultError> {
    follow(files, keychain, old, new, true)
}

/// Copy a keychain profile: the copy gets its own entry, a copy of the key.
pub fn copy(
    files: &mut AwsFiles,
    keychain: &Keychain,
    source: &str,
    destination: &str,
) -> Result<VaultOutcome, VaultError> {
    follow(files, keychain, source, destination, false)
}

fn follow(
    files: &mut AwsFiles,
    keychain: &Keychain,
    source: &str,
    destination: &str,
    rename: bool,
) -> Result<VaultOutcome, VaultError> {
    let settings = profile_settings(files, source)?;
    let command =
        keyrack_command(&settings).ok_or_else(|| VaultError::NotInKeychain(source.to_string()))?;
    let set = file_set(files);
    let target = keychain::account(&set, destination);
    if let Some(other) = user_of_account(files, &target, if rename { source } else { "" }) {
        return Err(VaultError::EntryInUse {
            account: target,
            other,
        });
    }
    let key = keychain.get(&command.account())?;
    if let Some(held) = keychain.find(&target)?.filter(|held| *held != key) {
        return Err(VaultError::EntryHoldsAnotherKey {
            profile: destination.to_string(),
            account: target,
            held: held.credentials.access_key_id,
            wanted: key.credentials.access_key_id,
        });
    }

    let section = Section::Profile(source.to_string());
    let mut draft = files.clone();
    let EditOutcome { warnings } = if rename {
        draft.rename(&section, destination)?
    } else {
        draft.copy(&section, destination)?
    };
    let line = command.for_profile(destination, &set).to_line()?;
    draft.set(
        &Section::Profile(destination.to_string()),
        &key_path("credential_process"),
        &line,
    )?;

    keychain.store_labelled(&target, Some(&entry_label(files, destination)), &key)?;

    let saved = save_in_order(files, &draft, [FileKind::Config, FileKind::Credentials]).map_err(|(saved, error)| {
        let state = if saved.is_empty() {
            format!("The files were not changed; profile '{source}' works as before (the keychain now also holds a copy of its key under '{target}')")
        } else {
            format!("Only the config file was saved; profile '{destination}' works with its keychain entry. Check both files with `keyrack profiles`")
        };
        VaultError::Save { error, state }
    })?;
    let mut outcome = VaultOutcome {
        saved,
        warnings,
        ..Default::default()
    };
    if rename {
        remove_unused_entry(files, keychain, &command.account(), &mut outcome);
    }
    then_migrate(files, keychain, &mut outcome);
    Ok(outcome)
}

/// Delete a keychain profile from the files, then its entry (when it is this file set's and no
/// other profile uses it).
pub fn delete(
    files: &mut AwsFiles,
    keychain: &Keychain,
    profile: &str,
) -> Result<VaultOutcome, VaultError> {
    let settings = profile_settings(files, profile)?;
    let command =
        keyrack_command(&settings).ok_or_else(|| VaultError::NotInKeychain(profile.to_string()))?;
    let mut draft = files.clone();
    let EditOutcome { warnings } = draft.delete(&Section::Profile(profile.to_string()))?;
    let saved = save_in_order(files, &draft, [FileKind::Config, FileKind::Credentials]).map_err(|(saved, error)| {
        let state = if saved.is_empty() {
            "The files were not changed and the keychain entry was kept".to_string()
        } else {
            format!("Profile '{profile}' was removed from the config file only; its keychain entry was kept")
        };
        VaultError::Save { error, state }
    })?;
    let mut outcome = VaultOutcome {
        saved,
        warnings,
        ..Default::default()
    };
    remove_unused_entry(files, keychain, &command.account(), &mut outcome);
    then_migrate(files, keychain, &mut outcome);
    Ok(outcome)
}

/// Remove a keychain entry that no profile of these files uses (one left behind, or a legacy
/// entry no file set needs any more). `Ok(false)`: there was none. An entry that a profile of
/// these files uses, or that belongs to another file set, is refused.
pub fn forget_entry(
    files: &AwsFiles,
    keychain: &Keychain,
    account: &str,
) -> Result<bool, VaultError> {
    if let Some(other) = user_of_account(files, account, "") {
        return Err(VaultError::EntryInUse {
            account: account.to_string(),
            other,
        });
    }
    if entry_owner(account, &file_set(files)) == EntryOwner::OtherFileSet {
        return Err(VaultError::EntryOfAnotherFileSet {
            account: account.to_string(),
        });
    }
    Ok(keychain.delete(account)?)
}

/// What [`migrate_legacy_entries`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    /// (profile, legacy account, its file set's account) of each profile moved to its own entry.
    pub migrated: Vec<(String, String, String)>,
    /// The files saved.
    pub saved: Vec<FileKind>,
    /// Profiles left on their legacy line, and why.
    pub warnings: Vec<String>,
}

impl Migration {
    /// One sentence per profile migrated, for the person at the keyboard.
    pub fn notes(&self) -> Vec<String> {
        self.migrated
            .iter()
            .map(|(profile, legacy, scoped)| {
                format!(
                    "profile '{profile}' now has its own keychain entry for these files ('{scoped}'); the entry '{legacy}' it \
                     used before was kept, as another file set may still use it (see `keyrack vault list`)"
                )
            })
            .collect()
    }
}

/// Move every profile of these files whose line runs keyrack for a legacy entry (no
/// `--file-set`) to its own entry of this file set: each entry is copied to `SETID:PROFILE` and
/// read back, then all the lines are rewritten in one atomic save. A legacy entry is never
/// deleted (another file set may use it); a missing one is left alone (the profile fails as
/// before, and `vault list` says so), and so is a scoped entry that already holds another key
/// (a warning says so). A save that fails leaves every profile on its legacy line, working.
pub fn migrate_legacy_entries(
    files: &mut AwsFiles,
    keychain: &Keychain,
) -> Result<Migration, VaultError> {
    let set = file_set(files);
    let mut migration = Migration::default();
    let mut draft = files.clone();
    let reading = files.read(Dialect::Cli);
    for (profile, settings) in &reading.profiles {
        let Some(command) = keyrack_command(settings).filter(|c| c.file_set.is_none()) else {
            continue;
        };
        let legacy = command.account();
        let Some(key) = keychain.find(&legacy)? else {
            continue;
        };
        let target = keychain::account(&set, profile);
        match keychain.find(&target)? {
            Some(held) if held == key => {}
            Some(held) => {
                migration.warnings.push(format!(
                    "profile '{profile}' still uses the keychain entry '{legacy}' from before entries were per file set: \
                     its own entry for these files ('{target}') already holds another access key ({}; '{legacy}' holds {}), \
                     which keyrack will not overwrite. If that key is no longer needed, remove it with `keyrack vault forget {target}`",
                    held.credentials.access_key_id, key.credentials.access_key_id
                ));
                continue;
            }
            None => keychain.store_labelled(&target, Some(&entry_label(files, profile)), &key)?,
        }
        let line = command.for_profile(profile, &set).to_line()?;
        // A line keyrack cannot rewrite (one inherited from [DEFAULT], say) stays as it is: it works.
        if let Err(error) = draft.set(
            &Section::Profile(profile.clone()),
            &key_path("credential_process"),
            &line,
        ) {
            migration.warnings.push(format!("profile '{profile}' still uses the keychain entry '{legacy}' from before entries were per file set: its line could not be rewritten ({error})"));
            continue;
        }
        migration.migrated.push((profile.clone(), legacy, target));
    }
    if migration.migrated.is_empty() {
        return Ok(migration);
    }
    migration.saved = save_in_order(files, &draft, [FileKind::Config, FileKind::Credentials]).map_err(|(_, error)| VaultError::Save {
        error,
        state: "The keychain entries were copied for this file set, but the profiles still use their legacy entries, which were kept; they work as before".to_string(),
    })?;
    Ok(migration)
}

/// After a vault operation succeeded: migrate the legacy lines of the files, reporting what was
/// done (or why not) as warnings; the operation itself is done either way.
fn then_migrate(files: &mut AwsFiles, keychain: &Keychain, outcome: &mut VaultOutcome) {
    match migrate_legacy_entries(files, keychain) {
        Ok(migration) => {
            outcome.add_saved(migration.saved.clone());
            outcome.warnings.extend(migration.notes());
            outcome.warnings.extend(migration.warnings);
        }
        Err(error) => outcome.warnings.push(format!("the profiles that use keychain entries from before entries were per file set were not moved to entries of their own: {error}")),
    }
}
