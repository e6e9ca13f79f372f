//! A person's changes to the files, made from a view that may be out of date: each change is
//! applied to the files as they are on disk *now*, so an edit made meanwhile by another program
//! (an editor, `aws configure`) is kept. Only when that edit touched what the person is changing
//! is the change refused with [`ChangeError::ChangedOnDisk`], so the app can ask.
//!
//! A window records each version it shows in a [`Seen`]; a change names the revision it was made
//! from, and [`apply_seen`] compares it with that version.
//!
//! Also: what the first run writes (the four `aws configure` answers), and the checks run on
//! every field while it is typed.

use crate::files::check::REGIONS;
use crate::files::edit::{EditError, KeyPath, Section};
use crate::files::model::{is_secret_key, Redacted};
use crate::files::names::{check_key, check_profile_name, check_value};
use crate::files::save::SaveError;
use crate::files::{AwsFiles, Dialect, FileKind, FilePaths, FilesError, Settings};
use crate::keychain::vault::{self, VaultError};
use crate::keychain::Keychain;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

pub mod seen;
pub use seen::Seen;

/// One change to a setting of a profile. Its `Debug` never shows the value of a secret key
/// (`aws_secret_access_key`, `aws_session_token`, `aws_security_token`).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SettingChange {
    /// The value is held as a [`Secret`] whatever the key (wiped when dropped); `Debug` shows it
    /// only for keys that are not secret.
    Set {
        key: String,
        value: Secret,
    },
    Unset {
        key: String,
    },
}

impl std::fmt::Debug for SettingChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingChange::Set { key, value } => {
                let shown = value.expose();
                let value: &dyn std::fmt::Debug = if key.split('.').any(is_secret_key) {
                    &Redacted
                } else {
                    &shown
                };
                f.debug_struct("Set")
                    .field("key", key)
                    .field("value", value)
                    .finish()
            }
            SettingChange::Unset { key } => f.debug_struct("Unset").field("key", key).finish(),
        }
    }
}

impl SettingChange {
    fn key(&self) -> &str {
        match self {
            SettingChange::Set { key, .. } | SettingChange::Unset { key } => key,
        }
    }
}

/// What the person asked for. `sso_session`: the section is an `[sso-session NAME]`, not a
/// profile (the command line's `--sso-session`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Operation {
    /// Change some settings of a profile (created when it does not exist yet).
    Edit {
        profile: String,
        changes: Vec<SettingChange>,
        #[serde(default)]
        sso_session: bool,
    },
    Add {
        profile: String,
        changes: Vec<SettingChange>,
        #[serde(default)]
        sso_session: bool,
    },
    Copy {
        profile: String,
        to: String,
        #[serde(default)]
        sso_session: bool,
    },
    Rename {
        profile: String,
        to: String,
        #[serde(default)]
        sso_session: bool,
    },
    Delete {
        profile: String,
        #[serde(default)]
        sso_session: bool,
    },
}

impl Operation {
    /// The name of the section it changes.
    pub fn profile(&self) -> &str {
        match self {
            Operation::Edit { profile, .. }
            | Operation::Add { profile, .. }
            | Operation::Copy { profile, .. }
            | Operation::Rename { profile, .. }
            | Operation::Delete { profile, .. } => profile,
        }
    }

    fn is_sso_session(&self) -> bool {
        match self {
            Operation::Edit { sso_session, .. }
            | Operation::Add { sso_session, .. }
            | Operation::Copy { sso_session, .. }
            | Operation::Rename { sso_session, .. }
            | Operation::Delete { sso_session, .. } => *sso_session,
        }
    }

    /// The section it changes.
    pub fn section(&self) -> Section {
        let name = self.profile().to_string();
        if self.is_sso_session() {
            Section::SsoSession(name)
        } else {
            Section::Profile(name)
        }
    }

