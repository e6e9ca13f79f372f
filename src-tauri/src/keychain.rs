//! Moving a profile's secret into the OS keychain and back (`keyrack::keychain::vault`). The profile then
//! runs the keyrack command line as its `credential_process`, so this needs that program: it is
//! installed beside the app (`/usr/bin/keyrack` from the .deb, or the same cargo target folder).

use crate::commands::off_the_window;
use keyrack::changes::Applied;
use keyrack::Error;
use std::path::PathBuf;
use tauri::AppHandle;

/// The command line's file name: `keyrack`, `keyrack.exe` on Windows.
const CLI_NAME: &str = if cfg!(windows) {
    "keyrack.exe"
} else {
    "keyrack"
};

/// The `keyrack` command line the AWS tools will run: beside this app, else on the PATH.
fn keyrack_program() -> Result<PathBuf, Error> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(CLI_NAME)));
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(CLI_NAME))
            .find(|c| c.is_file())
    });
    beside
        .filter(|p| p.is_file())
        .or(on_path)
        .ok_or_else(|| Error::new("no_cli", "the keyrack command line is not installed next to the app or on the PATH, and the AWS tools need it to read the key from the keychain. Install keyrack's .deb (it puts /usr/bin/keyrack beside the app), or open the app with ./scripts/app, which builds the command line beside it. Nothing was changed"))
}

/// Off the window's thread: the keychain talks D-Bus and the saves fsync.
#[tauri::command]
pub async fn move_to_keychain(app: AppHandle, profile: String) -> Result<Applied, Error> {
    off_the_window(app, move |rack| {
        rack.move_to_keychain(&profile, &keyrack_program()?)
    })
    .await
}

/// Off the window's thread, as [`move_to_keychain`].
#[tauri::command]
pub async fn restore_from_keychain(app: AppHandle, profile: String) -> Result<Applied, Error> {
    off_the_window(app, move |rack| rack.restore_from_keychain(&profile)).await
}
