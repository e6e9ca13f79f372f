//! One advisory lock per file set, held by every keyrack writer while it reads, modifies and
//! writes the files, so that two keyracks (the app, a `keyrack set` in a terminal, a rotation)
//! never race each other. Other programs do not take it: the on-disk comparison of every save
//! ([`super::save`]) covers them.

use std::fs::{File, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{private, FilePaths};

/// How long a writer waits for another keyrack to finish before saying who holds the lock.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// How often a waiting writer tries again.
const POLL: Duration = Duration::from_millis(25);

/// Why the files could not be locked. Nothing was read or written.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another keyrack ({holder}) has been changing {config} and {credentials} for more than \
         {} s; wait until it finishes (or close it), then try again. Nothing was changed",
        .waited.as_secs()
    )]
    Held {
        holder: String,
        config: PathBuf,
        credentials: PathBuf,
        waited: Duration,
    },
    #[error("could not take keyrack's lock {}: {source}; nothing was changed", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl LockError {
    /// A stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            LockError::Held { .. } => "files_locked",
            LockError::Io { .. } => "lock_failed",
        }
    }
}

/// Held while one keyrack writes a file set; released when dropped, and by the operating system
/// when the process ends, however it ends.
#[derive(Debug)]
pub struct FileSetLock {
    _file: File,
}

/// Where the lock of a file set lives: `STATE/locks/SETID.lock` (0600 in 0700 folders).
pub fn lock_path(state_dir: &Path, paths: &FilePaths) -> PathBuf {
    state_dir
        .join("locks")
        .join(format!("{}.lock", paths.set_id()))
}

/// Takes the lock of `paths`' file set, waiting up to `wait` for another keyrack to release it.
/// `holder` says who takes it (`keyrack set`, `the keyrack app`): a writer that gives up names
/// it, with its process id. Locks in one process exclude each other too, so a caller must not
/// take it twice.
pub fn lock_files(
    state_dir: &Path,
    paths: &FilePaths,
    holder: &str,
    wait: Duration,
) -> Result<FileSetLock, LockError> {
    let path = lock_path(state_dir, paths);
    let io_error = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    let started = Instant::now();
    match take(&path, holder, wait).map_err(io_error)? {
        Taken::Yes(file) => Ok(FileSetLock { _file: file }),
        Taken::No(holder) => Err(LockError::Held {
            holder,
            config: paths.config.clone(),
            credentials: paths.credentials.clone(),
            waited: started.elapsed(),
        }),
    }
}

/// A lock of keyrack's own, by name (`STATE/locks/NAME.lock`): one MFA device's sign-in, so
/// that keyracks that need the same code at once ask once and the others use that session.
/// `None` when another holder kept it for all of `wait`.
pub fn lock_named(
    state_dir: &Path,
    name: &str,
    holder: &str,
    wait: Duration,
) -> std::io::Result<Option<FileSetLock>> {
    let path = state_dir.join("locks").join(format!("{name}.lock"));
    Ok(match take(&path, holder, wait)? {
        Taken::Yes(file) => Some(FileSetLock { _file: file }),
        Taken::No(_) => None,
    })
}

enum Taken {
    Yes(File),
    /// Who holds it, as it said.
    No(String),
}

/// Takes the lock file `path` (created 0600 in 0700 folders), waiting up to `wait`; writes who
/// holds it into it.
fn take(path: &Path, holder: &str, wait: Duration) -> std::io::Result<Taken> {
    let dir = path.parent().expect("the lock lives in a folder");
    private::create_dir_all(dir)?;
    let mut file = private::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < wait => std::thread::sleep(POLL),
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Ok(Taken::No(match text.trim() {
                    "" => "a process that did not say who it is".to_owned(),
                    said => said.to_owned(),
                }));
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    // Who holds it, for a writer that waits in vain (best effort: the lock is what counts).
    let said = format!("{holder}, process {}", std::process::id());
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(said.as_bytes()));
    Ok(Taken::Yes(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(dir: &Path) -> FilePaths {
        FilePaths {
            config: dir.join("config"),
            credentials: dir.join("credentials"),
        }
    }

    #[test]
    fn a_second_writer_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let paths = set(dir.path());
        let held = lock_files(&state, &paths, "keyrack rotate work", DEFAULT_WAIT).unwrap();
        let started = Instant::now();
        let error =
            lock_files(&state, &paths, "keyrack set", Duration::from_millis(200)).unwrap_err();
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "it waited first"
        );
        let text = error.to_string();
        assert_eq!(error.code(), "files_locked");
        assert!(text.contains("keyrack rotate work, process"), "{text}");
        assert!(text.contains("Nothing was changed"), "{text}");
        drop(held);
        lock_files(&state, &paths, "keyrack set", Duration::ZERO).expect("free once released");
    }

    #[test]
    fn a_writer_waiting_briefly_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let paths = set(dir.path());
        let held = lock_files(&state, &paths, "first", DEFAULT_WAIT).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        lock_files(&state, &paths, "second", Duration::from_secs(5)).expect("waited for it");
        releaser.join().unwrap();
    }

    #[test]
    fn other_file_sets_are_not_held_up() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let _a = lock_files(&state, &set(&dir.path().join("a")), "a", DEFAULT_WAIT).unwrap();
        lock_files(&state, &set(&dir.path().join("b")), "b", Duration::ZERO).expect("another set");
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let paths = set(dir.path());
        let _held = lock_files(&state, &paths, "x", DEFAULT_WAIT).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state.join("locks")), 0o700);
        assert_eq!(mode(&lock_path(&state, &paths)), 0o600);
    }
}
