//! The new key of an open rotation, kept where no other program rewrites it (a 0600 file in
//! `STATE/new-keys/`, 0700; never beside the journal, which holds no secret) from the moment AWS
//! hands it over until the rotation closes, so
//! that its secret never lives only in keyrack's memory: another program writing the AWS files
//! back from a stale copy, or a crash, cannot lose it. Removed when the rotation closes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

use crate::aws::Credentials;
use crate::files::private;
use crate::secret::Secret;

/// Where the new key of the rotation of `old_key_id` is kept: named as its journal is, in
/// another folder.
fn path_of(dir: &Path, old_key_id: &str) -> PathBuf {
    super::journal::path_of(dir, old_key_id)
}

/// Keeps `new` (id and secret) for the rotation of `old_key_id`: written to a temporary file
/// (0600), fsynced, renamed into place, in `dir` (created 0700).
pub(super) fn keep(dir: &Path, old_key_id: &str, new: &Credentials) -> io::Result<()> {
    private::ensure_private_dir(dir)?;
    let target = path_of(dir, old_key_id);
    let tmp = target.with_extension(format!("{}.tmp", std::process::id()));
    #[derive(serde::Serialize)]
    struct Kept<'a> {
        aws_access_key_id: &'a str,
        aws_secret_access_key: &'a str,
    }
    let kept = Kept {
        aws_access_key_id: &new.access_key_id,
        aws_secret_access_key: new.secret_access_key.expose(),
    };
    // One buffer, large enough from the start (no copies left behind by growing), wiped below.
    let mut json = Vec::with_capacity(
        64 + kept.aws_access_key_id.len() + kept.aws_secret_access_key.len() * 2,
    );
    serde_json::to_writer(&mut json, &kept).map_err(io::Error::other)?;
    let written = private::write_atomically(&target, &tmp, &json);
    // The text held the secret: overwrite it before it is freed.
    json.zeroize();
    written
}

/// The new key kept for the rotation of `old_key_id`, if it is there and readable.
pub(super) fn kept(dir: &Path, old_key_id: &str) -> Option<Credentials> {
    // No `Debug`: the secret is in it.
    #[derive(Deserialize)]
    struct Kept {
        aws_access_key_id: String,
        aws_secret_access_key: String,
    }
    let bytes = Zeroizing::new(fs::read(path_of(dir, old_key_id)).ok()?);
    let kept: Kept = serde_json::from_slice(&bytes).ok()?;
    // `Secret` takes the string as it is (no copy) and wipes it when dropped.
    Some(Credentials::new(
        kept.aws_access_key_id,
        Secret::new(kept.aws_secret_access_key),
        None,
    ))
}

/// The rotation is closed: its new key is in the files (or was given up), so the copy goes.
pub(super) fn forget(dir: &Path, old_key_id: &str) -> io::Result<()> {
    // A temporary file a killed `keep` left behind holds the secret too.
    let target = path_of(dir, old_key_id);
    let stem = target.with_extension("");
    let stem = stem
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!("{stem}.")) && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    match fs::remove_file(target) {
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
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("new-keys");
        let dir = dir.as_path();
        let new = Credentials::new("AKIANEWNEWNEWNEWNEW2", SECRET, None);
        keep(dir, "AKIAOLD", &new).unwrap();
        assert_eq!(kept(dir, "AKIAOLD"), Some(new));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path_of(dir, "AKIAOLD")), 0o600);
            assert_eq!(mode(dir), 0o700);
        }
        let names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["AKIAOLD.json"], "no temporary file is left");
        forget(dir, "AKIAOLD").unwrap();
        assert_eq!(kept(dir, "AKIAOLD"), None);
        assert_eq!(fs::read_dir(dir).unwrap().count(), 0);
        forget(dir, "AKIAOLD").expect("forgetting twice is fine");
        // A `keep` killed before its rename left its temporary file: forgetting removes it too.
        fs::write(dir.join("AKIAOLD.4242.tmp"), SECRET).unwrap();
        forget(dir, "AKIAOLD").unwrap();
        assert_eq!(
            fs::read_dir(dir).unwrap().count(),
            0,
            "no copy of the secret is left"
        );
    }
}
