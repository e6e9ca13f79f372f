//! The commands the window may call: each one calls one [`Rack`] use case, off the window's
//! thread wherever it touches disk, D-Bus or the network. A secret crosses into the window only
//! in `reveal_secret` (the person asked to see it) and from the window only as something the
//! person typed; `copy_secret` puts it on the clipboard without passing it through the window.

use keyrack::changes::{self, Applied, ConfigureAnswers, InputAdvice, Operation};
use keyrack::files::check::REGIONS;
use keyrack::files::Dialect;
use keyrack::rack::IdentityView;
use keyrack::secret::Secret;
use keyrack::vocabulary::Vocabulary;
use keyrack::{Error, Rack};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

/// What the window works with: the file set's rack, the rotation plan it shows, and where file
/// change notices go.
pub struct AppState {
    pub rack: Arc<Rack>,
    /// The rotation plan the window shows; `rotate_key` runs exactly this one.
    pub rotation_plan: Mutex<Option<keyrack::rotation::RotationPlan>>,
    /// The replacement the window shows, with the new key the person gave (kept in memory
    /// only); `replace_key` runs exactly this one.
    pub replacement: Mutex<Option<(keyrack::rotation::RotationPlan, keyrack::aws::Credentials)>>,
    /// The populate preview the window shows; `sso_populate` writes exactly this one.
    pub populate_plan: Mutex<Option<keyrack::sso_profiles::PopulatePlan>>,
    /// Ends the IAM Identity Center sign-in the window waits for.
    pub sso_cancel: Arc<tokio::sync::Notify>,
    /// Where the paths of files dropped on the window go.
    pub drops: crate::key_file::DropListener,
    /// Where file-change notices go: the channel of the page loaded last.
    watcher: Arc<Mutex<Option<Channel<u64>>>>,
    /// The MFA questions the page has not answered yet.
    pub mfa: Arc<crate::mfa::Pending>,
    /// Where questions from a `keyrack credential-process` go (the page's channel).
    pub mfa_listener: crate::mfa_socket::Listener,
    /// The first listing, read while GTK and WebKit start (see [`AppState::new`]); the page's
    /// first `load` takes it.
    first_listing: Mutex<Option<Prepared>>,
}

impl AppState {
    /// The window's state over `rack`. The files are read and listed at once, on a thread of
    /// its own: starting GTK and WebKit takes longer than that, so the page finds its list
    /// ready instead of waiting for it.
    pub fn new(rack: Rack) -> Self {
        let rack = Arc::new(rack);
        let reading = rack.clone();
        let first_listing = std::thread::Builder::new()
            .name("first-listing".into())
            .spawn(move || listing_json(&reading))
            .ok();
        AppState {
            first_listing: Mutex::new(first_listing),
            rack,
            rotation_plan: Mutex::default(),
            replacement: Mutex::default(),
            populate_plan: Mutex::default(),
            sso_cancel: Arc::default(),
            drops: Arc::default(),
            watcher: Arc::default(),
            mfa: Arc::default(),
            mfa_listener: Arc::default(),
        }
    }
}

/// Runs `work` on a blocking thread of the async runtime, off the window's thread: saves fsync,
/// the writers' lock may wait, and the keychain talks D-Bus (and may wait for an unlock prompt).
pub async fn off_the_window<T: Send + 'static>(
    app: AppHandle,
    work: impl FnOnce(&Rack) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tauri::async_runtime::spawn_blocking(move || work(&app.state::<AppState>().rack))
        .await
        .map_err(|e| {
            Error::new(
                "internal",
                format!("the work stopped unexpectedly ({e}); nothing more was done. Try again"),
            )
        })?
}

/// A listing being read on a thread of its own, as the JSON the page receives.
type Prepared = std::thread::JoinHandle<Result<String, Error>>;

/// What the page receives beside the listing: the words and rules it takes from the engine,
/// keyrack's settings, and the kept checks.
#[derive(Serialize)]
struct BesideTheListing {
    regions: &'static [&'static str],
    output_formats: &'static [&'static str],
    /// keyrack's own settings, and what in their file was not understood.
    settings: keyrack::settings::Settings,
    settings_notes: Vec<String>,
    /// Each profile's last check, kept between launches, stale where it changed since.
    checks: Vec<keyrack::rack::KeptCheck>,
}

