//! The rotation plan: everything a rotation will do, worked out and shown before anything changes.

use std::time::Duration;

use serde::Serialize;
use time::{Duration as Span, OffsetDateTime};

use crate::aws::{AccessKeyMetadata, Credentials};
use crate::files::{AwsFiles, Dialect, FileKind, FilePaths, Reading};
use crate::identity::{credential_source, CredentialSource, IdentityError};
use crate::keychain::Keychain;
use crate::rotation::holders::read_keychain_profiles;
use crate::rotation::user_keys::{user_name_from_arn, KeyInfo, KeyStatus};

use super::access::AwsAccess;
use super::error::RotationError;
use super::journal::{self, Journal};
use super::key_files::{profile_names, sections_holding};
use super::new_key;
use super::progress::profile_list;
use super::propagation::until_accepted;
use super::RotationSettings;

/// How far from an interrupted rotation's start a key may have been created and still count as
/// that rotation's key (the clocks of this computer and AWS differ; requests take time).
const INTERRUPTED_KEY_WINDOW: Span = Span::minutes(5);

/// What the user chose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RotateOptions {
    /// Keep the old key, Inactive, instead of deleting it.
    pub keep_old: bool,
    /// The user confirmed that an Inactive key no profile holds may be deleted to make room.
    pub delete_inactive: bool,
    /// When the rotation must stop before the old key is retired (another program keeps
    /// writing the old key back into the files), keep the new key (Active, kept safely) so that
    /// the next run finishes with it, instead of giving it up.
    pub keep_new_on_stop: bool,
    /// A replacement whose old key the user deleted in the console (it counted against the
    /// two-key limit): the new key must then be of the account the old key id names.
    #[serde(default)]
    pub old_key_deleted: bool,
}

/// A profile section that holds a key: the profile, its file and the line of the key id; or, for
/// a profile whose key is in the keychain (`keyrack vault move`), the keychain entry and the line
/// of its `credential_process`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileSection {
    pub profile: String,
    pub file: FileKind,
    pub line: usize,
    /// The keychain entry (account) that holds the key, when the key is in the keychain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain: Option<String>,
}

/// What becomes of the old key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OldKeyFate {
    Deleted,
    /// Kept, Inactive (`keep_old`).
    Inactive,
}

/// Why a key is deleted before the new one is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteReason {
    /// Inactive, held by no profile, and the user confirmed.
    InactiveAndUnused,
    /// Created by an interrupted rotation whose secret never reached the files: of no use.
    LeftByInterruptedRotation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyToDelete {
    pub access_key_id: String,
    pub reason: DeleteReason,
}

/// Whether the rotation starts afresh or deals with an interrupted one first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "course", rename_all = "snake_case")]
pub enum Course {
    /// No rotation of this key was interrupted.
    New,
    /// An interrupted rotation got its new key into the files: this run finishes it (writes it
    /// to the profiles still holding the old key, checks it, retires the old key).
    FinishInterrupted { new_key_id: String },
    /// An interrupted rotation's new key never reached the files: its leftovers are deleted,
    /// then a new rotation runs.
    RestartInterrupted,
    /// A replacement (`keyrack replace`): a key the user made in the console, already proven to
    /// be the same user's, takes the place of a key whose secret is lost or wrong.
    Replace { new_key_id: String },
}

/// Everything a rotation will do, shown before the user confirms. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RotationPlan {
    pub profile: String,
    pub user: String,
    pub arn: String,
    pub account: String,
    /// The key being replaced.
    pub old_key_id: String,
    /// Every profile section holding the old key: each gets the new key.
    pub profiles: Vec<ProfileSection>,
    /// The user's keys now.
    pub keys: Vec<KeyInfo>,
    /// Keys deleted (with the old key) before the new key is created.
    pub delete_first: Vec<KeyToDelete>,
    pub old_key: OldKeyFate,
    pub course: Course,
    /// A replacement whose old key IAM no longer shows: only the person's word (they deleted it
    /// in the console) says it was this user's key.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub old_key_unproven: bool,
    /// The journal of the interrupted rotation of this key, if there is one.
    pub interrupted: Option<Journal>,
    pub options: RotateOptions,
    /// The steps this plan will run, in order, in words (the CLI's list, the dialog's).
    pub steps: Vec<PlannedStep>,
}

