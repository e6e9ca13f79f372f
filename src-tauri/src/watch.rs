//! Watching the two files: a change made by any other program (an editor, `aws configure`) is
//! reported to the window within a quarter of a second.
//!
//! It polls the files' metadata rather than using inotify: the files are often symlinks into a
//! dotfiles folder, `~/.aws` may not exist yet, and editors replace files by renaming; a stat of
//! two paths four times a second costs nothing and sees all of these the same way.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(250);

/// What identifies a version of a file on disk without reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp(Option<(u64, u64, i64, i64, i64, i64)>);

fn stamp(path: &PathBuf) -> Stamp {
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
