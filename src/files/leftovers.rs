//! What keyrack's saves leave next to the AWS files (the backup `NAME.keyrack.bak`, temporary
//! files of a save that did not finish), which of them hold secrets that left the files, and
//! their removal.
//!
//! A save keeps the previous version as a backup, so after a key moved into the keychain, was
//! replaced or was removed, the backup still holds it. Such a leftover is removed, not
//! rewritten without its secrets: a backup is only worth keeping as the exact previous version
//! (one without its secrets is a version that never existed, and the rest of it is in the live
//! file anyway), and removing a file cannot leave part of a secret behind the way an edit of it
//! could. A temporary file is an unfinished save, worth nothing once its save is over. A backup
//! that others can read but holds only secrets still in the files is made private (0600)
//! instead: it loses nothing by staying.
//!
//! Removal unlinks the file; it does not overwrite it first, because a backup may share its
//! bytes with the live file (a hard link) after an interrupted save.

use super::cli_reading;
use super::document::Document;
use super::model::{is_secret_key, FileKind};
use super::paths::FilePaths;
use super::private;
use super::save;
use crate::secret::Secret;
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A temporary file younger than this, whose process still runs, belongs to a save under way.
const SAVE_UNDER_WAY: Duration = Duration::from_secs(60);

/// What a leftover file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftoverKind {
    /// `NAME.keyrack.bak`: the version before keyrack's last save.
    Backup,
    /// `.NAME.keyrack-PID-N.tmp` or `NAME.keyrack.bak.PID.tmp`: left by a save that stopped.
    Temporary,
}

/// One file keyrack left next to one of the AWS files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    pub path: PathBuf,
    pub kind: LeftoverKind,
    /// The AWS file it is a copy (or an unfinished save) of.
    pub of: FileKind,
    /// How many of its secret values neither live file holds any more.
    pub stale_secrets: usize,
    /// How many secret values it holds at all.
    pub secrets: usize,
    /// Its mode, when it lets users other than its owner read it.
    pub readable_by_others: Option<u32>,
    /// The secret values neither live file holds any more (never shown: `Secret` redacts).
    stale: Vec<Secret>,
}

impl Leftover {
    /// Whether `keyrack check` reports it: it keeps a secret that left the files, or lets
    /// others read a secret.
    pub fn is_problem(&self) -> bool {
        self.stale_secrets > 0 || (self.secrets > 0 && self.readable_by_others.is_some())
    }

    /// What [`clean`] does to it.
    fn removal(&self) -> Cleaning {
        if self.kind == LeftoverKind::Backup && self.stale_secrets == 0 {
            Cleaning::MadePrivate
        } else {
            Cleaning::Removed
        }
    }

    /// The finding's words: what the file is, what is wrong, and the command that fixes it.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            LeftoverKind::Backup => "keyrack's backup of the previous version",
            LeftoverKind::Temporary => "left by a keyrack save that did not finish",
        };
        let path = self.path.display();
        if self.stale_secrets > 0 {
            let n = self.stale_secrets;
            let secrets = if n == 1 {
                "1 secret that is"
            } else {
                "secrets that are"
            };
            let count = if n == 1 {
                String::new()
            } else {
                format!("{n} ")
            };
            format!("{path} ({what}) still holds {count}{secrets} no longer in the files (moved to the keychain, replaced or removed); run `keyrack clean` to remove it")
        } else {
            let mode = self.readable_by_others.unwrap_or_default();
            let fix = if self.removal() == Cleaning::Removed {
                "remove it"
            } else {
                "make it private (0600)"
            };
            format!("{path} ({what}) holds secret keys and has mode {mode:04o}: other users can read them. Run `keyrack clean` to {fix}")
        }
    }
}

/// What [`clean`] did to one leftover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cleaning {
    Removed,
    /// Mode set to 0600; it held only secrets that are still in the files.
    MadePrivate,
}

/// Why leftovers could not be found or cleaned. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum LeftoverError {
    #[error("could not look for keyrack's backups in {path}: {source}")]
    List { path: PathBuf, source: io::Error },
    #[error("could not read {path} to see which secrets it holds: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("could not remove {path}: {source}; it still holds secrets, remove it by hand")]
    Remove { path: PathBuf, source: io::Error },
    #[error("could not make {path} private: {source}; run: chmod 600 {path}")]
    MakePrivate { path: PathBuf, source: io::Error },
}

