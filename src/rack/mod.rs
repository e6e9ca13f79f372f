//! The engine's one surface: everything a person can do with one file set (a config and a
//! credentials file), its keychain entries and its keys at AWS. The command line, the desktop
//! app and `credential-process` call only this, so they cannot disagree: every use case takes
//! the file set's lock where it writes, re-applies an edit over an outside change, makes the
//! keychain entry follow its profile, and returns the same view types and the same [`Error`].

mod error;
mod import;
mod kept_checks;
mod key_health;
mod sessions;
mod sso;

pub use import::{ImportReport, ImportedKey};
pub use kept_checks::{KeptCheck, StaleCause};
pub use key_health::KeyHealth;
pub use sso::SsoTarget;
mod views;

pub use error::Error;
pub use views::{
    IdentityStatus, IdentityView, ProcessCredentials, SessionPlace, SessionView, VaultListView,
};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::aws::{Credentials, EndpointEnv};
use crate::changes::{self, Applied, ConfigureAnswers, Operation, Seen};
use crate::files::check::{self, Finding};
use crate::files::leftovers::{self, Cleaning};
use crate::files::lock::{lock_files, DEFAULT_WAIT};
use crate::files::{AwsFiles, Dialect, FileKind, FilePaths};
use crate::identity::mfa::{GivenCode, MfaCode, MfaPrompt};
use crate::identity::{self, Session, SessionOptions};
use crate::keychain::command::KeyrackCommand;
use crate::keychain::places::{self, EntryOwner};
use crate::keychain::{self as keychain_entries, vault, Keychain};
use crate::profiles::{self, FindingView, Listing};
use crate::rotation::{
    self, Journal, Progress, RotateOptions, RotationError, RotationPlan, RotationReport,
    RotationSettings,
};
use crate::secret::Secret;

/// One file set and what keyrack keeps for it: the keychain, the state folder (journals, the
/// lock, kept keys), the AWS endpoints of the environment, and the versions of the files shown
/// so far (so an edit made from an older view is re-applied over what changed since).
pub struct Rack {
    paths: FilePaths,
    keychain: Keychain,
    state_dir: PathBuf,
    env: EndpointEnv,
    /// Who holds the lock while this rack writes (`keyrack set`, `the keyrack app`).
    holder: String,
    seen: Mutex<Seen>,
    /// The AWS CLI's cache of assumed-role sessions, read before assuming a role.
    cli_cache: Option<PathBuf>,
    /// The AWS CLI's IAM Identity Center sign-ins (`~/.aws/sso/cache`).
    sso_cache: Option<PathBuf>,
    /// The MFA code given for this run, for the first sign-in that needs one.
    mfa_code: Option<GivenCode>,
    /// keyrack's own settings file ([`crate::settings`]); `None`: the defaults.
    settings_file: Option<PathBuf>,
}

impl Rack {
    pub fn new(
        paths: FilePaths,
        keychain: Keychain,
        state_dir: PathBuf,
        env: EndpointEnv,
        holder: impl Into<String>,
    ) -> Rack {
        Rack {
            paths,
            keychain,
            state_dir,
            env,
            holder: holder.into(),
            seen: Mutex::default(),
            cli_cache: None,
            sso_cache: None,
            mfa_code: None,
            settings_file: None,
        }
    }

    /// This rack, with keyrack's settings in `file`.
    pub fn with_settings_file(self, file: Option<PathBuf>) -> Rack {
        Rack {
            settings_file: file,
            ..self
        }
    }

    /// keyrack's settings as the file says now, and what in it was not understood.
    pub fn settings(&self) -> (crate::settings::Settings, Vec<String>) {
        match &self.settings_file {
            Some(file) => crate::settings::load(file),
            None => (crate::settings::Settings::default(), Vec::new()),
        }
    }

