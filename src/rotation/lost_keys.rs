//! Whose a lost key was: noted when keyrack deletes a key whose secret AWS refuses in every
//! profile holding it (to make room for its replacement), so that the replacement can still prove
//! the new key is the same user's. `STATE/lost-keys/KEYID.json`, key ids and ARNs only.

use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::files::private;

/// A lost key keyrack deleted, and the user it belonged to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostKey {
    pub access_key_id: String,
    pub arn: String,
}

/// Notes that `access_key_id`, of user `arn`, was deleted while profiles still held it.
pub fn note(dir: &Path, access_key_id: &str, arn: &str) -> io::Result<()> {
    private::ensure_private_dir(dir)?;
    let target = super::journal::path_of(dir, access_key_id);
    let tmp = target.with_extension(format!("{}.tmp", std::process::id()));
    let json = serde_json::to_vec(&LostKey {
        access_key_id: access_key_id.to_owned(),
        arn: arn.to_owned(),
    })
    .map_err(io::Error::other)?;
    private::write_atomically(&target, &tmp, &json)
}

/// What was noted about `access_key_id`, if anything.
pub fn noted(dir: &Path, access_key_id: &str) -> Option<LostKey> {
    let bytes = fs::read(super::journal::path_of(dir, access_key_id)).ok()?;
    serde_json::from_slice::<LostKey>(&bytes)
        .ok()
        .filter(|lost| lost.access_key_id == access_key_id)
}

/// The note is of no more use once the key is replaced.
pub fn forget(dir: &Path, access_key_id: &str) {
    let _ = fs::remove_file(super::journal::path_of(dir, access_key_id));
}
