//! Moving a profile's secret into the OS keychain and back (`keyrack::keychain::vault`). The profile then
//! runs the keyrack command line as its `credential_process`, so this needs that program: it is
//! installed beside the app (`/usr/bin/keyrack` from the .deb, or the same cargo target folder).

use crate::commands::{off_the_window, Failure};
use keyrack::changes::Applied;
use keyrack::files::AwsFiles;
use keyrack::keychain::vault::{self, VaultError};
use keyrack::keychain::Keychain;
use std::path::PathBuf;
use tauri::AppHandle;

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        Failure::new("keychain", e.to_string())
    }
}

/// The command line's file name: `keyrack`, `keyrack.exe` on Windows.
const CLI_NAME: &str = if cfg!(windows) {
    "keyrack.exe"
} else {
    "keyrack"
};

/// The `keyrack` command line the AWS tools will run: beside this app, else on the PATH.
fn keyrack_program() -> Result<PathBuf, Failure> {
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
        .ok_or_else(|| Failure::new("no_cli", "the keyrack command line is not installed next to the app or on the PATH; the AWS tools would need it to read the key from the keychain. Nothing was changed"))
}

fn open_keychain() -> Result<Keychain, Failure> {
    Keychain::open().map_err(|error| VaultError::Keychain { error }.into())
}

/// Off the window's thread: the keychain talks D-Bus and the saves fsync.
#[tauri::command]
pub async fn move_to_keychain(app: AppHandle, profile: String) -> Result<Applied, Failure> {
    off_the_window(app, move |state| {
        let program = keyrack_program()?;
        let keychain = open_keychain()?;
        state.writing(|_| {
            let mut files = AwsFiles::load(state.paths())?;
            let outcome = vault::move_to_keychain(&mut files, &keychain, &profile, &program)?;
            Ok(Applied {
                saved: outcome.saved,
                warnings: outcome.warnings,
                reapplied: false,
            })
        })
    })
    .await
}

/// Off the window's thread, as [`move_to_keychain`].
#[tauri::command]
pub async fn restore_from_keychain(app: AppHandle, profile: String) -> Result<Applied, Failure> {
    off_the_window(app, move |state| {
        let keychain = open_keychain()?;
        state.writing(|_| {
            let mut files = AwsFiles::load(state.paths())?;
            let outcome = vault::restore_from_keychain(&mut files, &keychain, &profile)?;
            Ok(Applied {
                saved: outcome.saved,
                warnings: outcome.warnings,
                reapplied: false,
            })
        })
    })
    .await
}
