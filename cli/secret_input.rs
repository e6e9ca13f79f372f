//! Secret values for `keyrack set` and `keyrack add`: asked for on the terminal without echo, or
//! read from standard input (`-`), never taken from the command line, where other users can read
//! them (`/proc/PID/cmdline`) and the shell history keeps them.

use std::io::Read;

use keyrack::secret::Secret;
use zeroize::Zeroizing;

/// The value that means "read it from standard input".
pub const FROM_STDIN: &str = "-";

/// Why a secret could not be had. No message ever holds the value, or any part of it.
#[derive(Debug, thiserror::Error)]
pub enum SecretInputError {
    #[error(
        "{key} is a secret, and keyrack does not take secrets on the command line (other users can read \
         it there, and your shell history keeps it); nothing was changed. Leave the value out to be asked \
         for it without echo, or pipe it in with '-': printf %s \"$SECRET\" | {example}"
    )]
    OnCommandLine { key: String, example: String },
    #[error("there is no terminal to ask for {key} on; pipe it in with '-': printf %s \"$SECRET\" | {example}")]
    NoTerminal { key: String, example: String },
    #[error("only one secret can come from standard input ('-'); leave the value of the others out to be asked for them")]
    StdinTwice,
    #[error("could not read {key} from {from}: {detail}; nothing was changed")]
    Read {
        key: String,
        from: &'static str,
        detail: String,
    },
    #[error("{key} read from {from} is not UTF-8 text; nothing was changed")]
    NotText { key: String, from: &'static str },
    #[error("{key} read from {from} is empty; nothing was changed")]
    Empty { key: String, from: &'static str },
}

/// Where the secret value of one setting comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Asked for on the terminal (`/dev/tty`), without echo.
    Prompt,
    /// Read from standard input.
    Stdin,
}

impl Source {
    /// What the command line gave as the value of secret setting `key`: nothing (ask), `-`
    /// (stdin), or the secret itself, which is refused. `example` is the command that pipes it.
    pub fn of(
        key: &str,
        given: Option<&str>,
        example: impl FnOnce() -> String,
    ) -> Result<Source, SecretInputError> {
        match given {
            None => Ok(Source::Prompt),
            Some(FROM_STDIN) => Ok(Source::Stdin),
            Some(_) => Err(SecretInputError::OnCommandLine {
                key: key.to_string(),
                example: example(),
            }),
        }
    }
}

/// Reads the secrets of one command: at most one from standard input.
#[derive(Default)]
pub struct SecretReader {
    stdin_used: bool,
}

impl SecretReader {
    /// The value of secret setting `key` of `section` (as in "profile 'dev'"), from `source`.
    /// One trailing line break is dropped (what `echo` adds); an empty value is refused.
    pub fn read(
        &mut self,
        source: Source,
        key: &str,
        section: &str,
        example: impl FnOnce() -> String,
    ) -> Result<Secret, SecretInputError> {
        let (bytes, from) = match source {
            Source::Stdin => {
                if std::mem::replace(&mut self.stdin_used, true) {
                    return Err(SecretInputError::StdinTwice);
                }
                (
                    read_stdin().map_err(|e| read_error(key, "standard input", &e))?,
                    "standard input",
                )
            }
            Source::Prompt => {
                let question = format!("{key} for {section} (not shown as you type): ");
                match prompt(&question).map_err(|e| read_error(key, "the terminal", &e))? {
                    Some(bytes) => (bytes, "the terminal"),
                    None => {
                        return Err(SecretInputError::NoTerminal {
                            key: key.to_string(),
                            example: example(),
                        })
                    }
                }
            }
        };
        to_secret(bytes, key, from)
    }
}

fn read_error(key: &str, from: &'static str, error: &std::io::Error) -> SecretInputError {
    SecretInputError::Read {
        key: key.to_string(),
        from,
        detail: error.to_string(),
    }
}

