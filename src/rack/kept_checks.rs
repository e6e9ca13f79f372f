//! What the last identity checks of a file set found, kept between launches in keyrack's state
//! folder (`STATE/checks/SETID.json`, 0600): each profile's view and a salted digest of the
//! settings it was checked with, so a result is shown as stale once they change. No secret is
//! kept: a secret enters only the digest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::IdentityView;
use crate::files::model::{Reading, Value};
use crate::files::{lock, private, AwsFiles, FileKind};
use crate::hex::hex;

/// Format of the file; another version is read as empty (results are only a convenience).
const VERSION: u32 = 1;

/// A profile's last result, as the window shows it after a launch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeptCheck {
    /// The identity view as it was made (times in it are as they were then, except
    /// `session_minutes_left`, which counts down to now).
    pub view: Json,
    /// The profile's settings (its key, its source profile's, its sso-session's) have changed
    /// since, or keyrack changed its key elsewhere (a rotation of its keychain entry), or the
    /// session it was had with is gone: the result no longer says who it is.
    pub stale: bool,
    /// Why, when it is stale: what the window says on the result.
    pub stale_because: Option<StaleCause>,
}

/// Why a kept result no longer says who a profile is. Each has a badge and a note in
/// [`crate::vocabulary`]: the window never blames a change the person did not make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleCause {
    /// Its settings (or its source profile's, or its sso-session's) changed in the files.
    SettingsChanged,
    /// keyrack changed its key where the files do not show it (a rotation or a replacement of
    /// a keychain-held key).
    KeyChanged,
    /// The session it was checked with (a role's, an MFA device's) has ended.
    SessionEnded,
    /// The session it was checked with was forgotten (`keyrack sessions --forget`, the window).
    SessionForgotten,
    /// The IAM Identity Center sign-in it was checked with was signed out.
    SignedOut,
    /// keyrack changed, or may have changed, what it was checked with (a rotation that did not
    /// finish; a mark kept by an older keyrack, which kept no cause).
    ChangedByKeyrack,
}

impl StaleCause {
    pub const ALL: [StaleCause; 6] = [
        StaleCause::SettingsChanged,
        StaleCause::KeyChanged,
        StaleCause::SessionEnded,
        StaleCause::SessionForgotten,
        StaleCause::SignedOut,
        StaleCause::ChangedByKeyrack,
    ];

    /// Its name in the window's vocabulary (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            StaleCause::SettingsChanged => "settings_changed",
            StaleCause::KeyChanged => "key_changed",
            StaleCause::SessionEnded => "session_ended",
            StaleCause::SessionForgotten => "session_forgotten",
            StaleCause::SignedOut => "signed_out",
            StaleCause::ChangedByKeyrack => "changed_by_keyrack",
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    version: u32,
    /// Random, per store: what makes a digest of a secret useless outside it.
    salt: String,
    /// The files these results are of, as named when first kept (the file name is their set id).
    config: PathBuf,
    credentials: PathBuf,
    profiles: BTreeMap<String, Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// The digest of what the check depended on ([`basis`]).
    basis: String,
    /// When keyrack marked it stale (what it was checked with changed where the files do not
    /// show it: a keychain key, a session, a sign-in), in milliseconds since the epoch; a check
    /// that started before that does not clear it.
    #[serde(default)]
    marked_at: Option<u64>,
    /// Why it was marked. A mark kept by an older keyrack has none, and one a newer keyrack
    /// names is not known here: either reads as [`StaleCause::ChangedByKeyrack`], and the
    /// store stays readable.
    #[serde(default, deserialize_with = "known_cause")]
    marked_because: Option<StaleCause>,
    view: Json,
}

/// A cause this keyrack knows, or none.
fn known_cause<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<StaleCause>, D::Error> {
    let value = Option::<Json>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

fn store_path(state_dir: &Path, set_id: &str) -> PathBuf {
    state_dir.join("checks").join(format!("{set_id}.json"))
}

fn load(path: &Path) -> Store {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Store>(&bytes).ok())
        .filter(|store| store.version == VERSION && !store.salt.is_empty())
        .unwrap_or_default()
}

