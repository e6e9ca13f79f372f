//! Files and folders only their owner may read, in one place for every platform: on Unix the
//! modes 0600 and 0700 (as the AWS CLI creates them) and the owner kept across a rewrite; on
//! Windows and elsewhere, where files in the user's profile folder are the user's by the folder's
//! access rules, plain files and folders (no mode to set, no owner to keep).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Mode for files keyrack creates: readable by the owner only, as the AWS CLI does.
pub const FILE_MODE: u32 = 0o600;
/// Mode for folders keyrack creates (`~/.aws`, its state folders).
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents, the ones created private.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)
}

/// [`create_dir_all`], and `dir` itself made private even if it existed (keyrack's own state
/// folders, which no one else should have loosened).
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    create_dir_all(dir)?;
    set_mode(dir, DIR_MODE)
}

/// Options that create a private file (never following or replacing an existing one when
/// `create_new` is set by the caller).
pub fn options() -> OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// A new private file at `path`, which must not exist yet.
pub fn create_new(path: &Path) -> io::Result<File> {
    options().write(true).create_new(true).open(path)
}

/// Writes `bytes` to `target` atomically: a new private temporary file `tmp` (in the same
/// folder), fsynced, renamed over `target`, the folder fsynced. Nothing is left at `tmp`.
pub fn write_atomically(target: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let _ = fs::remove_file(tmp);
    let written = (|| {
        let mut file = create_new(tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(tmp, target)?;
        if let Some(folder) = target.parent().and_then(|dir| File::open(dir).ok()) {
            let _ = folder.sync_all();
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(tmp);
    }
    written
}

/// `value` as JSON in `file` (a cache the AWS tools share: role sessions, IAM Identity Center
/// sign-ins), 0600 in a folder created 0700 when missing, written whole or not at all through a
/// temporary file of this writer's own (`.NAME.keyrack-PID-NANOS.tmp`), so that writers at the
/// same moment never rename each other's half-written file into place. The JSON holds secrets:
/// its buffer is wiped when dropped.
pub fn write_json(file: &Path, value: &impl serde::Serialize) -> io::Result<()> {
    let body = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|e| io::Error::other(e.to_string()))?,
    );
    create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
    write_atomically(file, &temporary_beside(file), &body)
}

/// A temporary file next to `file` that is this writer's own: `.NAME.keyrack-PID-NANOS.tmp`
/// (two writers at the same moment never share one; leftovers are recognised by the pattern).
pub fn temporary_beside(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    file.with_file_name(format!(
        ".{name}.keyrack-{}-{nanos}.tmp",
        std::process::id()
    ))
}

/// Whether `name` is one of [`write_json`]'s temporary files (left behind only by a writer that
/// was killed mid-write).
pub fn is_json_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".keyrack-") && name.ends_with(".tmp")
}

/// The permission bits of a file (`None` where the platform has none).
pub fn mode_of(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// The mode of a file when users other than its owner may read it.
pub fn readable_by_others(meta: &fs::Metadata) -> Option<u32> {
    mode_of(meta).filter(|mode| mode & 0o077 != 0)
}

/// Sets the permission bits (nothing where the platform has none).
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Gives `path` the owner of the file `like` (matters when run as root on another user's
/// files); a normal user cannot give files away, and then the owner is already right.
pub fn keep_owner(path: &Path, like: &fs::Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match std::os::unix::fs::chown(path, Some(like.uid()), Some(like.gid())) {
            Err(e) if e.kind() != io::ErrorKind::PermissionDenied => Err(e),
            _ => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, like);
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn what_keyrack_creates_is_its_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/b");
        ensure_private_dir(&folder).unwrap();
        create_new(&folder.join("f")).unwrap();
        let mode = |p: &Path| mode_of(&fs::metadata(p).unwrap()).unwrap() & 0o777;
        assert_eq!(
            (mode(&dir.path().join("a")), mode(&folder)),
            (DIR_MODE, DIR_MODE)
        );
        assert_eq!(mode(&folder.join("f")), FILE_MODE);
        assert!(
            create_new(&folder.join("f")).is_err(),
            "never over an existing file"
        );
        set_mode(&folder.join("f"), 0o644).unwrap();
        assert_eq!(
            readable_by_others(&fs::metadata(folder.join("f")).unwrap()),
            Some(0o644)
        );
    }
}
