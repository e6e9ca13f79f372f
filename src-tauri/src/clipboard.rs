//! A copied secret on the clipboard for a while (30 seconds unless keyrack's settings say
//! otherwise): keyrack puts it there itself (the page never holds it, and a page cannot write to
//! the clipboard later without a click) and empties the clipboard again, only if it still holds
//! that secret, so whatever the person copied since is left alone.

use keyrack::secret::Secret;
use std::time::Duration;

/// Whether the clipboard, holding `now`, still holds the copied `secret` (and so is emptied).
pub fn still_holds(now: Option<&str>, secret: &Secret) -> bool {
    now.is_some_and(|text| !secret.is_empty() && text == secret.expose())
}

/// Put `secret` on the clipboard and take it off again after `clear_after` if it is still
/// there. GTK's clipboard lives on the main thread: the work is sent there.
#[cfg(target_os = "linux")]
pub fn copy_for_a_while(
    app: &tauri::AppHandle,
    secret: Secret,
    clear_after: Duration,
) -> Result<(), String> {
    use gtk::gdk::SELECTION_CLIPBOARD;
    use gtk::Clipboard;

    app.run_on_main_thread(move || {
        Clipboard::get(&SELECTION_CLIPBOARD).set_text(secret.expose());
        gtk::glib::timeout_add_local_once(clear_after, move || {
            Clipboard::get(&SELECTION_CLIPBOARD).request_text(move |clipboard, now| {
                if still_holds(now, &secret) {
                    clipboard.set_text("");
                }
            });
        });
    })
    .map_err(|e| format!("could not reach the clipboard: {e}"))
}

/// Elsewhere the page copies the secret itself (see `ui/editor.js`).
#[cfg(not(target_os = "linux"))]
pub fn copy_for_a_while(
    _app: &tauri::AppHandle,
    _secret: Secret,
    _clear_after: Duration,
) -> Result<(), String> {
    Err(UNSUPPORTED.to_string())
}

/// The error code that tells the page to copy by itself.
pub const UNSUPPORTED: &str = "clipboard_unsupported";
