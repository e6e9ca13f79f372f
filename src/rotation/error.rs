//! Why a rotation did not start or where it stopped, with the state of each key; never a secret.

use std::fmt;

use serde::Serialize;

use crate::aws::AwsError;
use crate::files::FilesError;
use crate::identity::IdentityError;

use super::journal::JournalError;
use super::progress::{profile_list, Step};
use super::user_keys::KeyStatus;

/// Why a rotation was refused before it changed anything, or where it stopped.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Files(#[from] FilesError),

    #[error("{0}; nothing was changed")]
    Journal(#[from] JournalError),

    #[error("there is no profile named '{profile}' in the config or credentials file")]
    NoSuchProfile { profile: String },

    #[error("profile '{profile}' has no access key of its own to rotate: {detail}")]
    NoKeyOfItsOwn { profile: String, detail: String },

    #[error(
        "profile '{profile}' holds temporary credentials (a session token); only long-term \
         access keys (AKIA...) can be rotated"
    )]
    TemporaryCredentials { profile: String },

    #[error("{0}")]
    Credentials(IdentityError),

    #[error(
        "the key {key_id} of profile '{profile}' does not work, so it cannot be rotated: {error}"
    )]
    KeyDoesNotWork {
        profile: String,
        key_id: String,
        error: AwsError,
    },

    #[error(
        "profile '{profile}' is {arn}, not an IAM user; only the access keys of IAM users are \
         rotated"
    )]
    NotAUser { profile: String, arn: String },

    #[error("{action} failed: {error}; nothing was changed")]
    Aws {
        action: &'static str,
        error: AwsError,
    },

    #[error(
        "the key {key_id} of profile '{profile}' is Inactive, so AWS refuses it; make it Active \
         again or give the profile a working key. Nothing was changed"
    )]
    OldKeyInactive { profile: String, key_id: String },

    #[error(
        "IAM user '{user}' already has two access keys, the most AWS allows, and the other one, \
         {other_key_id}, is Active{usage}. keyrack does not delete a key that may be in use. If \
         nothing uses it any more, make it Inactive (or delete it) and rotate again, confirming that \
         it may be deleted; if something uses it, rotate that key instead. Nothing was changed"
    )]
    OtherKeyActive {
        user: String,
        other_key_id: String,
        /// ", held by profile 'x'", ", last used 2024-05-01" or nothing.
        usage: String,
    },

    #[error(
        "IAM user '{user}' already has two access keys, the most AWS allows; the other one, \
         {other_key_id}, is Inactive and no profile here holds it. Rotate again confirming that \
         it may be deleted first. Nothing was changed"
    )]
    InactiveKeyNeedsConfirmation { user: String, other_key_id: String },

    #[error(
        "IAM user '{user}' already has two access keys, the most AWS allows; the other one, \
         {other_key_id}, is Inactive but {profiles} hold it, so it is not deleted. Give those \
         profiles a working key or remove it from them, then rotate again. Nothing was changed"
    )]
    InactiveKeyInUse {
        user: String,
        other_key_id: String,
        profiles: String,
    },

    #[error(
        "an interrupted rotation wrote its new key {new_key_id} to {profiles}, but AWS no longer \
         has that key; put a working key into those profiles (the previous files are kept as \
         NAME.keyrack.bak), then rotate again"
    )]
    InterruptedKeyGone {
        new_key_id: String,
        profiles: String,
    },

    #[error(
        "no profile holds the key {old_key_id} or {new_key_id} of the interrupted rotation any \
         more; if that rotation is over, delete {journal}"
    )]
    NothingToRecover {
        old_key_id: String,
        new_key_id: String,
        journal: String,
    },

    #[error(
        "the interrupted rotation of the key {old_key_id} ran on {} and {}, not on these files; \
         finish it there: keyrack rotate {profile} --config {} --credentials {} (or open keyrack \
         with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE set to them). Nothing was changed",
        .config.display(), .credentials.display(), .config.display(), .credentials.display()
    )]
    OtherFiles {
        profile: String,
        old_key_id: String,
        config: std::path::PathBuf,
        credentials: std::path::PathBuf,
    },

    #[error("another keyrack is rotating a key right now; wait until it finishes, then try again")]
    Busy,

    #[error("{detail} since the rotation was planned; nothing was changed: plan it again")]
    PlanOutdated { detail: String },

    #[error(
        "the new key {new_key_id} is not a long-term access key (those start with AKIA and have \
         no session token); give the key the IAM console created. Nothing was written"
    )]
    NewKeyNotLongTerm { new_key_id: String },

    #[error(
        "profile '{profile}' holds the key {key_id} already; a replacement is another key: create \
         one on the user's Security credentials page in the IAM console. Nothing was written"
    )]
    NewKeyHeldAlready { profile: String, key_id: String },

    #[error(
        "the new key {new_key_id} does not work: {error}. Check that both values were copied \
         whole (or pick the key's .csv), and that the key is Active. Nothing was written"
    )]
    NewKeyDoesNotWork { new_key_id: String, error: AwsError },

    #[error(
        "the new key {new_key_id} belongs to {new_arn}, and the key {old_key_id} of profile \
         '{profile}' is not one of that user's keys{owner}. Create the new key on the Security \
         credentials page of the user that holds {old_key_id}. Nothing was written"
    )]
    NotTheSameUser {
        profile: String,
        new_key_id: String,
        new_arn: String,
        old_key_id: String,
        /// ": it belongs to user 'x'", ": IAM of that account does not know it (another account's
        /// key, or deleted already)" or nothing.
        owner: String,
    },

    #[error(
        "the new key {new_key_id} is Inactive: make it Active on the user's Security credentials \
         page in the IAM console, then try again. Nothing was written"
    )]
    NewKeyInactive { new_key_id: String },

    #[error(
        "an interrupted rotation or replacement of the key {old_key_id} (new key {new_key_id}) \
         is not finished; finish it first (keyrack rotate {profile}, or Finish in the window), \
         then replace the key if it is still needed. Nothing was written"
    )]
    OtherInterrupted {
        profile: String,
        old_key_id: String,
        new_key_id: String,
    },

    #[error(
        "could not keep the new key safely in {} ({detail}), where keyrack holds it until every \
         profile has it; make room on the disk or fix that folder, then try again. Nothing was \
         written",
        .dir.display()
    )]
    NewKeyNotKept {
        dir: std::path::PathBuf,
        detail: String,
    },

    #[error("{0}")]
    Stopped(Box<StoppedRotation>),
}

