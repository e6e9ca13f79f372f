//! The key in the files and keychain entries: who holds it, its secret, replacing it everywhere.

use crate::aws::Credentials;
use crate::files::cli_reading;
use crate::files::edit::{EditError, KeyPath, Section};
use crate::files::lock::{lock_files, LockError, DEFAULT_WAIT};
use crate::files::save::SaveError;
use crate::files::{AwsFiles, FileKind, FilesError};
use crate::keychain::places::KeychainHolder;
use crate::keychain::{Keychain, KeychainError};
use crate::rotation::holders::{
    keychain_credentials, keychain_holders_or_all, replace_key_in_keychain,
};
use crate::rotation::user_keys::profiles_holding_key;

use super::plan::ProfileSection;
use super::RotationSettings;

/// How many times a save that met another program's change is applied again.
const SAVE_ATTEMPTS: usize = 5;

/// Every profile section, in either file, whose `aws_access_key_id` is `key_id`, then every
/// keychain profile whose entry holds it (all of them when the keychain cannot be read: a holder
/// that cannot be ruled out counts, so that no key it may hold is taken for unused).
pub(super) fn sections_holding(
    files: &AwsFiles,
    keychain: &Keychain,
    key_id: &str,
) -> Vec<ProfileSection> {
    file_sections_holding(files, key_id)
        .into_iter()
        .chain(
            keychain_holders_or_all(files, keychain, key_id)
                .into_iter()
                .map(keychain_section),
        )
        .collect()
}

/// The sections holding `key_id` in the files themselves.
fn file_sections_holding(files: &AwsFiles, key_id: &str) -> Vec<ProfileSection> {
    profiles_holding_key(files, key_id)
        .into_iter()
        .map(|holder| ProfileSection {
            profile: holder.profile,
            file: holder.origin.file,
            line: holder.origin.line,
            keychain: None,
        })
        .collect()
}

fn keychain_section(holder: KeychainHolder) -> ProfileSection {
    ProfileSection {
        profile: holder.profile,
        file: holder.origin.file,
        line: holder.origin.line,
        keychain: Some(holder.account),
    }
}

/// The distinct profile names of `sections`, in order.
pub(super) fn profile_names(sections: &[ProfileSection]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for section in sections {
        if !names.contains(&section.profile) {
            names.push(section.profile.clone());
        }
    }
    names
}

/// `key_id` with its secret, from the first section of the files holding both.
pub(super) fn credentials_in_files(
    files: &AwsFiles,
    keychain: &Keychain,
    key_id: &str,
) -> Option<Credentials> {
    for kind in [FileKind::Credentials, FileKind::Config] {
        let (sections, _) = cli_reading::sections(cli_reading::parse(&files.file(kind).doc), kind);
        for settings in sections.values() {
            let text = |key: &str| {
                settings
                    .get(key)
                    .and_then(|s| s.value.as_text())
                    .map(str::trim)
            };
            if text("aws_access_key_id") != Some(key_id) {
                continue;
            }
            if let Some(secret) = text("aws_secret_access_key").filter(|s| !s.is_empty()) {
                return Some(Credentials::new(key_id, secret, None));
            }
        }
    }
    keychain_credentials(files, keychain, key_id)
}

/// Why a key could not be written into the files. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub(super) enum WriteError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("could not change profile '{profile}' in the {file} file: {source}")]
    Edit {
        profile: String,
        file: &'static str,
        source: EditError,
    },
    #[error(
        "another program kept changing the files while keyrack saved them ({SAVE_ATTEMPTS} \
         tries); nothing of the last try was saved"
    )]
    KeepsChanging,
    #[error("could not write the key into the keychain: {0}")]
    Keychain(KeychainError),
    #[error(transparent)]
    Locked(#[from] LockError),
}

/// A failed write: why, and the sections that were saved before it failed.
#[derive(Debug)]
pub(super) struct WriteFailure {
    pub error: WriteError,
    pub saved: Vec<ProfileSection>,
}

