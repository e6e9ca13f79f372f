//! The commands the window may call: each one calls one engine function and maps its result.
//! A secret crosses into the window only in `reveal_secret` (the person asked to see it) and
//! from the window only as something the person typed; `copy_secret` puts it on the clipboard
//! without passing it through the window.

use keyrack::changes::{
    self, Applied, ChangeError, ConfigureAnswers, InputAdvice, Operation, Seen,
};
use keyrack::files::check::REGIONS;
use keyrack::files::leftovers;
use keyrack::files::{AwsFiles, FilePaths, FilesError};
use keyrack::identity::{self, Session};
use keyrack::profiles::{self, Snapshot};
use keyrack::secret::Secret;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

pub struct AppState {
    paths: FilePaths,
    /// Held while keyrack itself writes the files, so the watcher never takes keyrack's own save
    /// for an outside edit.
    seen: Arc<Mutex<Seen>>,
    /// The rotation plan the window shows; `rotate_key` runs exactly this one.
    pub rotation_plan: Mutex<Option<keyrack::rotation::RotationPlan>>,
    /// Where file-change notices go: the channel of the page loaded last.
    watcher: Arc<Mutex<Option<Channel<u64>>>>,
}

impl AppState {
    pub fn new(paths: FilePaths) -> Self {
        AppState {
            paths,
            seen: Arc::default(),
            rotation_plan: Mutex::default(),
            watcher: Arc::default(),
        }
    }

    pub fn paths(&self) -> &FilePaths {
        &self.paths
    }

    /// Run `write` (which saves the files; it gets the versions shown so far) and record the
    /// result as seen, with the watcher kept out until it is recorded.
    pub fn writing<T>(
        &self,
        write: impl FnOnce(&Seen) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let mut seen = self.seen.lock().expect("seen lock");
        let _lock = keyrack::files::lock::lock(&self.paths, "the keyrack app")
            .map_err(|e| Failure::new(e.code(), e.to_string()))?;
        let result = write(&seen);
        if let Ok(files) = AwsFiles::load(&self.paths) {
            seen.record(files);
        }
        result
    }

    fn latest(&self) -> Result<AwsFiles, Failure> {
        match self.seen.lock().expect("seen lock").latest() {
            Some(files) => Ok(files.clone()),
            None => Ok(AwsFiles::load(&self.paths)?),
        }
    }
}

/// Why a command failed, for the window: a stable code and a message in plain words.
#[derive(Debug, Serialize)]
pub struct Failure {
    code: &'static str,
    message: String,
    /// For `changed_on_disk`: the settings another program changed.
    keys: Vec<String>,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            keys: Vec::new(),
        }
    }
}

impl From<FilesError> for Failure {
    fn from(e: FilesError) -> Self {
        Failure::new("files", e.to_string())
    }
}

impl From<ChangeError> for Failure {
    fn from(e: ChangeError) -> Self {
        let message = e.to_string();
        match e {
            ChangeError::ChangedOnDisk { keys, .. } => Failure {
                code: "changed_on_disk",
                message,
                keys,
            },
            ChangeError::ViewTooOld { .. } => Failure::new("view_too_old", message),
            ChangeError::Edit(_) => Failure::new("refused", message),
            ChangeError::Files(_) | ChangeError::Busy => Failure::new("files", message),
            ChangeError::Vault(_) => Failure::new("keychain", message),
        }
    }
}

/// The files as shown, with the revision a later change refers to.
#[derive(Serialize)]
pub struct View {
    revision: u64,
    #[serde(flatten)]
    snapshot: Snapshot,
    regions: &'static [&'static str],
    output_formats: &'static [&'static str],
}

/// Off the window's thread: showing keychain profiles' key ids asks the Secret Service over
/// D-Bus, which may wait (a locked keyring prompts for its password).
#[tauri::command]
pub async fn load(state: State<'_, AppState>) -> Result<View, Failure> {
    let paths = state.paths.clone();
    let (files, snapshot) = tauri::async_runtime::spawn_blocking(move || -> Result<_, Failure> {
        let files = AwsFiles::load(&paths)?;
        let mut snapshot = profiles::snapshot(&files);
        profiles::show_keychain_key_ids(&mut snapshot, &files);
        Ok((files, snapshot))
    })
    .await
    .map_err(|e| {
        Failure::new(
            "internal",
            format!("reading the files stopped unexpectedly ({e}); reload to try again"),
        )
    })??;
    let revision = state.seen.lock().expect("seen lock").record(files);
    Ok(View {
        revision,
        snapshot,
        regions: REGIONS,
        output_formats: changes::OUTPUT_FORMATS,
    })
}

/// Send a notice through `on_change` whenever either file changes on disk.
#[tauri::command]
pub fn watch_files(state: State<'_, AppState>, on_change: Channel<u64>) {
    let first = state
        .watcher
        .lock()
        .expect("watcher lock")
        .replace(on_change)
        .is_none();
    if first {
        let target = state.watcher.clone();
        let (seen, paths) = (state.seen.clone(), state.paths.clone());
        let mut count = 0u64;
        crate::watch::watch(
            vec![paths.config.clone(), paths.credentials.clone()],
            move || {
                // Only what keyrack has not seen: its own saves are recorded before the lock is freed.
                let unseen = match (
                    AwsFiles::load(&paths),
                    seen.lock().expect("seen lock").latest(),
                ) {
                    (Ok(now), Some(shown)) => {
                        now.config.on_disk != shown.config.on_disk
                            || now.credentials.on_disk != shown.credentials.on_disk
                    }
                    _ => true,
                };
                if unseen {
                    count += 1;
                    if let Some(channel) = target.lock().expect("watcher lock").as_ref() {
                        let _ = channel.send(count);
                    }
                }
                true
            },
        );
    }
}

