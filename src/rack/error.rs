//! The one error every use case of the [`Rack`](super::Rack) returns: a stable snake_case code
//! for programs (the app's headlines, `--json`), a message in plain words that says what
//! happened and what to do, and structured details. No part of it ever holds a secret.

use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use crate::changes::ChangeError;
use crate::files::leftovers::LeftoverError;
use crate::files::lock::LockError;
use crate::files::FilesError;
use crate::identity::IdentityError;
use crate::keychain::command::CommandError;
use crate::keychain::vault::VaultError;
use crate::keychain::KeychainError;
use crate::rotation::user_keys::AccessKeysError;
use crate::rotation::RotationError;

/// Why a use case failed. Nothing was changed unless the message says what was.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// Stable snake_case: `changed_on_disk`, `files_locked`, `wrong_secret`, `stopped`...
    pub code: &'static str,
    /// Plain words: what happened, what state things are in, what to do.
    pub message: String,
    /// What a program may act on (the settings another program changed, the AWS error code,
    /// where a rotation stopped); an empty object when there is nothing more.
    pub details: Map<String, Json>,
}

impl Error {
    pub fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// This error with `key` set to `value` in its details.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Error {
        self.details.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Json::Null),
        );
        self
    }
}

impl From<FilesError> for Error {
    fn from(e: FilesError) -> Self {
        Error::new("files", e.to_string())
    }
}

impl From<LockError> for Error {
    fn from(e: LockError) -> Self {
        Error::new(e.code(), e.to_string())
    }
}

impl From<LeftoverError> for Error {
    fn from(e: LeftoverError) -> Self {
        Error::new("leftovers", e.to_string())
    }
}

impl From<KeychainError> for Error {
    fn from(e: KeychainError) -> Self {
        Error::new(e.code(), e.to_string())
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Self {
        Error::new("bad_command_line", e.to_string())
    }
}

impl From<VaultError> for Error {
    fn from(e: VaultError) -> Self {
        let error = Error::new(e.code(), e.to_string());
        match e {
            VaultError::Save { error: cause, .. } => error.with("cause", cause.to_string()),
            _ => error,
        }
    }
}

impl From<ChangeError> for Error {
    fn from(e: ChangeError) -> Self {
        let message = e.to_string();
        match e {
            ChangeError::ChangedOnDisk { keys, .. } => {
                Error::new("changed_on_disk", message).with("keys", keys)
            }
            ChangeError::ViewTooOld { .. } => Error::new("view_too_old", message),
            ChangeError::Edit(_) => Error::new("refused", message),
            ChangeError::Files(_) => Error::new("files", message),
            ChangeError::Busy => Error::new("busy", message),
            ChangeError::Vault(e) => Error {
                message,
                ..Error::from(e)
            },
        }
    }
}

impl From<crate::identity::sso_login::SsoLoginError> for Error {
    fn from(e: crate::identity::sso_login::SsoLoginError) -> Self {
        Error::new(e.code(), e.to_string())
    }
}

impl From<IdentityError> for Error {
    fn from(e: IdentityError) -> Self {
        let error = Error::new(e.code(), e.to_string());
        match (&e, e.aws_code()) {
            (IdentityError::SettingsOnly { settings, .. }, _) => error.with("settings", settings),
            (_, Some(aws)) => error.with("aws_code", aws),
            (_, None) => error,
        }
    }
}

impl From<AccessKeysError> for Error {
    fn from(e: AccessKeysError) -> Self {
        match e {
            AccessKeysError::Identity(e) => e.into(),
            other => Error::new(other.code(), other.to_string()),
        }
    }
}

impl From<RotationError> for Error {
    fn from(e: RotationError) -> Self {
        let error = Error::new(e.code(), e.to_string());
        match &e {
            RotationError::Credentials(cause) => error.with("cause", cause_of(cause.clone())),
            RotationError::KeyDoesNotWork {
                profile,
                error: aws,
                ..
            } => {
                let cause = IdentityError::Aws {
                    profile: profile.clone(),
                    action: "GetCallerIdentity".into(),
                    error: aws.clone(),
                };
                error.with("cause", cause_of(cause))
            }
            RotationError::Stopped(stop) => error.with("stopped", stop),
            // The window offers to make room with that key.
            RotationError::OtherKeyActive { other_key_id, .. }
            | RotationError::InactiveKeyNeedsConfirmation { other_key_id, .. }
            | RotationError::InactiveKeyInUse { other_key_id, .. } => {
                error.with("other_key_id", other_key_id)
            }
            _ => error,
        }
    }
}

/// The code and details of the identity failure behind a rotation error.
fn cause_of(cause: IdentityError) -> Json {
    let cause = Error::from(cause);
    json!({"code": cause.code, "details": cause.details})
}
