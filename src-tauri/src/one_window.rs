//! One window per file set: a second launch on the same files brings the first window to the
//! front and ends, so two windows never edit the same files. A window on other files (another
//! project's `AWS_CONFIG_FILE`) opens as usual. The lock `STATE/locks/window-SETID.lock` says a
//! window runs; the window listens on `STATE/window-SETID.sock` (in the owner-only state
//! folder), or where there are no Unix sockets, on a loopback port kept in
//! `STATE/window-SETID.port`. A request is one line, `show`; it only raises the window.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use keyrack::files::FilePaths;
use keyrack::state::WindowLock;

/// This process is the window of its file set: it keeps the lock while it runs.
pub struct OneWindow {
    _lock: WindowLock,
    place: PathBuf,
}

/// How a launch ends that found a window already open on its files.
pub enum Elsewhere {
    /// That window was asked to come to the front.
    Raised,
    /// It did not answer (it may be starting, or hang).
    Silent(String),
}

/// Claim the window of `paths`' file set; `Err` when another window has it (which was asked
/// to come to the front). `Ok(None)`: no state folder to keep a lock in, so no check.
pub fn claim(paths: &FilePaths) -> Result<Option<OneWindow>, Elsewhere> {
    let dir = keyrack::state::state_dir();
    if keyrack::state::ensure_state_dir(&dir).is_err() {
        return Ok(None);
    }
    match keyrack::state::claim_window(&dir, paths) {
        Ok((Some(lock), place)) => Ok(Some(OneWindow { _lock: lock, place })),
        Ok((None, place)) => Err(raise(&place)),
        Err(_) => Ok(None),
    }
}

/// Ask the window listening at `place` to come to the front.
fn raise(place: &Path) -> Elsewhere {
    // The first window may still be starting: give it a few seconds to listen.
    let mut last = String::new();
    for _ in 0..50 {
        match ask(place) {
            Ok(()) => return Elsewhere::Raised,
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Elsewhere::Silent(last)
}

fn ask(place: &Path) -> std::io::Result<()> {
    let mut stream = connect(place)?;
    // A window that takes the question and never answers must not hang this launch.
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"show\n")?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    match answer.trim() {
        "shown" => Ok(()),
        other => Err(std::io::Error::other(format!("it answered {other:?}"))),
    }
}

impl OneWindow {
    /// Answer later launches: each `show` brings the main window to the front.
    pub fn serve(self, app: tauri::AppHandle) {
        use tauri::Manager;
        let listener = listen(&self.place);
        std::thread::spawn(move || {
            // The lock lives as long as the window does, even when later launches cannot be
            // answered (they then say the window did not answer, and open none).
            let _window = self;
            let Ok(listener) = listener else {
                loop {
                    std::thread::park();
                }
            };
            for stream in incoming(&listener) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                if reader.read_line(&mut line).is_err() || line.trim() != "show" {
                    continue;
                }
                // No window (it is closing): the launch is told so and tries again.
                let answer: &[u8] = match app.get_webview_window("main") {
                    Some(window) => {
                        let _ = window.unminimize();
                        let _ = window.show();
                        let _ = window.set_focus();
                        b"shown\n"
                    }
                    None => b"closing\n",
                };
                let _ = (&stream).write_all(answer);
            }
        });
    }
}

#[cfg(unix)]
type Stream = std::os::unix::net::UnixStream;
#[cfg(unix)]
type Listener = std::os::unix::net::UnixListener;
#[cfg(not(unix))]
type Stream = std::net::TcpStream;
#[cfg(not(unix))]
type Listener = std::net::TcpListener;

#[cfg(unix)]
fn connect(place: &Path) -> std::io::Result<Stream> {
    Stream::connect(place.with_extension("sock"))
}

#[cfg(unix)]
fn listen(place: &Path) -> std::io::Result<Listener> {
    let path = place.with_extension("sock");
    // Left by a window that ended: the lock says none runs now.
    let _ = std::fs::remove_file(&path);
    Listener::bind(path)
}

#[cfg(not(unix))]
fn connect(place: &Path) -> std::io::Result<Stream> {
    let port: u16 = std::fs::read_to_string(place.with_extension("port"))?
        .trim()
        .parse()
        .map_err(std::io::Error::other)?;
    Stream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
}

#[cfg(not(unix))]
fn listen(place: &Path) -> std::io::Result<Listener> {
    let listener = Listener::bind(("127.0.0.1", 0))?;
    std::fs::write(
        place.with_extension("port"),
        listener.local_addr()?.port().to_string(),
    )?;
    Ok(listener)
}

/// Each connection; a failed accept (too many open files) is waited out, not spun on.
fn incoming(listener: &Listener) -> impl Iterator<Item = Stream> + '_ {
    listener.incoming().filter_map(|stream| match stream {
        Ok(stream) => Some(stream),
        Err(_) => {
            std::thread::sleep(Duration::from_millis(200));
            None
        }
    })
}