/// Every file keyrack's saves left next to the two files of `paths` (beside the real files, as
/// saves follow symlinks), in name order, with what each holds. A temporary file of a save
/// that is still under way is not a leftover.
pub fn find(paths: &FilePaths) -> Result<Vec<Leftover>, LeftoverError> {
    let real: Vec<(FileKind, PathBuf)> = [
        (FileKind::Config, &paths.config),
        (FileKind::Credentials, &paths.credentials),
    ]
    .into_iter()
    .map(|(k, p)| (k, save::resolve(p)))
    .collect();
    let mut candidates: Vec<(PathBuf, LeftoverKind, FileKind)> = Vec::new();
    let mut listed: Vec<PathBuf> = Vec::new();
    for (_, file) in &real {
        let dir = folder_of(file);
        if listed.contains(&dir) {
            continue;
        }
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(LeftoverError::List { path: dir, source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| LeftoverError::List {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            let classified = real
                .iter()
                .filter(|(_, live)| folder_of(live) == dir)
                .find_map(|(kind, live)| {
                    classify(name, live.file_name()?.to_str()?).map(|what| (what, *kind))
                });
            if let Some((what, of)) = classified {
                candidates.push((path, what, of));
            }
        }
        listed.push(dir);
    }
    if candidates.is_empty() {
        return Ok(Vec::new());
    }

    let mut live = HashSet::new();
    for (_, file) in &real {
        let bytes = save::read_if_exists(file).map_err(|source| LeftoverError::Read {
            path: file.clone(),
            source,
        })?;
        live.extend(secret_values(bytes.as_deref().unwrap_or_default()));
    }
    let mut found = Vec::new();
    for (path, kind, of) in candidates {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file()
            || (kind == LeftoverKind::Temporary && save_under_way(&path, &meta))
        {
            continue;
        }
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(LeftoverError::Read { path, source }),
        };
        let secrets = secret_values(&bytes);
        let mode = private::readable_by_others(&meta);
        let stale: Vec<Secret> = secrets
            .iter()
            .filter(|s| !live.contains(*s))
            .map(Secret::new)
            .collect();
        found.push(Leftover {
            stale_secrets: stale.len(),
            stale,
            secrets: secrets.len(),
            readable_by_others: mode,
            path,
            kind,
            of,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Remove every leftover of `paths` that keeps a secret no longer in the files, and every
/// temporary file that others can read; make a backup that others can read but that holds only
/// secrets still in the files private. Returns what was done to which file; on an error, the
/// files before it were already cleaned. Rotation calls it once a key is given up or retired,
/// the vault after a move.
pub fn clean(paths: &FilePaths) -> Result<Vec<(PathBuf, Cleaning)>, LeftoverError> {
    let mut done = Vec::new();
    for leftover in find(paths)?.into_iter().filter(Leftover::is_problem) {
        let cleaning = leftover.removal();
        match cleaning {
            Cleaning::Removed => match fs::remove_file(&leftover.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(LeftoverError::Remove {
                        path: leftover.path,
                        source,
                    })
                }
            },
            Cleaning::MadePrivate => private::set_mode(&leftover.path, private::FILE_MODE)
                .map_err(|source| LeftoverError::MakePrivate {
                    path: leftover.path.clone(),
                    source,
                })?,
        }
        done.push((leftover.path, cleaning));
    }
    if done.iter().any(|(_, c)| *c == Cleaning::Removed) {
        for path in [&paths.config, &paths.credentials] {
            if let Ok(dir) = fs::File::open(folder_of(&save::resolve(path))) {
                let _ = dir.sync_all();
            }
        }
    }
    Ok(done)
}

/// Remove the leftovers of `paths` whose secrets that left the files are all among `gone`: the
/// copies of keys that keyrack itself just took out of the files (moved into the keychain,
/// retired or given up by a rotation). A leftover that also keeps a secret the person removed
/// themselves (maybe by mistake) stays, for `keyrack check` to report and `keyrack clean` to
/// remove when they say so. Returns the paths removed. The caller holds the file set's lock.
pub fn remove_copies_of(
    paths: &FilePaths,
    gone: &[&Secret],
) -> Result<Vec<PathBuf>, LeftoverError> {
    let mut removed = Vec::new();
    for leftover in find(paths)? {
        let only_gone = !leftover.stale.is_empty()
            && leftover
                .stale
                .iter()
                .all(|s| gone.iter().any(|g| g.expose() == s.expose()));
        if !only_gone {
            continue;
        }
        match fs::remove_file(&leftover.path) {
            Ok(()) => removed.push(leftover.path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(LeftoverError::Remove {
                    path: leftover.path,
                    source,
                })
            }
        }
    }
    if !removed.is_empty() {
        for path in [&paths.config, &paths.credentials] {
            if let Ok(dir) = fs::File::open(folder_of(&save::resolve(path))) {
                let _ = dir.sync_all();
            }
        }
    }
    Ok(removed)
}

/// The secrets that the leftovers of `paths` pair with the access key `key_id` (a key that left
/// the files, such as a key retired by a run that did not see its secret, because another run
/// had already written its successor), for [`remove_copies_of`].
pub fn secrets_paired_with(paths: &FilePaths, key_id: &str) -> Result<Vec<Secret>, LeftoverError> {
    let mut secrets: Vec<Secret> = Vec::new();
    for leftover in find(paths)? {
        let Ok(bytes) = fs::read(&leftover.path) else {
            continue;
        };
        let doc = Document::parse(&bytes);
        let syntax = cli_reading::parse(&doc);
        for block in 0..syntax.blocks.len() {
            let value = |key: &str| {
                syntax
                    .block_options(block)
                    .find(|o| o.key == key)
                    .map(|o| o.joined_value())
            };
            if value("aws_access_key_id").as_deref().map(str::trim) != Some(key_id) {
                continue;
            }
            if let Some(secret) = value("aws_secret_access_key").filter(|s| !s.trim().is_empty()) {
                if !secrets.iter().any(|known| known.expose() == secret.trim()) {
                    secrets.push(Secret::new(secret.trim().to_owned()));
                }
            }
        }
    }
    Ok(secrets)
}

fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `name` is a leftover of the live file named `live` (see `save.rs` for the names).
fn classify(name: &str, live: &str) -> Option<LeftoverKind> {
    if name == format!("{live}.keyrack.bak") {
        return Some(LeftoverKind::Backup);
    }
    let backup_tmp = name
        .strip_prefix(&format!("{live}.keyrack.bak."))
        .and_then(|rest| rest.strip_suffix(".tmp"));
    let save_tmp = name
        .strip_prefix(&format!(".{live}.keyrack-"))
        .and_then(|rest| rest.strip_suffix(".tmp"));
    backup_tmp
        .or(save_tmp)
        .filter(|middle| !middle.is_empty())
        .map(|_| LeftoverKind::Temporary)
}

/// A temporary file whose process (the PID in its name) still runs and that is recent: the save
/// that wrote it may still rename it into place.
fn save_under_way(path: &Path, meta: &fs::Metadata) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let pid = name
        .strip_suffix(".tmp")
        .and_then(|rest| {
            rest.rsplit_once(".keyrack.bak.")
                .map(|(_, pid)| pid)
                .or_else(|| {
                    rest.split_once(".keyrack-")
                        .and_then(|(_, r)| r.split('-').next())
                })
        })
        .and_then(|pid| pid.parse::<i32>().ok());
    let recent = meta
        .modified()
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .is_none_or(|age| age < SAVE_UNDER_WAY);
    recent && pid.is_some_and(process_runs)
}

/// Whether the process `pid` exists (elsewhere than on Unix: assumed, the safe answer, so a
/// recent temporary file is left alone).
#[cfg(not(unix))]
fn process_runs(_pid: i32) -> bool {
    true
}

#[cfg(unix)]
fn process_runs(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // Signal 0 sends nothing: it only asks whether the process exists (EPERM: it does, as
    // another user's).
    // SAFETY: kill with signal 0 has no effect on the process.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The secret values a file holds: those of its secret settings as the AWS CLI reads them, and
/// those of any line that names a secret key even where the AWS CLI reads it as part of another
/// value (an indented line), so that no secret is overlooked.
fn secret_values(bytes: &[u8]) -> HashSet<String> {
    let doc = Document::parse(bytes);
    let syntax = cli_reading::parse(&doc);
    let mut values = HashSet::new();
    for block in 0..syntax.blocks.len() {
        for option in syntax.block_options(block).filter(|o| is_secret_key(o.key)) {
            values.insert(option.joined_value());
        }
    }
    for line in doc.iter() {
        let text = line.lossy();
        if let Some(pos) = text.find(['=', ':']) {
            if is_secret_key(text[..pos].trim()) {
                values.insert(text[pos + 1..].trim().to_string());
            }
        }
    }
    values.retain(|v| !v.is_empty());
    values
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn set_up(credentials: &str) -> (tempfile::TempDir, FilePaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = FilePaths {
            config: dir.path().join("config"),
            credentials: dir.path().join("credentials"),
        };
        fs::write(&paths.credentials, credentials).unwrap();
        (dir, paths)
    }

    fn keys(secret: &str) -> String {
        format!("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {secret}\n")
    }

    #[test]
    fn a_backup_holding_a_secret_the_files_no_longer_hold_is_found_and_removed() {
        let (dir, paths) = set_up("[default]\nregion = eu-west-1\n");
        let backup = dir.path().join("credentials.keyrack.bak");
        fs::write(&backup, keys(SECRET)).unwrap();
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).unwrap();
        let found = find(&paths).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].kind,
                found[0].of,
                found[0].stale_secrets,
                found[0].readable_by_others
            ),
            (LeftoverKind::Backup, FileKind::Credentials, 1, None)
        );
        assert!(found[0].is_problem());
        assert!(!found[0].describe().contains(SECRET));
        assert_eq!(
            clean(&paths).unwrap(),
            [(backup.clone(), Cleaning::Removed)]
        );
        assert!(!backup.exists());
    }

    #[test]
    fn a_backup_of_secrets_still_in_the_files_is_no_problem_unless_others_can_read_it() {
        let (dir, paths) = set_up(&keys(SECRET));
        let backup = dir.path().join("credentials.keyrack.bak");
        fs::write(&backup, format!("# older\n{}", keys(SECRET))).unwrap();
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(!find(&paths).unwrap()[0].is_problem());
        assert!(clean(&paths).unwrap().is_empty());

        fs::set_permissions(&backup, fs::Permissions::from_mode(0o644)).unwrap();
        let found = find(&paths).unwrap();
        assert_eq!(found[0].readable_by_others, Some(0o644));
        assert!(
            found[0].is_problem() && found[0].describe().contains("0644"),
            "{}",
            found[0].describe()
        );
        assert_eq!(
            clean(&paths).unwrap(),
            [(backup.clone(), Cleaning::MadePrivate)]
        );
        assert_eq!(
            fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600,
            "kept, private"
        );
    }

    #[test]
    fn a_secret_the_aws_cli_reads_as_part_of_another_value_still_counts() {
        let (dir, paths) = set_up("[default]\nregion = eu-west-1\n");
        fs::write(
            dir.path().join("credentials.keyrack.bak"),
            format!("[default]\nregion = eu-west-1\n  aws_secret_access_key = {SECRET}\n"),
        )
        .unwrap();
        assert_eq!(find(&paths).unwrap()[0].stale_secrets, 1);
    }

    #[test]
    fn temporary_files_of_a_stopped_save_are_leftovers_but_not_those_of_a_save_under_way() {
        let (dir, paths) = set_up("");
        let stopped = dir.path().join(".credentials.keyrack-999999999-12.tmp");
        let backup_tmp = dir.path().join("config.keyrack.bak.999999999.tmp");
        let under_way = dir.path().join(format!(
            ".credentials.keyrack-{}-34.tmp",
            std::process::id()
        ));
        for path in [&stopped, &backup_tmp, &under_way] {
            fs::write(path, keys(SECRET)).unwrap();
        }
        fs::write(dir.path().join("credentials.bak"), keys(SECRET)).unwrap();
        fs::write(dir.path().join(".credentials.other-1.tmp"), keys(SECRET)).unwrap();
        let found: Vec<(PathBuf, LeftoverKind, FileKind)> = find(&paths)
            .unwrap()
            .into_iter()
            .map(|l| (l.path, l.kind, l.of))
            .collect();
        assert_eq!(
            found,
            [
                (
                    stopped.clone(),
                    LeftoverKind::Temporary,
                    FileKind::Credentials
                ),
                (
                    backup_tmp.clone(),
                    LeftoverKind::Temporary,
                    FileKind::Config
                )
            ]
        );
        clean(&paths).unwrap();
        assert!(!stopped.exists() && !backup_tmp.exists());
        assert!(under_way.exists(), "a save under way keeps its file");
        assert!(
            dir.path().join("credentials.bak").exists(),
            "files keyrack did not write are not touched"
        );
    }

    #[test]
    fn leftovers_are_looked_for_beside_the_real_file_of_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("dotfiles")).unwrap();
        fs::write(dir.path().join("dotfiles/creds"), "").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("dotfiles/creds"),
            dir.path().join("credentials"),
        )
        .unwrap();
        fs::write(dir.path().join("dotfiles/creds.keyrack.bak"), keys(SECRET)).unwrap();
        let paths = FilePaths {
            config: dir.path().join("config"),
            credentials: dir.path().join("credentials"),
        };
        assert_eq!(
            find(&paths).unwrap()[0].path,
            dir.path().join("dotfiles/creds.keyrack.bak")
        );
    }

    #[test]
    fn no_folder_no_leftovers() {
        let paths = FilePaths {
            config: "/nonexistent/keyrack/config".into(),
            credentials: "/nonexistent/keyrack/credentials".into(),
        };
        assert!(find(&paths).unwrap().is_empty());
    }
}
