//! keyrack's desktop window: a thin Tauri shell over the keyrack engine. Each command in
//! `commands.rs` calls one [`keyrack::Rack`] use case; the web UI in `ui/` is plain HTML/CSS/JS.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod clipboard;
mod commands;
mod keychain;
mod mfa;
mod rotation;
mod watch;

use keyrack::files::FilePaths;
use keyrack::Rack;

fn main() {
    keyrack::hardening::forbid_core_dumps();
    // WebKitGTK's accelerated compositing costs about 100 MB per window and is what blanks
    // WebKit windows on some GPU drivers; a window of forms does not need it. Set before any
    // thread starts, so the WebKit processes inherit it; a value the user set wins.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let rack = Rack::from_process_env(FilePaths::from_process_env(), "the keyrack app");
    let state = commands::AppState::new(rack);
    tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::load,
            commands::vocabulary,
            commands::watch_files,
            commands::check_input,
            commands::reveal_secret,
            commands::copy_secret,
            commands::apply_change,
            commands::configure_default,
            commands::check_identities,
            mfa::answer_mfa,
            mfa::forget_sessions,
            commands::clean_leftovers,
            rotation::rotation_plan,
            rotation::recovery_plan,
            rotation::rotate_key,
            rotation::interrupted_rotations,
            keychain::move_to_keychain,
            keychain::restore_from_keychain,
        ])
        .run(tauri::generate_context!())
        .expect("keyrack could not open its window");
}
