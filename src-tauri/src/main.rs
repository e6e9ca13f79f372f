//! keyrack's desktop window: a thin Tauri shell over the keyrack engine. Each command in
//! `commands.rs` calls one [`keyrack::Rack`] use case; the web UI in `ui/` is plain HTML/CSS/JS.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod ask_code;
mod clipboard;
mod commands;
mod key_file;
mod keychain;
mod mfa;
mod mfa_socket;
mod one_window;
mod rotation;
mod sso;
mod watch;

use keyrack::files::FilePaths;
use keyrack::Rack;

/// What `keyrack-app --help` says.
const USAGE: &str = "keyrack-app: the keyrack window (every AWS profile, who it is, safe edits, key rotation)

Usage:
  keyrack-app                          open the window on $AWS_CONFIG_FILE / $AWS_SHARED_CREDENTIALS_FILE
                                       (default ~/.aws/config and ~/.aws/credentials)
  keyrack-app --ask-mfa-code QUESTION  ask for an MFA code in a small window and print it
                                       (what `keyrack credential-process` runs)
  keyrack-app --help | --version

The command line is `keyrack` (keyrack --help).";

fn main() {
    keyrack::hardening::forbid_core_dumps();
    // WebKitGTK's accelerated compositing costs about 100 MB per window and is what blanks
    // WebKit windows on some GPU drivers; a window of forms does not need it. Set before any
    // thread starts, so the WebKit processes inherit it; a value the user set wins.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None => {}
        Some(ask_code::FLAG) => ask_code::run(args.next().unwrap_or_default()),
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return;
        }
        Some("--version" | "-V") => {
            println!("keyrack-app {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Some(other) => {
            eprintln!("keyrack-app: unknown argument {other:?}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
    let paths = FilePaths::from_process_env();
    // A second launch on the same files brings the first window to the front instead.
    let one_window = match one_window::claim(&paths) {
        Ok(claimed) => claimed,
        Err(one_window::Elsewhere::Raised) => {
            println!(
                "keyrack is already open on {} and {}: its window was brought to the front",
                paths.config.display(),
                paths.credentials.display()
            );
            return;
        }
        Err(one_window::Elsewhere::Silent(why)) => {
            eprintln!(
                "keyrack-app: keyrack is already open on {} and {}, but its window did not answer \
                 ({why}); close it (or end its process), then open keyrack again",
                paths.config.display(),
                paths.credentials.display()
            );
            std::process::exit(1);
        }
    };
    let rack = Rack::from_process_env(paths, "the keyrack app");
    let state = commands::AppState::new(rack);
    let (listener, pending) = (state.mfa_listener.clone(), state.mfa.clone());
    let drops = state.drops.clone();
    let builder = tauri::Builder::default();
    // The file chooser outside Linux (on Linux it is GTK's own, src/key_file.rs).
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(tauri_plugin_dialog::init());
    builder
        .manage(state)
        .on_window_event(move |_window, event| {
            if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                key_file::dropped(&drops, paths);
            }
        })
        .setup(move |app| {
            mfa_socket::serve(app.handle().clone(), listener, pending);
            if let Some(one_window) = one_window {
                one_window.serve(app.handle().clone());
            }
            // The main window is made here, not from the config alone, so that the MFA prompt
            // mode opens only its own small window.
            let config = app
                .config()
                .app
                .windows
                .first()
                .cloned()
                .expect("tauri.conf.json has the main window");
            tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?.build()?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::load,
            commands::save_settings,
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
            mfa::mfa_login,
            mfa::listen_for_mfa,
            commands::clean_leftovers,
            rotation::rotation_plan,
            rotation::recovery_plan,
            rotation::rotate_key,
            rotation::interrupted_rotations,
            rotation::change_other_key,
            rotation::replacement_guide,
            rotation::replacement_plan,
            rotation::replace_key,
            keychain::move_to_keychain,
            keychain::restore_from_keychain,
            sso::sso_login,
            sso::sso_logout,
            sso::sso_populate_plan,
            sso::sso_populate,
            sso::sso_cancel,
            key_file::listen_for_drops,
            key_file::pick_key_file,
            key_file::preview_key_file,
            key_file::import_key_file,
            key_file::delete_key_file,
        ])
        .run(tauri::generate_context!())
        .expect("keyrack could not open its window");
}
