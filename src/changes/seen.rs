//! What the person saw: the versions of the files a window has shown, by revision number, so
//! that a change made from an older view is compared with the version the person actually
//! looked at ([`super::apply_seen`]).

use crate::files::AwsFiles;
use std::collections::VecDeque;

/// How many shown versions are kept (a form is rarely older than a few outside edits).
pub const KEPT: usize = 16;

/// The last [`KEPT`] versions of the files shown, each with its revision number (1, 2, ...).
#[derive(Default)]
pub struct Seen {
    versions: VecDeque<(u64, AwsFiles)>,
    next: u64,
}

fn same_bytes(a: &AwsFiles, b: &AwsFiles) -> bool {
    a.config.on_disk == b.config.on_disk && a.credentials.on_disk == b.credentials.on_disk
}

impl Seen {
    /// Record `files` as shown and return its revision; the same bytes as the latest version
    /// keep its revision.
    pub fn record(&mut self, files: AwsFiles) -> u64 {
        if let Some((revision, latest)) = self.versions.back() {
            if same_bytes(latest, &files) {
                return *revision;
            }
        }
        self.next += 1;
        self.versions.push_back((self.next, files));
        if self.versions.len() > KEPT {
            self.versions.pop_front();
        }
        self.next
    }

    /// The files as shown at `revision` (the oldest kept one when it is too old).
    pub fn at(&self, revision: u64) -> Option<&AwsFiles> {
        self.versions.iter().find(|(r, _)| *r == revision).or(self.versions.front()).map(|(_, f)| f)
    }

    /// The files as shown last.
    pub fn latest(&self) -> Option<&AwsFiles> {
        self.versions.back().map(|(_, f)| f)
    }
}
