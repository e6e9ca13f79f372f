//! The rotation journal (never a secret in it) that tells the next run what an interrupted one did.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::{private, FilePaths};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const VERSION: u32 = 1;
const LOCK_FILE: &str = ".lock";

/// What a rotation under way has done so far: a small JSON file (0600, folder 0700) in
/// `${XDG_STATE_HOME:-$HOME/.local/state}/keyrack/rotations/`, written before the new key is
/// created and after each step, removed when the rotation ends. Key ids only, never a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub old_key_id: String,
    /// Known once AWS's answer to CreateAccessKey arrived.
    pub new_key_id: Option<String>,
    pub user: String,
    pub arn: String,
    /// The profile the rotation was asked for.
    pub profile: String,
    /// Every profile section that held the old key when the rotation started.
    pub profiles: Vec<JournalProfile>,
    pub config_file: PathBuf,
    pub credentials_file: PathBuf,
    /// RFC 3339, UTC, this computer's clock.
    pub started_at: String,
    pub updated_at: String,
    pub step: JournalStep,
    pub keep_old: bool,
    /// A replacement (`keyrack replace`): the new key was made in the console, the old key's
    /// secret does not work, so the new key is never given up, only kept for the next run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replacement: bool,
}

/// A profile section named in the journal: the profile and its file (`config`/`credentials`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalProfile {
    pub profile: String,
    pub file: String,
}

/// The last step a rotation finished, in the order they come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStep {
    /// The journal is written; CreateAccessKey may have been sent.
    Started,
    /// AWS answered with the new key; it may not be in the files yet.
    KeyCreated,
    FilesWritten,
    NewKeyVerified,
    OldKeyDeactivated,
}

/// A journal of a rotation that is not running: it was interrupted.
pub type InterruptedRotation = Journal;

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("could not use the rotation journal in {}: {source}", .dir.display())]
    Io { dir: PathBuf, source: io::Error },
    #[error(
        "the rotation journal {} cannot be read ({detail}); if no rotation of that key was \
         interrupted, delete the file",
        .path.display()
    )]
    Unreadable { path: PathBuf, detail: String },
}

impl Journal {
    pub(super) fn begin(
        old_key_id: &str,
        user: &str,
        arn: &str,
        profile: &str,
        profiles: Vec<JournalProfile>,
        files: &FilePaths,
        keep_old: bool,
    ) -> Journal {
        let now = now_text();
        Journal {
            version: VERSION,
            old_key_id: old_key_id.to_owned(),
            new_key_id: None,
            user: user.to_owned(),
            arn: arn.to_owned(),
            profile: profile.to_owned(),
            profiles,
            config_file: files.config.clone(),
            credentials_file: files.credentials.clone(),
            started_at: now.clone(),
            updated_at: now,
            step: JournalStep::Started,
            keep_old,
            replacement: false,
        }
    }

