//! Watching the two files: a change made by any other program (an editor, `aws configure`) is
//! reported to the window within a quarter of a second.
//!
//! It polls the files' metadata rather than using inotify: the files are often symlinks into a
//! dotfiles folder, `~/.aws` may not exist yet, and editors replace files by renaming; a stat of
//! two paths four times a second costs nothing and sees all of these the same way.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(250);

/// What identifies a version of a file on disk without reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp(Option<(u64, u64, i64, i64, i64, i64)>);

/// Inode, size, and modification and change times to the nanosecond: a file replaced by a rename
/// has another inode even when its size and times look the same.
#[cfg(unix)]
fn stamp(path: &PathBuf) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    Stamp(fs::metadata(path).ok().map(|m| {
        (
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        )
    }))
}

/// Size and modification time to the nanosecond (what the platform offers everywhere).
#[cfg(not(unix))]
fn stamp(path: &PathBuf) -> Stamp {
    Stamp(fs::metadata(path).ok().map(|m| {
        let modified = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        (
            0,
            m.len(),
            modified.as_secs() as i64,
            modified.subsec_nanos() as i64,
            0,
            0,
        )
    }))
}

/// Call `changed` (on a background thread) every time either file changes, until it returns
/// false.
pub fn watch(paths: Vec<PathBuf>, mut changed: impl FnMut() -> bool + Send + 'static) {
    std::thread::Builder::new()
        .name("keyrack-watch".into())
        .spawn(move || {
            let mut last: Vec<Stamp> = paths.iter().map(stamp).collect();
            loop {
                std::thread::sleep(INTERVAL);
                let now: Vec<Stamp> = paths.iter().map(stamp).collect();
                if now != last {
                    last = now;
                    if !changed() {
                        return;
                    }
                }
            }
        })
        .expect("start the file watcher thread");
}
