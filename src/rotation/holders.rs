//! The holders of an access key that a rotation must update: every profile of the files whose
//! keychain entry holds it, and the key's secret from such an entry.

use crate::aws::Credentials;
use crate::files::AwsFiles;
use crate::keychain::places::{keychain_profiles, KeychainHolder};
use crate::keychain::{Keychain, KeychainError, StoredKey};

/// Every keychain profile whose entry holds the access key `access_key_id`, in file order: what
/// a rotation must update besides the profiles holding the key in the files. An entry that
/// several profiles use is read once.
pub fn keychain_holders(
    files: &AwsFiles,
    keychain: &Keychain,
    access_key_id: &str,
) -> Result<Vec<KeychainHolder>, KeychainError> {
    let mut holders = Vec::new();
    let mut read: Vec<(String, bool)> = Vec::new();
    for holder in keychain_profiles(files) {
        let holds = match read.iter().find(|(account, _)| *account == holder.account) {
            Some((_, holds)) => *holds,
            None => {
                let holds = keychain
                    .find(&holder.account)?
                    .is_some_and(|key| key.credentials.access_key_id == access_key_id);
                read.push((holder.account.clone(), holds));
                holds
            }
        };
        if holds {
            holders.push(holder);
        }
    }
    Ok(holders)
}

/// [`keychain_holders`] for code that must not mistake a key for unused (rotation): the keychain
/// is opened only when a profile of the files is in it, and when it cannot be read every keychain
/// profile counts as a holder. Writing a key to them then fails, which stops a rotation before
/// the old key is touched. Check [`read_keychain_profiles`] first to refuse early instead.
pub fn keychain_holders_or_all(
    files: &AwsFiles,
    keychain: &Keychain,
    access_key_id: &str,
) -> Vec<KeychainHolder> {
    let all = keychain_profiles(files);
    if all.is_empty() {
        return all;
    }
    keychain_holders(files, keychain, access_key_id).unwrap_or(all)
}

/// Reads the entry of every keychain profile of the files: `Ok` when each is readable or absent
/// (an absent entry holds no key); else the first profile whose entry cannot be read, and why
/// (no keychain, locked...). A rotation checks this before it starts.
pub fn read_keychain_profiles(
    files: &AwsFiles,
    keychain: &Keychain,
) -> Result<(), (String, KeychainError)> {
    let all = keychain_profiles(files);
    let Some(first) = all.first() else {
        return Ok(());
    };
    keychain.connect().map_err(|e| (first.profile.clone(), e))?;
    for holder in &all {
        keychain
            .find(&holder.account)
            .map_err(|e| (holder.profile.clone(), e))?;
    }
    Ok(())
}

/// The key `access_key_id` with its secret, from the first keychain entry (of a profile of the
/// files) that holds it; `None` when none does or the keychain cannot be read.
pub fn keychain_credentials(
    files: &AwsFiles,
    keychain: &Keychain,
    access_key_id: &str,
) -> Option<Credentials> {
    let all = keychain_profiles(files);
    if all.is_empty() {
        return None;
    }
    all.iter()
        .filter_map(|holder| keychain.find(&holder.account).ok().flatten())
        .map(|key| key.credentials)
        .find(|credentials| credentials.access_key_id == access_key_id)
}

/// A rotation's write: puts `to` (a new long-term key, no session token) into every keychain
/// entry that holds `from`, each read back before the next. Returns the holders written; on an
/// error, also the holders written before it (they hold `to`, the rest still `from`: both keys
/// work until the old one is deactivated, which must therefore wait for this to succeed).
///
/// Every other keyrack entry that holds `from` gets `to` as well, though no profile of these
/// files names it: a legacy entry (from before entries were per file set) or another file set's
/// copy of the same key, which would otherwise be left with a key about to be deleted. (Only the
/// Secret Service can be searched for them; see [`Keychain::accounts`].)
pub fn replace_key_in_keychain(
    files: &AwsFiles,
    keychain: &Keychain,
    from: &str,
    to: &Credentials,
) -> Result<Vec<KeychainHolder>, (Vec<KeychainHolder>, KeychainError)> {
    match keychain.connect() {
        Ok(()) => {}
        // No keychain, and no profile here in it: nothing to write (no legacy entry either).
        Err(_) if keychain_profiles(files).is_empty() => return Ok(Vec::new()),
        Err(e) => return Err((Vec::new(), e)),
    }
    let holders = keychain_holders(files, keychain, from).map_err(|e| (Vec::new(), e))?;
    let key = StoredKey::new(Credentials {
        session_token: None,
        ..to.clone()
    });
    let mut written: Vec<KeychainHolder> = Vec::new();
    for holder in holders {
        if !written.iter().any(|w| w.account == holder.account) {
            if let Err(error) = keychain.store(&holder.account, &key) {
                return Err((written, error));
            }
        }
        written.push(holder);
    }
    let others = match keychain.accounts() {
        Ok(Some(accounts)) => accounts,
        Ok(None) | Err(_) => Vec::new(),
    };
    for account in others {
        if written.iter().any(|w| w.account == account) {
            continue;
        }
        let holds = matches!(keychain.find(&account), Ok(Some(held)) if held.credentials.access_key_id == from);
        if holds {
            keychain
                .store(&account, &key)
                .map_err(|error| (written.clone(), error))?;
        }
    }
    Ok(written)
}