    /// When the rotation started (`None` if the journal's time cannot be read).
    pub fn started(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.started_at, &Rfc3339).ok()
    }

    /// Writes the journal atomically (temporary file, fsync, rename), 0600 in a 0700 folder.
    pub(super) fn save(&mut self, dir: &Path) -> Result<(), JournalError> {
        self.updated_at = now_text();
        let io_error = |source| JournalError::Io {
            dir: dir.to_owned(),
            source,
        };
        prepare_dir(dir).map_err(io_error)?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| io_error(io::Error::other(e)))?;
        let target = path_of(dir, &self.old_key_id);
        let tmp = dir.join(format!(".{}.{}.tmp", self.old_key_id, std::process::id()));
        private::write_atomically(&target, &tmp, &json).map_err(io_error)
    }

    /// Removes the journal: the rotation is over.
    pub(super) fn remove(&self, dir: &Path) -> Result<(), JournalError> {
        match fs::remove_file(path_of(dir, &self.old_key_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(JournalError::Io {
                dir: dir.to_owned(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Where the journal of the rotation of `old_key_id` lives. Key ids are letters and digits; any
/// other character is replaced so that the name stays inside the folder.
pub(super) fn path_of(dir: &Path, old_key_id: &str) -> PathBuf {
    let safe: String = old_key_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir.join(format!("{safe}.json"))
}

fn prepare_dir(dir: &Path) -> io::Result<()> {
    private::ensure_private_dir(dir)
}

fn read(path: &Path) -> Result<Option<Journal>, JournalError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(JournalError::Io {
                dir: path.parent().unwrap_or(Path::new(".")).to_owned(),
                source,
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| JournalError::Unreadable {
            path: path.to_owned(),
            detail: e.to_string(),
        })
}

/// The journal of the rotation of `old_key_id`, if one was left.
pub(super) fn load(dir: &Path, old_key_id: &str) -> Result<Option<Journal>, JournalError> {
    read(&path_of(dir, old_key_id))
}

/// The journal in which `key_id` is the old or the new key.
pub(super) fn find(dir: &Path, key_id: &str) -> Result<Option<Journal>, JournalError> {
    if let Some(journal) = load(dir, key_id)? {
        return Ok(Some(journal));
    }
    Ok(all(dir)?
        .into_iter()
        .find(|j| j.new_key_id.as_deref() == Some(key_id)))
}

/// Every readable journal in `dir` (unreadable ones are skipped here; they are reported when
/// their key is rotated).
fn all(dir: &Path) -> Result<Vec<Journal>, JournalError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(JournalError::Io {
                dir: dir.to_owned(),
                source,
            })
        }
    };
    let mut journals = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        if let Ok(Some(journal)) = read(&path) {
            journals.push(journal);
        }
    }
    journals.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(journals)
}

/// The rotations that were interrupted and not finished since: what the desktop app offers to
/// complete at start-up (with [`super::plan_recovery`]). Empty while a rotation is running.
pub fn interrupted_rotations(dir: &Path) -> Result<Vec<InterruptedRotation>, JournalError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    match lock(dir)? {
        Some(_lock) => all(dir),
        None => Ok(Vec::new()),
    }
}

/// Held while a rotation runs; the operating system releases it when the process ends, however
/// it ends.
#[derive(Debug)]
pub(super) struct RotationLock {
    _file: File,
}

/// Takes the rotation lock, or `None` when another rotation holds it.
pub(super) fn lock(dir: &Path) -> Result<Option<RotationLock>, JournalError> {
    let io_error = |source| JournalError::Io {
        dir: dir.to_owned(),
        source,
    };
    prepare_dir(dir).map_err(io_error)?;
    let file = private::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))
        .map_err(io_error)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(RotationLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(io_error(e)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample() -> Journal {
        Journal::begin(
            "AKIAOLDOLDOLDOLDOLD1",
            "alice",
            "arn:aws:iam::123456789012:user/alice",
            "work",
            vec![JournalProfile {
                profile: "work".into(),
                file: "credentials".into(),
            }],
            &FilePaths {
                config: "/c/config".into(),
                credentials: "/c/credentials".into(),
            },
            false,
        )
    }

    #[test]
    fn a_saved_journal_reads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("state/keyrack/rotations");
        let mut journal = sample();
        journal.new_key_id = Some("AKIANEWNEWNEWNEWNEW2".into());
        journal.step = JournalStep::KeyCreated;
        journal.save(&dir).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("AKIAOLDOLDOLDOLDOLD1.json")), 0o600);
        assert_eq!(
            load(&dir, "AKIAOLDOLDOLDOLDOLD1").unwrap(),
            Some(journal.clone())
        );
        assert_eq!(
            find(&dir, "AKIANEWNEWNEWNEWNEW2").unwrap(),
            Some(journal.clone())
        );
        assert_eq!(find(&dir, "AKIAOTHER").unwrap(), None);
        assert_eq!(interrupted_rotations(&dir).unwrap(), vec![journal.clone()]);
        journal.remove(&dir).unwrap();
        assert!(interrupted_rotations(&dir).unwrap().is_empty());
    }

    #[test]
    fn a_running_rotation_is_not_reported_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        sample().save(dir.path()).unwrap();
        let held = lock(dir.path()).unwrap().expect("free");
        assert!(
            lock(dir.path()).unwrap().is_none(),
            "a second lock must wait"
        );
        assert!(interrupted_rotations(dir.path()).unwrap().is_empty());
        drop(held);
        assert_eq!(interrupted_rotations(dir.path()).unwrap().len(), 1);
    }

    #[test]
    fn the_journal_holds_key_ids_and_no_secret_field() {
        let json = serde_json::to_value(sample()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(
            keys.iter()
                .all(|k| !k.contains("secret") && !k.contains("token")),
            "{keys:?}"
        );
        assert!(sample().started().is_some());
    }

    #[test]
    fn an_odd_key_id_cannot_leave_the_folder() {
        assert_eq!(path_of(Path::new("/d"), "../x"), Path::new("/d/___x.json"));
    }
}