    /// Whether it may replace or remove a secret (a set or unset of a secret setting, a
    /// delete): the backup the save keeps may then hold one that left the files.
    pub fn may_drop_secret(&self) -> bool {
        match self {
            Operation::Edit { changes, .. } => changes
                .iter()
                .any(|c| c.key().split('.').any(is_secret_key)),
            Operation::Delete { .. } => true,
            Operation::Add { .. } | Operation::Copy { .. } | Operation::Rename { .. } => false,
        }
    }
}

/// What was done.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Applied {
    /// The files written (none when nothing needed to change).
    pub saved: Vec<FileKind>,
    pub warnings: Vec<String>,
    /// The files had changed on disk since the person's view; the change was made on top of them.
    pub reapplied: bool,
    /// The keychain entry removed at the end (a keychain profile renamed or deleted).
    pub removed_entry: Option<String>,
    /// The files as saved (they are what is on disk now), for the caller to record as seen
    /// without reading them again.
    #[serde(skip)]
    pub files: Option<AwsFiles>,
}

/// Why a change was not made. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("profile '{profile}' changed on disk since you opened it ({}); look at the new values, then apply your change again or discard it", changed_what(.keys))]
    ChangedOnDisk { profile: String, keys: Vec<String> },
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Vault(#[from] crate::keychain::vault::VaultError),
    #[error(
        "the files kept changing on disk while keyrack was saving; nothing was written. Try again"
    )]
    Busy,
    #[error("the files changed on disk too many times since you opened profile '{profile}' for keyrack to know what you saw; nothing was written. Look at the values now in the files, then apply your change again or discard it")]
    ViewTooOld { profile: String },
}

fn changed_what(keys: &[String]) -> String {
    if keys.is_empty() {
        "edited or removed by another program".into()
    } else {
        format!("{} changed by another program", keys.join(", "))
    }
}

fn section_settings<'a>(
    reading: &'a crate::files::Reading,
    section: &Section,
) -> Option<&'a Settings> {
    match section {
        Section::Profile(name) => reading.profiles.get(name),
        Section::SsoSession(name) => reading.sso_sessions.get(name),
    }
}

fn values(settings: Option<&Settings>, key: &str) -> Option<crate::files::Value> {
    settings
        .and_then(|s| s.get(&key.split('.').next().unwrap_or(key).to_lowercase()))
        .map(|s| s.value.clone())
}

fn same_profile(a: Option<&Settings>, b: Option<&Settings>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, s)| b.get(k).is_some_and(|t| t.value == s.value))
        }
        _ => false,
    }
}

/// The keys of `operation`'s profile that differ between what the person saw and the disk, or
/// `Err` with them when the operation depends on them.
fn check_unchanged(
    seen: &AwsFiles,
    fresh: &AwsFiles,
    operation: &Operation,
) -> Result<(), ChangeError> {
    let (before, now) = (seen.read(Dialect::Cli), fresh.read(Dialect::Cli));
    let name = operation.profile();
    let section = operation.section();
    let (a, b) = (
        section_settings(&before, &section),
        section_settings(&now, &section),
    );
    match operation {
        Operation::Edit { changes, .. } => {
            let keys: Vec<String> = changes
                .iter()
                .map(SettingChange::key)
                .filter(|k| values(a, k) != values(b, k))
                .map(str::to_string)
                .collect();
            let vanished = a.is_some() && b.is_none();
            if keys.is_empty() && !vanished {
                Ok(())
            } else {
                Err(ChangeError::ChangedOnDisk {
                    profile: name.to_string(),
                    keys,
                })
            }
        }
        Operation::Add { .. } => Ok(()),
        Operation::Copy { .. } | Operation::Rename { .. } | Operation::Delete { .. } => {
            if same_profile(a, b) {
                Ok(())
            } else {
                Err(ChangeError::ChangedOnDisk {
                    profile: name.to_string(),
                    keys: Vec::new(),
                })
            }
        }
    }
}

