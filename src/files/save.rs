//! Saving a file so that nothing is ever lost: write a temporary file beside it, fsync, rename
//! over; keep mode and owner; refuse when the file changed on disk since it was read; keep the
//! previous version as `NAME.keyrack.bak` (readable by its owner only when it holds a secret).

use std::fs;
use std::io::{self, Write};

use super::private;
use std::path::{Path, PathBuf};

/// Why a save did not happen. In every case the file on disk is untouched.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{path} changed on disk since keyrack read it (another program edited it); nothing was written. Reload and apply the change again")]
    Conflict { path: PathBuf },
    #[error("could not save {path}: {source}; the file was left as it was")]
    Io { path: PathBuf, source: io::Error },
}

/// The real file a path names (a dotfiles symlink is followed, so the link survives a save).
pub fn resolve(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&current) {
            Ok(target) => {
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                }
            }
            Err(_) => break,
        }
    }
    current
}

/// Where the previous version of a file is kept.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".keyrack.bak");
    path.with_file_name(name)
}

/// Read a file's bytes, `None` when it does not exist.
pub fn read_if_exists(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replace `path` with `bytes`, but only if it still holds `expected` (`None`: must not exist).
pub fn save(path: &Path, bytes: &[u8], expected: Option<&[u8]>) -> Result<(), SaveError> {
    let target = resolve(path);
    let io_err = |source| SaveError::Io {
        path: path.to_path_buf(),
        source,
    };
    let unchanged = || -> Result<(), SaveError> {
        let now = read_if_exists(&target).map_err(io_err)?;
        if now.as_deref() == expected {
            Ok(())
        } else {
            Err(SaveError::Conflict {
                path: path.to_path_buf(),
            })
        }
    };
    unchanged()?;
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        private::create_dir_all(dir).map_err(io_err)?;
    }
    let existing = fs::metadata(&target).ok();
    let mode = existing
        .as_ref()
        .and_then(private::mode_of)
        .unwrap_or(private::FILE_MODE);
    let tmp = private::temporary_beside(&target);
    let result = (|| -> Result<(), SaveError> {
        let mut file = private::create_new(&tmp).map_err(io_err)?;
        file.write_all(bytes).map_err(io_err)?;
        private::set_mode(&tmp, mode).map_err(io_err)?;
        if let Some(meta) = &existing {
            private::keep_owner(&tmp, meta).map_err(io_err)?;
        }
        file.sync_all().map_err(io_err)?;
        drop(file);
        if let Some(meta) = &existing {
            keep_backup(&target, meta, expected.is_some_and(names_a_secret)).map_err(io_err)?;
        }
        unchanged()?;
        fs::rename(&tmp, &target).map_err(io_err)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Keep the current version as the backup: a hard link (same bytes, mode and owner) when that
/// shares no secret with other users, else a copy readable by the owner only (owner kept).
fn keep_backup(target: &Path, meta: &fs::Metadata, holds_secret: bool) -> io::Result<()> {
    let backup = backup_path(target);
    let tmp = backup.with_extension(format!("bak.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let shared = holds_secret && private::readable_by_others(meta).is_some();
    if shared || fs::hard_link(target, &tmp).is_err() {
        let mode = match private::mode_of(meta) {
            Some(_) if shared => private::FILE_MODE,
            Some(mode) => mode,
            None => private::FILE_MODE,
        };
        let _ = fs::remove_file(&tmp);
        let mut out = private::create_new(&tmp)?;
        out.write_all(&fs::read(target)?)?;
        private::set_mode(&tmp, mode)?;
        private::keep_owner(&tmp, meta)?;
        out.sync_all()?;
    }
    fs::rename(&tmp, &backup)
}

/// Whether a file's bytes name a secret setting anywhere (a cautious test: a comment counts).
fn names_a_secret(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    super::model::SECRET_KEYS
        .iter()
        .any(|key| text.contains(key))
}