/// Change the store of `files` under its own lock (another keyrack may record at the same
/// moment); a store that cannot be written is left as it was (results are a convenience, the
/// check itself succeeded).
fn update(state_dir: &Path, files: &AwsFiles, change: impl FnOnce(&mut Store)) {
    let set_id = crate::keychain::places::file_set(files);
    let Ok(Some(_lock)) = lock::lock_named(
        state_dir,
        &format!("checks-{set_id}"),
        "keyrack keeping check results",
        Duration::from_secs(5),
    ) else {
        return;
    };
    let path = store_path(state_dir, &set_id);
    let mut store = load(&path);
    if store.salt.is_empty() {
        let mut salt = [0u8; 16];
        if getrandom::fill(&mut salt).is_err() {
            return;
        }
        store = Store {
            version: VERSION,
            salt: hex(&salt),
            config: files.path(FileKind::Config).to_path_buf(),
            credentials: files.path(FileKind::Credentials).to_path_buf(),
            profiles: BTreeMap::new(),
        };
    }
    change(&mut store);
    let _ = private::write_json(&path, &store);
}

/// Milliseconds since the epoch.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Keep `views` (checked on `files`, read as `reading`, from `started_at`) as each profile's
/// last result; a profile marked stale after the check started stays marked (the check may have
/// used the key that changed). Profiles the files no longer have are forgotten.
pub(super) fn record(
    state_dir: &Path,
    files: &AwsFiles,
    reading: &Reading,
    views: &[IdentityView],
    started_at: u64,
) {
    update(state_dir, files, |store| {
        store
            .profiles
            .retain(|name, _| reading.profiles.contains_key(name));
        for view in views {
            let Ok(json) = serde_json::to_value(view) else {
                continue;
            };
            let (marked_at, marked_because) = store
                .profiles
                .get(&view.profile)
                .filter(|entry| entry.marked_at.is_some_and(|marked| marked >= started_at))
                .map_or((None, None), |entry| {
                    (entry.marked_at, entry.marked_because)
                });
            let entry = Entry {
                basis: basis(&store.salt, reading, &view.profile),
                marked_at,
                marked_because,
                view: json,
            };
            store.profiles.insert(view.profile.clone(), entry);
        }
    });
}

/// Mark stale, `because` of what, the kept results of `changed` and of every profile that
/// takes its credentials from one of them: what they were checked with changed where the files
/// do not show it (a keychain entry, a session).
pub(super) fn mark_stale(
    state_dir: &Path,
    files: &AwsFiles,
    changed: &[String],
    because: StaleCause,
) {
    let reading = files.read(crate::files::Dialect::Cli);
    let now = now_ms();
    update(state_dir, files, |store| {
        for (name, entry) in store.profiles.iter_mut() {
            if chain(&reading, name)
                .iter()
                .any(|link| changed.iter().any(|c| c == link))
            {
                entry.marked_at = Some(now);
                entry.marked_because = Some(because);
            }
        }
    });
}

/// The kept result of every profile `reading` has, stale where its settings changed since.
pub(super) fn kept(state_dir: &Path, files: &AwsFiles, reading: &Reading) -> Vec<KeptCheck> {
    let set_id = crate::keychain::places::file_set(files);
    let store = load(&store_path(state_dir, &set_id));
    let now = now_ms();
    reading
        .profiles
        .keys()
        .filter_map(|name| {
            let entry = store.profiles.get(name)?;
            let mut view = entry.view.clone();
            let session_ended = count_down(&mut view, now);
            // What keyrack itself did is the surest cause, then time, then the files.
            let stale_because = if entry.marked_at.is_some() {
                Some(entry.marked_because.unwrap_or(StaleCause::ChangedByKeyrack))
            } else if session_ended {
                Some(StaleCause::SessionEnded)
            } else if entry.basis != basis(&store.salt, reading, name) {
                Some(StaleCause::SettingsChanged)
            } else {
                None
            };
            // A session that is gone has no minutes left to show.
            if matches!(
                stale_because,
                Some(StaleCause::SessionForgotten | StaleCause::SignedOut)
            ) {
                if let Some(left) = view.get_mut("session_minutes_left") {
                    *left = Json::Null;
                }
            }
            Some(KeptCheck {
                view,
                stale: stale_because.is_some(),
                stale_because,
            })
        })
        .collect()
}