/// The files as they are now, with each keychain profile's key id read from its entry, and what
/// goes beside them: the listing prepared at start-up if the files have not changed since it
/// was read (the rest is read now: the kept checks may change without the files).
#[tauri::command]
pub async fn load(app: AppHandle) -> Result<tauri::ipc::Response, Error> {
    let prepared = app
        .state::<AppState>()
        .first_listing
        .lock()
        .expect("first listing lock")
        .take();
    let json = off_the_window(app, move |rack| view_json(prepared, rack)).await?;
    Ok(tauri::ipc::Response::new(json))
}

/// The page's view: the listing `prepared` read, if it was read without fault and the files are
/// still what it read (else the listing now), with what goes beside it read now.
fn view_json(prepared: Option<Prepared>, rack: &Rack) -> Result<String, Error> {
    let listing = match prepared.map(|reading| reading.join()) {
        Some(Ok(Ok(json))) if !rack.changed_since_shown() => json,
        _ => listing_json(rack)?,
    };
    let (settings, settings_notes) = rack.settings();
    let beside = to_json(&BesideTheListing {
        regions: REGIONS,
        output_formats: changes::OUTPUT_FORMATS,
        settings,
        settings_notes,
        checks: rack.kept_checks()?,
    })?;
    // Two JSON objects with no key in common, made one (what `#[serde(flatten)]` would make).
    match (listing.strip_suffix('}'), beside.strip_prefix('{')) {
        (Some(head), Some(tail)) if head != "{" && tail != "}" => Ok(format!("{head},{tail}")),
        _ => Err(Error::new(
            "internal",
            "could not hand the files to the window; close it and open it again",
        )),
    }
}

/// The listing of the files as they are now, as JSON.
fn listing_json(rack: &Rack) -> Result<String, Error> {
    to_json(&rack.listing(Dialect::Cli, true)?)
}

fn to_json(value: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| {
        Error::new(
            "internal",
            format!("could not hand the files to the window ({e}); close it and open it again"),
        )
    })
}

/// Keep keyrack's settings (the settings view's Save).
#[tauri::command]
pub async fn save_settings(
    app: AppHandle,
    settings: keyrack::settings::Settings,
) -> Result<(), Error> {
    off_the_window(app, move |rack| rack.save_settings(&settings)).await
}

/// The engine's words and rules: step labels, kind labels and capabilities, secret settings,
/// error headlines.
#[tauri::command]
pub fn vocabulary() -> Vocabulary {
    Vocabulary::new()
}

