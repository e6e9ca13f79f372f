//! Access key rotation in one call that never loses a key: plan it, run it step by step, recover.

mod access;
mod error;
mod execute;
pub mod holders;
mod journal;
mod key_files;
pub mod lost_keys;
mod new_key;
mod plan;
mod progress;
mod propagation;
pub mod replace;
pub mod user_keys;

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::{ClientSettings, EndpointEnv};
use crate::files::FilePaths;
use crate::keychain::Keychain;

// The surface the CLI and the desktop app use: `plan_rotation`, show the plan, `rotate`; at
// start-up `interrupted_rotations`, then `plan_recovery` and `rotate` to finish each one.
pub use error::{KeyRole, KeyState, RotationError, StoppedRotation};
pub use execute::{replace, rotate};
pub use journal::{
    interrupted_rotations, InterruptedRotation, Journal, JournalError, JournalProfile, JournalStep,
};
pub use plan::{
    plan_recovery, plan_rotation, Course, DeleteReason, KeyToDelete, OldKeyFate, PlannedStep,
    ProfileSection, RotateOptions, RotationPlan,
};
pub use progress::{Progress, RotationReport, Step};
pub use replace::{plan_replacement, replacement_guide, KeysSeenFrom, ReplacementGuide};
/// The profiles of `files` that hold the access key `key_id` (keychain entries included).
pub fn holders_of(
    files: &crate::files::AwsFiles,
    keychain: &Keychain,
    key_id: &str,
) -> Vec<String> {
    key_files::profile_names(&key_files::sections_holding(files, keychain, key_id))
}

pub use user_keys::{KeyInfo, KeyStatus, OtherKeyChange, UserKeys};

/// Where a rotation finds the files, AWS and its journal, and how long it waits for a new key.
#[derive(Clone, Debug)]
pub struct RotationSettings {
    pub paths: FilePaths,
    /// `AWS_ENDPOINT_URL*`, `AWS_REGION`, `AWS_CA_BUNDLE`...
    pub env: EndpointEnv,
    /// Timeouts and retries of each AWS call.
    pub client: ClientSettings,
    /// keyrack's state folder ([`crate::state`]): journals of rotations under way, the new key
    /// while a rotation is open, the files' lock.
    pub state_dir: PathBuf,
    pub propagation: PropagationWait,
    /// Where keychain profiles' keys are read and written.
    pub keychain: Keychain,
    /// How an MFA code is had when the rotated key is behind an MFA device (its IAM calls are
    /// signed with that device's session).
    pub mfa: MfaAsking,
}

/// Where MFA codes come from: the one given for the run, and who is asked for the others.
#[derive(Clone, Debug, Default)]
pub struct MfaAsking {
    pub code: Option<crate::identity::mfa::GivenCode>,
    pub prompt: Option<std::sync::Arc<dyn crate::identity::mfa::MfaPrompt>>,
}

impl RotationSettings {
    /// The process's AWS variables, the default timeouts, the journal in the XDG state folder.
    pub fn from_process_env(paths: FilePaths) -> RotationSettings {
        RotationSettings {
            paths,
            env: EndpointEnv::from_process(),
            client: ClientSettings::default(),
            state_dir: crate::state::state_dir(),
            propagation: PropagationWait::default(),
            keychain: Keychain::platform(),
            mfa: MfaAsking::default(),
        }
    }
}

impl RotationSettings {
    /// Where journals of rotations under way are kept: `STATE/rotations`.
    pub fn journal_dir(&self) -> PathBuf {
        self.state_dir.join("rotations")
    }

    /// Where the new key of a rotation under way is kept until it closes: `STATE/new-keys`.
    fn new_key_dir(&self) -> PathBuf {
        self.state_dir.join("new-keys")
    }

    /// Where keyrack notes whose the lost keys it deleted were ([`lost_keys`]).
    pub fn lost_key_dir(&self) -> PathBuf {
        self.state_dir.join("lost-keys")
    }
}

/// `${XDG_STATE_HOME:-$HOME/.local/state}/keyrack/rotations` (see [`crate::state`]).
pub fn journal_dir_from_env(env: impl Fn(&str) -> Option<String>) -> PathBuf {
    crate::state::state_dir_from_env(env).join("rotations")
}

/// How long calls signed with a new key are retried while IAM spreads it (real AWS takes about
/// 5 to 15 s), with a pause that doubles from `first_delay` up to `max_delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropagationWait {
    pub timeout: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for PropagationWait {
    fn default() -> Self {
        PropagationWait {
            timeout: Duration::from_secs(60),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The desktop app runs rotations on its async runtime and sends their values to the UI.
    #[test]
    fn rotation_values_can_cross_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<RotationError>();
        shared::<RotationPlan>();
        shared::<Progress>();
        shared::<RotationReport>();
        shared::<InterruptedRotation>();
    }

    #[test]
    fn the_journal_lives_in_the_xdg_state_folder() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            journal_dir_from_env(env(&[("HOME", "/home/a")])),
            PathBuf::from("/home/a/.local/state/keyrack/rotations")
        );
        assert_eq!(
            journal_dir_from_env(env(&[("HOME", "/home/a"), ("XDG_STATE_HOME", "/s")])),
            PathBuf::from("/s/keyrack/rotations")
        );
        assert_eq!(
            journal_dir_from_env(env(&[("HOME", "/home/a"), ("XDG_STATE_HOME", "rel")])),
            PathBuf::from("/home/a/.local/state/keyrack/rotations")
        );
    }
}