/// `reapplied`: the files changed since the person's view, so a setting they remove may already
/// be gone (that is no refusal then; on the files they saw, it is one).
fn apply_to(
    files: &mut AwsFiles,
    operation: &Operation,
    reapplied: bool,
) -> Result<Vec<String>, ChangeError> {
    let section = operation.section();
    let mut warnings = Vec::new();
    match operation {
        Operation::Edit { changes, .. } => {
            for change in changes {
                match change {
                    SettingChange::Set { key, value } => {
                        let key = KeyPath::parse(key)?;
                        let reading = files.read(Dialect::Cli);
                        let current = section_settings(&reading, &section)
                            .and_then(|s| s.get(&key.key))
                            .and_then(|s| s.value.as_text().map(str::to_string));
                        if key.sub.is_some() || current.as_deref() != Some(value.expose()) {
                            warnings.extend(files.set(&section, &key, value.expose())?.warnings);
                        }
                    }
                    SettingChange::Unset { key } => {
                        let key = KeyPath::parse(key)?;
                        match files.unset(&section, &key) {
                            Ok(outcome) => warnings.extend(outcome.warnings),
                            Err(EditError::NoSetting { .. }) if reapplied => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
        }
        Operation::Add { changes, .. } => {
            let mut settings = Vec::new();
            for change in changes {
                if let SettingChange::Set { key, value } = change {
                    // The document takes a copy anyway: the file holds the secret as text.
                    settings.push((KeyPath::parse(key)?, value.expose().to_owned()));
                }
            }
            warnings.extend(files.add(&section, &settings)?.warnings);
        }
        Operation::Copy { to, .. } => warnings.extend(files.copy(&section, to)?.warnings),
        Operation::Rename { to, .. } => warnings.extend(files.rename(&section, to)?.warnings),
        Operation::Delete { .. } => warnings.extend(files.delete(&section)?.warnings),
    }
    Ok(warnings)
}

/// Apply `operation` to the files as they are on disk now. `seen` is what the person was looking
/// at (`None`: nothing was shown, as on the command line); `force` applies the change even where
/// the disk changed the same settings meanwhile.
pub fn apply(
    paths: &FilePaths,
    keychain: &Keychain,
    seen: Option<&AwsFiles>,
    operation: &Operation,
    force: bool,
) -> Result<Applied, ChangeError> {
    for _attempt in 0..3 {
        let mut files = AwsFiles::load(paths)?;
        let changed_since = |seen: &AwsFiles| {
            files.config.on_disk != seen.config.on_disk
                || files.credentials.on_disk != seen.credentials.on_disk
        };
        let reapplied = seen.is_some_and(changed_since);
        let seen = seen.filter(|_| reapplied);
        if let (Some(seen), false) = (seen, force) {
            check_unchanged(seen, &files, operation)?;
        }
        if let Some(result) = follow_keychain(&mut files, keychain, operation) {
            match result {
                Ok(outcome) => {
                    return Ok(Applied {
                        saved: outcome.saved,
                        warnings: outcome.warnings,
                        reapplied,
                        removed_entry: outcome.removed_entry,
                        files: Some(files),
                    })
                }
                Err(VaultError::Save {
                    error: FilesError::Save(SaveError::Conflict { .. }),
                    ..
                }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let warnings = apply_to(&mut files, operation, reapplied)?;
        match files.save() {
            Ok(saved) => {
                return Ok(Applied {
                    saved,
                    warnings,
                    reapplied,
                    removed_entry: None,
                    files: Some(files),
                })
            }
            // Changed between our load and our save: load again and re-apply.
            Err(FilesError::Save(SaveError::Conflict { .. })) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ChangeError::Busy)
}

/// Apply `operation`, made from the view the window showed as `revision` (see [`Seen`]), to the
/// files as they are on disk now. When that version is no longer known the change is refused
/// with [`ChangeError::ViewTooOld`], so the window shows the new values and asks; `force` (the
/// person chose to apply it anyway) applies it to the files as they are.
pub fn apply_seen(
    paths: &FilePaths,
    keychain: &Keychain,
    seen: &Seen,
    revision: u64,
    operation: &Operation,
    force: bool,
) -> Result<Applied, ChangeError> {
    match seen.at(revision) {
        Some(files) => apply(paths, keychain, Some(files), operation, force),
        None if force => {
            let applied = apply(paths, keychain, None, operation, true)?;
            Ok(Applied {
                reapplied: true,
                ..applied
            })
        }
        None => Err(ChangeError::ViewTooOld {
            profile: operation.profile().to_string(),
        }),
    }
}

/// A new profile with only one half of an access key (the id without its secret, or the other
/// way round), on which every AWS tool would fail: why. The window refuses it; the command line,
/// where a script may give the secret in a second step, warns.
pub fn half_key(operation: &Operation) -> Result<(), EditError> {
    let Operation::Add { changes, .. } = operation else {
        return Ok(());
    };
    let given = |name: &str| {
        changes.iter().any(|c| {
            matches!(c, SettingChange::Set { key, value }
                if key == name && !value.expose().trim().is_empty())
        })
    };
    match (given("aws_access_key_id"), given("aws_secret_access_key")) {
        (true, false) => Err(EditError::HalfKey {
            missing: "secret access key",
        }),
        (false, true) => Err(EditError::HalfKey {
            missing: "access key ID",
        }),
        _ => Ok(()),
    }
}

/// Copy, rename and delete of a profile whose key is in the keychain go through the vault, so the
/// keychain entry follows the profile (`None`: not such a profile or operation).
fn follow_keychain(
    files: &mut AwsFiles,
    keychain: &Keychain,
    operation: &Operation,
) -> Option<Result<vault::VaultOutcome, VaultError>> {
    if operation.is_sso_session()
        || matches!(operation, Operation::Edit { .. } | Operation::Add { .. })
    {
        return None;
    }
    let profile = operation.profile();
    crate::keychain::places::keychain_account(files, profile)?;
    // Before anything is written: without a keychain the entry could not follow.
    if let Err(error) = keychain.connect() {
        return Some(Err(VaultError::Keychain { error }));
    }
    Some(match operation {
        Operation::Copy { to, .. } => vault::copy(files, keychain, profile, to),
        Operation::Rename { to, .. } => vault::rename(files, keychain, profile, to),
        Operation::Delete { .. } => vault::delete(files, keychain, profile),
        Operation::Edit { .. } | Operation::Add { .. } => return None,
    })
}

/// The four answers of `aws configure`.
#[derive(Debug)]
pub struct ConfigureAnswers {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub region: String,
    pub output: String,
}

impl ConfigureAnswers {
    /// The answers as the change `aws configure` makes to the `[default]` profile: the key pair
    /// to the credentials file, region and output to the config file, an empty answer skipped;
    /// new files are created 0600 in a 0700 folder.
    pub fn operation(&self) -> Operation {
        let pairs = [
            ("aws_access_key_id", self.access_key_id.trim()),
            (
                "aws_secret_access_key",
                self.secret_access_key.expose().trim(),
            ),
            ("region", self.region.trim()),
            ("output", self.output.trim()),
        ];
        let changes = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| SettingChange::Set {
                key: k.to_string(),
                value: Secret::new(*v),
            })
            .collect();
        Operation::Edit {
            profile: "default".into(),
            changes,
            sso_session: false,
        }
    }
}

/// What is wrong with a field being typed, in words; `None` when it is fine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputAdvice {
    /// `error`: keyrack will not save it; `warning`: it saves, but probably is a mistake.
    pub level: &'static str,
    pub message: String,
}

fn error(message: impl Into<String>) -> Option<InputAdvice> {
    Some(InputAdvice {
        level: "error",
        message: message.into(),
    })
}

fn warning(message: impl Into<String>) -> Option<InputAdvice> {
    Some(InputAdvice {
        level: "warning",
        message: message.into(),
    })
}

/// The output formats the AWS CLI accepts.
pub const OUTPUT_FORMATS: &[&str] = &["json", "yaml", "yaml-stream", "text", "table"];

/// Check a profile name (`field = "profile"`), a setting name (`field = "key"`) or the value of
/// setting `field`.
pub fn check_input(field: &str, value: &str) -> Option<InputAdvice> {
    match field {
        "profile" => check_profile_name(value)
            .err()
            .and_then(|e| error(format!("The AWS tools cannot read this name back: {e}"))),
        "key" => check_key(value)
            .err()
            .and_then(|e| error(format!("Not a setting name: {e}"))),
        _ => {
            if let Err(e) = check_value(value) {
                return error(format!("Cannot be saved: {e}"));
            }
            check_setting_value(&field.to_lowercase(), value)
        }
    }
}

fn check_setting_value(key: &str, value: &str) -> Option<InputAdvice> {
    if value.is_empty() {
        return None;
    }
    match key {
        "aws_access_key_id" => {
            // A secret pasted into the key id's field (40 characters, mixed case, / and +).
            let secret_like = value.len() == 40
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '+')
                && value.chars().any(|c| c.is_ascii_lowercase());
            if secret_like {
                error(
                    "This looks like a secret access key (40 characters): it goes in Secret \
                     access key. The access key ID is the 20 characters starting with AKIA",
                )
            } else if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
                error("An access key ID has only letters and digits (like AKIAIOSFODNN7EXAMPLE)")
            } else if value.len() < 16 || value.len() > 128 {
                error(format!(
                    "An access key ID is 20 characters long (this one has {})",
                    value.len()
                ))
            } else if value.chars().any(|c| c.is_ascii_lowercase()) {
                error("An access key ID is in capital letters (like AKIAIOSFODNN7EXAMPLE)")
            } else if !(value.starts_with("AKIA") || value.starts_with("ASIA")) {
                warning("AWS access key IDs start with AKIA (or ASIA for temporary keys)")
            } else {
                None
            }
        }
        "aws_secret_access_key" => {
            if value.chars().any(char::is_whitespace) {
                error("A secret access key has no spaces")
            } else if value.len() != 40 {
                warning(format!(
                    "AWS secret access keys are 40 characters long (this one has {})",
                    value.len()
                ))
            } else {
                None
            }
        }
        "region" => {
            if REGIONS.contains(&value) {
                None
            } else if value
                .chars()
                .any(|c| c.is_ascii_uppercase() || c == '_' || c == ' ')
            {
                error("Region names are lower case with dashes, like eu-west-1")
            } else {
                warning(format!(
                    "'{value}' is not an AWS region keyrack knows; check for a typo"
                ))
            }
        }
        "output" => {
            if OUTPUT_FORMATS.contains(&value) {
                None
            } else {
                error(format!(
                    "The AWS CLI accepts only {}",
                    OUTPUT_FORMATS.join(", ")
                ))
            }
        }
        "role_arn" | "mfa_serial" if !value.starts_with("arn:") => {
            error("An ARN starts with arn: (like arn:aws:iam::123456789012:role/Name)")
        }
        "endpoint_url" if !(value.starts_with("https://") || value.starts_with("http://")) => {
            error("An endpoint URL starts with https://")
        }
        "duration_seconds"
            if value
                .parse::<u32>()
                .map_or(true, |d| !(900..=43200).contains(&d)) =>
        {
            error("A number of seconds between 900 and 43200")
        }
        _ => None,
    }
}

/// Whether a setting goes to the credentials file (as `aws configure set` does).
pub fn home_file(key: &str) -> Option<FileKind> {
    KeyPath::parse(key).ok().map(|k| k.home_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::seen::KEPT;
    use std::fs;

    fn paths(dir: &std::path::Path) -> FilePaths {
        FilePaths {
            config: dir.join("aws/config"),
            credentials: dir.join("aws/credentials"),
        }
    }

    #[test]
    fn configure_default_writes_the_files_as_aws_configure_does() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let answers = ConfigureAnswers {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "eu-west-1".into(),
            output: "json".into(),
        };
        apply(
            &p,
            &Keychain::in_memory(),
            None,
            &answers.operation(),
            false,
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(&p.credentials).unwrap(),
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        );
        assert_eq!(
            fs::read_to_string(&p.config).unwrap(),
            "[default]\nregion = eu-west-1\noutput = json\n"
        );
    }

    #[test]
    fn an_outside_edit_elsewhere_is_kept_and_the_change_reapplied() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::create_dir_all(dir.path().join("aws")).unwrap();
        fs::write(
            &p.config,
            "[profile a]\nregion = eu-west-1\n\n[profile b]\noutput = json\n",
        )
        .unwrap();
        let seen = AwsFiles::load(&p).unwrap();
        fs::write(
            &p.config,
            "[profile a]\nregion = eu-west-1\n\n[profile b]\noutput = text\n",
        )
        .unwrap();
        let op = Operation::Edit {
            profile: "a".into(),
            changes: vec![SettingChange::Set {
                key: "region".into(),
                value: "us-east-2".into(),
            }],
            sso_session: false,
        };
        let applied = apply(&p, &Keychain::in_memory(), Some(&seen), &op, false).unwrap();
        assert!(applied.reapplied);
        assert_eq!(
            fs::read_to_string(&p.config).unwrap(),
            "[profile a]\nregion = us-east-2\n\n[profile b]\noutput = text\n"
        );
    }

    #[test]
    fn an_outside_edit_of_the_same_setting_is_never_overwritten_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::create_dir_all(dir.path().join("aws")).unwrap();
        fs::write(&p.config, "[profile a]\nregion = eu-west-1\n").unwrap();
        let seen = AwsFiles::load(&p).unwrap();
        fs::write(&p.config, "[profile a]\nregion = ap-south-1\n").unwrap();
        let op = Operation::Edit {
            profile: "a".into(),
            changes: vec![SettingChange::Set {
                key: "region".into(),
                value: "us-east-2".into(),
            }],
            sso_session: false,
        };
        match apply(&p, &Keychain::in_memory(), Some(&seen), &op, false) {
            Err(ChangeError::ChangedOnDisk { keys, .. }) => assert_eq!(keys, ["region"]),
            other => panic!("expected ChangedOnDisk, got {other:?}"),
        }
        assert_eq!(
            fs::read_to_string(&p.config).unwrap(),
            "[profile a]\nregion = ap-south-1\n"
        );
        apply(&p, &Keychain::in_memory(), Some(&seen), &op, true).unwrap();
        assert_eq!(
            fs::read_to_string(&p.config).unwrap(),
            "[profile a]\nregion = us-east-2\n"
        );
    }

    #[test]
    fn seventeen_outside_changes_during_one_edit_never_overwrite_a_change_the_person_did_not_see() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::create_dir_all(dir.path().join("aws")).unwrap();
        fs::write(
            &p.config,
            "[profile a]\nregion = eu-west-1\n\n[profile b]\nregion = eu-west-1\n",
        )
        .unwrap();
        let mut seen = Seen::default();
        // The person opens profile a and starts editing its region.
        let opened = seen.record(AwsFiles::load(&p).unwrap());
        // Meanwhile another program changes the same region, then 16 other things; the window
        // shows each version (the watcher reloads it).
        fs::write(
            &p.config,
            "[profile a]\nregion = ap-south-1\n\n[profile b]\nregion = eu-west-1\n",
        )
        .unwrap();
        seen.record(AwsFiles::load(&p).unwrap());
        for n in 0..16 {
            fs::write(&p.config, format!("[profile a]\nregion = ap-south-1\n\n[profile b]\nregion = eu-west-1\noutput = json # {n}\n")).unwrap();
            seen.record(AwsFiles::load(&p).unwrap());
        }
        let on_disk = fs::read_to_string(&p.config).unwrap();
        let op = Operation::Edit {
            profile: "a".into(),
            changes: vec![SettingChange::Set {
                key: "region".into(),
                value: "us-east-2".into(),
            }],
            sso_session: false,
        };
        let result = apply_seen(&p, &Keychain::in_memory(), &seen, opened, &op, false);
        assert!(
            result.is_err(),
            "the change was applied over a region the person never saw: {result:?}"
        );
        assert!(
            matches!(&result, Err(ChangeError::ViewTooOld { profile }) if profile == "a"),
            "{result:?}"
        );
        assert_eq!(
            fs::read_to_string(&p.config).unwrap(),
            on_disk,
            "nothing is written before the person is asked"
        );
        // Asked, the person chooses to apply it anyway.
        let applied = apply_seen(&p, &Keychain::in_memory(), &seen, opened, &op, true).unwrap();
        assert!(applied.reapplied);
        assert_eq!(
            fs::read_to_string(&p.config).unwrap(),
            on_disk.replace("ap-south-1", "us-east-2")
        );
    }

    #[test]
    fn a_change_from_a_version_still_kept_is_compared_with_that_version() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::create_dir_all(dir.path().join("aws")).unwrap();
        fs::write(&p.config, "[profile a]\nregion = eu-west-1\n").unwrap();
        let mut seen = Seen::default();
        let opened = seen.record(AwsFiles::load(&p).unwrap());
        for n in 1..KEPT {
            fs::write(
                &p.config,
                format!("[profile a]\nregion = eu-west-1\n# {n}\n"),
            )
            .unwrap();
            seen.record(AwsFiles::load(&p).unwrap());
        }
        let op = Operation::Edit {
            profile: "a".into(),
            changes: vec![SettingChange::Set {
                key: "region".into(),
                value: "us-east-2".into(),
            }],
            sso_session: false,
        };
        assert!(
            apply_seen(&p, &Keychain::in_memory(), &seen, opened, &op, false)
                .unwrap()
                .reapplied,
            "the 16th version back is still known"
        );
    }

    #[test]
    fn a_secret_being_set_never_shows_in_debug() {
        const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for key in [
            "aws_secret_access_key",
            "AWS_Session_Token",
            "aws_security_token",
            "s3.aws_secret_access_key",
        ] {
            let op = Operation::Edit {
                profile: "p".into(),
                changes: vec![SettingChange::Set {
                    key: key.into(),
                    value: SECRET.into(),
                }],
                sso_session: false,
            };
            let text = format!("{op:?} {op:#?}");
            assert!(
                !text.contains(SECRET) && text.contains(key) && text.contains("<redacted>"),
                "{text}"
            );
        }
        let region = SettingChange::Set {
            key: "region".into(),
            value: "eu-west-1".into(),
        };
        assert_eq!(
            format!("{region:?}"),
            r#"Set { key: "region", value: "eu-west-1" }"#
        );
    }

    #[test]
    fn typed_values_get_advice_in_words() {
        assert_eq!(
            check_input("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
            None
        );
        assert_eq!(
            check_input("aws_access_key_id", "AKIA IOSF").unwrap().level,
            "error"
        );
        let pasted_secret = check_input(
            "aws_access_key_id",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .unwrap();
        assert!(
            pasted_secret.message.contains("goes in Secret access key"),
            "{pasted_secret:?}"
        );
        assert_eq!(check_input("region", "eu-west-1"), None);
        assert_eq!(check_input("region", "eu-wset-1").unwrap().level, "warning");
        assert_eq!(check_input("output", "xml").unwrap().level, "error");
        assert_eq!(check_input("profile", "my profile").unwrap().level, "error");
        assert_eq!(
            check_input("role_arn", "line\nbreak").unwrap().level,
            "error"
        );
    }
}