/// Send a notice through `on_change` whenever either file changes on disk, and at once if they
/// changed since the page last read them (before the watch began: the page reads them first).
#[tauri::command]
pub fn watch_files(state: State<'_, AppState>, on_change: Channel<u64>) {
    let mut watcher = state.watcher.lock().expect("watcher lock");
    let first = watcher.is_none();
    if state.rack.changed_since_shown() {
        let _ = on_change.send(0);
    }
    *watcher = Some(on_change);
    drop(watcher);
    if first {
        let target = state.watcher.clone();
        let rack = state.rack.clone();
        let paths = rack.paths().clone();
        let mut count = 0u64;
        crate::watch::watch(vec![paths.config, paths.credentials], move || {
            // Only what keyrack has not seen: its own saves are recorded before the lock is freed.
            if rack.changed_since_shown() {
                count += 1;
                if let Some(channel) = target.lock().expect("watcher lock").as_ref() {
                    let _ = channel.send(count);
                }
            }
            true
        });
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
) -> Result<String, Error> {
    state
        .rack
        .reveal(&profile, &key)
        .map(|secret| secret.expose().to_string())
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
) -> Result<(), Error> {
    let secret = match typed {
        Some(typed) => Secret::from(typed),
        None => state.rack.reveal(&profile, &key)?,
    };
    let clear_after =
        std::time::Duration::from_secs(u64::from(state.rack.settings().0.clipboard_seconds));
    crate::clipboard::copy_for_a_while(&app, secret, clear_after).map_err(|message| {
        match message.as_str() {
            crate::clipboard::UNSUPPORTED => Error::new(
                crate::clipboard::UNSUPPORTED,
                "keyrack cannot use this system's clipboard itself",
            ),
            _ => Error::new("clipboard", message),
        }
    })
}

/// Apply a change made from the view of `revision` to the files as they are now.
#[tauri::command]
pub async fn apply_change(
    app: AppHandle,
    revision: u64,
    operation: Operation,
    force: bool,
) -> Result<Applied, Error> {
    off_the_window(app, move |rack| rack.edit(revision, &operation, force)).await
}

/// Remove the leftover backups and temporary files that keep secrets (the Problems row's button,
/// `keyrack clean`): how many files were cleaned.
#[tauri::command]
pub async fn clean_leftovers(app: AppHandle) -> Result<usize, Error> {
    off_the_window(app, |rack| Ok(rack.clean()?.len())).await
}

/// The first run: write the four `aws configure` answers to the default profile.
#[tauri::command]
pub async fn configure_default(
    app: AppHandle,
    access_key_id: String,
    secret_access_key: String,
    region: String,
    output: String,
) -> Result<Applied, Error> {
    let answers = ConfigureAnswers {
        access_key_id,
        secret_access_key: Secret::new(secret_access_key),
        region,
        output,
    };
    off_the_window(app, move |rack| rack.configure_default(&answers)).await
}

/// Check who each profile is, all at once; each result goes through `on_result` as it comes. A
/// role that needs an MFA code asks the page for it through `on_mfa`.
#[tauri::command]
pub async fn check_identities(
    state: State<'_, AppState>,
    profiles: Vec<String>,
    on_result: Channel<IdentityView>,
    on_mfa: Channel<crate::mfa::MfaQuestion>,
) -> Result<usize, Error> {
    let prompt = crate::mfa::window_prompt(&state, on_mfa);
    let views = state
        .rack
        .identities(&profiles, true, Some(prompt), |view| {
            let _ = on_result.send(view.clone());
        })
        .await?;
    Ok(views.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyrack::aws::endpoint::EndpointEnv;
    use keyrack::files::FilePaths;
    use keyrack::keychain::Keychain;

    fn rack_over(dir: &std::path::Path) -> Arc<Rack> {
        let paths = FilePaths {
            config: dir.join("config"),
            credentials: dir.join("credentials"),
        };
        Arc::new(Rack::new(
            paths,
            Keychain::in_memory(),
            dir.join("state"),
            EndpointEnv::from_pairs([("AWS_DEFAULT_REGION", "us-east-1")]),
            "a test",
        ))
    }

    fn prepared(rack: &Arc<Rack>) -> Option<Prepared> {
        let reading = rack.clone();
        Some(std::thread::spawn(move || listing_json(&reading)))
    }

    fn names(json: &str) -> Vec<String> {
        let view: serde_json::Value = serde_json::from_str(json).unwrap();
        assert!(
            view["checks"].is_array() && view["settings"].is_object(),
            "{view}"
        );
        view["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_listing_read_at_start_up_is_the_first_one_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config"),
            "[profile dev]\nregion = eu-west-1\n",
        )
        .unwrap();
        let rack = rack_over(dir.path());
        assert_eq!(names(&view_json(prepared(&rack), &rack).unwrap()), ["dev"]);
        // What the start-up thread read is what the page gets, not a second reading.
        let read_then = std::thread::spawn(|| Ok(r#"{"profiles":[{"name":"as read"}]}"#.into()));
        let json = view_json(Some(read_then), &rack).unwrap();
        assert_eq!(names(&json), ["as read"]);
    }

    #[test]
    fn files_changed_while_the_window_started_are_shown_as_they_are_now() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[profile dev]\nregion = eu-west-1\n").unwrap();
        let rack = rack_over(dir.path());
        let read_then = prepared(&rack).unwrap().join().unwrap().unwrap();
        // An editor saves before the page asks for the files.
        std::fs::write(
            &config,
            "[profile dev]\nregion = eu-west-1\n[profile prod]\n",
        )
        .unwrap();
        let finished = std::thread::spawn(move || Ok(read_then));
        let json = view_json(Some(finished), &rack).unwrap();
        assert_eq!(names(&json), ["dev", "prod"]);
    }

    #[test]
    fn a_start_up_read_that_failed_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config"), "[profile dev]\n").unwrap();
        let rack = rack_over(dir.path());
        let failed = std::thread::spawn(|| Err(Error::new("internal", "the disk said no")));
        let json = view_json(Some(failed), &rack).unwrap();
        assert_eq!(names(&json), ["dev"]);
    }
}
