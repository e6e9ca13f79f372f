//! The profiles as a person sees them at a glance: one [`Profile`] per profile of the AWS CLI's
//! reading, with its kind, region, default marker and settings (secrets masked), plus what
//! `keyrack check` finds. This is what the desktop app lists; secrets leave it only through
//! [`reveal`].

use crate::files::check::{self, Finding, Fix, Severity};
use crate::files::model::{has_complete_keys, is_secret_key, profile_kind, ProfileKind};
use crate::files::{AwsFiles, Dialect, FileKind, Settings, Value};
use crate::keychain::places::{secret_store, SecretStore};
use crate::keychain::Keychain;
use crate::secret::Secret;
use serde::Serialize;

/// Everything there is to show about the two files at one moment, as one dialect reads them:
/// what the app lists and what `keyrack profiles --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Listing {
    /// The version of the files this was read from: a change made from this view names it
    /// ([`crate::changes::Seen`]). 0 outside the [`crate::Rack`].
    pub revision: u64,
    /// Whose reading this is: `cli` (the AWS CLI's, botocore's) or `sdk` (the AWS SDKs').
    pub dialect: Dialect,
    pub config_path: String,
    pub credentials_path: String,
    /// Neither file exists: the first-run questions are asked.
    pub first_run: bool,
    /// The profile the AWS tools use when none is named (`AWS_PROFILE`, else `default`).
    pub default_profile: String,
    pub profiles: Vec<Profile>,
    pub sso_sessions: Vec<SectionView>,
    pub services: Vec<SectionView>,
    /// Lines this dialect cannot read.
    pub problems: Vec<ProblemView>,
    /// Where the AWS CLI and the SDKs read the files differently.
    pub disagreements: Vec<ProblemView>,
    pub findings: Vec<FindingView>,
    /// Why the AWS CLI rejects the files, when it does (`PATH:LINE: message`).
    pub rejection: Option<String>,
}

/// An `[sso-session NAME]` or `[services NAME]` section, secrets masked as in [`Profile`].
#[derive(Clone, Debug, Serialize)]
pub struct SectionView {
    pub name: String,
    pub settings: Vec<ProfileSetting>,
}

/// A line a reading could not use, with its file's path.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemView {
    pub file: FileKind,
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

/// One profile, merged from both files as the AWS CLI reads it.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub name: String,
    /// `static_keys`, `session`, `role`, `sso`, `credential_process`, `keychain` or `settings_only`.
    pub kind: String,
    pub region: Option<String>,
    pub output: Option<String>,
    pub access_key_id: Option<String>,
    pub is_default: bool,
    /// Where its secret lives: `file`, `keychain` (with the entry's account), `elsewhere`, `none`.
    pub secret_store: SecretStore,
    pub settings: Vec<ProfileSetting>,
    /// What the app offers to do with the profile's key.
    pub key_actions: KeyActions,
}

/// What can be done with a profile's key, decided here so that every front end offers the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyActions {
    /// Rotate key: a long-term key, in the files or in the keychain.
    pub rotate: bool,
    /// Move key to keychain: a complete key (id and secret in one section) in the files.
    pub move_to_keychain: bool,
    /// Move key to file: the key is in the keychain.
    pub move_to_file: bool,
}

/// What [`KeyActions`] profile `name` (in file set `set`) gets. A key id without its secret (or
/// with its secret in the other file) is no key the AWS tools can use: it is neither rotated nor
/// moved; it is moved to the keychain exactly when the vault would move it
/// ([`crate::keychain::vault::movable`]).
pub fn key_actions(settings: &Settings, name: &str, set: &str) -> KeyActions {
    let kind = profile_kind(settings);
    if kind == ProfileKind::CredentialProcess
        && matches!(secret_store(settings), SecretStore::Keychain { .. })
    {
        return KeyActions {
            rotate: true,
            move_to_keychain: false,
            move_to_file: true,
        };
    }
    let complete = has_complete_keys(settings);
    KeyActions {
        rotate: complete && kind == ProfileKind::StaticKeys,
        move_to_keychain: crate::keychain::vault::movable(settings, name, set).is_ok(),
        move_to_file: false,
    }
}

