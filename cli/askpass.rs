//! How `credential-process` asks a person for an MFA code. The AWS tools that run it capture its
//! stdout and stderr, so a question there is never seen; it asks through a program instead, as
//! ssh does with `SSH_ASKPASS`: `KEYRACK_MFA_ASKPASS` when set; over ssh the terminal; else the
//! running keyrack window (over its socket, `keyrack::state::mfa_prompt_socket`), else the
//! keyrack app's small prompt window next to this program when there is a display; else the
//! terminal (`/dev/tty`) when there is one; else nobody, and the caller is told to run `keyrack
//! mfa login`.
//!
//! The program gets the question as its one argument (and `KEYRACK_MFA_SERIAL`,
//! `KEYRACK_MFA_PROFILE`, `KEYRACK_MFA_UNLOCKS` in its environment), prints the code on its
//! stdout and exits 0; exit status 1 means the person declined, any other a failure (said on
//! stderr, which the AWS tools show).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use keyrack::identity::mfa::{MfaCode, MfaPrompt, MfaRequest};
use zeroize::Zeroizing;

/// The variable that names the program to ask with.
pub const ASKPASS: &str = "KEYRACK_MFA_ASKPASS";

/// The flag the keyrack app takes to show only its MFA prompt window.
pub const APP_FLAG: &str = "--ask-mfa-code";

/// Who `credential-process` asks, or `None` when nobody can be asked here.
pub fn prompt() -> Option<Arc<dyn MfaPrompt>> {
    if let Some(program) = std::env::var_os(ASKPASS).filter(|p| !p.is_empty()) {
        return Some(Arc::new(Askpass {
            program: PathBuf::from(program),
            args: Vec::new(),
        }));
    }
    // Over ssh the desktop (if any) is someone else's screen: ask on the terminal.
    let over_ssh = ["SSH_TTY", "SSH_CONNECTION"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    let terminal = crate::secret_input::terminal_is_there();
    if over_ssh && terminal {
        return Some(crate::secret_input::terminal_mfa_prompt());
    }
    if let Some(running) = running_app() {
        return Some(Arc::new(running));
    }
    if let Some(app) = app_window() {
        return Some(Arc::new(app));
    }
    terminal.then(crate::secret_input::terminal_mfa_prompt)
}

/// The keyrack window, when one is running and answers on its socket.
#[cfg(unix)]
fn running_app() -> Option<RunningApp> {
    let socket = keyrack::state::mfa_prompt_socket(&keyrack::state::state_dir());
    std::os::unix::net::UnixStream::connect(&socket)
        .ok()
        .map(|_| RunningApp { socket })
}

#[cfg(not(unix))]
fn running_app() -> Option<RunningApp> {
    None
}

/// The running keyrack window, asked over its socket: it shows its own MFA dialog.
struct RunningApp {
    #[cfg_attr(not(unix), allow(dead_code))]
    socket: PathBuf,
}

impl MfaPrompt for RunningApp {
    #[cfg(unix)]
    fn code(&self, request: &MfaRequest) -> Option<MfaCode> {
        use std::io::{BufRead, BufReader, Write};
        let mut stream = std::os::unix::net::UnixStream::connect(&self.socket).ok()?;
        let mut question = serde_json::to_string(request).ok()?;
        question.push('\n');
        stream.write_all(question.as_bytes()).ok()?;
        let mut answer = Zeroizing::new(String::new());
        BufReader::new(&stream).read_line(&mut answer).ok()?;
        // An empty line: declined in the window (or no page there to ask).
        MfaCode::parse(&answer).ok()
    }

    #[cfg(not(unix))]
    fn code(&self, _request: &MfaRequest) -> Option<MfaCode> {
        None
    }
}

/// The keyrack app installed beside this program, when there is a desktop to show it on.
fn app_window() -> Option<Askpass> {
    let has_display = if cfg!(target_os = "linux") {
        ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
    } else {
        // macOS and Windows always have their desktop (a service without one fails to open it).
        true
    };
    if !has_display {
        return None;
    }
    let name = if cfg!(windows) {
        "keyrack-app.exe"
    } else {
        "keyrack-app"
    };
    let app = std::env::current_exe().ok()?.parent()?.join(name);
    app.is_file().then(|| Askpass {
        program: app,
        args: vec![APP_FLAG.into()],
    })
}

/// A program that asks the person and prints the code.
struct Askpass {
    program: PathBuf,
    args: Vec<String>,
}

impl MfaPrompt for Askpass {
    fn code(&self, request: &MfaRequest) -> Option<MfaCode> {
        let mut question = question(request);
        for _ in 0..3 {
            let answer = Command::new(&self.program)
                .args(&self.args)
                .arg(&question)
                .env("KEYRACK_MFA_SERIAL", &request.serial)
                .env("KEYRACK_MFA_PROFILE", &request.profile)
                .env("KEYRACK_MFA_UNLOCKS", request.unlocks.join(","))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .output();
            let answer = match answer {
                Ok(answer) => answer,
                // Said on stderr, which the AWS tools show with the failure.
                Err(error) => {
                    eprintln!(
                        "keyrack: could not run the MFA prompt {}: {error}",
                        self.program.display()
                    );
                    return None;
                }
            };
            let typed = Zeroizing::new(answer.stdout);
            match answer.status.code() {
                Some(0) => {}
                // Declined: Cancel, Escape, the window closed, or the time to answer ran out.
                Some(1) => return None,
                _ => {
                    eprintln!(
                        "keyrack: the MFA prompt {} failed ({})",
                        self.program.display(),
                        answer.status
                    );
                    return None;
                }
            }
            let text = Zeroizing::new(String::from_utf8_lossy(&typed).into_owned());
            match MfaCode::parse(&text) {
                Ok(code) => return Some(code),
                Err(refused) => question = format!("{refused}. {}", self::question(request)),
            }
        }
        None
    }
}

/// The question, in one line: the device, the profiles it unlocks, the session's length.
fn question(request: &MfaRequest) -> String {
    let unlocks = match request.unlocks.as_slice() {
        [] | [_] => String::new(),
        many => format!(" (it unlocks {})", many.join(", ")),
    };
    let again = if request.retry {
        "AWS did not accept that code (wrong, used before, or too old). "
    } else {
        ""
    };
    let seconds = request.session_seconds;
    let lasts = if seconds.is_multiple_of(3600) {
        format!("{} hours", seconds / 3600)
    } else {
        format!("{} minutes", seconds / 60)
    };
    format!(
        "{again}An AWS tool needs the MFA code of {} for profile '{}'{unlocks}; the session lasts {lasts}",
        request.serial, request.profile
    )
}