    /// Keep `settings` in the settings file.
    pub fn save_settings(&self, settings: &crate::settings::Settings) -> Result<(), Error> {
        let file = self.settings_file.as_deref().ok_or_else(|| {
            Error::new(
                "no_home",
                "keyrack cannot find its config folder (set HOME); nothing was saved",
            )
        })?;
        settings
            .validate()
            .map_err(|why| Error::new("refused", format!("{why}; nothing was saved")))?;
        crate::settings::save(file, settings).map_err(|e| {
            Error::new(
                "settings_not_saved",
                format!(
                    "could not save {}: {e}; the settings are as before",
                    file.display()
                ),
            )
        })
    }

    /// This rack, assuming a role that needs an MFA code with `code` (`--mfa-code`).
    pub fn with_mfa_code(self, code: Option<MfaCode>) -> Rack {
        Rack {
            mfa_code: code.map(GivenCode::new),
            ..self
        }
    }

    /// This rack, using the AWS CLI's session cache in `dir` (`~/.aws/cli/cache`).
    pub fn with_cli_cache(self, dir: Option<PathBuf>) -> Rack {
        Rack {
            cli_cache: dir,
            ..self
        }
    }

    /// This rack, reading IAM Identity Center sign-ins from `dir` (`~/.aws/sso/cache`).
    pub fn with_sso_cache(self, dir: Option<PathBuf>) -> Rack {
        Rack {
            sso_cache: dir,
            ..self
        }
    }

    /// The files `paths` names, the platform keychain, keyrack's state folder, the process's
    /// AWS variables and the AWS CLI's session cache in the home folder.
    pub fn from_process_env(paths: FilePaths, holder: impl Into<String>) -> Rack {
        Rack::new(
            paths,
            Keychain::platform(),
            crate::state::state_dir(),
            EndpointEnv::from_process(),
            holder,
        )
        .with_cli_cache(identity::cli_cache::cache_dir(|name| {
            std::env::var(name).ok()
        }))
        .with_sso_cache(identity::sso::token_dir(|name| std::env::var(name).ok()))
        .with_settings_file(crate::settings::settings_file(|name| {
            std::env::var(name).ok()
        }))
    }

    pub fn paths(&self) -> &FilePaths {
        &self.paths
    }

    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    /// The files as on disk now, recorded as seen: the revision a later edit names.
    fn look(&self) -> Result<(u64, AwsFiles), Error> {
        let files = AwsFiles::load(&self.paths)?;
        let revision = self.seen.lock().expect("seen lock").record(files.clone());
        Ok((revision, files))
    }

    /// The files as last shown (loaded now when nothing was shown yet).
    pub(super) fn latest(&self) -> Result<AwsFiles, Error> {
        if let Some(files) = self.seen.lock().expect("seen lock").latest() {
            return Ok(files.clone());
        }
        Ok(self.look()?.1)
    }

    /// Whether the files on disk differ from the version shown last (none shown: they do).
    pub fn changed_since_shown(&self) -> bool {
        match (
            AwsFiles::load(&self.paths),
            self.seen.lock().expect("seen lock").latest(),
        ) {
            (Ok(now), Some(shown)) => {
                now.config.on_disk != shown.config.on_disk
                    || now.credentials.on_disk != shown.credentials.on_disk
            }
            _ => true,
        }
    }

    /// Run `write` holding the file set's lock, then record the files as seen: the app's
    /// watcher never takes keyrack's own save for an outside edit.
    fn writing<T>(&self, write: impl FnOnce(&Seen) -> Result<T, Error>) -> Result<T, Error> {
        self.writing_recorded(|seen| write(seen).map(|done| (done, None)))
    }

    /// [`Rack::writing`] for a write that hands back the files as it saved them (recorded as they
    /// are, instead of read again).
    fn writing_recorded<T>(
        &self,
        write: impl FnOnce(&Seen) -> Result<(T, Option<AwsFiles>), Error>,
    ) -> Result<T, Error> {
        let mut seen = self.seen.lock().expect("seen lock");
        let _lock = lock_files(&self.state_dir, &self.paths, &self.holder, DEFAULT_WAIT)?;
        let result = write(&seen);
        let saved = match &result {
            Ok((_, Some(files))) => Some(files.clone()),
            _ => AwsFiles::load(&self.paths).ok(),
        };
        if let Some(files) = saved {
            seen.record(files);
        }
        result.map(|(done, _)| done)
    }

