//! Running a rotation top to bottom: new key, into the files, proven, then the old key retired.

use std::time::Duration;

use crate::aws::Credentials;
use crate::files::lock::{lock_files, DEFAULT_WAIT};
use crate::files::{leftovers, AwsFiles, Dialect};

use super::access::{is_no_such_entity, may_have_created, AwsAccess};
use super::error::{KeyRole, KeyState, RotationError, StoppedRotation};
use super::journal::{self, Journal, JournalProfile, JournalStep};
use super::key_files::{credentials_in_files, profile_names, replace_key, sections_holding};
use super::new_key;
use super::plan::{created_during, profile_key, Course, OldKeyFate, ProfileSection, RotationPlan};
use super::progress::{Progress, RotationReport, Step};
use super::propagation::{until_accepted, WaitFailure};
use super::user_keys::KeyStatus;
use super::RotationSettings;

/// How many times a rotation writes its new key again into files that another program wrote
/// back from an older copy, before it gives up and leaves the old key as it was.
const REWRITES: usize = 3;

/// How long a rotation waits after writing its key again before it reads the files once more:
/// a program that keeps writing its own copy back shows itself within that time.
const SETTLE: Duration = Duration::from_millis(500);

/// Runs `plan` (from [`super::plan_rotation`]), telling `on_progress` as each step starts, waits
/// and ends. The files and the journal are read again first: if they changed since the plan in a
/// way that matters, nothing is done ([`RotationError::PlanOutdated`]).
///
/// The order keeps a working key in the files at every moment: the new key is written to every
/// profile that held the old one before anything else can fail; it is proven to work (waiting out
/// IAM's propagation delay) before the old key is touched; the old key is made Inactive with the
/// new key's signature, then deleted. If the files cannot take the new key, or AWS never accepts
/// it, the old key goes back where it was and the new key is deleted. The journal records each
/// step, so that running the rotation again finishes or cleans up after an interrupted one.
///
/// The files are trusted, not keyrack's memory: right before the old key is made Inactive, and
/// again before it is deleted, they are read again; a profile that holds the old key once more
/// (another program wrote its file back from a copy it read before) gets the new key again, and
/// when that does not hold, or no profile holds the new key at all, the old key is left working
/// and the new one given up. Until the rotation closes, the new key is also kept in keyrack's
/// state folder ([`new_key`]), never only in memory.
pub async fn rotate(
    settings: &RotationSettings,
    plan: &RotationPlan,
    on_progress: impl FnMut(&Progress) + Send,
) -> Result<RotationReport, RotationError> {
    run_plan(settings, plan, None, on_progress).await
}

/// Runs a replacement `plan` (from [`super::plan_replacement`]) with `new`, the key the user made
/// in the console, as [`rotate`] runs a rotation from the moment its new key exists, except that
/// the new key is never given up: the old key's secret does not work, so when a step fails the
/// new key is kept (in the files it reached and in keyrack's state folder) and running the
/// replacement again finishes it.
pub async fn replace(
    settings: &RotationSettings,
    plan: &RotationPlan,
    new: &Credentials,
    on_progress: impl FnMut(&Progress) + Send,
) -> Result<RotationReport, RotationError> {
    match &plan.course {
        Course::Replace { new_key_id } if *new_key_id == new.access_key_id => {
            run_plan(settings, plan, Some(new), on_progress).await
        }
        _ => Err(RotationError::PlanOutdated {
            detail: format!(
                "the plan is not the replacement of the key {} by {}",
                plan.old_key_id, new.access_key_id
            ),
        }),
    }
}

