//! What a reading of the two files yields: profiles, sso-sessions and services with their
//! settings, where each setting came from, and the problems found on the way.

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    Nested(Box<OrderedMap<String>>),
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
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

/// The settings of one profile, sso-session or services section, in file order.
pub type Settings = OrderedMap<Setting>;

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
pub const SECRET_KEYS: &[&str] = &["aws_secret_access_key", "aws_session_token", "aws_security_token"];

/// What is shown in place of a secret value.
pub const MASK: &str = "********";

pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
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