/// Writes `to` (id and secret) into every profile section that holds `from`, in the file where
/// that section has it; each file is saved at once, atomically, under the file set's lock. A
/// file another program changed since it was read is read again and the change applied on top.
/// Returns the sections written.
pub(super) fn replace_key(
    settings: &RotationSettings,
    from: &str,
    to: &Credentials,
) -> Result<Vec<ProfileSection>, Box<WriteFailure>> {
    let paths = &settings.paths;
    let _lock = lock_files(
        &settings.state_dir,
        paths,
        "keyrack rotating a key",
        DEFAULT_WAIT,
    )
    .map_err(|e| {
        Box::new(WriteFailure {
            error: e.into(),
            saved: Vec::new(),
        })
    })?;
    let id_key = KeyPath::parse("aws_access_key_id").expect("a valid setting name");
    let secret_key = KeyPath::parse("aws_secret_access_key").expect("a valid setting name");
    // Keychain entries first, each read back; the files then hold no key of those profiles.
    let files = AwsFiles::load(paths).map_err(|e| {
        Box::new(WriteFailure {
            error: e.into(),
            saved: Vec::new(),
        })
    })?;
    let mut saved: Vec<ProfileSection> =
        match replace_key_in_keychain(&files, &settings.keychain, from, to) {
            Ok(written) => written.into_iter().map(keychain_section).collect(),
            Err((written, error)) => {
                return Err(Box::new(WriteFailure {
                    error: WriteError::Keychain(error),
                    saved: written.into_iter().map(keychain_section).collect(),
                }))
            }
        };
    for _ in 0..SAVE_ATTEMPTS {
        let mut files = AwsFiles::load(paths).map_err(|e| {
            Box::new(WriteFailure {
                error: e.into(),
                saved: saved.clone(),
            })
        })?;
        let holders = file_sections_holding(&files, from);
        if holders.is_empty() {
            return Ok(saved);
        }
        for holder in &holders {
            let section = Section::Profile(holder.profile.clone());
            files
                .set_in(holder.file, &section, &id_key, &to.access_key_id)
                .and_then(|_| {
                    let secret = to.secret_access_key.expose();
                    files.set_in(holder.file, &section, &secret_key, secret)
                })
                .map_err(|source| {
                    Box::new(WriteFailure {
                        error: WriteError::Edit {
                            profile: holder.profile.clone(),
                            file: holder.file.name(),
                            source,
                        },
                        saved: saved.clone(),
                    })
                })?;
        }
        let result = files.save();
        // A file that is no longer modified was saved, even if the other one failed.
        saved.extend(
            holders
                .iter()
                .filter(|h| !files.file(h.file).is_modified())
                .cloned(),
        );
        match result {
            Ok(_) => return Ok(saved),
            Err(FilesError::Save(SaveError::Conflict { .. })) => continue,
            Err(e) => {
                return Err(Box::new(WriteFailure {
                    error: e.into(),
                    saved,
                }))
            }
        }
    }
    Err(Box::new(WriteFailure {
        error: WriteError::KeepsChanging,
        saved,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FilePaths;
    use std::fs;

    const OLD_SECRET: &str = "oldSecretoldSecretoldSecretoldSecret0000";
    const NEW_SECRET: &str = "newSecretnewSecretnewSecretnewSecret1111";

    fn settings(dir: &std::path::Path, paths: FilePaths) -> RotationSettings {
        RotationSettings {
            state_dir: dir.join("state"),
            ..RotationSettings::from_process_env(paths)
        }
    }

    fn paths(dir: &std::path::Path) -> FilePaths {
        FilePaths {
            config: dir.join("config"),
            credentials: dir.join("credentials"),
        }
    }

    #[test]
    fn every_copy_of_the_key_is_replaced_in_its_own_file_and_nothing_else_moves() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let config = format!(
            "# my config\n[profile ci]\nregion = eu-west-1\naws_access_key_id=AKIAOLD\n\
             aws_secret_access_key=   {OLD_SECRET}\n[profile both]\naws_access_key_id = AKIAOLD\n\
             aws_secret_access_key = {OLD_SECRET}\n"
        );
        let credentials = format!(
            "[work]\n# the work key\naws_access_key_id = AKIAOLD ; not a comment\n\
             aws_access_key_id_x = 1\n[other]\naws_access_key_id = AKIAOTHER\n\
             aws_secret_access_key = x\n[both]\naws_access_key_id = AKIAOLD\n\
             aws_secret_access_key = {OLD_SECRET}\n"
        );
        fs::write(&paths.config, &config).unwrap();
        fs::write(&paths.credentials, &credentials).unwrap();
        let new = Credentials::new("AKIANEW", NEW_SECRET, None);
        let written = replace_key(&settings(dir.path(), paths.clone()), "AKIAOLD", &new).unwrap();
        let names: Vec<(&str, FileKind)> = written
            .iter()
            .map(|s| (s.profile.as_str(), s.file))
            .collect();
        assert_eq!(
            names,
            [
                ("ci", FileKind::Config),
                ("both", FileKind::Config),
                ("both", FileKind::Credentials)
            ]
        );
        let config_after = fs::read_to_string(&paths.config).unwrap();
        assert_eq!(
            config_after,
            config
                .replace("AKIAOLD", "AKIANEW")
                .replace(OLD_SECRET, NEW_SECRET)
        );
        // `AKIAOLD ; not a comment` is a different key to the AWS CLI: left alone.
        let credentials_after = fs::read_to_string(&paths.credentials).unwrap();
        assert!(credentials_after.contains("aws_access_key_id = AKIAOLD ; not a comment"));
        assert!(credentials_after.contains(&format!(
            "[both]\naws_access_key_id = AKIANEW\naws_secret_access_key = {NEW_SECRET}\n"
        )));
        let files = AwsFiles::load(&paths).unwrap();
        assert_eq!(
            credentials_in_files(&files, &Keychain::in_memory(), "AKIANEW"),
            Some(new)
        );
        assert!(sections_holding(&files, &Keychain::in_memory(), "AKIAOLD").is_empty());
    }

    #[test]
    fn a_failed_save_names_no_secret_and_saves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let paths = FilePaths {
            config: dir.path().join("config"),
            // A folder where the file should be: it cannot be replaced.
            credentials: dir.path().join("credentials"),
        };
        fs::create_dir(&paths.credentials).unwrap();
        let new = Credentials::new("AKIANEW", NEW_SECRET, None);
        let failure = replace_key(&settings(dir.path(), paths), "AKIAOLD", &new).unwrap_err();
        let shown = format!("{} {:?}", failure.error, failure.error);
        assert!(!shown.contains(NEW_SECRET), "{shown}");
        assert!(failure.saved.is_empty());
    }
}
