//! What a rotation tells while it runs and when it ends: steps, progress events, the final report.

use std::fmt;

use serde::Serialize;

use super::plan::{OldKeyFate, ProfileSection};

/// One step of a rotation, in the order they run. The last two only run after a failure, to
/// leave the user with the old key working and no useless key behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Delete a key to make room for the new one: an Inactive key no profile uses (confirmed by
    /// the user), or a key an interrupted rotation created whose secret never reached the files.
    DeleteUnusedKey {
        access_key_id: String,
    },
    CreateKey,
    WriteFiles {
        new_key_id: String,
        profiles: Vec<String>,
    },
    /// GetCallerIdentity signed with the new key, retried while IAM spreads the new key.
    VerifyNewKey {
        new_key_id: String,
    },
    DeactivateOldKey {
        old_key_id: String,
    },
    DeleteOldKey {
        old_key_id: String,
    },
    /// Put the old key back into the profiles that got the new one (the new key cannot be kept).
    RestoreOldKey {
        old_key_id: String,
        profiles: Vec<String>,
    },
    /// Delete the new key again: no profile holds it, so it would be of no use to anyone.
    DeleteNewKey {
        new_key_id: String,
    },
    /// Make the old key Active again: the files hold it once more (another program wrote them
    /// back) and the new key cannot be kept in them.
    ReactivateOldKey {
        old_key_id: String,
    },
}

impl Step {
    /// A stable short name: `create_key`, `write_files`, `verify_new_key`...
    pub fn name(&self) -> &'static str {
        match self {
            Step::DeleteUnusedKey { .. } => "delete_unused_key",
            Step::CreateKey => "create_key",
            Step::WriteFiles { .. } => "write_files",
            Step::VerifyNewKey { .. } => "verify_new_key",
            Step::DeactivateOldKey { .. } => "deactivate_old_key",
            Step::DeleteOldKey { .. } => "delete_old_key",
            Step::RestoreOldKey { .. } => "restore_old_key",
            Step::DeleteNewKey { .. } => "delete_new_key",
            Step::ReactivateOldKey { .. } => "reactivate_old_key",
        }
    }
}

/// What the step is doing, in words: "creating a new access key".
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::DeleteUnusedKey { access_key_id } => {
                write!(f, "deleting the unused key {access_key_id}")
            }
            Step::CreateKey => f.write_str("creating a new access key"),
            Step::WriteFiles {
                new_key_id,
                profiles,
            } => write!(
                f,
                "writing the new key {new_key_id} to {}",
                profile_list(profiles)
            ),
            Step::VerifyNewKey { new_key_id } => {
                write!(f, "checking that AWS accepts the new key {new_key_id}")
            }
            Step::DeactivateOldKey { old_key_id } => {
                write!(f, "making the old key {old_key_id} Inactive")
            }
            Step::DeleteOldKey { old_key_id } => write!(f, "deleting the old key {old_key_id}"),
            Step::RestoreOldKey {
                old_key_id,
                profiles,
            } => write!(
                f,
                "putting the old key {old_key_id} back into {}",
                profile_list(profiles)
            ),
            Step::DeleteNewKey { new_key_id } => {
                write!(f, "deleting the new key {new_key_id} again")
            }
            Step::ReactivateOldKey { old_key_id } => {
                write!(f, "making the old key {old_key_id} Active again")
            }
        }
    }
}

/// "profile 'a'" or "profiles 'a', 'b'".
pub(crate) fn profile_list(profiles: &[String]) -> String {
    let quoted: Vec<String> = profiles.iter().map(|p| format!("'{p}'")).collect();
    match quoted.len() {
        0 => "no profile".to_owned(),
        1 => format!("profile {}", quoted[0]),
        _ => format!("profiles {}", quoted.join(", ")),
    }
}

/// A progress event, sent as each step starts, waits and ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    Started {
        step: Step,
    },
    /// AWS did not accept a call yet (a new key takes IAM a few seconds to spread, or the network
    /// failed): it is tried again after `retry_in_ms`.
    Waiting {
        step: Step,
        attempt: u32,
        retry_in_ms: u64,
        reason: String,
    },
    Done {
        step: Step,
        outcome: String,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Started { step } => write!(f, "{step}..."),
            Progress::Waiting {
                attempt,
                retry_in_ms,
                reason,
                ..
            } => write!(
                f,
                "  not yet (attempt {attempt}: {reason}); trying again in {:.1} s",
                *retry_in_ms as f64 / 1000.0
            ),
            Progress::Done { outcome, .. } => write!(f, "  {outcome}"),
        }
    }
}

/// What a finished rotation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    pub profile: String,
    pub user: String,
    pub old_key_id: String,
    pub new_key_id: String,
    /// Every profile section that now holds the new key (written by this run).
    pub profiles_updated: Vec<ProfileSection>,
    pub old_key: OldKeyFate,
    /// Keys deleted before the new key was created.
    pub deleted_first: Vec<String>,
    /// The steps that ran, in order.
    pub steps: Vec<Step>,
}