/// One step a plan will run: its name (as in [`super::Step::name`]) and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedStep {
    pub step: &'static str,
    pub label: String,
}

/// The steps `plan` will run, in order, in words; `wait` is how long the new key is given to
/// start working.
pub(super) fn planned_steps(plan: &RotationPlan, wait: Duration) -> Vec<PlannedStep> {
    let step = |step: &'static str, label: String| PlannedStep { step, label };
    let mut steps: Vec<PlannedStep> = plan
        .delete_first
        .iter()
        .map(|key| {
            step(
                "delete_unused_key",
                match key.reason {
                    DeleteReason::InactiveAndUnused => format!(
                        "Delete the Inactive key {}, which no profile holds (you confirmed)",
                        key.access_key_id
                    ),
                    DeleteReason::LeftByInterruptedRotation => format!(
                        "Delete the key {}, left by the interrupted rotation (its secret never \
                         reached the files)",
                        key.access_key_id
                    ),
                },
            )
        })
        .collect();
    match &plan.course {
        Course::New | Course::RestartInterrupted => {
            steps.push(step("create_key", "Create a new access key".into()))
        }
        Course::Replace { .. } | Course::FinishInterrupted { .. } => {}
    }
    if !plan.profiles.is_empty() {
        steps.push(step(
            "write_files",
            "Write it (id and secret) to every profile that held the old key, one safe save per file"
                .into(),
        ));
    }
    steps.push(step(
        "verify_new_key",
        format!(
            "Prove that AWS accepts the new key (waiting up to {} s while IAM spreads it)",
            wait.as_secs()
        ),
    ));
    steps.push(step(
        "deactivate_old_key",
        format!(
            "Make the old key {} Inactive, signed with the new key",
            plan.old_key_id
        ),
    ));
    if plan.old_key == OldKeyFate::Deleted {
        steps.push(step(
            "delete_old_key",
            format!("Delete the old key {}", plan.old_key_id),
        ));
    }
    steps
}

