//! keyrack's own state folder, `${XDG_STATE_HOME:-$HOME/.local/state}/keyrack` (0700 folders):
//! rotation journals and the writers' locks, which hold no secret; and while a rotation is open,
//! its new key (0600, `new-keys/`, removed when the rotation closes).

use std::path::PathBuf;

/// `${XDG_STATE_HOME:-$HOME/.local/state}/keyrack` (a relative `XDG_STATE_HOME` is ignored, as
/// the XDG specification asks); on Windows `%LOCALAPPDATA%\keyrack` unless `XDG_STATE_HOME` is
/// set.
pub fn state_dir_from_env(env: impl Fn(&str) -> Option<String>) -> PathBuf {
    #[cfg(windows)]
    if !env("XDG_STATE_HOME").is_some_and(|dir| PathBuf::from(dir).is_absolute()) {
        let local = env("LOCALAPPDATA")
            .or_else(|| env("USERPROFILE").map(|home| format!("{home}\\AppData\\Local")));
        if let Some(local) = local.filter(|dir| PathBuf::from(dir).is_absolute()) {
            return PathBuf::from(local).join("keyrack");
        }
    }
    let state = env("XDG_STATE_HOME")
        .filter(|dir| PathBuf::from(dir).is_absolute())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env("HOME").unwrap_or_default()).join(".local/state"));
    state.join("keyrack")
}

/// [`state_dir_from_env`] of this process.
pub fn state_dir() -> PathBuf {
    state_dir_from_env(|name| std::env::var(name).ok())
}

/// Where the running keyrack window answers MFA questions for `keyrack credential-process`:
/// `STATE/mfa-prompt.sock` (a Unix socket in the private state folder).
pub fn mfa_prompt_socket(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("mfa-prompt.sock")
}

/// Make the state folder, readable by its owner only, if it is not there.
pub fn ensure_state_dir(dir: &std::path::Path) -> std::io::Result<()> {
    crate::files::private::ensure_private_dir(dir)
}

/// Held while a keyrack window is open on a file set (released when dropped or when the process
/// ends, however it ends).
pub use crate::files::lock::FileSetLock as WindowLock;

/// Take, now or not at all, the lock that says a keyrack window is open on `paths`' file set
/// (`STATE/locks/window-SETID.lock`): `None` when another window holds it. With it comes where
/// that window answers later launches (`STATE/window-SETID`, to which the listener adds its
/// extension).
pub fn claim_window(
    state_dir: &std::path::Path,
    paths: &crate::files::FilePaths,
) -> std::io::Result<(Option<WindowLock>, PathBuf)> {
    let name = format!("window-{}", paths.set_id());
    let holder = "the keyrack window";
    let lock = crate::files::lock::lock_named(state_dir, &name, holder, std::time::Duration::ZERO)?;
    Ok((lock, state_dir.join(name)))
}