    // ----- Looking -----

    /// Every profile, section and finding, as `dialect` reads the files; with `keychain_ids`,
    /// the key id of each keychain profile is read from its entry (it asks the keychain).
    pub fn listing(&self, dialect: Dialect, keychain_ids: bool) -> Result<Listing, Error> {
        let (revision, files) = self.look()?;
        let mut listing = profiles::listing(&files, dialect);
        listing.revision = revision;
        if keychain_ids {
            profiles::show_keychain_key_ids(&mut listing, &files, &self.keychain);
        }
        Ok(listing)
    }

    /// A secret setting of a profile, because the person asked to see or copy it.
    pub fn reveal(&self, profile: &str, key: &str) -> Result<Secret, Error> {
        profiles::reveal(&self.latest()?, profile, key)
            .ok_or_else(|| Error::new("not_found", format!("profile '{profile}' has no {key}")))
    }

    /// Why the AWS CLI rejects the files (`PATH:LINE: message`), when it does; cheaper than the
    /// whole listing.
    pub fn rejection(&self) -> Result<Option<String>, Error> {
        let files = self.latest()?;
        Ok(profiles::rejection(&files, &files.read(Dialect::Cli)))
    }

    /// Everything wrong or risky in the files (`keyrack check`, the Problems panel).
    pub fn check(&self) -> Result<Vec<FindingView>, Error> {
        Ok(profiles::findings(&self.look()?.1))
    }

    /// The path of a file of this set.
    pub fn path(&self, kind: FileKind) -> &Path {
        match kind {
            FileKind::Config => &self.paths.config,
            FileKind::Credentials => &self.paths.credentials,
        }
    }

    // ----- Editing -----

    /// Apply `operation`, made from the view of `revision`, to the files as they are now
    /// (see [`changes`]): holding the lock, re-applied over another program's change that does
    /// not touch it, the keychain entry following a renamed, copied or deleted profile. The
    /// warnings say where a secret the edit replaced or removed still is (a backup) and when
    /// the credentials file can be read by others.
    pub fn edit(
        &self,
        revision: u64,
        operation: &Operation,
        force: bool,
    ) -> Result<Applied, Error> {
        changes::half_key(operation).map_err(changes::ChangeError::Edit)?;
        let mut applied = self.writing_recorded(|seen| {
            let mut applied = changes::apply_seen(
                &self.paths,
                &self.keychain,
                seen,
                revision,
                operation,
                force,
            )?;
            let files = applied.files.take();
            Ok((applied, files))
        })?;
        self.warn_after(operation, &mut applied);
        Ok(applied)
    }

    /// `operation` applied to the files as they are once the lock is held (the command line,
    /// which shows nothing before: there is no older view to compare with).
    pub fn edit_now(&self, operation: &Operation) -> Result<Applied, Error> {
        let mut applied = self.writing_recorded(|_| {
            let mut applied = changes::apply(&self.paths, &self.keychain, None, operation, false)?;
            let files = applied.files.take();
            Ok((applied, files))
        })?;
        self.warn_after(operation, &mut applied);
        Ok(applied)
    }

    /// Adds the warnings of [`Rack::after_save_warnings`] when the edit may have dropped a
    /// secret or wrote the credentials file.
    fn warn_after(&self, operation: &Operation, applied: &mut Applied) {
        if let Err(half) = changes::half_key(operation) {
            applied.warnings.push(half.to_string());
        }
        if operation.may_drop_secret() || applied.saved.contains(&FileKind::Credentials) {
            let warnings = self.after_save_warnings(&applied.saved);
            applied.warnings.extend(warnings);
        }
    }

    /// The first run: the four `aws configure` answers, written to the default profile.
    pub fn configure_default(&self, answers: &ConfigureAnswers) -> Result<Applied, Error> {
        self.edit_now(&answers.operation())
    }