/// Works out the rotation of `profile`'s access key: reads the files, asks AWS who the key
/// belongs to (GetCallerIdentity) and lists the user's keys. Changes nothing.
pub async fn plan_rotation(
    settings: &RotationSettings,
    profile: &str,
    options: RotateOptions,
) -> Result<RotationPlan, RotationError> {
    if journal::lock(&settings.journal_dir())?.is_none() {
        return Err(RotationError::Busy);
    }
    let files = AwsFiles::load(&settings.paths)?;
    let reading = files.read(Dialect::Cli);
    let key = profile_key(&reading, &settings.keychain, profile)?;
    // Every keychain profile must be readable: one that is not could hold the key.
    read_keychain_profiles(&files, &settings.keychain).map_err(|(profile, error)| {
        RotationError::Credentials(IdentityError::Keychain { profile, error })
    })?;
    let interrupted = journal::find(&settings.journal_dir(), &key.access_key_id)?;
    if let Some(journal) = &interrupted {
        same_files(settings, journal)?;
    }
    let reading_for_hint = reading.clone();
    let aws =
        AwsAccess::for_profile(reading, settings, profile).map_err(RotationError::Credentials)?;
    // The profile's own key signs the plan; when AWS refuses it, the kept new key of an
    // interrupted rotation does: that rotation may have made the old key Inactive before another
    // program wrote the files back. A kept key AWS refuses (deleted since) is no obstacle.
    let new_of_interrupted = |id: &str| {
        interrupted
            .as_ref()
            .is_some_and(|j| j.new_key_id.as_deref() == Some(id))
    };
    let who = |signer: Credentials| {
        let aws = &aws;
        let fresh = new_of_interrupted(&signer.access_key_id);
        async move {
            let identity = if fresh {
                // The interrupted rotation may have just created it: give IAM its time.
                until_accepted(&settings.propagation, || aws.who(&signer), |_, _, _| {})
                    .await
                    .map_err(|f| f.into_error())
            } else {
                aws.who(&signer).await
            };
            (signer, identity)
        }
    };
    let (mut signer, mut identity) = who(key.clone()).await;
    if identity.is_err() {
        let kept = interrupted.as_ref().and_then(|j| {
            new_key::kept(&settings.new_key_dir(), &j.old_key_id)
                .filter(|k| j.new_key_id.as_ref() == Some(&k.access_key_id))
                .filter(|k| k.access_key_id != key.access_key_id)
        });
        if let Some(kept) = kept {
            if let (kept, Ok(found)) = who(kept).await {
                (signer, identity) = (kept, Ok(found));
            }
        }
    }
    let identity = identity.map_err(|error| RotationError::KeyDoesNotWork {
        profile: profile.to_owned(),
        key_id: key.access_key_id.clone(),
        error,
    })?;
    let user = user_name_from_arn(&identity.arn)
        .ok_or_else(|| RotationError::NotAUser {
            profile: profile.to_owned(),
            arn: identity.arn.clone(),
        })?
        .to_owned();
    let without_mfa = !super::user_keys::behind_mfa(&reading_for_hint, profile);
    let listed = aws
        .list(&signer, &user)
        .await
        .map_err(|error| RotationError::Aws {
            action: "ListAccessKeys",
            error: super::user_keys::mfa_hint(error, without_mfa),
        })?;
    let keys = describe_keys(&aws, &signer, &files, &settings.keychain, listed).await;

    let old_key_id = match &interrupted {
        Some(journal) => journal.old_key_id.clone(),
        None => key.access_key_id.clone(),
    };
    let keep_old = options.keep_old || interrupted.as_ref().is_some_and(|j| j.keep_old);
    let mut plan = RotationPlan {
        profile: profile.to_owned(),
        user,
        arn: identity.arn,
        account: identity.account,
        profiles: sections_holding(&files, &settings.keychain, &old_key_id),
        old_key_id,
        keys,
        delete_first: Vec::new(),
        old_key: if keep_old {
            OldKeyFate::Inactive
        } else {
            OldKeyFate::Deleted
        },
        course: Course::New,
        old_key_unproven: false,
        interrupted: None,
        options,
        steps: Vec::new(),
    };
    match interrupted {
        None => {
            plan.delete_first = make_room(&plan, &plan.keys)?;
        }
        Some(journal) => {
            plan_after_interruption(
                &mut plan,
                &files,
                &journal,
                &settings.new_key_dir(),
                &settings.keychain,
            )?;
            plan.interrupted = Some(journal);
        }
    }
    plan.steps = planned_steps(&plan, settings.propagation.timeout);
    Ok(plan)
}

/// Plans the completion of an interrupted rotation (what the desktop app offers at start-up):
/// the rotation of the first profile that holds its old or new key, the profile it was started
/// for first.
pub async fn plan_recovery(
    settings: &RotationSettings,
    interrupted: &Journal,
    options: RotateOptions,
) -> Result<RotationPlan, RotationError> {
    same_files(settings, interrupted)?;
    let files = AwsFiles::load(&settings.paths)?;
    let reading = files.read(Dialect::Cli);
    let ids = [
        Some(interrupted.old_key_id.as_str()),
        interrupted.new_key_id.as_deref(),
    ];
    let holds_a_key = |profile: &str| {
        profile_key(&reading, &settings.keychain, profile)
            .is_ok_and(|key| ids.contains(&Some(key.access_key_id.as_str())))
    };
    let candidates = std::iter::once(interrupted.profile.as_str())
        .chain(interrupted.profiles.iter().map(|p| p.profile.as_str()))
        .chain(reading.profiles.keys().map(String::as_str));
    for profile in candidates {
        if holds_a_key(profile) {
            return plan_rotation(settings, profile, options).await;
        }
    }
    Err(RotationError::NothingToRecover {
        old_key_id: interrupted.old_key_id.clone(),
        new_key_id: interrupted
            .new_key_id
            .clone()
            .unwrap_or_else(|| "(never known)".into()),
        journal: settings
            .journal_dir()
            .join(format!("{}.json", interrupted.old_key_id))
            .display()
            .to_string(),
    })
}