impl RotationError {
    /// A stable short code for programs: `other_key_active`, `stopped`, `busy`...
    pub fn code(&self) -> &'static str {
        match self {
            RotationError::Files(_) => "files",
            RotationError::Journal(_) => "journal",
            RotationError::NoSuchProfile { .. } => "no_such_profile",
            RotationError::NoKeyOfItsOwn { .. } => "no_key_of_its_own",
            RotationError::TemporaryCredentials { .. } => "temporary_credentials",
            RotationError::Credentials(_) => "credentials",
            RotationError::KeyDoesNotWork { .. } => "key_does_not_work",
            RotationError::NotAUser { .. } => "not_a_user",
            RotationError::Aws { .. } => "aws",
            RotationError::OldKeyInactive { .. } => "old_key_inactive",
            RotationError::OtherKeyActive { .. } => "other_key_active",
            RotationError::InactiveKeyNeedsConfirmation { .. } => "inactive_key_needs_confirmation",
            RotationError::InactiveKeyInUse { .. } => "inactive_key_in_use",
            RotationError::InterruptedKeyGone { .. } => "interrupted_key_gone",
            RotationError::NothingToRecover { .. } => "nothing_to_recover",
            RotationError::OtherFiles { .. } => "journal_of_other_files",
            RotationError::Busy => "rotation_busy",
            RotationError::PlanOutdated { .. } => "plan_outdated",
            RotationError::NewKeyNotLongTerm { .. } => "new_key_not_long_term",
            RotationError::NewKeyHeldAlready { .. } => "new_key_held_already",
            RotationError::NewKeyDoesNotWork { .. } => "new_key_does_not_work",
            RotationError::NotTheSameUser { .. } => "not_the_same_user",
            RotationError::NewKeyInactive { .. } => "new_key_inactive",
            RotationError::OtherInterrupted { .. } => "other_interrupted",
            RotationError::NewKeyNotKept { .. } => "new_key_not_kept",
            RotationError::Stopped(_) => "stopped",
        }
    }
}

/// Which key of the rotation a [`KeyState`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    Old,
    New,
    /// Another key of the user.
    Other,
}

/// One key after a rotation stopped: its status at AWS and the profiles that hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyState {
    pub access_key_id: String,
    pub role: KeyRole,
    pub status: KeyStatus,
    pub profiles: Vec<String>,
}

/// Where a rotation stopped and what it left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoppedRotation {
    pub profile: String,
    pub stopped_at: Step,
    pub reason: String,
    pub keys: Vec<KeyState>,
    /// The steps that finished before it stopped.
    pub steps_done: Vec<Step>,
    /// The journal is kept: running the rotation again finishes or cleans up.
    pub unfinished: bool,
}

impl StoppedRotation {
    /// What the user should do next, in words.
    pub fn next(&self) -> String {
        if self.unfinished {
            return format!(
                "Run the rotation of profile '{}' again to finish it",
                self.profile
            );
        }
        let old_works = self.keys.iter().any(|k| {
            k.role == KeyRole::Old && k.status == KeyStatus::Active && !k.profiles.is_empty()
        });
        if old_works {
            "Nothing is left half-done: the old key still works; rotate again when the cause is \
             fixed"
                .to_owned()
        } else {
            "Check the keys with 'keyrack keys' before rotating again".to_owned()
        }
    }
}

impl fmt::Display for StoppedRotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the rotation stopped while {}: {}.",
            self.stopped_at, self.reason
        )?;
        for key in &self.keys {
            let role = match key.role {
                KeyRole::Old => "old key",
                KeyRole::New => "new key",
                KeyRole::Other => "other key",
            };
            let held = if key.profiles.is_empty() {
                "in no profile".to_owned()
            } else {
                format!("in {}", profile_list(&key.profiles))
            };
            write!(
                f,
                " The {role} {} is {}, {held}.",
                key.access_key_id, key.status
            )?;
        }
        write!(f, " {}", self.next())
    }
}