    /// After a save: a backup that holds a secret no longer in the files, and the credentials
    /// file's mode once it was written. Best effort: the change is made whatever this finds.
    fn after_save_warnings(&self, saved: &[FileKind]) -> Vec<String> {
        let Ok(files) = AwsFiles::load(&self.paths) else {
            return Vec::new();
        };
        let mode = |f: &Finding| {
            saved.contains(&FileKind::Credentials)
                && f.file == FileKind::Credentials
                && f.line.is_none()
                && f.fix.is_none()
        };
        let findings = check::check(&files);
        findings
            .iter()
            .filter(|f| f.fix.is_some())
            .chain(findings.iter().find(|f| mode(f)))
            .map(|f| f.message.clone())
            .collect()
    }

    /// Whether deleting `profile` also removes a keychain entry (one of this file set's).
    pub fn deleting_removes_entry(&self, profile: &str) -> Result<bool, Error> {
        let files = self.latest()?;
        Ok(
            places::keychain_account(&files, profile).is_some_and(|account| {
                places::entry_owner(&account, &places::file_set(&files)) == EntryOwner::ThisFileSet
            }),
        )
    }

    /// Remove the backups and temporary files next to the files that keep secrets no longer in
    /// them, and make private the ones others can read.
    pub fn clean(&self) -> Result<Vec<(PathBuf, Cleaning)>, Error> {
        self.writing(|_| Ok(leftovers::clean(&self.paths)?))
    }

    // ----- The keychain -----

    /// Connect before anything is written: a missing keychain changes nothing.
    fn connect_keychain(&self) -> Result<(), Error> {
        self.keychain
            .connect()
            .map_err(|error| Error::from(vault::VaultError::Keychain { error }))
    }

    /// Move a profile's key into the keychain; the AWS tools then run `program`
    /// (`keyrack credential-process`) to get it.
    pub fn move_to_keychain(&self, profile: &str, program: &Path) -> Result<Applied, Error> {
        self.connect_keychain()?;
        self.writing(|_| {
            let mut files = AwsFiles::load(&self.paths)?;
            let outcome = vault::move_to_keychain(&mut files, &self.keychain, profile, program)?;
            Ok(applied(outcome))
        })
    }

    /// Put a keychain profile's key back into the credentials file.
    pub fn restore_from_keychain(&self, profile: &str) -> Result<Applied, Error> {
        self.connect_keychain()?;
        self.writing(|_| {
            let mut files = AwsFiles::load(&self.paths)?;
            let outcome = vault::restore_from_keychain(&mut files, &self.keychain, profile)?;
            Ok(applied(outcome))
        })
    }

    /// Where each profile's secret lives, which entries are there and which no profile uses.
    /// Legacy entries of these files are migrated first (see [`vault::migrate_legacy_entries`]).
    /// A keychain that cannot be reached is reported in the view, which then says where each
    /// secret lives from the files alone.
    pub fn vault_list(&self) -> Result<VaultListView, Error> {
        let (listing, notes, keychain_error) = self.writing(|_| {
            let mut files = AwsFiles::load(&self.paths)?;
            let mut notes = Vec::new();
            if let Err(error) = self.keychain.connect() {
                let listing = places::list(&files, None)?;
                return Ok((listing, notes, Some(Error::from(error))));
            }
            match vault::migrate_legacy_entries(&mut files, &self.keychain) {
                Ok(migration) => {
                    notes.extend(migration.notes());
                    notes.extend(migration.warnings);
                }
                Err(e) => notes.push(format!("the profiles that use keychain entries from before entries were per file set were not moved to entries of their own: {e}")),
            }
            match places::list(&files, Some(&self.keychain)) {
                Ok(listing) => Ok((listing, notes, None)),
                Err(error) => Ok((places::list(&files, None)?, notes, Some(Error::from(error)))),
            }
        })?;
        Ok(VaultListView {
            file_set: self.paths.set_id(),
            listing,
            notes,
            keychain_error,
        })
    }

