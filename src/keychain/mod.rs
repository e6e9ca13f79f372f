//! The OS keychain, where `keyrack vault move` keeps a profile's access key instead of the
//! plaintext credentials file: the Secret Service on Linux (gnome-keyring, KeePassXC, KWallet),
//! the login Keychain on macOS, the Credential Manager on Windows.
//!
//! **One entry per profile of a file set.** Service `keyrack`, account (user name)
//! `SETID:PROFILE`, where SETID is the id of the file set (the pair of config and credentials
//! files, [`crate::files::FilePaths::set_id`]): the one that the profile's `credential_process =
//! keyrack credential-process --profile PROFILE --file-set SETID` names. Two projects with their
//! own files (`AWS_CONFIG_FILE`, direnv) and the same profile name have two entries. On the
//! Secret Service the label names the config file, so a person can tell them apart. Entries
//! written before entries were per file set have the bare profile name as account ("legacy"
//! entries); they keep working, and keyrack copies them to the scoped account when it first uses
//! them (see [`crate::keychain::vault`]). The entry's secret is a small JSON object holding everything the
//! profile had in the files:
//!
//! ```json
//! {"version": 1, "aws_access_key_id": "AKIA…", "aws_secret_access_key": "…", "aws_session_token": "…"}
//! ```
//!
//! The access key id is kept there too, not in the files: botocore refuses a profile that has an
//! `aws_access_key_id` without its secret (`PartialCredentialsError`) before it ever runs
//! `credential_process`. `aws_session_token` and `expiration` (RFC 3339) are present only when
//! known.
//!
//! Every failure is a [`KeychainError`] worded for the person at the keyboard: no D-Bus session,
//! no Secret Service running, a locked keyring. There is no fallback to anything weaker: when the
//! keychain cannot be used, nothing is stored anywhere else. No error, `Debug` or `Display` of
//! this module ever carries a secret.

pub mod command;
pub mod mfa_sessions;
pub mod places;
pub mod vault;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry, Error as StoreError};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aws::Credentials;
use crate::secret::Secret;

/// The service name of every keyrack entry (the account is `SETID:PROFILE`).
pub const SERVICE: &str = "keyrack";

/// How many hex digits a file set id has ([`crate::files::FilePaths::set_id`]).
const FILE_SET_ID_LEN: usize = 12;

/// Whether `text` is a file set id: 12 lowercase hex digits.
pub fn is_file_set_id(text: &str) -> bool {
    text.len() == FILE_SET_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The account of `profile`'s entry in file set `file_set`: `SETID:PROFILE`.
pub fn account(file_set: &str, profile: &str) -> String {
    format!("{file_set}:{profile}")
}

/// The file set an account belongs to and its profile; `None` for a legacy account (a bare
/// profile name, written before entries were per file set). A legacy profile literally named
/// like `0123456789ab:x` would be taken for a scoped one: keyrack then never deletes it from
/// another file set, which is the safe side.
pub fn split_account(account: &str) -> Option<(&str, &str)> {
    let (set, profile) = account.split_once(':')?;
    is_file_set_id(set).then_some((set, profile))
}

/// An account in words: "profile 'dev' of file set 0123456789ab", or "profile 'dev'" (legacy).
fn describe(account: &str) -> String {
    match split_account(account) {
        Some((set, profile)) => format!("profile '{profile}' of file set {set}"),
        None => format!("profile '{account}'"),
    }
}

/// The label an entry gets on the Secret Service, which keyring managers show: the profile and
/// the config file of its file set.
pub fn label(profile: &str, config: &std::path::Path) -> String {
    format!(
        "AWS access key of profile {profile} in {} (keyrack)",
        config.display()
    )
}

/// `payload` as JSON in one buffer, big enough from the start for strings of `text_len` bytes in
/// all, so that no copy of a secret in it is left behind by a growing buffer or a JSON tree; the
/// buffer is wiped when dropped.
fn secret_json(payload: &impl Serialize, text_len: usize) -> Zeroizing<String> {
    // Every character at most 6 bytes once escaped (`\u00XX`), plus the names and punctuation.
    let mut buffer = Zeroizing::new(Vec::with_capacity(6 * text_len + 200));
    serde_json::to_writer(&mut *buffer, payload)
        .expect("a JSON object of strings always serializes");
    let bytes = std::mem::take(&mut *buffer);
    Zeroizing::new(String::from_utf8(bytes).expect("serde_json writes UTF-8"))
}

/// The version of the JSON kept in an entry; a newer one is refused, not misread.
const PAYLOAD_VERSION: u32 = 1;

/// What one keychain entry holds: a profile's access key and, for temporary credentials, its
/// session token and expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub credentials: Credentials,
    /// When temporary credentials stop working (RFC 3339), if known.
    pub expiration: Option<String>,
}