#[tauri::command]
pub fn check_input(field: String, value: String) -> Option<InputAdvice> {
    changes::check_input(&field, &value)
}

/// The value of a secret setting, because the person asked to see or copy it.
#[tauri::command]
pub fn reveal_secret(
    state: State<'_, AppState>,
    profile: String,
    key: String,
) -> Result<String, Failure> {
    let files = state.latest()?;
    profiles::reveal(&files, &profile, &key)
        .map(|secret| secret.expose().to_string())
        .ok_or_else(|| Failure::new("not_found", format!("profile '{profile}' has no {key}")))
}

/// Copy a secret setting to the clipboard, because the person asked to; keyrack empties the
/// clipboard again after about 30 s if it still holds it. `typed`: a value the person typed and
/// has not saved yet, copied instead of the saved one. The saved secret never enters the page.
#[tauri::command]
pub fn copy_secret(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    profile: String,
    key: String,
    typed: Option<String>,
) -> Result<(), Failure> {
    let secret = match typed {
        Some(typed) => Secret::from(typed),
        None => profiles::reveal(&state.latest()?, &profile, &key).ok_or_else(|| {
            Failure::new("not_found", format!("profile '{profile}' has no {key}"))
        })?,
    };
    crate::clipboard::copy_for_a_while(&app, secret).map_err(|message| match message.as_str() {
        crate::clipboard::UNSUPPORTED => Failure::new(
            crate::clipboard::UNSUPPORTED,
            "keyrack cannot use this system's clipboard itself",
        ),
        _ => Failure::new("clipboard", message),
    })
}

/// Runs `work` on a blocking thread of the async runtime, off the window's thread: saves fsync,
/// the writers' lock may wait, and the keychain talks D-Bus (and may wait for an unlock prompt).
pub async fn off_the_window<T: Send + 'static>(
    app: AppHandle,
    work: impl FnOnce(&AppState) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<AppState>()))
        .await
        .map_err(|e| {
            Failure::new(
                "internal",
                format!("the change stopped unexpectedly ({e}); nothing more was done. Try again"),
            )
        })?
}

/// Apply a change made from the view of `revision` to the files as they are now.
#[tauri::command]
pub async fn apply_change(
    app: AppHandle,
    revision: u64,
    operation: Operation,
    force: bool,
) -> Result<Applied, Failure> {
    off_the_window(app, move |state| {
        state.writing(|seen| {
            Ok(changes::apply_seen(
                &state.paths,
                seen,
                revision,
                &operation,
                force,
            )?)
        })
    })
    .await
}

/// Remove the leftover backups and temporary files that keep secrets (the Problems row's button,
/// `keyrack clean`): how many files were cleaned.
#[tauri::command]
pub async fn clean_leftovers(app: AppHandle) -> Result<usize, Failure> {
    off_the_window(app, |state| {
        state.writing(|_| {
            let cleaned =
                leftovers::clean(&state.paths).map_err(|e| Failure::new("files", e.to_string()))?;
            Ok(cleaned.len())
        })
    })
    .await
}

/// The first run: write the four `aws configure` answers to the default profile.
#[tauri::command]
pub async fn configure_default(
    app: AppHandle,
    access_key_id: String,
    secret_access_key: String,
    region: String,
    output: String,
) -> Result<Applied, Failure> {
    let answers = ConfigureAnswers {
        access_key_id,
        secret_access_key: Secret::new(secret_access_key),
        region,
        output,
    };
    off_the_window(app, move |state| {
        state.writing(|_| Ok(changes::configure_default(&state.paths, &answers)?))
    })
    .await
}

/// One profile's identity check, as the list shows it.
#[derive(Clone, Serialize)]
pub struct IdentityView {
    profile: String,
    arn: Option<String>,
    account: Option<String>,
    user_id: Option<String>,
    /// `ok`, `failed`, or `settings_only` (a profile without credentials of its own: shown
    /// neutrally, not as a failure).
    status: &'static str,
    /// The AWS error code or keyrack's own (`SignatureDoesNotMatch`, `NoCredentials`...).
    code: Option<String>,
    message: Option<String>,
    /// Milliseconds since the epoch.
    checked_at: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Check who each profile is, all at once; each result goes through `on_result` as it comes.
#[tauri::command]
pub async fn check_identities(
    state: State<'_, AppState>,
    profiles: Vec<String>,
    on_result: Channel<IdentityView>,
) -> Result<usize, Failure> {
    let files = state.latest()?;
    let session = Session::from_files(&files);
    let outcomes = identity::check_all(
        &session,
        &profiles,
        identity::DEFAULT_CONCURRENCY,
        |outcome| {
            let view = match &outcome.result {
                Ok(id) => IdentityView {
                    profile: outcome.profile.clone(),
                    arn: Some(id.arn.clone()),
                    account: Some(id.account.clone()),
                    user_id: Some(id.user_id.clone()),
                    status: "ok",
                    code: None,
                    message: None,
                    checked_at: now_ms(),
                },
                Err(e) => IdentityView {
                    profile: outcome.profile.clone(),
                    arn: None,
                    account: None,
                    user_id: None,
                    status: if e.is_settings_only() {
                        "settings_only"
                    } else {
                        "failed"
                    },
                    code: Some(e.code().to_string()),
                    message: Some(e.to_string()),
                    checked_at: now_ms(),
                },
            };
            let _ = on_result.send(view);
        },
    )
    .await;
    Ok(outcomes.len())
}