/// An interrupted rotation is finished only on the files it ran on: elsewhere, keys that work in
/// its files would look unused (and be deleted) or be changed under them.
pub(super) fn same_files(
    settings: &RotationSettings,
    journal: &Journal,
) -> Result<(), RotationError> {
    let recorded = FilePaths {
        config: journal.config_file.clone(),
        credentials: journal.credentials_file.clone(),
    };
    if recorded.set_id() == settings.paths.set_id() {
        return Ok(());
    }
    Err(RotationError::OtherFiles {
        profile: journal.profile.clone(),
        old_key_id: journal.old_key_id.clone(),
        config: recorded.config,
        credentials: recorded.credentials,
    })
}

/// The long-term key a profile signs with, from the files or its keychain entry. Roles, other
/// credential processes and temporary credentials have no key of their own to rotate.
pub(super) fn profile_key(
    reading: &Reading,
    keychain: &Keychain,
    profile: &str,
) -> Result<Credentials, RotationError> {
    let no_key = |detail: String| RotationError::NoKeyOfItsOwn {
        profile: profile.to_owned(),
        detail,
    };
    // A key behind an MFA device is still the profile's own key.
    let source = credential_source(&reading.profiles, profile).map(|source| match source {
        CredentialSource::MfaSession { keys, .. } => *keys,
        other => other,
    });
    let credentials =
        match source {
            Ok(CredentialSource::StaticKeys { credentials, .. }) => credentials,
            // A key moved into the keychain (`keyrack vault move`) is rotated there.
            Ok(CredentialSource::Keychain { account, .. }) => {
                keychain
                    .get(&account)
                    .map_err(|error| {
                        RotationError::Credentials(IdentityError::Keychain {
                            profile: profile.to_owned(),
                            error,
                        })
                    })?
                    .credentials
            }
            Ok(CredentialSource::AssumeRole { source, .. }) => {
                return Err(no_key(format!(
                "it assumes a role with the credentials of profile '{}'; rotate that profile's key",
                source.profile()
            )))
            }
            Ok(CredentialSource::Process { .. }) => {
                return Err(no_key(
                    "its credentials come from a credential_process, which keyrack cannot change"
                        .into(),
                ))
            }
            Ok(CredentialSource::MfaSession { .. }) => {
                unreachable!("an MFA session is made of a key, never of another session")
            }
            Ok(CredentialSource::Sso { .. }) => return Err(no_key(
                "it signs in through IAM Identity Center, whose role credentials last hours and \
                 have no access key to rotate"
                    .into(),
            )),
            Err(IdentityError::NoSuchProfile { .. }) => {
                return Err(RotationError::NoSuchProfile {
                    profile: profile.to_owned(),
                })
            }
            Err(e) => return Err(RotationError::Credentials(e)),
        };
    if credentials.session_token.is_some() || credentials.access_key_id.starts_with("ASIA") {
        return Err(RotationError::TemporaryCredentials {
            profile: profile.to_owned(),
        });
    }
    Ok(credentials)
}

/// The user's keys with their age, last use (asked for all keys at once; a failure only leaves
/// it out) and the profiles holding each (a keychain that cannot be read counts all its
/// profiles, as everywhere in a rotation).
pub(super) async fn describe_keys(
    aws: &AwsAccess,
    signer: &Credentials,
    files: &AwsFiles,
    keychain: &Keychain,
    listed: Vec<AccessKeyMetadata>,
) -> Vec<KeyInfo> {
    let now = OffsetDateTime::now_utc();
    let uses = aws.last_uses(signer, &listed).await;
    listed
        .iter()
        .zip(uses)
        .map(|(key, used)| {
            let holders = profile_names(&sections_holding(files, keychain, &key.access_key_id));
            KeyInfo::new(key, used.ok().as_ref(), holders, now)
        })
        .collect()
}

/// Whether a key created at `created` may be the key of a rotation that started at `started`.
pub(super) fn created_during(created: OffsetDateTime, started: Option<OffsetDateTime>) -> bool {
    started.is_some_and(|started| {
        created >= started - INTERRUPTED_KEY_WINDOW && created <= started + INTERRUPTED_KEY_WINDOW
    })
}

