//! Lets a `keyrack credential-process` ask the running window for an MFA code instead of opening
//! a window of its own: while the app runs it listens on `STATE/mfa-prompt.sock` (Unix only; the
//! state folder is its owner's alone). A caller sends its question ([`MfaRequest`] as one JSON
//! line) and reads back one line: the code, or nothing when the person declined or no page is
//! there to ask.

use std::sync::{Arc, Mutex};

use tauri::ipc::Channel;

use crate::mfa::{MfaQuestion, Pending};

/// The page's channel for questions that come from outside (registered by `listen_for_mfa`).
pub type Listener = Arc<Mutex<Option<Channel<MfaQuestion>>>>;

/// Start answering on the socket, unless another keyrack window already does.
#[cfg(unix)]
pub fn serve(app: tauri::AppHandle, listener: Listener, pending: Arc<Pending>) {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use tauri::Manager;

    let dir = keyrack::state::state_dir();
    let path = keyrack::state::mfa_prompt_socket(&dir);
    if keyrack::state::ensure_state_dir(&dir).is_err() {
        return;
    }
    // A socket left by a window that ended is taken over; a live one is left to its window.
    if UnixStream::connect(&path).is_ok() {
        return;
    }
    let _ = std::fs::remove_file(&path);
    let Ok(socket) = UnixListener::bind(&path) else {
        return;
    };
    std::thread::spawn(move || {
        for stream in socket.incoming().flatten() {
            let (app, listener, pending) = (app.clone(), listener.clone(), pending.clone());
            std::thread::spawn(move || {
                let mut line = String::new();
                if BufReader::new(&stream).read_line(&mut line).is_err() {
                    return;
                }
                let Ok(request) = serde_json::from_str::<keyrack::identity::mfa::MfaRequest>(&line)
                else {
                    return;
                };
                let channel = listener.lock().expect("listener lock").clone();
                let code = channel.and_then(|channel| {
                    if let Some(window) = app.get_webview_window("main") {
                        let _ = window.unminimize();
                        let _ = window.set_focus();
                    }
                    let prompt = crate::mfa::WindowMfaPrompt { channel, pending };
                    keyrack::identity::mfa::MfaPrompt::code(&prompt, &request)
                });
                let answer = zeroize::Zeroizing::new(format!(
                    "{}\n",
                    code.as_ref().map_or("", |c| c.expose())
                ));
                let _ = (&stream).write_all(answer.as_bytes());
            });
        }
    });
}

/// No socket where there are no Unix sockets: credential-process opens its own window there.
#[cfg(not(unix))]
pub fn serve(_app: tauri::AppHandle, _listener: Listener, _pending: Arc<Pending>) {}