async fn run_plan(
    settings: &RotationSettings,
    plan: &RotationPlan,
    replacement: Option<&Credentials>,
    mut on_progress: impl FnMut(&Progress) + Send,
) -> Result<RotationReport, RotationError> {
    let _lock = journal::lock(&settings.journal_dir())?.ok_or(RotationError::Busy)?;
    let files = AwsFiles::load(&settings.paths)?;
    let reading = files.read(Dialect::Cli);
    let held = profile_key(&reading, &settings.keychain, &plan.profile)?;
    let expected = match &plan.course {
        Course::FinishInterrupted { new_key_id } | Course::Replace { new_key_id } => {
            vec![&plan.old_key_id, new_key_id]
        }
        Course::New | Course::RestartInterrupted => vec![&plan.old_key_id],
    };
    if !expected.contains(&&held.access_key_id) {
        return Err(RotationError::PlanOutdated {
            detail: format!(
                "profile '{}' holds the key {} now",
                plan.profile, held.access_key_id
            ),
        });
    }
    if journal::load(&settings.journal_dir(), &plan.old_key_id)? != plan.interrupted {
        return Err(RotationError::PlanOutdated {
            detail: format!(
                "a rotation of the key {} started or moved on",
                plan.old_key_id
            ),
        });
    }
    let old = if held.access_key_id == plan.old_key_id {
        Some(held)
    } else {
        credentials_in_files(&files, &settings.keychain, &plan.old_key_id)
    };
    let aws = AwsAccess::for_profile(reading, settings, &plan.profile)
        .map_err(RotationError::Credentials)?;
    let mut run = Run {
        settings,
        plan,
        aws,
        old,
        new: None,
        journal: plan.interrupted.clone(),
        // A new rotation starts from an Active old key (the plan refuses others); an interrupted
        // one may have made it Inactive or deleted it already.
        old_status: match plan
            .keys
            .iter()
            .find(|k| k.access_key_id == plan.old_key_id)
        {
            None => KeyStatus::Deleted,
            // IAM may still list it Active for a moment after an UpdateAccessKey that reached it.
            Some(_)
                if plan
                    .interrupted
                    .as_ref()
                    .is_some_and(|j| j.step == JournalStep::OldKeyDeactivated) =>
            {
                KeyStatus::Unknown
            }
            Some(k) => k.status,
        },
        new_status: KeyStatus::Unknown,
        steps: Vec::new(),
        deleted_first: Vec::new(),
        updated: Vec::new(),
        on_progress: &mut on_progress,
    };
    match (&plan.course, replacement) {
        (Course::Replace { .. }, Some(new)) => run.replace_with(new.clone()).await,
        (Course::New | Course::RestartInterrupted, None) => run.rotate_anew().await,
        (Course::FinishInterrupted { new_key_id }, None) => {
            run.finish_interrupted(new_key_id).await
        }
        _ => Err(RotationError::PlanOutdated {
            detail: "the plan and the way it was run differ".into(),
        }),
    }
}

/// One rotation as it runs: what it knows about each key and what it has done.
struct Run<'a> {
    settings: &'a RotationSettings,
    plan: &'a RotationPlan,
    aws: AwsAccess,
    /// The old key with its secret, while some file holds it.
    old: Option<Credentials>,
    new: Option<Credentials>,
    /// The journal on disk; `None` once removed.
    journal: Option<Journal>,
    old_status: KeyStatus,
    new_status: KeyStatus,
    steps: Vec<Step>,
    deleted_first: Vec<String>,
    updated: Vec<ProfileSection>,
    on_progress: &'a mut (dyn FnMut(&Progress) + Send),
}