/// AWS allows two keys per user: the keys to delete before creating one, or why the rotation
/// cannot go on. The old key itself must be there and Active.
fn make_room(plan: &RotationPlan, keys: &[KeyInfo]) -> Result<Vec<KeyToDelete>, RotationError> {
    let old = keys.iter().find(|k| k.access_key_id == plan.old_key_id);
    if old.is_none_or(|k| k.status != KeyStatus::Active) {
        return Err(RotationError::OldKeyInactive {
            profile: plan.profile.clone(),
            key_id: plan.old_key_id.clone(),
        });
    }
    let others: Vec<&KeyInfo> = keys
        .iter()
        .filter(|k| k.access_key_id != plan.old_key_id)
        .collect();
    let Some(other) = others.first() else {
        return Ok(Vec::new());
    };
    if let Some(active) = others.iter().find(|k| k.status == KeyStatus::Active) {
        return Err(RotationError::OtherKeyActive {
            user: plan.user.clone(),
            other_key_id: active.access_key_id.clone(),
            usage: usage(active),
        });
    }
    if !other.profiles.is_empty() {
        return Err(RotationError::InactiveKeyInUse {
            user: plan.user.clone(),
            other_key_id: other.access_key_id.clone(),
            profiles: profile_list(&other.profiles),
        });
    }
    if !plan.options.delete_inactive {
        return Err(RotationError::InactiveKeyNeedsConfirmation {
            user: plan.user.clone(),
            other_key_id: other.access_key_id.clone(),
        });
    }
    Ok(others
        .iter()
        .map(|k| KeyToDelete {
            access_key_id: k.access_key_id.clone(),
            reason: DeleteReason::InactiveAndUnused,
        })
        .collect())
}

/// ", held by profile 'x', last used 2024-05-01T..." for the explanation of a key in the way.
fn usage(key: &KeyInfo) -> String {
    let mut out = String::new();
    if !key.profiles.is_empty() {
        out.push_str(&format!(", held by {}", profile_list(&key.profiles)));
    }
    match &key.last_used {
        Some(date) => out.push_str(&format!(", last used {date}")),
        None => out.push_str(", never used as far as AWS says"),
    }
    out
}