/// One setting of a profile; a secret's value is never included (an empty one is: it reveals
/// nothing, and the window must show it as empty, not as a secret that is set).
#[derive(Clone, Debug, Serialize)]
pub struct ProfileSetting {
    pub key: String,
    /// The text; `None` for a secret that is not empty, or a nested block.
    pub value: Option<String>,
    pub secret: bool,
    /// Sub-settings of a nested block (`s3 =` + indented lines), in file order; a sub-setting
    /// named like a secret has `None`, as a secret setting does.
    pub nested: Vec<(String, Option<String>)>,
    pub file: FileKind,
    pub line: usize,
}

/// A finding of `keyrack check`, with the file's path.
#[derive(Clone, Debug, Serialize)]
pub struct FindingView {
    pub severity: Severity,
    pub file: FileKind,
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
    /// The command that fixes it (`clean`: the Problems row offers a button).
    pub fix: Option<Fix>,
    /// The profile whose section the line is in, if it is in one (the Problems row leads there).
    pub profile: Option<String>,
}

/// How a profile gets its credentials, for the list. A `credential_process` that runs
/// `keyrack credential-process` means the secret is in the OS keychain.
pub fn kind_name(settings: &Settings) -> String {
    let kind = profile_kind(settings);
    if kind == ProfileKind::CredentialProcess
        && matches!(secret_store(settings), SecretStore::Keychain { .. })
    {
        return "keychain".into();
    }
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Fill in the access key id of each keychain profile from its keychain entry, as the list shows
/// the key ids of the files (an id is not a secret). The keychain is opened only when there is
/// such a profile; an entry that cannot be read leaves the id empty, and checking the profile
/// says why.
pub fn show_keychain_key_ids(listing: &mut Listing, files: &AwsFiles, keychain: &Keychain) {
    let reading = files.read(Dialect::Cli);
    for profile in listing
        .profiles
        .iter_mut()
        .filter(|p| p.access_key_id.is_none())
    {
        let Some(SecretStore::Keychain { account }) =
            reading.profiles.get(&profile.name).map(secret_store)
        else {
            continue;
        };
        match keychain.find(&account) {
            Ok(Some(stored)) => {
                profile.access_key_id = Some(stored.credentials.access_key_id.clone())
            }
            Ok(None) => {}
            // No keychain (or a locked one): the other entries cannot be read either.
            Err(_) => return,
        }
    }
}

/// The profile used when none is named, as the AWS CLI picks it: `AWS_DEFAULT_PROFILE` (the
/// older name, which botocore asks first), else `AWS_PROFILE`, else `default`. An empty
/// variable counts as unset.
pub fn default_profile_name(env: impl Fn(&str) -> Option<String>) -> String {
    ["AWS_DEFAULT_PROFILE", "AWS_PROFILE"]
        .iter()
        .find_map(|name| env(name).filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".into())
}

/// The settings of a section as shown: a secret's value never, an empty one as empty (it
/// reveals nothing, and must not look like a secret that is set).
fn shown_settings(settings: &Settings) -> Vec<ProfileSetting> {
    settings
        .iter()
        .map(|(key, s)| {
            let secret = is_secret_key(key);
            let (value, nested) = match &s.value {
                Value::Secret(t) if t.is_empty() => (Some(String::new()), Vec::new()),
                Value::Secret(_) => (None, Vec::new()),
                _ if secret => (None, Vec::new()),
                Value::Text(t) => (Some(t.clone()), Vec::new()),
                Value::Nested(map) => (
                    None,
                    map.iter()
                        .map(|(k, v)| (k.clone(), (!is_secret_key(k)).then(|| v.clone())))
                        .collect(),
                ),
            };
            ProfileSetting {
                key: key.clone(),
                value,
                secret,
                nested,
                file: s.origin.file,
                line: s.origin.line,
            }
        })
        .collect()
}

/// Look at the files as they were loaded, as `dialect` reads them.
pub fn listing(files: &AwsFiles, dialect: Dialect) -> Listing {
    let reading = files.read(dialect);
    let set = crate::keychain::places::file_set(files);
    let default_profile = default_profile_name(|k| std::env::var(k).ok());
    let text = |s: &Settings, k: &str| s.get(k).and_then(|v| v.value.as_text()).map(str::to_string);
    let profiles = reading
        .profiles
        .iter()
        .map(|(name, settings)| Profile {
            name: name.clone(),
            kind: kind_name(settings),
            region: text(settings, "region"),
            output: text(settings, "output"),
            access_key_id: text(settings, "aws_access_key_id"),
            is_default: *name == default_profile,
            secret_store: secret_store(settings),
            key_actions: key_actions(settings, name, &set),
            settings: shown_settings(settings),
        })
        .collect();
    let sections = |map: &crate::files::model::OrderedMap<Settings>| {
        map.iter()
            .map(|(name, settings)| SectionView {
                name: name.clone(),
                settings: shown_settings(settings),
            })
            .collect()
    };
    let path = |kind: FileKind| files.path(kind).display().to_string();
    let problem = |p: &crate::files::Problem| ProblemView {
        file: p.file,
        path: path(p.file),
        line: p.line,
        message: p.message.clone(),
    };
    let findings = findings(files);
    let rejection = rejection(files, &reading);
    Listing {
        revision: 0,
        dialect,
        config_path: path(FileKind::Config),
        credentials_path: path(FileKind::Credentials),
        first_run: !files.config.exists() && !files.credentials.exists(),
        default_profile,
        profiles,
        sso_sessions: sections(&reading.sso_sessions),
        services: sections(&reading.services),
        problems: reading.problems.iter().map(problem).collect(),
        disagreements: files.disagreements().iter().map(problem).collect(),
        findings,
        rejection,
    }
}

/// What `keyrack check` finds in `files`, each with its file's path.
pub fn findings(files: &AwsFiles) -> Vec<FindingView> {
    check::check(files)
        .into_iter()
        .map(
            |Finding {
                 severity,
                 file,
                 line,
                 message,
                 fix,
             }| FindingView {
                severity,
                file,
                path: files.path(file).display().to_string(),
                line,
                message,
                fix,
                profile: line.and_then(|line| profile_at(files, file, line)),
            },
        )
        .collect()
}

/// The profile whose section holds line `line` (1-based) of `file`: the last `[...]` header
/// above it, `[profile NAME]` (or `[default]`) in the config file, `[NAME]` in the credentials
/// file; `None` above the first header or in another kind of section.
fn profile_at(files: &AwsFiles, file: FileKind, line: usize) -> Option<String> {
    let doc = &files.file(file).doc;
    let header = (0..line.min(doc.len()))
        .rev()
        .filter_map(|index| doc.get(index))
        .map(|l| l.lossy().trim().to_owned())
        .find(|text| text.starts_with('['))?;
    let name = header
        .strip_prefix('[')?
        .split(']')
        .next()?
        .trim()
        .to_owned();
    match file {
        FileKind::Credentials => Some(name),
        FileKind::Config if name == "default" => Some(name),
        FileKind::Config => name
            .strip_prefix("profile")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map(|rest| rest.trim().to_owned()),
    }
}

/// Why `reading` (of `files`) is rejected, as `PATH:LINE: message`, when it is.
pub fn rejection(files: &AwsFiles, reading: &crate::files::Reading) -> Option<String> {
    reading.rejection().map(|p| {
        let path = files.path(p.file).display();
        match p.line {
            Some(line) => format!("{path}:{line}: {}", p.message),
            None => format!("{path}: {}", p.message),
        }
    })
}

/// A secret setting of a profile, for the one moment the user asked to see or copy it.
pub fn reveal(files: &AwsFiles, profile: &str, key: &str) -> Option<Secret> {
    if !is_secret_key(key) {
        return None;
    }
    let reading = files.read(Dialect::Cli);
    reading
        .profiles
        .get(profile)?
        .get(&key.to_lowercase())?
        .value
        .as_text()
        .map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default\n\n[profile vault]\ncredential_process = /usr/bin/keyrack credential-process --profile vault\n";
    const CREDENTIALS: &str = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

    #[test]
    fn snapshot_lists_profiles_with_kind_region_and_default_but_no_secret() {
        let files = AwsFiles::from_bytes(CONFIG.as_bytes(), CREDENTIALS.as_bytes());
        let snap = listing(&files, Dialect::Cli);
        let names: Vec<_> = snap
            .profiles
            .iter()
            .map(|p| (p.name.as_str(), p.kind.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("default", "static_keys"),
                ("ops", "role"),
                ("vault", "keychain")
            ]
        );
        let default = &snap.profiles[0];
        assert_eq!(default.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            default.access_key_id.as_deref(),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
        let json = serde_json::to_string(&snap).unwrap();
        assert!(
            !json.contains("wJalrXUtnFEMI"),
            "a secret reached the snapshot: {json}"
        );
        let secret = default
            .settings
            .iter()
            .find(|s| s.key == "aws_secret_access_key")
            .unwrap();
        assert!(secret.secret && secret.value.is_none());
        assert_eq!((secret.file, secret.line), (FileKind::Credentials, 3));
    }

    #[test]
    fn an_empty_secret_is_shown_as_empty_and_a_set_one_not_at_all() {
        let credentials = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key =\naws_session_token = FwoGZXIvYXdzEXAMPLE\n";
        let snap = listing(
            &AwsFiles::from_bytes(b"", credentials.as_bytes()),
            Dialect::Cli,
        );
        let settings = &snap.profiles[0].settings;
        let secret = settings
            .iter()
            .find(|s| s.key == "aws_secret_access_key")
            .unwrap();
        assert!(
            secret.secret && secret.value.as_deref() == Some(""),
            "{secret:?}"
        );
        let token = settings
            .iter()
            .find(|s| s.key == "aws_session_token")
            .unwrap();
        assert!(token.secret && token.value.is_none(), "{token:?}");
    }

    #[test]
    fn only_a_complete_key_is_offered_rotation_and_the_keychain() {
        let credentials = format!(
            "{CREDENTIALS}[half]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
             [split]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
             [session]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = s\naws_session_token = t\n"
        );
        let config = format!("{CONFIG}[profile split]\naws_secret_access_key = s\n[profile lone]\naws_secret_access_key = s\n");
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        let snap = listing(&files, Dialect::Cli);
        let actions = |name: &str| {
            snap.profiles
                .iter()
                .find(|p| p.name == name)
                .unwrap()
                .key_actions
        };
        let all = |rotate, move_to_keychain, move_to_file| KeyActions {
            rotate,
            move_to_keychain,
            move_to_file,
        };
        assert_eq!(actions("default"), all(true, true, false));
        assert_eq!(actions("vault"), all(true, false, true));
        assert_eq!(actions("ops"), all(false, false, false));
        assert_eq!(actions("session"), all(false, true, false));
        for incomplete in ["half", "split", "lone"] {
            assert_eq!(actions(incomplete), KeyActions::default(), "{incomplete}");
        }
    }

    #[test]
    fn the_keychain_is_offered_exactly_when_the_vault_would_move_the_key() {
        let credentials =
            "[runs-a-tool]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n";
        let config = "[profile runs-a-tool]\ncredential_process = /opt/tool --json\n";
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        let listed = listing(&files, Dialect::Cli);
        let profile = &listed.profiles[0];
        assert!(!profile.key_actions.move_to_keychain, "{profile:?}");
        let mut moved = files.clone();
        let keychain = crate::keychain::Keychain::in_memory();
        let refused = crate::keychain::vault::move_to_keychain(
            &mut moved,
            &keychain,
            "runs-a-tool",
            std::path::Path::new("/usr/bin/keyrack"),
        );
        assert!(refused.is_err(), "the vault refuses it too");
    }

    #[test]
    fn reveal_gives_secrets_only() {
        let files = AwsFiles::from_bytes(CONFIG.as_bytes(), CREDENTIALS.as_bytes());
        assert_eq!(
            reveal(&files, "default", "aws_secret_access_key")
                .unwrap()
                .expose(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert!(reveal(&files, "default", "region").is_none());
        assert!(reveal(&files, "nobody", "aws_secret_access_key").is_none());
    }

    #[test]
    fn the_default_profile_is_picked_as_botocore_picks_it() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(default_profile_name(|_| None), "default");
        assert_eq!(
            default_profile_name(env(&[("AWS_PROFILE", "work")])),
            "work"
        );
        assert_eq!(
            default_profile_name(env(&[("AWS_DEFAULT_PROFILE", "old")])),
            "old"
        );
        // botocore asks AWS_DEFAULT_PROFILE first.
        assert_eq!(
            default_profile_name(env(&[
                ("AWS_PROFILE", "work"),
                ("AWS_DEFAULT_PROFILE", "old")
            ])),
            "old"
        );
        assert_eq!(
            default_profile_name(env(&[("AWS_DEFAULT_PROFILE", ""), ("AWS_PROFILE", "work")])),
            "work"
        );
        assert_eq!(default_profile_name(env(&[("AWS_PROFILE", "")])), "default");
    }
}