impl Run<'_> {
    async fn rotate_anew(&mut self) -> Result<RotationReport, RotationError> {
        let Some(old) = self.old.clone() else {
            return Err(RotationError::PlanOutdated {
                detail: format!("no profile holds the key {} any more", self.plan.old_key_id),
            });
        };
        let user = self.plan.user.clone();

        // Make room: AWS allows two keys per user.
        for key in &self.plan.delete_first {
            let step = Step::DeleteUnusedKey {
                access_key_id: key.access_key_id.clone(),
            };
            self.still_deletable(&old, key, &step).await?;
            self.started(&step);
            match self.aws.delete(&old, &key.access_key_id, &user).await {
                Err(e) if !is_no_such_entity(&e) => {
                    return Err(self.stop(step, e.to_string()).await)
                }
                _ => {}
            }
            self.deleted_first.push(key.access_key_id.clone());
            self.done(step, "deleted");
        }
        if let Some(leftover) = self.journal.take() {
            leftover.remove(&self.settings.journal_dir())?;
        }

        // The journal comes first: whatever happens from here, the next run knows about it.
        let mut journal = Journal::begin(
            &self.plan.old_key_id,
            &user,
            &self.plan.arn,
            &self.plan.profile,
            self.journal_profiles(),
            &self.settings.paths.real(),
            self.plan.old_key == OldKeyFate::Inactive,
        );
        journal.save(&self.settings.journal_dir())?;
        self.journal = Some(journal);

        let step = Step::CreateKey;
        self.started(&step);
        let new = match self.aws.create(&old, &user).await {
            Ok(new) => new,
            Err(error) => {
                let mut reason = error.to_string();
                if !may_have_created(&error) {
                    self.close_journal();
                } else if self.delete_lost_key(&old).await > 0 {
                    reason.push_str(
                        "; AWS had created the key all the same, and it was deleted again (its \
                         secret never arrived)",
                    );
                }
                return Err(self.stop(step, reason).await);
            }
        };
        self.new = Some(new.clone());
        self.new_status = KeyStatus::Active;
        let new_key_dir = self.settings.new_key_dir();
        if let Err(e) = new_key::keep(&new_key_dir, &self.plan.old_key_id, &new) {
            let reason = format!(
                "the new key could not be kept safely in {}: {e}",
                new_key_dir.display()
            );
            return Err(self.give_up_new_key(step, reason).await);
        }
        if let Some(journal) = &mut self.journal {
            journal.new_key_id = Some(new.access_key_id.clone());
            journal.step = JournalStep::KeyCreated;
            if let Err(e) = journal.save(&self.settings.journal_dir()) {
                let reason = format!("the new key could not be recorded: {e}");
                return Err(self.give_up_new_key(step, reason).await);
            }
        }
        self.done(step, format!("created {}", new.access_key_id));
        self.finish(new).await
    }

    /// A replacement: the journal first (marked as a replacement), and the new key kept in the
    /// state folder, then as the end of a rotation. The old key's secret (if any is in the files)
    /// is not used: AWS refuses it.
    async fn replace_with(&mut self, new: Credentials) -> Result<RotationReport, RotationError> {
        // The key is kept first, then the journal that points at it: a run killed in between
        // leaves no journal promising a key that is nowhere.
        let new_key_dir = self.settings.new_key_dir();
        if let Err(error) = new_key::keep(&new_key_dir, &self.plan.old_key_id, &new) {
            // Nothing of this run is written: the person still has the key's .csv.
            return Err(RotationError::NewKeyNotKept {
                dir: new_key_dir,
                detail: error.to_string(),
            });
        }
        let began = self.journal.is_none();
        let mut journal = self.journal.take().unwrap_or_else(|| {
            let mut journal = Journal::begin(
                &self.plan.old_key_id,
                &self.plan.user,
                &self.plan.arn,
                &self.plan.profile,
                self.journal_profiles(),
                &self.settings.paths.real(),
                self.plan.old_key == OldKeyFate::Inactive,
            );
            journal.replacement = true;
            journal.new_key_id = Some(new.access_key_id.clone());
            journal.step = JournalStep::KeyCreated;
            journal
        });
        let saved = journal.save(&self.settings.journal_dir());
        self.journal = Some(journal);
        if let Err(error) = saved {
            if began {
                // Begun by this run and nothing written: no journal, no kept copy.
                self.journal = None;
                let _ = new_key::forget(&new_key_dir, &self.plan.old_key_id);
                return Err(error.into());
            }
            // An earlier run's journal stays as it was; the files may hold the new key already.
        }
        self.new = Some(new.clone());
        self.new_status = KeyStatus::Active;
        self.finish(new).await
    }

    /// Whether the new key is the user's own (a replacement): it is never given up.
    fn new_key_is_the_users(&self) -> bool {
        match &self.plan.course {
            Course::Replace { .. } => true,
            // Finishing an interrupted replacement; a restarted run makes a key of its own.
            Course::FinishInterrupted { .. } => self
                .plan
                .interrupted
                .as_ref()
                .is_some_and(|j| j.replacement),
            Course::New | Course::RestartInterrupted => false,
        }
    }

    fn journal_profiles(&self) -> Vec<JournalProfile> {
        self.plan
            .profiles
            .iter()
            .map(|s| JournalProfile {
                profile: s.profile.clone(),
                file: if s.keychain.is_some() {
                    "keychain"
                } else {
                    s.file.name()
                }
                .to_owned(),
            })
            .collect()
    }

    async fn finish_interrupted(
        &mut self,
        new_key_id: &str,
    ) -> Result<RotationReport, RotationError> {
        let files = AwsFiles::load(&self.settings.paths)?;
        // The files may have lost it (another program wrote them back): the kept copy has it.
        // The kept copy first: keyrack wrote it, while the files' copy may have been edited.
        let new = new_key::kept(&self.settings.new_key_dir(), &self.plan.old_key_id)
            .filter(|key| key.access_key_id == new_key_id)
            .or_else(|| credentials_in_files(&files, &self.settings.keychain, new_key_id))
            .filter(|key| key.access_key_id == new_key_id)
            .ok_or_else(|| RotationError::PlanOutdated {
                detail: format!("the secret of the new key {new_key_id} left the files"),
            })?;
        self.new = Some(new.clone());
        self.new_status = KeyStatus::Active;
        self.finish(new).await
    }

    /// From a new key that exists to the end: into the files, proven, old key retired.
    async fn finish(&mut self, new: Credentials) -> Result<RotationReport, RotationError> {
        let old_key_id = self.plan.old_key_id.clone();
        let user = self.plan.user.clone();

        // Into every profile that holds the old key, before anything else can go wrong.
        let holders = AwsFiles::load(&self.settings.paths)
            .map(|files| sections_holding(&files, &self.settings.keychain, &old_key_id))
            .unwrap_or_else(|_| self.plan.profiles.clone());
        if !holders.is_empty() {
            let step = Step::WriteFiles {
                new_key_id: new.access_key_id.clone(),
                profiles: profile_names(&holders),
            };
            self.started(&step);
            match replace_key(self.settings, &old_key_id, &new) {
                Ok(written) => {
                    let outcome = format!("saved in {}", self.file_names(&written));
                    self.updated.extend(written);
                    self.record(JournalStep::FilesWritten);
                    self.done(step, outcome);
                }
                Err(failure) => {
                    self.updated.extend(failure.saved);
                    let reason = failure.error.to_string();
                    return Err(self.give_up_new_key(step, reason).await);
                }
            }
        }

        // Written to nobody is a failure: the profiles that held the old key went away (or were
        // given another key) since the plan, and the new key's secret would be nowhere.
        let holding_new = AwsFiles::load(&self.settings.paths)
            .map(|files| sections_holding(&files, &self.settings.keychain, &new.access_key_id))
            .unwrap_or_default();
        if holding_new.is_empty() {
            let step = Step::WriteFiles {
                new_key_id: new.access_key_id.clone(),
                profiles: Vec::new(),
            };
            let reason = format!(
                "no profile holds the key {old_key_id} any more (the files changed since the \
                 rotation was planned), so the new key would have been written to no profile"
            );
            return Err(self.give_up_new_key(step, reason).await);
        }

        // Prove it works: same identity, signed with the new key.
        let step = Step::VerifyNewKey {
            new_key_id: new.access_key_id.clone(),
        };
        self.started(&step);
        let aws = &self.aws;
        let on_progress = &mut self.on_progress;
        let checked = until_accepted(
            &self.settings.propagation,
            || aws.who(&new),
            |attempt, pause, error| {
                on_progress(&Progress::Waiting {
                    step: step.clone(),
                    attempt,
                    retry_in_ms: pause.as_millis() as u64,
                    reason: error.to_string(),
                })
            },
        )
        .await;
        match checked {
            Ok(identity) if identity.arn == self.plan.arn => {
                self.record(JournalStep::NewKeyVerified);
                self.done(step, format!("AWS accepts it as {}", identity.arn));
            }
            Ok(identity) => {
                let reason = format!(
                    "the new key belongs to {}, not to {}",
                    identity.arn, self.plan.arn
                );
                return Err(self.give_up_new_key(step, reason).await);
            }
            Err(WaitFailure::Refused { error, waited }) => {
                let reason = format!(
                    "AWS still refused the new key after {} s ({error})",
                    waited.as_secs()
                );
                return Err(self.give_up_new_key(step, reason).await);
            }
            Err(WaitFailure::Unreachable { error, waited }) => {
                let reason = format!(
                    "could not reach AWS to check the new key for {} s ({error})",
                    waited.as_secs()
                );
                return Err(self.stop(step, reason).await);
            }
            Err(WaitFailure::Failed(error)) => {
                let reason = format!("could not check the new key: {error}");
                return Err(self.stop(step, reason).await);
            }
        }

        // Only now retire the old key, signed with the new one, if the files still say so.
        let step = Step::DeactivateOldKey {
            old_key_id: old_key_id.clone(),
        };
        if let Err(reason) = self.confirm_files_hold(&new).await {
            return Err(self.stop_before_retiring(step, reason).await);
        }
        self.started(&step);
        let aws = &self.aws;
        let on_progress = &mut self.on_progress;
        let deactivated = until_accepted(
            &self.settings.propagation,
            || aws.deactivate(&new, &old_key_id, &user),
            |attempt, pause, error| {
                on_progress(&Progress::Waiting {
                    step: step.clone(),
                    attempt,
                    retry_in_ms: pause.as_millis() as u64,
                    reason: error.to_string(),
                })
            },
        )
        .await;
        match deactivated.map_err(WaitFailure::into_error) {
            Ok(()) => {
                self.old_status = KeyStatus::Inactive;
                self.record(JournalStep::OldKeyDeactivated);
                self.done(step, "it is Inactive now");
            }
            Err(e) if is_no_such_entity(&e) => {
                self.old_status = KeyStatus::Deleted;
                self.done(step, "it was deleted already");
            }
            Err(e) => {
                self.old_status = KeyStatus::Unknown;
                return Err(self.stop(step, e.to_string()).await);
            }
        }

        // Read the files once more: an Inactive key written back into them would lock the user
        // out. Then the old key is made Active again and the new one given up.
        if let Err(reason) = self.confirm_files_hold(&new).await {
            let failed = Step::DeleteOldKey {
                old_key_id: old_key_id.clone(),
            };
            return Err(self.stop_before_retiring(failed, reason).await);
        }

        if self.plan.old_key == OldKeyFate::Deleted && self.old_status != KeyStatus::Deleted {
            let step = Step::DeleteOldKey {
                old_key_id: old_key_id.clone(),
            };
            self.started(&step);
            if let Err(e) = self.aws.delete(&new, &old_key_id, &user).await {
                // The answer may be lost although the key is gone: ask.
                if !is_no_such_entity(&e) && !self.is_gone(&new, &old_key_id).await {
                    return Err(self.stop(step, e.to_string()).await);
                }
            }
            self.old_status = KeyStatus::Deleted;
            self.done(step, "deleted");
        }
        self.close_journal();
        // The retired key's MFA sessions go with it (the new key's, if one was had, stays).
        let devices: Vec<String> = self
            .aws
            .mfa_device()
            .map(str::to_owned)
            .into_iter()
            .collect();
        let _ = self
            .settings
            .keychain
            .forget_mfa_sessions_of_key(&old_key_id, &devices);
        Ok(RotationReport {
            profile: self.plan.profile.clone(),
            user,
            old_key_id,
            new_key_id: new.access_key_id,
            profiles_updated: self.updated.clone(),
            old_key: if self.old_status == KeyStatus::Deleted {
                OldKeyFate::Deleted
            } else {
                OldKeyFate::Inactive
            },
            deleted_first: self.deleted_first.clone(),
            steps: self.steps.clone(),
        })
    }

    /// Checks, right before the old key is touched, that the files (and keychain entries) hold
    /// the new key and no longer the old one, as they are on disk now. A profile that holds the
    /// old key again (another program wrote its file back from a copy it read before) gets the
    /// new key again, up to [`REWRITES`] times. `Err`: why the old key must not be touched,
    /// naming the files that changed.
    async fn confirm_files_hold(&mut self, new: &Credentials) -> Result<(), String> {
        let old_key_id = self.plan.old_key_id.clone();
        for attempt in 0..=REWRITES {
            let files = AwsFiles::load(&self.settings.paths)
                .map_err(|e| format!("the files could not be read again to check them: {e}"))?;
            let old_holders = sections_holding(&files, &self.settings.keychain, &old_key_id);
            if old_holders.is_empty() {
                if sections_holding(&files, &self.settings.keychain, &new.access_key_id).is_empty()
                {
                    return Err(format!(
                        "no profile holds the new key {} any more: another program removed or \
                         changed those profiles",
                        new.access_key_id
                    ));
                }
                return Ok(());
            }
            let changed = self.file_names(&old_holders);
            if attempt == REWRITES {
                return Err(format!(
                    "another program keeps writing the old key back into {changed} (keyrack \
                     wrote the new key {REWRITES} times); close the program that rewrites it"
                ));
            }
            let step = Step::WriteFiles {
                new_key_id: new.access_key_id.clone(),
                profiles: profile_names(&old_holders),
            };
            self.started(&step);
            match replace_key(self.settings, &old_key_id, new) {
                Ok(written) => {
                    for section in written {
                        if !self.updated.contains(&section) {
                            self.updated.push(section);
                        }
                    }
                    self.done(
                        step,
                        format!(
                            "written again: another program had written the old key back into \
                             {changed}"
                        ),
                    );
                }
                Err(failure) => {
                    return Err(format!(
                        "another program wrote the old key back into {changed}, and writing the \
                         new key again failed: {}",
                        failure.error
                    ))
                }
            }
            tokio::time::sleep(SETTLE).await;
        }
        unreachable!("the last attempt returns")
    }

    /// The old key must not be retired: the files do not hold the new key as they should. The
    /// old key is Active; the new one is given up, or kept for the next run when the user chose
    /// so ([`super::RotateOptions::keep_new_on_stop`]).
    async fn stop_before_retiring(&mut self, step: Step, reason: String) -> RotationError {
        if !self.plan.options.keep_new_on_stop && !self.new_key_is_the_users() {
            return self.give_up_new_key(step, reason).await;
        }
        // The files may hold an old key this or an earlier run made Inactive: it works again.
        if matches!(self.old_status, KeyStatus::Inactive | KeyStatus::Unknown) {
            if let Some(new) = self.new.clone() {
                self.reactivate_old(&new).await;
            }
        }
        self.keep_new_and_stop(step, reason).await
    }

    /// Stops with the new key kept (Active, in `STATE/new-keys`, the journal left), so that the
    /// next run finishes with it.
    async fn keep_new_and_stop(&mut self, step: Step, reason: String) -> RotationError {
        let new_key_id = self
            .new
            .as_ref()
            .map(|n| n.access_key_id.clone())
            .unwrap_or_default();
        let reason = format!(
            "{reason}; the new key {new_key_id} is kept, Active: once nothing rewrites the files, \
             run the rotation of profile '{}' again to finish it",
            self.plan.profile
        );
        self.stop(step, reason).await
    }

    /// Makes the old key Active again, signed with `new` (an earlier step, or an earlier run,
    /// made it Inactive, and the files hold it again). Whether it worked.
    async fn reactivate_old(&mut self, new: &Credentials) -> bool {
        let old_key_id = self.plan.old_key_id.clone();
        let step = Step::ReactivateOldKey {
            old_key_id: old_key_id.clone(),
        };
        self.started(&step);
        let user = self.plan.user.clone();
        if self.aws.reactivate(new, &old_key_id, &user).await.is_err() {
            return false;
        }
        self.old_status = KeyStatus::Active;
        self.record(JournalStep::NewKeyVerified);
        self.done(step, "it is Active again");
        true
    }

    /// Right before a key planned for deletion to make room is deleted: no profile holds it
    /// now, and (when it was planned as Inactive and unused) it is still Inactive.
    async fn still_deletable(
        &mut self,
        signer: &Credentials,
        key: &super::plan::KeyToDelete,
        step: &Step,
    ) -> Result<(), RotationError> {
        let files = AwsFiles::load(&self.settings.paths)?;
        let holders = profile_names(&sections_holding(
            &files,
            &self.settings.keychain,
            &key.access_key_id,
        ));
        if !holders.is_empty() {
            return Err(RotationError::PlanOutdated {
                detail: format!(
                    "{} holds the key {} now, which was to be deleted to make room",
                    super::progress::profile_list(&holders),
                    key.access_key_id
                ),
            });
        }
        if key.reason != super::plan::DeleteReason::InactiveAndUnused {
            return Ok(());
        }
        match self.aws.list(signer, &self.plan.user).await {
            Ok(listed) => match listed.iter().find(|k| k.access_key_id == key.access_key_id) {
                Some(k) if KeyStatus::from(k.status) != KeyStatus::Inactive => {
                    Err(RotationError::PlanOutdated {
                        detail: format!(
                            "the key {} is {} again, so it is not deleted",
                            key.access_key_id,
                            KeyStatus::from(k.status)
                        ),
                    })
                }
                _ => Ok(()),
            },
            Err(e) => {
                let reason = format!(
                    "could not ask AWS whether the key {} is still Inactive before deleting it: {e}",
                    key.access_key_id
                );
                Err(self.stop(step.clone(), reason).await)
            }
        }
    }

    /// The new key cannot be kept (the files did not take it, or AWS never accepted it): put the
    /// old key back wherever the new one went, then delete the new key with the old one, so that
    /// the old key keeps working and no useless key is left. Returns the error to report.
    async fn give_up_new_key(&mut self, failed: Step, reason: String) -> RotationError {
        // The user made it because the old key does not work: it is kept for the next run.
        if self.new_key_is_the_users() {
            let reason = format!(
                "{reason}; the old key does not work, so the new key is kept where it was written"
            );
            return self.keep_new_and_stop(failed, reason).await;
        }
        let (Some(old), Some(new)) = (self.old.clone(), self.new.clone()) else {
            return self.stop(failed, reason).await;
        };
        // Only an old key that works may take the new one's place. One that an earlier run made
        // Inactive (or whose state is unknown) is made Active again first, signed with the new
        // key; when that fails, or the old key is gone, the new key is kept instead.
        let reactivated = matches!(self.old_status, KeyStatus::Inactive | KeyStatus::Unknown)
            && self.reactivate_old(&new).await;
        if self.old_status != KeyStatus::Active {
            let reason = format!(
                "{reason}; the old key is {}, so the new key is not given up",
                self.old_status
            );
            return self.keep_new_and_stop(failed, reason).await;
        }
        let holders = match AwsFiles::load(&self.settings.paths) {
            Ok(files) => sections_holding(&files, &self.settings.keychain, &new.access_key_id),
            Err(e) => {
                let reason = format!("{reason}; then the files could not be read: {e}");
                return self.stop(failed, reason).await;
            }
        };
        if !holders.is_empty() {
            let step = Step::RestoreOldKey {
                old_key_id: old.access_key_id.clone(),
                profiles: profile_names(&holders),
            };
            self.started(&step);
            if let Err(failure) = replace_key(self.settings, &new.access_key_id, &old) {
                let reason = format!(
                    "{reason}; putting the old key back failed too: {}",
                    failure.error
                );
                return self.stop(failed, reason).await;
            }
            self.updated.retain(|s| !holders.contains(s));
            self.done(step, "the old key is back");
        }
        let step = Step::DeleteNewKey {
            new_key_id: new.access_key_id.clone(),
        };
        self.started(&step);
        // An old key made Active a moment ago may not be accepted yet; the new one signs then.
        let signer = if reactivated { &new } else { &old };
        match self
            .aws
            .delete(signer, &new.access_key_id, &self.plan.user)
            .await
        {
            // The answer may be lost although the key is gone: ask.
            Err(e) if !is_no_such_entity(&e) && !self.is_gone(&old, &new.access_key_id).await => {
                let reason = format!("{reason}; deleting the new key failed too: {e}");
                return self.stop(failed, reason).await;
            }
            _ => {}
        }
        self.new_status = KeyStatus::Deleted;
        self.close_journal();
        self.done(step, "deleted");
        self.stop(failed, reason).await
    }

    /// CreateAccessKey failed in a way that may hide a key AWS created (the answer was lost):
    /// delete any key made since the rotation started that no profile holds (its secret is
    /// gone). When that works nothing is left half-done; else the journal stays for next time.
    /// Returns how many keys were deleted.
    async fn delete_lost_key(&mut self, old: &Credentials) -> usize {
        let started = self.journal.as_ref().and_then(Journal::started);
        let Ok(listed) = self.aws.list(old, &self.plan.user).await else {
            return 0;
        };
        let Ok(files) = AwsFiles::load(&self.settings.paths) else {
            return 0;
        };
        let mut deleted = 0;
        for key in listed {
            let lost = key.access_key_id != old.access_key_id
                && sections_holding(&files, &self.settings.keychain, &key.access_key_id).is_empty()
                && created_during(key.create_date, started);
            if !lost {
                continue;
            }
            let step = Step::DeleteNewKey {
                new_key_id: key.access_key_id.clone(),
            };
            self.started(&step);
            match self
                .aws
                .delete(old, &key.access_key_id, &self.plan.user)
                .await
            {
                Err(e) if !is_no_such_entity(&e) => return deleted,
                _ => self.done(
                    step,
                    "deleted: its answer was lost, so its secret never reached keyrack",
                ),
            }
            deleted += 1;
        }
        self.close_journal();
        deleted
    }

    /// Whether `key_id` is no longer among the user's keys (`false` when AWS cannot be asked).
    async fn is_gone(&mut self, signer: &Credentials, key_id: &str) -> bool {
        match self.aws.list(signer, &self.plan.user).await {
            Ok(keys) => keys.iter().all(|k| k.access_key_id != key_id),
            Err(_) => false,
        }
    }

    /// The error for a rotation that stops at `step`, with the state of each key: asked of AWS
    /// once (quickly), else what this run knows.
    async fn stop(&mut self, step: Step, reason: String) -> RotationError {
        let files = AwsFiles::load(&self.settings.paths).ok();
        let mut listed = None;
        let signers = [
            self.new
                .as_ref()
                .filter(|_| self.new_status != KeyStatus::Deleted),
            self.old.as_ref(),
        ];
        for signer in signers.into_iter().flatten() {
            if let Ok(keys) = self.aws.list_quickly(signer, &self.plan.user).await {
                listed = Some(keys);
                break;
            }
        }
        let holders = |key_id: &str| {
            files
                .as_ref()
                .map(|f| profile_names(&sections_holding(f, &self.settings.keychain, key_id)))
                .unwrap_or_default()
        };
        let mut keys = Vec::new();
        let new_id = self.new.as_ref().map(|n| n.access_key_id.clone());
        let ours = [
            (
                Some(self.plan.old_key_id.clone()),
                KeyRole::Old,
                self.old_status,
            ),
            (new_id.clone(), KeyRole::New, self.new_status),
        ];
        for (id, role, known) in ours {
            let Some(id) = id else { continue };
            let status = match &listed {
                Some(list) => list
                    .iter()
                    .find(|k| k.access_key_id == id)
                    .map_or(KeyStatus::Deleted, |k| k.status.into()),
                None => known,
            };
            keys.push(KeyState {
                profiles: holders(&id),
                access_key_id: id,
                role,
                status,
            });
        }
        for other in listed.iter().flatten() {
            if other.access_key_id != self.plan.old_key_id
                && Some(&other.access_key_id) != new_id.as_ref()
            {
                keys.push(KeyState {
                    access_key_id: other.access_key_id.clone(),
                    role: KeyRole::Other,
                    status: other.status.into(),
                    profiles: holders(&other.access_key_id),
                });
            }
        }
        RotationError::Stopped(Box::new(StoppedRotation {
            profile: self.plan.profile.clone(),
            stopped_at: step,
            reason,
            keys,
            steps_done: self.steps.clone(),
            unfinished: self.journal.is_some(),
        }))
    }

    fn started(&mut self, step: &Step) {
        (self.on_progress)(&Progress::Started { step: step.clone() });
    }

    fn done(&mut self, step: Step, outcome: impl Into<String>) {
        (self.on_progress)(&Progress::Done {
            step: step.clone(),
            outcome: outcome.into(),
        });
        self.steps.push(step);
    }

    /// Records a finished step. Best effort: the next run works from the files and AWS, and the
    /// journal's earlier content is enough for that.
    fn record(&mut self, step: JournalStep) {
        if let Some(journal) = &mut self.journal {
            journal.step = step;
            let _ = journal.save(&self.settings.journal_dir());
        }
    }

    /// The rotation is over (done, or cleanly given up): the journal goes.
    fn close_journal(&mut self) {
        if let Some(journal) = &self.journal {
            if journal.remove(&self.settings.journal_dir()).is_ok() {
                self.journal = None;
            }
        }
        if self.journal.is_none() {
            let _ = new_key::forget(&self.settings.new_key_dir(), &self.plan.old_key_id);
            if self.old_status == KeyStatus::Deleted {
                super::lost_keys::forget(&self.settings.lost_key_dir(), &self.plan.old_key_id);
            }
            self.clean_leftovers();
        }
    }

    /// The rotation is closed: the backups and temporary files of its saves that still hold a
    /// key it deleted (the retired old key, a new key given up) go too, and only those. A key
    /// kept Inactive stays in the backups, for the person who wants it back (`keyrack check`
    /// lists such a backup, `keyrack clean` removes it). Best effort.
    fn clean_leftovers(&mut self) {
        let mut deleted = Vec::new();
        // A replaced key's secret was lost or wrong: nobody wants it back from a backup, even
        // when the key is kept Inactive.
        if self.old_status == KeyStatus::Deleted || self.new_key_is_the_users() {
            deleted.push((&self.plan.old_key_id, self.old.as_ref()));
        }
        if self.new_status == KeyStatus::Deleted {
            deleted.extend(self.new.as_ref().map(|k| (&k.access_key_id, Some(k))));
        }
        if deleted.is_empty() {
            return;
        }
        let paths = &self.settings.paths;
        if let Ok(_lock) = lock_files(
            &self.settings.state_dir,
            paths,
            "keyrack rotating a key",
            DEFAULT_WAIT,
        ) {
            // The secrets this run knows, and those the backups pair with a deleted key's id:
            // a run that finishes an earlier one never saw the old key's secret in the files.
            let mut gone: Vec<crate::secret::Secret> = Vec::new();
            for (key_id, known) in deleted {
                gone.extend(known.map(|k| k.secret_access_key.clone()));
                gone.extend(leftovers::secrets_paired_with(paths, key_id).unwrap_or_default());
            }
            let gone: Vec<&crate::secret::Secret> = gone.iter().collect();
            let _ = leftovers::remove_copies_of(paths, &gone);
        }
    }

    fn file_names(&self, sections: &[ProfileSection]) -> String {
        let mut paths: Vec<String> = Vec::new();
        for section in sections {
            let path = match (&section.keychain, section.file) {
                (Some(_), _) => "the keychain".to_owned(),
                (None, crate::files::FileKind::Config) => {
                    self.settings.paths.config.display().to_string()
                }
                (None, crate::files::FileKind::Credentials) => {
                    self.settings.paths.credentials.display().to_string()
                }
            };
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths.join(" and ")
    }
}
