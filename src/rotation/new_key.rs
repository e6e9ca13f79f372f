//! The new key of an open rotation, kept where no other program rewrites it (a 0600 file in
//! keyrack's 0700 state folder) from the moment AWS hands it over until the rotation closes, so
//! that its secret never lives only in keyrack's memory: another program writing the AWS files
//! back from a stale copy, or a crash, cannot lose it. Removed when the rotation closes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroize;

use crate::aws::{Credentials, Secret};

/// Where the new key of the rotation of `old_key_id` is kept (beside its journal; not a
/// `.json` file, so it is never taken for one).
fn path_of(journal_dir: &Path, old_key_id: &str) -> PathBuf {
    let safe: String = old_key_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    journal_dir.join(format!("{safe}.new-key"))
}

/// Keeps `new` (id and secret) for the rotation of `old_key_id`: written to a temporary file
/// (0600), fsynced, renamed into place. The folder is the journal's (0700).
pub(super) fn keep(journal_dir: &Path, old_key_id: &str, new: &Credentials) -> io::Result<()> {
    let target = path_of(journal_dir, old_key_id);
    let tmp = target.with_extension(format!("new-key.{}.tmp", std::process::id()));
    let mut json = serde_json::json!({
        "aws_access_key_id": new.access_key_id,
        "aws_secret_access_key": new.secret_access_key.expose(),
    })
    .to_string();
    let written = (|| {
        let _ = fs::remove_file(&tmp);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(json.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, &target)?;
        if let Ok(dir) = File::open(journal_dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    // The text held the secret: overwrite it before it is freed.
    json.zeroize();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// The new key kept for the rotation of `old_key_id`, if it is there and readable.
pub(super) fn kept(journal_dir: &Path, old_key_id: &str) -> Option<Credentials> {
    // No `Debug`: the secret is in it.
    #[derive(Deserialize)]
    struct Kept {
        aws_access_key_id: String,
        aws_secret_access_key: String,
    }
    let bytes = fs::read(path_of(journal_dir, old_key_id)).ok()?;
    let kept: Kept = serde_json::from_slice(&bytes).ok()?;
    Some(Credentials::new(
        kept.aws_access_key_id,
        Secret::new(kept.aws_secret_access_key),
        None,
    ))
}

/// The rotation is closed: its new key is in the files (or was given up), so the copy goes.
pub(super) fn forget(journal_dir: &Path, old_key_id: &str) -> io::Result<()> {
    match fs::remove_file(path_of(journal_dir, old_key_id)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "newSecretnewSecretnewSecretnewSecret1111";

    #[test]
    fn the_new_key_is_kept_privately_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let new = Credentials::new("AKIANEWNEWNEWNEWNEW2", SECRET, None);
        keep(dir.path(), "AKIAOLD", &new).unwrap();
        assert_eq!(kept(dir.path(), "AKIAOLD"), Some(new));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path_of(dir.path(), "AKIAOLD")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["AKIAOLD.new-key"], "no temporary file is left");
        forget(dir.path(), "AKIAOLD").unwrap();
        assert_eq!(kept(dir.path(), "AKIAOLD"), None);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        forget(dir.path(), "AKIAOLD").expect("forgetting twice is fine");
    }
}