impl StoredKey {
    pub fn new(credentials: Credentials) -> Self {
        StoredKey {
            credentials,
            expiration: None,
        }
    }

    /// The JSON kept as the entry's secret. It holds the secret: only the store sees it, and it
    /// is wiped when dropped. It is written straight into one buffer, big enough from the start,
    /// so that no copy of the secret is left behind by a growing buffer or a JSON tree.
    fn to_payload(&self) -> Zeroizing<String> {
        #[derive(Serialize)]
        struct Payload<'a> {
            version: u32,
            aws_access_key_id: &'a str,
            aws_secret_access_key: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            aws_session_token: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            expiration: Option<&'a str>,
        }
        let c = &self.credentials;
        let payload = Payload {
            version: PAYLOAD_VERSION,
            aws_access_key_id: &c.access_key_id,
            aws_secret_access_key: c.secret_access_key.expose(),
            aws_session_token: c.session_token.as_ref().map(Secret::expose),
            expiration: self.expiration.as_deref(),
        };
        let text_len = [
            Some(payload.aws_access_key_id),
            Some(payload.aws_secret_access_key),
            payload.aws_session_token,
            payload.expiration,
        ]
        .iter()
        .flatten()
        .map(|s| s.len())
        .sum::<usize>();
        secret_json(&payload, text_len)
    }

    /// Read an entry's secret. Errors never quote it (serde's messages can).
    fn from_payload(text: &str, account: &str) -> Result<Self, KeychainError> {
        // No `Debug`: the fields are secrets.
        #[derive(Deserialize)]
        struct Payload {
            version: u32,
            aws_access_key_id: String,
            aws_secret_access_key: String,
            aws_session_token: Option<String>,
            expiration: Option<String>,
        }
        let unreadable = || KeychainError::Unreadable {
            account: account.to_string(),
        };
        let payload: Payload = serde_json::from_str(text).map_err(|_| unreadable())?;
        if payload.version != PAYLOAD_VERSION
            || payload.aws_access_key_id.is_empty()
            || payload.aws_secret_access_key.is_empty()
        {
            return Err(unreadable());
        }
        Ok(StoredKey {
            credentials: Credentials::new(
                payload.aws_access_key_id,
                payload.aws_secret_access_key,
                payload.aws_session_token.map(Secret::new),
            ),
            expiration: payload.expiration,
        })
    }
}

