//! What a reading of the two files yields: profiles, sso-sessions and services with their
//! settings, where each setting came from, and the problems found on the way.

use std::fmt;

use crate::secret::Secret;
use indexmap::IndexMap;
use serde::Serialize;

/// A map that keeps insertion (file) order, keyed by names from the files. Hashed with FxHash:
/// the keys come from the user's own files, and reading 2,000 profiles hashes every key.
pub type OrderedMap<V> = IndexMap<String, V, rustc_hash::FxBuildHasher>;

/// Which of the two AWS files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Config,
    Credentials,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Config => "config",
            FileKind::Credentials => "credentials",
        }
    }
}

/// Which family of AWS tools a reading imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// The AWS CLI v1, boto3 and botocore (Python's configparser plus botocore's rules).
    Cli,
    /// The AWS SDKs' shared file format (Go v2, Java v2, JS v3, Rust).
    Sdk,
}

/// Where a setting or a problem sits: a file and a 1-based line number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: FileKind,
    pub line: usize,
}

/// A setting's value: plain text, or a nested block (`s3 =` followed by indented `k = v` lines).
/// The rare nested block is boxed, so that every value takes the room of a string.
///
/// A value does not know its key: its `Debug` shows the text. [`Settings`] (and so every
/// reading) redacts the values of secret keys, and a nested block redacts its secret sub-keys.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// The value of a secret key ([`is_secret_key`]): wiped from memory when dropped, never
    /// printed. Build values with [`Value::of`], which picks this for secret keys.
    Secret(Secret),
    Nested(Box<OrderedMap<String>>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(text) => f.debug_tuple("Text").field(text).finish(),
            Value::Secret(secret) => f.debug_tuple("Secret").field(secret).finish(),
            Value::Nested(map) => f.debug_tuple("Nested").field(&NestedBlock(map)).finish(),
        }
    }
}

/// The sub-settings of a nested block in a `Debug`, secret sub-keys redacted.
struct NestedBlock<'a>(&'a OrderedMap<String>);

impl fmt::Debug for NestedBlock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self.0 {
            let value: &dyn fmt::Debug = if is_secret_key(key) { &Redacted } else { value };
            map.entry(key, value);
        }
        map.finish()
    }
}

impl Value {
    /// The value of setting `key` read as `text`: a [`Value::Secret`] for a secret key.
    pub fn of(key: &str, text: String) -> Value {
        if is_secret_key(key) {
            Value::Secret(Secret::new(text))
        } else {
            Value::Text(text)
        }
    }

    /// The text of a plain value, a secret's included (call sites that show values to people
    /// mask secret keys themselves).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Secret(s) => Some(s.expose()),
            Value::Nested(_) => None,
        }
    }
}

/// One setting of a section, with the line it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub value: Value,
    pub origin: Origin,
}

/// The settings of one profile, sso-session or services section, in file order. It is the map
/// itself (through `Deref`), except that its `Debug` shows `<redacted>` for the value of every
/// secret key ([`is_secret_key`]), so no reading, however printed, shows a secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Settings(OrderedMap<Setting>);

impl Settings {
    pub fn with_capacity(capacity: usize) -> Self {
        Settings(OrderedMap::with_capacity_and_hasher(
            capacity,
            Default::default(),
        ))
    }
}

impl std::ops::Deref for Settings {
    type Target = OrderedMap<Setting>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Settings {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'a> IntoIterator for &'a Settings {
    type Item = (&'a String, &'a Setting);
    type IntoIter = indexmap::map::Iter<'a, String, Setting>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Settings {
    type Item = (String, Setting);
    type IntoIter = indexmap::map::IntoIter<String, Setting>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, Setting)> for Settings {
    fn from_iter<I: IntoIterator<Item = (String, Setting)>>(iter: I) -> Self {
        Settings(iter.into_iter().collect())
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, setting) in &self.0 {
            if is_secret_key(key) {
                map.entry(key, &RedactedSetting(setting));
            } else {
                map.entry(key, setting);
            }
        }
        map.finish()
    }
}

/// A secret setting in a `Debug`: where it is, not what it is.
struct RedactedSetting<'a>(&'a Setting);

impl fmt::Debug for RedactedSetting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setting")
            .field("value", &Redacted)
            .field("origin", &self.0.origin)
            .finish()
    }
}