    /// Remove a keychain entry no profile of these files uses. `false`: there was none.
    pub fn forget_entry(&self, account: &str) -> Result<bool, Error> {
        self.connect_keychain()?;
        self.writing(|_| {
            let files = AwsFiles::load(&self.paths)?;
            Ok(vault::forget_entry(&files, &self.keychain, account)?)
        })
    }

    /// The account of the entry `profile` of these files gets when its key is moved.
    pub fn entry_account(&self, profile: &str) -> Result<String, Error> {
        Ok(places::entry_account(&self.latest()?, profile))
    }

    /// What `credential-process --profile P [--file-set SETID] [--mfa-serial DEVICE]` prints:
    /// the key of the entry the line names, or with `--mfa-serial` that device's MFA session (had
    /// with the key, asking `prompt` for a code when none is kept; one caller at a time per
    /// device, the others wait for its session). It reads no file: it runs before every AWS call
    /// a person makes.
    pub fn credential_process(
        keychain: &Keychain,
        command: &KeyrackCommand,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<ProcessCredentials, Error> {
        let profile = &command.profile;
        if command
            .file_set
            .as_deref()
            .is_some_and(|set| !keychain_entries::is_file_set_id(set))
        {
            return Err(Error::new(
                "bad_file_set",
                format!("the --file-set of profile '{profile}' is not a file set id (12 hex digits, as `keyrack vault move` writes it)"),
            ));
        }
        // The entry the line names, as the vault names it.
        let account = command.account();
        let key = keychain.get(&account).map_err(|error| Error {
            message: format!("cannot give the AWS tools the key of profile '{profile}': {error}"),
            ..Error::from(error)
        })?;
        let Some(mfa) = &command.mfa else {
            return Ok(ProcessCredentials::from(key));
        };
        // The session kept for the device, as fast as the key itself.
        let now = time::OffsetDateTime::now_utc();
        if let Ok(Some(kept)) = keychain.mfa_session(&mfa.serial) {
            if kept.made_with == key.credentials.access_key_id && kept.usable_at(now) {
                return Ok(ProcessCredentials::session(
                    kept.credentials,
                    kept.expiration,
                ));
            }
        }
        let source = identity::CredentialSource::MfaSession {
            profile: profile.clone(),
            mfa: mfa.clone(),
            keys: Box::new(identity::CredentialSource::Keychain {
                profile: profile.clone(),
                account,
            }),
        };
        // Asking a person anyway: the profile's own endpoint settings (region, endpoint_url,
        // a CA bundle) are read from its files when the environment names the files the line
        // belongs to; else the STS endpoint the environment alone gives.
        let paths = FilePaths::from_process_env();
        let reading = command
            .file_set
            .as_deref()
            .filter(|set| *set == paths.set_id())
            .and_then(|_| AwsFiles::load(&paths).ok())
            .map(|files| crate::files::Reading::clone(&files.read(Dialect::Cli)))
            .filter(|reading| reading.profiles.contains_key(profile));
        let session = Session::new(
            reading.clone().unwrap_or_default(),
            EndpointEnv::from_process(),
            SessionOptions {
                keychain: keychain.clone(),
                mfa_prompt: prompt,
                state_dir: Some(crate::state::state_dir()),
                ..SessionOptions::default()
            },
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(
                    "internal",
                    format!("could not start the async runtime: {e}"),
                )
            })?;
        let (credentials, expires) = runtime.block_on(async {
            match reading {
                Some(_) => {
                    let sts = session.endpoint(profile, crate::aws::Service::Sts)?;
                    let client = session.client(profile)?;
                    session.serve_at(&source, &client, &sts).await
                }
                None => session.serve(&source).await,
            }
        })?;
        let expires = expires
            .ok_or_else(|| Error::new("internal", "an MFA session came without its expiry"))?;
        Ok(ProcessCredentials::session(credentials, expires))
    }

    // ----- Who each profile is -----