/// Why the keychain could not do what was asked, in words that say what to do next. None of
/// them carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    #[error(
        "no D-Bus session bus, so the Secret Service keychain cannot be reached ({detail}); run keyrack inside your desktop \
         session, or on a machine without one start a session with `dbus-run-session -- $SHELL` and a keyring in it \
         (`gnome-keyring-daemon --unlock --components=secrets`)"
    )]
    NoSessionBus { detail: String },
    #[error(
        "no Secret Service is running on the D-Bus session bus, so there is no keychain to use; install and start \
         gnome-keyring (`apt install gnome-keyring`, then log in again or run `gnome-keyring-daemon --start \
         --components=secrets`) or enable the Secret Service integration of KeePassXC"
    )]
    NoSecretService,
    #[error(
        "the keychain is locked and was not unlocked (the unlock prompt was dismissed or could not be shown); unlock \
         your login keyring (Passwords and Keys, KeePassXC, or `gnome-keyring-daemon --unlock` without a desktop) and \
         try again"
    )]
    Locked,
    #[error(
        "the keychain has no entry for {} (service '{SERVICE}', account '{account}')",
        describe(account)
    )]
    NoEntry { account: String },
    #[error(
        "the keychain holds several entries for {} (service '{SERVICE}', account '{account}'); remove the extra ones \
         with your keyring manager", describe(account)
    )]
    Ambiguous { account: String },
    #[error("the keychain entry for {} (service '{SERVICE}', account '{account}') is not one keyrack can read", describe(account))]
    Unreadable { account: String },
    #[error(
        "the keychain did not give back what was just stored for {} (account '{account}'); nothing else was changed",
        describe(account)
    )]
    ReadBackMismatch { account: String },
    #[error("keyrack has no keychain store for this operating system")]
    Unsupported,
    #[error("the keychain failed: {0}")]
    Platform(String),
}

impl KeychainError {
    /// A stable snake_case code for programs (the desktop app, `whoami --json`).
    pub fn code(&self) -> &'static str {
        match self {
            KeychainError::NoSessionBus { .. } => "no_session_bus",
            KeychainError::NoSecretService => "no_secret_service",
            KeychainError::Locked => "keychain_locked",
            KeychainError::NoEntry { .. } => "no_keychain_entry",
            KeychainError::Ambiguous { .. } => "ambiguous_keychain_entry",
            KeychainError::Unreadable { .. } => "unreadable_keychain_entry",
            KeychainError::ReadBackMismatch { .. } => "keychain_read_back_mismatch",
            KeychainError::Unsupported => "no_keychain",
            KeychainError::Platform(_) => "keychain_failed",
        }
    }

    /// Turn a store error into plain words. `BadEncoding` and `BadDataFormat` carry the raw
    /// secret bytes: they are dropped here, never formatted.
    fn from_store(error: StoreError, account: &str) -> Self {
        match error {
            StoreError::NoEntry => KeychainError::NoEntry {
                account: account.to_string(),
            },
            StoreError::NoStorageAccess(_) => KeychainError::Locked,
            StoreError::PlatformFailure(inner) => classify_platform_failure(&inner.to_string()),
            StoreError::Ambiguous(_) => KeychainError::Ambiguous {
                account: account.to_string(),
            },
            StoreError::BadEncoding(_) | StoreError::BadDataFormat(..) => {
                KeychainError::Unreadable {
                    account: account.to_string(),
                }
            }
            StoreError::NoDefaultStore => KeychainError::Unsupported,
            StoreError::TooLong(what, limit) => KeychainError::Platform(format!(
                "the {what} is longer than the keychain allows ({limit})"
            )),
            StoreError::Invalid(what, why) => {
                KeychainError::Platform(format!("invalid {what}: {why}"))
            }
            StoreError::BadStoreFormat(why) | StoreError::NotSupportedByStore(why) => {
                KeychainError::Platform(one_line(&why))
            }
            other => KeychainError::Platform(one_line(&other.to_string())),
        }
    }
}