/// What IAM said last of each access key (by key id) in the kept results of `files`: the
/// newest answer where profiles share a key.
pub(super) fn kept_key_healths(
    state_dir: &Path,
    files: &AwsFiles,
) -> std::collections::HashMap<String, super::KeyHealth> {
    let set_id = crate::keychain::places::file_set(files);
    let store = load(&store_path(state_dir, &set_id));
    let mut healths: std::collections::HashMap<String, super::KeyHealth> =
        std::collections::HashMap::new();
    for entry in store.profiles.values() {
        let Some(health) = entry
            .view
            .get("key_health")
            .and_then(|h| serde_json::from_value::<super::KeyHealth>(h.clone()).ok())
        else {
            continue;
        };
        let newer = healths
            .get(&health.access_key_id)
            .is_none_or(|known| known.asked_at < health.asked_at);
        if newer {
            healths.insert(health.access_key_id.clone(), health);
        }
    }
    healths
}

/// A kept session's minutes left, counted down from when it was checked to `now`: whether the
/// session has ended since (the result said who it was with a session that is gone).
fn count_down(view: &mut Json, now: u64) -> bool {
    let checked_at = view.get("checked_at").and_then(Json::as_u64).unwrap_or(now);
    let elapsed = (now.saturating_sub(checked_at) / 60_000) as i64;
    let Some(left) = view.get_mut("session_minutes_left") else {
        return false;
    };
    let Some(minutes) = left.as_i64() else {
        return false;
    };
    *left = Json::from((minutes - elapsed).max(0));
    minutes - elapsed <= 0
}

/// The digest of everything `profile`'s identity depends on in the files: its settings, its
/// source profiles' (to the end of the chain) and its sso-session's, secrets included, salted
/// with `salt`. Order within a section does not matter; a value does.
fn basis(salt: &str, reading: &Reading, profile: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(salt.as_bytes());
    for name in chain(reading, profile) {
        let Some(settings) = reading.profiles.get(name) else {
            hash.update(b"\0absent\0");
            break;
        };
        hash.update(b"\0profile\0");
        hash.update(name.as_bytes());
        digest_section(&mut hash, settings);
        if let Some(session) = settings.get("sso_session").and_then(|s| s.value.as_text()) {
            hash.update(b"\0sso-session\0");
            hash.update(session.as_bytes());
            if let Some(section) = reading.sso_sessions.get(session) {
                digest_section(&mut hash, section);
            }
        }
    }
    hex(&hash.finalize()[..16])
}

/// `profile` and the source profiles it takes its credentials from, to the end of the chain
/// (a loop ends it; a missing profile is its last link).
fn chain<'a>(reading: &'a Reading, profile: &'a str) -> Vec<&'a str> {
    let mut links: Vec<&str> = Vec::new();
    let mut next = Some(profile);
    while let Some(name) = next.take() {
        if links.contains(&name) {
            break;
        }
        links.push(name);
        next = reading
            .profiles
            .get(name)
            .and_then(|settings| settings.get("source_profile"))
            .and_then(|s| s.value.as_text());
    }
    links
}