/// Decides what to do about an interrupted rotation of the key: finish it when its new key is in
/// the files or kept in the state folder (the secret survived), else delete what it left and
/// start again.
fn plan_after_interruption(
    plan: &mut RotationPlan,
    files: &AwsFiles,
    journal: &Journal,
    new_key_dir: &std::path::Path,
    keychain: &Keychain,
) -> Result<(), RotationError> {
    let kept = new_key::kept(new_key_dir, &journal.old_key_id)
        .filter(|key| journal.new_key_id.as_ref() == Some(&key.access_key_id));
    if let Some(kept) = kept {
        if plan
            .keys
            .iter()
            .any(|k| k.access_key_id == kept.access_key_id)
        {
            plan.course = Course::FinishInterrupted {
                new_key_id: kept.access_key_id,
            };
            return Ok(());
        }
    }
    let new_in_files = journal
        .new_key_id
        .as_ref()
        .map(|id| (id, sections_holding(files, keychain, id)))
        .filter(|(_, sections)| !sections.is_empty());
    if let Some((new_key_id, sections)) = new_in_files {
        if !plan.keys.iter().any(|k| &k.access_key_id == new_key_id) {
            return Err(RotationError::InterruptedKeyGone {
                new_key_id: new_key_id.clone(),
                profiles: profile_list(&profile_names(&sections)),
            });
        }
        plan.course = Course::FinishInterrupted {
            new_key_id: new_key_id.clone(),
        };
        return Ok(());
    }
    let started = journal.started();
    let (leftovers, remaining): (Vec<KeyInfo>, Vec<KeyInfo>) =
        plan.keys.iter().cloned().partition(|k| {
            // A replacement's new key was made by the user, not left by keyrack.
            !journal.replacement
                && k.access_key_id != plan.old_key_id
                && k.profiles.is_empty()
                && (journal.new_key_id.as_ref() == Some(&k.access_key_id)
                    || created_during(k.created_at, started))
        });
    let mut delete_first: Vec<KeyToDelete> = leftovers
        .into_iter()
        .map(|k| KeyToDelete {
            access_key_id: k.access_key_id,
            reason: DeleteReason::LeftByInterruptedRotation,
        })
        .collect();
    delete_first.extend(make_room(plan, &remaining)?);
    plan.delete_first = delete_first;
    plan.course = Course::RestartInterrupted;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, status: KeyStatus, profiles: &[&str]) -> KeyInfo {
        let created_at = OffsetDateTime::now_utc() - Span::days(30);
        KeyInfo {
            access_key_id: id.into(),
            status,
            created: crate::rotation::user_keys::timestamp(created_at),
            age_days: 30,
            last_used: None,
            last_used_service: None,
            last_used_region: None,
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            created_at,
        }
    }

    fn plan(keys: Vec<KeyInfo>, delete_inactive: bool) -> RotationPlan {
        RotationPlan {
            profile: "work".into(),
            user: "alice".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            account: "123456789012".into(),
            old_key_id: "AKIAOLD".into(),
            profiles: Vec::new(),
            keys,
            delete_first: Vec::new(),
            old_key: OldKeyFate::Deleted,
            course: Course::New,
            old_key_unproven: false,
            interrupted: None,
            options: RotateOptions {
                delete_inactive,
                ..RotateOptions::default()
            },
            steps: Vec::new(),
        }
    }

    fn room(keys: Vec<KeyInfo>, delete_inactive: bool) -> Result<Vec<KeyToDelete>, RotationError> {
        let plan = plan(keys, delete_inactive);
        make_room(&plan, &plan.keys)
    }

    #[test]
    fn a_single_key_needs_no_room() {
        let keys = vec![key("AKIAOLD", KeyStatus::Active, &["work"])];
        assert!(room(keys, false).unwrap().is_empty());
    }

    #[test]
    fn an_active_second_key_stops_the_rotation() {
        let keys = vec![
            key("AKIAOLD", KeyStatus::Active, &["work"]),
            key("AKIATWO", KeyStatus::Active, &[]),
        ];
        let err = room(keys, true).unwrap_err();
        assert!(
            matches!(err, RotationError::OtherKeyActive { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("AKIATWO") && text.contains("Nothing was changed"),
            "{text}"
        );
    }

    #[test]
    fn an_inactive_unused_second_key_is_deleted_only_when_confirmed() {
        let keys = || {
            vec![
                key("AKIAOLD", KeyStatus::Active, &["work"]),
                key("AKIATWO", KeyStatus::Inactive, &[]),
            ]
        };
        let err = room(keys(), false).unwrap_err();
        assert!(
            matches!(err, RotationError::InactiveKeyNeedsConfirmation { .. }),
            "{err:?}"
        );
        let delete = room(keys(), true).unwrap();
        assert_eq!(
            delete,
            [KeyToDelete {
                access_key_id: "AKIATWO".into(),
                reason: DeleteReason::InactiveAndUnused
            }]
        );
    }

    #[test]
    fn an_inactive_key_a_profile_holds_is_never_deleted() {
        let keys = vec![
            key("AKIAOLD", KeyStatus::Active, &["work"]),
            key("AKIATWO", KeyStatus::Inactive, &["spare"]),
        ];
        let err = room(keys, true).unwrap_err();
        assert!(
            matches!(err, RotationError::InactiveKeyInUse { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn an_inactive_old_key_is_refused() {
        let keys = vec![key("AKIAOLD", KeyStatus::Inactive, &["work"])];
        assert!(matches!(
            room(keys, false),
            Err(RotationError::OldKeyInactive { .. })
        ));
    }

    #[test]
    fn keys_created_near_the_start_of_a_rotation_count_as_its_keys() {
        let start = OffsetDateTime::now_utc();
        assert!(created_during(start + Span::seconds(2), Some(start)));
        assert!(created_during(start - Span::seconds(30), Some(start)));
        assert!(!created_during(start - Span::hours(1), Some(start)));
        assert!(!created_during(start, None));
    }
}