/// The D-Bus errors behind "no bus" and "no Secret Service" (measured with the zbus store):
/// `Failed to connect to address …` and `… org.freedesktop.secrets was not provided by any
/// .service files`.
fn classify_platform_failure(text: &str) -> KeychainError {
    let text = one_line(text);
    if text.contains("org.freedesktop.secrets")
        || text.contains("ServiceUnknown")
        || text.contains("NameHasNoOwner")
    {
        KeychainError::NoSecretService
    } else if text.contains("Failed to connect")
        || text.contains("session bus")
        || text.contains("DBUS_SESSION_BUS_ADDRESS")
    {
        KeychainError::NoSessionBus { detail: text }
    } else {
        KeychainError::Platform(text)
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The keychain keyrack keeps keys in, passed to every operation that needs one: the
/// platform's ([`Keychain::platform`], connected on first use, so a command that needs no
/// keychain never touches D-Bus) or a private in-memory one ([`Keychain::in_memory`], for tests
/// and nothing else: it is gone when the process ends). Clones share one connection.
#[derive(Clone)]
pub struct Keychain {
    inner: Arc<Shared>,
}

struct Shared {
    kind: StoreKind,
    store: Mutex<Option<Arc<CredentialStore>>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Platform,
    InMemory,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner.kind {
            StoreKind::Platform => "platform",
            StoreKind::InMemory => "in memory",
        };
        f.debug_struct("Keychain").field("store", &kind).finish()
    }
}

impl Keychain {
    /// This system's keychain; it connects (on Linux, to the Secret Service over D-Bus) when
    /// first used, and each use reports a missing one in plain words.
    pub fn platform() -> Keychain {
        Keychain::of(StoreKind::Platform, None)
    }

    /// A keychain that lives in this process only: for tests of everything above the store.
    pub fn in_memory() -> Keychain {
        let store: Arc<CredentialStore> =
            keyring_core::mock::Store::new().expect("the in-memory store always opens");
        Keychain::of(StoreKind::InMemory, Some(store))
    }

    fn of(kind: StoreKind, store: Option<Arc<CredentialStore>>) -> Keychain {
        Keychain {
            inner: Arc::new(Shared {
                kind,
                store: Mutex::new(store),
            }),
        }
    }

    /// Connect now, so that a missing keychain is reported before anything else happens.
    pub fn connect(&self) -> Result<(), KeychainError> {
        self.connected_store().map(|_| ())
    }

    fn connected_store(&self) -> Result<Arc<CredentialStore>, KeychainError> {
        let mut store = self.inner.store.lock().expect("keychain lock");
        if let Some(store) = store.as_ref() {
            return Ok(store.clone());
        }
        let connected = platform_store().map_err(|e| KeychainError::from_store(e, ""))?;
        *store = Some(connected.clone());
        Ok(connected)
    }

    /// A store error in words. When the keychain itself failed (no bus, no Secret Service, a
    /// broken connection), the connection is dropped, so the next use connects again: a
    /// long-running app keeps working after the Secret Service restarts.
    fn failed(&self, error: StoreError, account: &str) -> KeychainError {
        let error = KeychainError::from_store(error, account);
        let broken = matches!(
            error,
            KeychainError::NoSessionBus { .. }
                | KeychainError::NoSecretService
                | KeychainError::Platform(_)
        );
        if broken && self.inner.kind == StoreKind::Platform {
            *self.inner.store.lock().expect("keychain lock") = None;
        }
        error
    }

    /// The entry of `account`; `label` is what a new item is called on the Secret Service (an
    /// existing item keeps its own).
    fn entry(&self, account: &str, label: Option<&str>) -> Result<Entry, KeychainError> {
        let default = format!("AWS access key of {} (keyrack)", describe(account));
        self.entry_of(SERVICE, account, label.unwrap_or(&default))
    }

    /// The entry of `account` under `service`, labelled `label` when it is new.
    fn entry_of(&self, service: &str, account: &str, label: &str) -> Result<Entry, KeychainError> {
        let store = self.connected_store()?;
        // The Secret Service shows a label in keyring managers (Passwords and Keys, KeePassXC).
        let entry = if cfg!(target_os = "linux") && self.inner.kind == StoreKind::Platform {
            Entry::new_in_store_with_modifiers(
                &store,
                service,
                account,
                &HashMap::from([("label", label)]),
            )
        } else {
            Entry::new_in_store(&store, service, account)
        };
        entry.map_err(|e| self.failed(e, account))
    }

    /// The accounts of every entry under `service`, sorted; `None` where the platform's store
    /// is not searched (only the Secret Service is searched by attributes).
    fn accounts_of(&self, service: &str) -> Result<Option<Vec<String>>, KeychainError> {
        if !cfg!(target_os = "linux") && self.inner.kind == StoreKind::Platform {
            return Ok(None);
        }
        let spec = HashMap::from([("service", service)]);
        let entries = self
            .connected_store()?
            .search(&spec)
            .map_err(|e| self.failed(e, ""))?;
        let mut accounts: Vec<String> = entries
            .iter()
            .filter_map(|e| e.get_specifiers())
            .filter(|(found, _)| found == service)
            .map(|(_, account)| account)
            .collect();
        accounts.sort();
        accounts.dedup();
        Ok(Some(accounts))
    }

    /// The key kept for a profile; [`KeychainError::NoEntry`] when there is none.
    pub fn get(&self, account: &str) -> Result<StoredKey, KeychainError> {
        let text = Zeroizing::new(
            self.entry(account, None)?
                .get_password()
                .map_err(|e| self.failed(e, account))?,
        );
        StoredKey::from_payload(&text, account)
    }

    /// The key kept for a profile, or `None` when there is no entry.
    pub fn find(&self, account: &str) -> Result<Option<StoredKey>, KeychainError> {
        match self.get(account) {
            Ok(key) => Ok(Some(key)),
            Err(KeychainError::NoEntry { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Store a profile's key (replacing what the entry held), then read it back and compare:
    /// success means the keychain really holds it.
    pub fn store(&self, account: &str, key: &StoredKey) -> Result<(), KeychainError> {
        self.store_labelled(account, None, key)
    }

    /// [`Keychain::store`], naming a new entry `label` on the Secret Service (see [`label`]).
    pub fn store_labelled(
        &self,
        account: &str,
        label: Option<&str>,
        key: &StoredKey,
    ) -> Result<(), KeychainError> {
        self.entry(account, label)?
            .set_password(&key.to_payload())
            .map_err(|e| self.failed(e, account))?;
        match self.get(account) {
            Ok(read) if read == *key => Ok(()),
            Ok(_) | Err(KeychainError::NoEntry { .. } | KeychainError::Unreadable { .. }) => {
                Err(KeychainError::ReadBackMismatch {
                    account: account.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Remove a profile's entry. `Ok(false)`: there was none.
    pub fn delete(&self, account: &str) -> Result<bool, KeychainError> {
        match self.entry(account, None)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(StoreError::NoEntry) => Ok(false),
            Err(e) => Err(self.failed(e, account)),
        }
    }

    /// The accounts (`SETID:PROFILE`, or a bare profile name for legacy entries) of every keyrack
    /// entry, sorted, found without reading any
    /// secret; `None` where keyrack does not search the platform's store (only the Secret
    /// Service is searched by attributes).
    pub fn accounts(&self) -> Result<Option<Vec<String>>, KeychainError> {
        self.accounts_of(SERVICE)
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(StoreError::NoDefaultStore)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN";

    #[test]
    fn payload_round_trips_with_and_without_token() {
        let plain = StoredKey::new(Credentials::new("AKIAEXAMPLE", SECRET, None));
        assert_eq!(
            StoredKey::from_payload(&plain.to_payload(), "p").unwrap(),
            plain
        );
        let session = StoredKey {
            credentials: Credentials::new("ASIAEXAMPLE", SECRET, Some(Secret::new(TOKEN))),
            expiration: Some("2030-01-01T00:00:00Z".into()),
        };
        assert_eq!(
            StoredKey::from_payload(&session.to_payload(), "p").unwrap(),
            session
        );
        assert!(!plain.to_payload().contains("aws_session_token"));
    }

    #[test]
    fn payload_is_the_documented_json_object() {
        let session = StoredKey {
            credentials: Credentials::new("ASIAEXAMPLE", SECRET, Some(Secret::new(TOKEN))),
            expiration: Some("2030-01-01T00:00:00Z".into()),
        };
        assert_eq!(
            *session.to_payload(),
            format!(
                r#"{{"version":1,"aws_access_key_id":"ASIAEXAMPLE","aws_secret_access_key":"{SECRET}","aws_session_token":"{TOKEN}","expiration":"2030-01-01T00:00:00Z"}}"#
            )
        );
        let odd = StoredKey::new(Credentials::new(
            "AKIAEXAMPLE",
            "\u{1}\"\\".repeat(50),
            None,
        ));
        assert_eq!(
            StoredKey::from_payload(&odd.to_payload(), "p").unwrap(),
            odd
        );
    }

    #[test]
    fn unreadable_payload_error_never_quotes_the_entry() {
        for text in [format!("{{\"version\": \"{SECRET}\"}}"), SECRET.to_string(), format!("{{\"version\": 2, \"aws_access_key_id\": \"A\", \"aws_secret_access_key\": \"{SECRET}\"}}")] {
            let error = StoredKey::from_payload(&text, "p").unwrap_err();
            assert_eq!(error, KeychainError::Unreadable { account: "p".into() });
            assert!(!format!("{error} {error:?}").contains(SECRET));
        }
    }

    #[test]
    fn stored_key_debug_shows_no_secret() {
        let key = StoredKey::new(Credentials::new(
            "AKIAEXAMPLE",
            SECRET,
            Some(Secret::new(TOKEN)),
        ));
        let text = format!("{key:?}");
        assert!(text.contains("AKIAEXAMPLE") && !text.contains(SECRET) && !text.contains(TOKEN));
    }

    #[test]
    fn store_errors_with_secret_bytes_are_dropped() {
        let error =
            KeychainError::from_store(StoreError::BadEncoding(SECRET.as_bytes().to_vec()), "p");
        assert!(!format!("{error} {error:?}").contains(SECRET));
    }

    #[test]
    fn accounts_name_their_file_set_and_legacy_ones_do_not() {
        assert_eq!(account("0123456789ab", "dev"), "0123456789ab:dev");
        assert_eq!(
            split_account("0123456789ab:team:prod"),
            Some(("0123456789ab", "team:prod"))
        );
        for legacy in [
            "dev",
            "team/prod@corp:1",
            "0123456789AB:dev",
            "0123:dev",
            ":dev",
        ] {
            assert_eq!(split_account(legacy), None, "{legacy}");
        }
        let missing = KeychainError::NoEntry {
            account: account("0123456789ab", "dev"),
        }
        .to_string();
        assert!(
            missing.contains("profile 'dev' of file set 0123456789ab"),
            "{missing}"
        );
        let legacy = KeychainError::NoEntry {
            account: "dev".into(),
        }
        .to_string();
        assert!(
            legacy.starts_with("the keychain has no entry for profile 'dev'"),
            "{legacy}"
        );
    }

    #[test]
    fn dbus_failures_become_plain_words() {
        let no_bus = classify_platform_failure(
            "zbus error: Failed to connect to address unix:path=/nonexistent: No such file",
        );
        assert!(matches!(no_bus, KeychainError::NoSessionBus { .. }));
        let no_service = classify_platform_failure(
            "zbus error: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files",
        );
        assert_eq!(no_service, KeychainError::NoSecretService);
        assert!(
            no_service.to_string().contains("gnome-keyring")
                && no_service.to_string().contains("KeePassXC")
        );
        assert_eq!(
            KeychainError::from_store(StoreError::NoStorageAccess(Box::new(std::fmt::Error)), "p"),
            KeychainError::Locked
        );
    }
}