fn digest_section(hash: &mut Sha256, settings: &crate::files::Settings) {
    let mut lines: Vec<(&str, String)> = settings
        .iter()
        .map(|(key, setting)| {
            let text = match &setting.value {
                Value::Nested(map) => map
                    .iter()
                    .map(|(k, v)| format!("{k}={v}\n"))
                    .collect::<String>(),
                other => other.as_text().unwrap_or_default().to_owned(),
            };
            (key.as_str(), text)
        })
        .collect();
    lines.sort();
    for (key, text) in lines {
        hash.update(key.as_bytes());
        hash.update([0]);
        hash.update(text.as_bytes());
        hash.update([0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{CallerIdentity, ProfileIdentity};

    fn files() -> AwsFiles {
        AwsFiles::from_bytes(
            b"",
            b"[work]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n",
        )
    }

    fn answered(minutes_left: Option<i64>) -> IdentityView {
        let outcome = ProfileIdentity {
            profile: "work".into(),
            result: Ok(CallerIdentity {
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                account: "123456789012".into(),
                user_id: "AIDAEXAMPLE".into(),
            }),
        };
        let mut view = IdentityView::of(&outcome, None, true);
        view.session_minutes_left = minutes_left;
        view
    }

    #[test]
    fn a_check_that_started_before_a_key_changed_does_not_clear_the_mark() {
        let state = tempfile::tempdir().unwrap();
        let files = files();
        let reading = files.read(crate::files::Dialect::Cli);
        record(state.path(), &files, &reading, &[answered(None)], now_ms());
        let started = now_ms();
        std::thread::sleep(Duration::from_millis(5));
        // A rotation of the keychain key finishes while the check runs with the old key.
        mark_stale(
            state.path(),
            &files,
            &["work".to_owned()],
            StaleCause::KeyChanged,
        );
        record(state.path(), &files, &reading, &[answered(None)], started);
        let marked = &kept(state.path(), &files, &reading)[0];
        assert!(marked.stale);
        assert_eq!(marked.stale_because, Some(StaleCause::KeyChanged));
        // A check that started afterwards clears it.
        record(state.path(), &files, &reading, &[answered(None)], now_ms());
        assert!(!kept(state.path(), &files, &reading)[0].stale);
    }

    #[test]
    fn a_result_had_with_a_session_that_has_ended_is_stale() {
        let state = tempfile::tempdir().unwrap();
        let files = files();
        let reading = files.read(crate::files::Dialect::Cli);
        let mut ended = answered(Some(5));
        ended.checked_at -= 6 * 60_000;
        record(state.path(), &files, &reading, &[ended], now_ms());
        let kept = kept(state.path(), &files, &reading);
        assert!(kept[0].stale);
        assert_eq!(kept[0].stale_because, Some(StaleCause::SessionEnded));
        assert_eq!(kept[0].view["session_minutes_left"], 0);
        let mut current = answered(Some(50));
        current.checked_at -= 6 * 60_000;
        record(state.path(), &files, &reading, &[current], now_ms());
        let kept = super::kept(state.path(), &files, &reading);
        assert!(!kept[0].stale);
        assert_eq!(kept[0].view["session_minutes_left"], 44);
    }

    #[test]
    fn a_changed_setting_is_blamed_only_when_nothing_keyrack_did_explains_it() {
        let state = tempfile::tempdir().unwrap();
        let files = files();
        let reading = files.read(crate::files::Dialect::Cli);
        record(state.path(), &files, &reading, &[answered(None)], now_ms());
        assert_eq!(kept(state.path(), &files, &reading)[0].stale_because, None);
        let edited = AwsFiles::from_bytes(
            b"",
            b"[work]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = t\n",
        );
        let edited_reading = edited.read(crate::files::Dialect::Cli);
        assert_eq!(
            kept(state.path(), &edited, &edited_reading)[0].stale_because,
            Some(StaleCause::SettingsChanged)
        );
        mark_stale(
            state.path(),
            &files,
            &["work".to_owned()],
            StaleCause::SessionForgotten,
        );
        assert_eq!(
            kept(state.path(), &edited, &edited_reading)[0].stale_because,
            Some(StaleCause::SessionForgotten)
        );
    }

    #[test]
    fn a_forgotten_session_shows_no_minutes_left() {
        let state = tempfile::tempdir().unwrap();
        let files = files();
        let reading = files.read(crate::files::Dialect::Cli);
        record(
            state.path(),
            &files,
            &reading,
            &[answered(Some(30))],
            now_ms(),
        );
        assert_eq!(
            kept(state.path(), &files, &reading)[0].view["session_minutes_left"],
            30
        );
        let forgotten = ["work".to_owned()];
        mark_stale(
            state.path(),
            &files,
            &forgotten,
            StaleCause::SessionForgotten,
        );
        let kept = kept(state.path(), &files, &reading);
        assert_eq!(kept[0].view["session_minutes_left"], Json::Null);
    }

    #[test]
    fn a_mark_kept_by_an_older_or_a_newer_keyrack_is_read_without_blaming_the_person() {
        let state = tempfile::tempdir().unwrap();
        let files = files();
        let reading = files.read(crate::files::Dialect::Cli);
        record(state.path(), &files, &reading, &[answered(None)], now_ms());
        let path = store_path(state.path(), &crate::keychain::places::file_set(&files));
        let written: Json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for mark in [
            serde_json::json!({ "marked_at": 1 }),
            serde_json::json!({ "marked_at": 1, "marked_because": "a_cause_of_tomorrow" }),
        ] {
            let mut store = written.clone();
            let entry = store["profiles"]["work"].as_object_mut().unwrap();
            entry.extend(mark.as_object().unwrap().clone());
            std::fs::write(&path, serde_json::to_vec(&store).unwrap()).unwrap();
            let kept = kept(state.path(), &files, &reading);
            assert_eq!(kept.len(), 1, "the store is still read");
            assert_eq!(kept[0].stale_because, Some(StaleCause::ChangedByKeyrack));
        }
    }
}
