//! The IAM console's access-key file in the window: picked (the system's file chooser) or dropped
//! on the window, previewed without its secret, saved as a profile after STS says the key works
//! (the engine's `import_key_file`), and then deleted if the person asks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use keyrack::rack::ImportReport;
use keyrack::Error;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::AppState;

/// Where the paths of files dropped on the window go: the channel of the page loaded last.
pub type DropListener = Arc<Mutex<Option<Channel<Vec<String>>>>>;

/// Hand the paths of files dropped on the window to the page.
pub fn dropped(listener: &DropListener, paths: &[PathBuf]) {
    if let Some(channel) = listener.lock().expect("drop lock").as_ref() {
        let paths = paths.iter().map(|p| p.display().to_string()).collect();
        let _ = channel.send(paths);
    }
}

/// Receive through `on_drop` the paths of files dropped on the window.
#[tauri::command]
pub fn listen_for_drops(state: State<'_, AppState>, on_drop: Channel<Vec<String>>) {
    *state.drops.lock().expect("drop lock") = Some(on_drop);
}

/// The system's file chooser, for a .csv: the path picked, or `None` (cancelled).
#[tauri::command]
pub async fn pick_key_file(app: tauri::AppHandle) -> Option<String> {
    let (picked, wait) = tokio::sync::oneshot::channel();
    choose_csv(&app, picked);
    wait.await.ok().flatten().map(|p| p.display().to_string())
}

/// The title of the file chooser.
const CHOOSER_TITLE: &str = "Access key file from the IAM console";

/// GTK's file chooser, on the main thread where GTK lives; its answer goes to `picked`.
#[cfg(target_os = "linux")]
fn choose_csv(app: &tauri::AppHandle, picked: tokio::sync::oneshot::Sender<Option<PathBuf>>) {
    use gtk::prelude::*;
    let asked = app.run_on_main_thread(move || {
        let chooser = gtk::FileChooserDialog::with_buttons(
            Some(CHOOSER_TITLE),
            None::<&gtk::Window>,
            gtk::FileChooserAction::Open,
            &[
                ("Cancel", gtk::ResponseType::Cancel),
                ("Open", gtk::ResponseType::Accept),
            ],
        );
        let filter = gtk::FileFilter::new();
        filter.set_name(Some("Access key file (.csv)"));
        filter.add_pattern("*.csv");
        filter.add_pattern("*.CSV");
        chooser.add_filter(filter);
        let path = (chooser.run() == gtk::ResponseType::Accept)
            .then(|| chooser.filename())
            .flatten();
        chooser.close();
        let _ = picked.send(path);
    });
    // The window is closing: nothing is picked (the sender is dropped).
    let _ = asked;
}

/// The dialog plugin's file chooser (macOS, Windows).
#[cfg(not(target_os = "linux"))]
fn choose_csv(app: &tauri::AppHandle, picked: tokio::sync::oneshot::Sender<Option<PathBuf>>) {
    app.dialog()
        .file()
        .set_title(CHOOSER_TITLE)
        .add_filter("Access key file (.csv)", &["csv", "CSV"])
        .pick_file(move |path| {
            let _ = picked.send(path.and_then(|p| p.into_path().ok()));
        });
}

/// What the file holds, without its secrets: each key's id and IAM user (when it names one).
#[tauri::command]
pub fn preview_key_file(path: String) -> Result<keyrack::key_file::KeyFilePreview, Error> {
    Ok(keyrack::key_file::preview(std::path::Path::new(&path))?)
}

/// Save the file's key as profile `profile` (with `region`), after STS says it works.
#[tauri::command]
pub async fn import_key_file(
    state: State<'_, AppState>,
    path: String,
    profile: Option<String>,
    region: Option<String>,
) -> Result<ImportReport, Error> {
    let profile = profile.filter(|p| !p.trim().is_empty());
    let region = region.filter(|r| !r.trim().is_empty());
    state
        .rack
        .import_key_file(
            std::path::Path::new(&path),
            profile.as_deref(),
            region.as_deref(),
            true,
        )
        .await
}

/// Delete the key file (only once every key of it is in the files).
#[tauri::command]
pub async fn delete_key_file(app: tauri::AppHandle, path: String) -> Result<(), Error> {
    crate::commands::off_the_window(app, move |rack| {
        rack.delete_key_file(std::path::Path::new(&path))
    })
    .await
}