    /// A session over `files`; `prompt` asks the person for an MFA code a role needs.
    pub(super) fn session(&self, files: &AwsFiles, prompt: Option<Arc<dyn MfaPrompt>>) -> Session {
        Session::new(
            crate::files::Reading::clone(&files.read(Dialect::Cli)),
            self.env.clone(),
            SessionOptions {
                keychain: self.keychain.clone(),
                cli_cache: self.cli_cache.clone(),
                sso_cache: self.sso_cache.clone(),
                mfa_code: self.mfa_code.clone(),
                mfa_prompt: prompt,
                state_dir: Some(self.state_dir.clone()),
                ..SessionOptions::default()
            },
        )
        .naming(self.paths.clone())
    }

    /// The profiles a check covers: every profile (`every`), else those named (once each),
    /// else the one the AWS CLI uses when none is named.
    pub fn profiles_to_check(&self, named: &[String], every: bool) -> Result<Vec<String>, Error> {
        if every {
            let files = self.latest()?;
            return Ok(files.read(Dialect::Cli).profiles.keys().cloned().collect());
        }
        if named.is_empty() {
            return Ok(vec![profiles::default_profile_name(|name| {
                std::env::var(name).ok()
            })]);
        }
        let mut unique: Vec<String> = Vec::new();
        for name in named {
            if !unique.contains(name) {
                unique.push(name.clone());
            }
        }
        Ok(unique)
    }

    /// Who each of `names` is, asked of AWS STS all at once; each result goes to `on_each` as it
    /// comes, and all come back in the order asked. `every`: all profiles are being checked, so
    /// one that holds only settings is shown as such, not as a failure. `prompt` is asked for
    /// the MFA code of a role that needs one and has no cached session (`None`: no one to ask).
    pub async fn identities(
        &self,
        names: &[String],
        every: bool,
        prompt: Option<Arc<dyn MfaPrompt>>,
        mut on_each: impl FnMut(&IdentityView) + Send,
    ) -> Result<Vec<IdentityView>, Error> {
        let started_at = kept_checks::now_ms();
        let files = self.latest()?;
        let session = self.session(&files, prompt);
        let reading = files.read(Dialect::Cli);
        let now = time::OffsetDateTime::now_utc();
        // The AWS tools refuse files with such a line: no profile "works" for them.
        let rejection = profiles::rejection(&files, &reading);
        let view = |outcome: &identity::ProfileIdentity| {
            let mut view = IdentityView::of(outcome, reading.profiles.get(&outcome.profile), every);
            if let Some(rejection) = &rejection {
                view.unreadable_by_aws_tools(rejection);
            }
            view.weigh_attention();
            view.mfa_device = identity::credential_source(&reading.profiles, &outcome.profile)
                .ok()
                .and_then(|source| identity::MfaSignIn::of(&source))
                .map(|sign_in| sign_in.serial().to_owned());
            // A profile that answered with a session (a role's, an MFA device's): how long it
            // has left.
            if outcome.result.is_ok() {
                view.session_minutes_left = session
                    .session_expiry(&outcome.profile)
                    .map(|expires| (expires - now).whole_minutes().max(0));
            }
            view
        };
        let outcomes =
            identity::check_all(&session, names, identity::DEFAULT_CONCURRENCY, |outcome| {
                on_each(&view(outcome))
            })
            .await;
        let mut views = Vec::with_capacity(outcomes.len());
        for outcome in &outcomes {
            let mut view = view(outcome);
            // IAM Identity Center knows the accounts by name: one ListAccounts per sign-in.
            if outcome.result.is_ok()
                && reading.profiles.get(&outcome.profile).is_some_and(|s| {
                    crate::files::model::profile_kind(s) == crate::files::model::ProfileKind::Sso
                })
            {
                view.account_name = session.sso_account_name(&outcome.profile).await;
                if view.account_name.is_some() {
                    on_each(&view);
                }
            }
            views.push(view);
        }
        // Each long-term key's age and last use, at once.
        let users: Vec<String> = views
            .iter()
            .filter(|v| v.arn.as_deref().is_some_and(|arn| arn.contains(":user/")))
            .map(|v| v.profile.clone())
            .collect();
        let (settings, _) = self.settings();
        let (state_dir, kept_files) = (self.state_dir.clone(), files.clone());
        let kept_answers = tokio::task::spawn_blocking(move || {
            kept_checks::kept_key_healths(&state_dir, &kept_files)
        })
        .await
        .unwrap_or_default();
        let healths = key_health::key_healths(&session, users, &settings, &kept_answers).await;
        for (profile, health) in healths {
            if let Some(view) = views.iter_mut().find(|v| v.profile == profile) {
                view.key_health = Some(health);
                view.weigh_attention();
                on_each(view);
            }
        }
        let (state_dir, kept) = (self.state_dir.clone(), views.clone());
        let reading = crate::files::Reading::clone(&reading);
        let _ = tokio::task::spawn_blocking(move || {
            kept_checks::record(&state_dir, &files, &reading, &kept, started_at)
        })
        .await;
        Ok(views)
    }