/// Text without one final line break, as a [`Secret`]; the bytes are wiped whatever happens.
fn to_secret(
    mut bytes: Zeroizing<Vec<u8>>,
    key: &str,
    from: &'static str,
) -> Result<Secret, SecretInputError> {
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    if bytes.is_empty() {
        return Err(SecretInputError::Empty {
            key: key.to_string(),
            from,
        });
    }
    if std::str::from_utf8(&bytes).is_err() {
        return Err(SecretInputError::NotText {
            key: key.to_string(),
            from,
        });
    }
    let text = String::from_utf8(std::mem::take(&mut *bytes)).expect("checked above");
    Ok(Secret::from(text))
}

/// Everything on standard input, in a buffer that is wiped when dropped (big enough for any key
/// or session token, so it need not grow and leave copies behind).
fn read_stdin() -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(16 * 1024));
    std::io::stdin().lock().read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Ask `question` on the controlling terminal and read one line with echo off. `Ok(None)`: the
/// process has no terminal. Echo comes back on however the read ends, Ctrl+C included.
#[cfg(unix)]
fn prompt(question: &str) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    use std::io::Write;
    use std::os::fd::AsRawFd;

    let Ok(tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    else {
        return Ok(None);
    };
    let Some(_quiet) = terminal::QuietTerminal::new(tty.as_raw_fd()) else {
        return Ok(None);
    };
    (&tty).write_all(question.as_bytes())?;
    // The terminal hands over a whole line per read (canonical mode); read into a buffer that
    // never grows.
    let mut line = Zeroizing::new(vec![0u8; 16 * 1024]);
    let mut len = 0;
    while len < line.len() {
        let n = (&tty).read(&mut line[len..])?;
        len += n;
        if n == 0 || line[..len].ends_with(b"\n") {
            break;
        }
    }
    line.truncate(len);
    if !line.ends_with(b"\n") {
        // End of input (Ctrl+D) without a line break: the echo of a newline did not happen.
        let _ = (&tty).write_all(b"\n");
    }
    Ok(Some(line))
}

/// Echo off on a terminal for as long as a [`terminal::QuietTerminal`] lives.
#[cfg(unix)]
mod terminal {
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The signals that end the process while it waits for the secret: the handler puts the
    /// terminal back first, or the shell would be left without echo.
    const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    /// The terminal's settings before echo went off, for the signal handler. Written only
    /// before `SAVED_FD` is set, read only while it is.
    struct Saved(UnsafeCell<libc::termios>);
    // SAFETY: see above; the one writer runs before any reader can look.
    unsafe impl Sync for Saved {}
    // SAFETY: termios is plain data, all zeros is a valid value.
    static SAVED: Saved = Saved(UnsafeCell::new(unsafe { std::mem::zeroed() }));
    static SAVED_FD: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn restore_then_die(signal: libc::c_int) {
        let fd = SAVED_FD.load(Ordering::SeqCst);
        // SAFETY: tcsetattr, signal and raise are async-signal-safe; SAVED is not written while
        // SAVED_FD is set.
        unsafe {
            if fd >= 0 {
                libc::tcsetattr(fd, libc::TCSANOW, SAVED.0.get());
            }
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    pub struct QuietTerminal {
        fd: libc::c_int,
        before: [libc::sighandler_t; SIGNALS.len()],
    }

    impl QuietTerminal {
        /// Turn echo off on terminal `fd` (the line break is still echoed); `None` when `fd`
        /// is not a terminal or echo cannot be turned off.
        pub fn new(fd: libc::c_int) -> Option<QuietTerminal> {
            // SAFETY: termios is plain data; tcgetattr fills it in or fails.
            let mut saved: libc::termios = unsafe { std::mem::zeroed() };
            if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
                return None;
            }
            // SAFETY: no handler reads SAVED yet (SAVED_FD is -1), and one prompt runs at a time.
            unsafe { *SAVED.0.get() = saved };
            SAVED_FD.store(fd, Ordering::SeqCst);
            let handler = restore_then_die as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SAFETY: installing a handler that only calls async-signal-safe functions.
            let before = SIGNALS.map(|signal| unsafe { libc::signal(signal, handler) });
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            let terminal = QuietTerminal { fd, before };
            // SAFETY: fd is the open terminal; `quiet` is a valid termios read from it. If echo
            // cannot be turned off, nothing is asked (dropping `terminal` undoes the rest).
            (unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } == 0).then_some(terminal)
        }
    }