/// Stands for a secret in a `Debug`: prints `<redacted>`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Something wrong in a file. `rejects` is true when the tools reading this dialect refuse the
/// whole file because of it (the AWS CLI fails every command).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: FileKind,
    pub line: Option<usize>,
    pub message: String,
    pub rejects: bool,
}

/// The meaning of the two files for one dialect, after merging them as that dialect does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub profiles: OrderedMap<Settings>,
    pub sso_sessions: OrderedMap<Settings>,
    pub services: OrderedMap<Settings>,
    pub problems: Vec<Problem>,
}

impl Reading {
    /// The first problem that makes this dialect reject the files, if any.
    pub fn rejection(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.rejects)
    }
}

/// Top-level keys whose values are secrets: never shown unless revealed.
pub const SECRET_KEYS: &[&str] = &[
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// What is shown in place of a secret value.
pub const MASK: &str = "********";

pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// A key id and its secret, neither blank, in the same file's section (botocore reads static
/// keys from one section: a key id with its secret elsewhere is PartialCredentialsError).
pub fn has_complete_keys(settings: &Settings) -> bool {
    let given = |key: &str| {
        settings
            .get(key)
            .filter(|s| s.value.as_text().is_some_and(|v| !v.trim().is_empty()))
            .map(|s| s.origin.file)
    };
    matches!((given("aws_access_key_id"), given("aws_secret_access_key")), (Some(a), Some(b)) if a == b)
}

/// How a profile gets its credentials, for showing at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// An `aws_access_key_id` + `aws_secret_access_key` pair.
    StaticKeys,
    /// Temporary keys with a session token.
    Session,
    /// Assumes a role (`role_arn`).
    Role,
    /// IAM Identity Center (`sso_session` or `sso_start_url`).
    Sso,
    /// Runs a command (`credential_process`).
    CredentialProcess,
    /// Settings only (region, output...), no credentials of its own.
    SettingsOnly,
}

/// Classify a profile the way botocore's credential chain would pick its source.
pub fn profile_kind(settings: &Settings) -> ProfileKind {
    let has = |k: &str| settings.contains_key(k);
    if has("role_arn") {
        ProfileKind::Role
    } else if has("sso_session") || has("sso_start_url") {
        ProfileKind::Sso
    } else if has("aws_access_key_id") && (has("aws_session_token") || has("aws_security_token")) {
        ProfileKind::Session
    } else if has("aws_access_key_id") {
        ProfileKind::StaticKeys
    } else if has("credential_process") {
        ProfileKind::CredentialProcess
    } else {
        ProfileKind::SettingsOnly
    }
}

#[cfg(test)]
mod tests {
    use super::Value;
    use crate::files::{cli_reading, AwsFiles, Dialect};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKENVALUE";

    #[test]
    fn both_readings_hold_secret_values_as_secrets_and_plain_ones_as_text() {
        let credentials = format!("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}\n");
        let files =
            AwsFiles::from_bytes(b"[default]\nregion = eu-west-1\n", credentials.as_bytes());
        for dialect in [Dialect::Cli, Dialect::Sdk] {
            let reading = files.read(dialect);
            let settings = &reading.profiles["default"];
            for key in ["aws_secret_access_key", "aws_session_token"] {
                assert!(
                    matches!(settings[key].value, Value::Secret(_)),
                    "{dialect:?} {key}"
                );
            }
            assert_eq!(
                settings["aws_secret_access_key"].value.as_text(),
                Some(SECRET)
            );
            assert!(matches!(
                settings["aws_access_key_id"].value,
                Value::Text(_)
            ));
            assert!(matches!(settings["region"].value, Value::Text(_)));
        }
    }

    #[test]
    fn debug_of_files_readings_and_settings_shows_no_secret() {
        let config =
            format!("[default]\nregion = eu-west-1\ns3 =\n  aws_secret_access_key = {SECRET}\n");
        let credentials = format!("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token =\n  {TOKEN}\n");
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        let (cli, sdk) = (files.read(Dialect::Cli), files.read(Dialect::Sdk));
        let settings = &cli.profiles["default"];
        let shown = format!(
            "{files:?} {cli:?} {sdk:#?} {settings:?} {:?} {:?}",
            settings["s3"].value,
            cli_reading::parse(&files.credentials.doc)
        );
        assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
        assert!(
            shown.contains("AKIAIOSFODNN7EXAMPLE")
                && shown.contains("eu-west-1")
                && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