    /// The last result of each profile's check, kept between launches, stale where what it was
    /// checked with changed since.
    pub fn kept_checks(&self) -> Result<Vec<KeptCheck>, Error> {
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        Ok(kept_checks::kept(&self.state_dir, &files, &reading))
    }

    /// The access keys of `profile`'s IAM user: status, age, last use, and the profiles that
    /// hold each.
    /// `prompt` asks for the MFA code of a profile with `mfa_serial` that has no session yet
    /// (IAM calls go through it: many accounts require MFA for them).
    pub async fn user_keys(
        &self,
        profile: &str,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<rotation::UserKeys, Error> {
        let files = self.latest()?;
        let session = self.session(&files, prompt);
        Ok(rotation::user_keys::list_user_keys(&session, &files, profile).await?)
    }

    /// Make another key of `profile`'s IAM user Inactive or delete it, to make room for a
    /// rotation (never a key a profile here holds): the user's keys afterwards.
    pub async fn change_other_key(
        &self,
        profile: &str,
        key_id: &str,
        change: rotation::OtherKeyChange,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<rotation::UserKeys, Error> {
        // Which profiles hold the key is read from the disk now, not from the version shown:
        // another program may have put that key into a profile since.
        let files = AwsFiles::load(&self.paths)?;
        let session = self.session(&files, prompt);
        let keys = rotation::user_keys::change_other_key(&session, &files, profile, key_id, change)
            .await?;
        // A lost key that profiles here still hold went to make room for its replacement: note
        // whose it was, for the replacement to prove the new key is the same user's.
        if change == rotation::OtherKeyChange::Delete
            && !rotation::holders_of(&files, &self.keychain, key_id).is_empty()
        {
            let dir = self.rotation_settings(None).lost_key_dir();
            rotation::lost_keys::note(&dir, key_id, &keys.arn).map_err(|e| {
                Error::new(
                    "state_write_failed",
                    format!(
                        "deleted the key {key_id}, but could not note whose it was in {}: {e}; \
                         replace it with --old-key-deleted",
                        dir.display()
                    ),
                )
            })?;
        }
        Ok(keys)
    }

    // ----- Rotation -----

    /// The settings every rotation of this file set runs with; `prompt` asks for the MFA code
    /// of a key behind an MFA device (its IAM calls go through that device's sessions).
    pub fn rotation_settings(&self, prompt: Option<Arc<dyn MfaPrompt>>) -> RotationSettings {
        RotationSettings {
            env: self.env.clone(),
            state_dir: self.state_dir.clone(),
            keychain: self.keychain.clone(),
            mfa: rotation::MfaAsking {
                code: self.mfa_code.clone(),
                prompt,
            },
            ..RotationSettings::from_process_env(self.paths.clone())
        }
    }

    /// What rotating `profile`'s key will do (changes nothing).
    pub async fn rotation_plan(
        &self,
        profile: &str,
        options: RotateOptions,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<RotationPlan, Error> {
        Ok(rotation::plan_rotation(&self.rotation_settings(prompt), profile, options).await?)
    }

    /// Rotations that were interrupted (the app was closed, the network dropped) and not
    /// finished.
    pub fn interrupted_rotations(&self) -> Result<Vec<Journal>, Error> {
        Ok(
            rotation::interrupted_rotations(&self.rotation_settings(None).journal_dir())
                .map_err(RotationError::from)?,
        )
    }

    /// The plan that finishes the interrupted rotation of `old_key_id`.
    pub async fn recovery_plan(
        &self,
        old_key_id: &str,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<RotationPlan, Error> {
        let journal = self
            .interrupted_rotations()?
            .into_iter()
            .find(|j| j.old_key_id == old_key_id)
            .ok_or_else(|| {
                Error::new(
                    "nothing_to_recover",
                    "that rotation is no longer interrupted; nothing to finish",
                )
            })?;
        let options = RotateOptions {
            keep_old: journal.keep_old,
            ..RotateOptions::default()
        };
        Ok(rotation::plan_recovery(&self.rotation_settings(prompt), &journal, options).await?)
    }

    /// Run `plan`; each step is reported to `on_progress` as it happens.
    pub async fn rotate(
        &self,
        plan: &RotationPlan,
        prompt: Option<Arc<dyn MfaPrompt>>,
        on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<RotationReport, Error> {
        let report = rotation::rotate(&self.rotation_settings(prompt), plan, on_progress).await;
        self.after_key_change(plan, &report).await;
        Ok(report?)
    }

    /// What replacing `profile`'s key (its secret lost or wrong) with `new`, a key made in the
    /// IAM console, will do: `new` is proven to work and to be the same user's first. Changes
    /// nothing.
    pub async fn replacement_plan(
        &self,
        profile: &str,
        new: &Credentials,
        options: RotateOptions,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<RotationPlan, Error> {
        let settings = self.rotation_settings(prompt);
        Ok(rotation::plan_replacement(&settings, profile, new, options).await?)
    }

    /// Where and how to make the key that replaces `profile`'s (changes nothing).
    pub async fn replacement_guide(
        &self,
        profile: &str,
    ) -> Result<rotation::ReplacementGuide, Error> {
        Ok(rotation::replacement_guide(&self.rotation_settings(None), profile).await?)
    }

    /// Run the replacement `plan` with `new` (the key its plan was made with).
    pub async fn replace(
        &self,
        plan: &RotationPlan,
        new: &Credentials,
        prompt: Option<Arc<dyn MfaPrompt>>,
        on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<RotationReport, Error> {
        let settings = self.rotation_settings(prompt);
        let report = rotation::replace(&settings, plan, new, on_progress).await;
        self.after_key_change(plan, &report).await;
        Ok(report?)
    }

    /// After a rotation or replacement, whatever was checked with the old key no longer says who
    /// its profiles are.
    async fn after_key_change(
        &self,
        plan: &RotationPlan,
        report: &Result<RotationReport, RotationError>,
    ) {
        // A run that failed may have changed the key or not: the results are marked, without
        // saying it did.
        let (changed, because): (Vec<String>, _) = match report {
            Ok(report) => (
                report
                    .profiles_updated
                    .iter()
                    .map(|p| p.profile.clone())
                    .collect(),
                kept_checks::StaleCause::KeyChanged,
            ),
            Err(_) => (
                plan.profiles.iter().map(|p| p.profile.clone()).collect(),
                kept_checks::StaleCause::ChangedByKeyrack,
            ),
        };
        let state_dir = self.state_dir.clone();
        if let Ok(files) = AwsFiles::load(&self.paths) {
            let _ = tokio::task::spawn_blocking(move || {
                kept_checks::mark_stale(&state_dir, &files, &changed, because)
            })
            .await;
        }
    }
}

fn applied(outcome: vault::VaultOutcome) -> Applied {
    Applied {
        saved: outcome.saved,
        warnings: outcome.warnings,
        reapplied: false,
        removed_entry: outcome.removed_entry,
        files: None,
    }
}