    impl Drop for QuietTerminal {
        fn drop(&mut self) {
            // SAFETY: the termios saved in `new`; then the handlers there were before.
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSANOW, SAVED.0.get());
                SAVED_FD.store(-1, Ordering::SeqCst);
                for (signal, before) in SIGNALS.iter().zip(self.before) {
                    libc::signal(*signal, before);
                }
            }
        }
    }
}

#[cfg(not(unix))]
fn prompt(_question: &str) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    Ok(None)
}

/// Whether this process has a terminal to ask on (`/dev/tty` opens).
pub fn terminal_is_there() -> bool {
    cfg!(unix)
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
}

/// The terminal prompt, as the engine takes it.
pub fn terminal_mfa_prompt() -> std::sync::Arc<dyn keyrack::identity::mfa::MfaPrompt> {
    std::sync::Arc::new(TerminalMfaPrompt)
}

/// The command line's way to ask for an MFA code: on the terminal (`/dev/tty`), never on
/// stdout or stderr, which may be pipes; no terminal, no question.
pub struct TerminalMfaPrompt;

impl keyrack::identity::mfa::MfaPrompt for TerminalMfaPrompt {
    fn code(
        &self,
        request: &keyrack::identity::mfa::MfaRequest,
    ) -> Option<keyrack::identity::mfa::MfaCode> {
        use keyrack::identity::mfa::MfaCode;
        let unlocks = match request.unlocks.as_slice() {
            [] | [_] => String::new(),
            many => format!(" (it unlocks {})", many.join(", ")),
        };
        let mut question = if request.retry {
            format!(
                "AWS did not accept that code (wrong, used before, or too old). Next MFA code of {} for profile '{}'{unlocks} (not shown as you type): ",
                request.serial, request.profile
            )
        } else {
            format!(
                "MFA code of {} for profile '{}'{unlocks} (not shown as you type): ",
                request.serial, request.profile
            )
        };
        for _ in 0..3 {
            let typed = prompt(&question).ok()??;
            let text = String::from_utf8_lossy(&typed).into_owned();
            match MfaCode::parse(&zeroize::Zeroizing::new(text)) {
                Ok(code) => return Some(code),
                Err(refused) => question = format!("{refused}. MFA code: "),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn a_value_on_the_command_line_is_refused_without_being_repeated() {
        let error = Source::of("aws_secret_access_key", Some(SECRET), || {
            "keyrack set p aws_secret_access_key -".into()
        })
        .unwrap_err();
        let text = error.to_string();
        assert!(
            !text.contains(SECRET)
                && text.contains("printf %s \"$SECRET\" | keyrack set p aws_secret_access_key -"),
            "{text}"
        );
        assert_eq!(Source::of("k", None, String::new).unwrap(), Source::Prompt);
        assert_eq!(
            Source::of("k", Some("-"), String::new).unwrap(),
            Source::Stdin
        );
    }

    #[test]
    fn one_final_line_break_is_dropped_and_empty_or_binary_input_is_refused() {
        let read = |bytes: &[u8]| to_secret(Zeroizing::new(bytes.to_vec()), "k", "standard input");
        assert_eq!(
            read(format!("{SECRET}\n").as_bytes()).unwrap().expose(),
            SECRET
        );
        assert_eq!(
            read(format!("{SECRET}\r\n").as_bytes()).unwrap().expose(),
            SECRET
        );
        assert_eq!(read(SECRET.as_bytes()).unwrap().expose(), SECRET);
        assert!(matches!(read(b"\n"), Err(SecretInputError::Empty { .. })));
        assert!(matches!(
            read(b"\xff\xfe"),
            Err(SecretInputError::NotText { .. })
        ));
    }
}
