//! What the person saw: the versions of the files a window has shown, by revision number, so
//! that a change made from an older view is compared with the version the person actually
//! looked at ([`super::apply_seen`]). A version too old to be kept is not guessed at: the
//! change is refused with [`super::ChangeError::ViewTooOld`] and the person is asked.

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

    /// The files as shown at `revision`; `None` when it is no longer kept (more than [`KEPT`]
    /// versions were shown since) or was never shown. Never another version in its place.
    pub fn at(&self, revision: u64) -> Option<&AwsFiles> {
        self.versions
            .iter()
            .find(|(r, _)| *r == revision)
            .map(|(_, f)| f)
    }

    /// The files as shown last.
    pub fn latest(&self) -> Option<&AwsFiles> {
        self.versions.back().map(|(_, f)| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(region: &str) -> AwsFiles {
        AwsFiles::from_bytes(format!("[default]\nregion = {region}\n").as_bytes(), b"")
    }

    fn config_text(files: &AwsFiles) -> String {
        String::from_utf8(files.config.doc.to_bytes()).unwrap()
    }

    #[test]
    fn each_new_version_gets_the_next_revision_and_the_same_bytes_keep_theirs() {
        let mut seen = Seen::default();
        assert!(seen.latest().is_none());
        assert_eq!(seen.record(files("eu-west-1")), 1);
        assert_eq!(
            seen.record(files("eu-west-1")),
            1,
            "the same bytes seen again (keyrack's own save) are the same version"
        );
        assert_eq!(seen.record(files("us-east-1")), 2);
        assert_eq!(
            seen.record(files("eu-west-1")),
            3,
            "back to older bytes is a new version"
        );
        assert_eq!(
            config_text(seen.at(2).unwrap()),
            config_text(&files("us-east-1"))
        );
        assert_eq!(
            config_text(seen.latest().unwrap()),
            config_text(&files("eu-west-1"))
        );
    }

    #[test]
    fn the_last_kept_versions_are_known_and_an_older_one_is_not_replaced_by_another() {
        let mut seen = Seen::default();
        for n in 0..=KEPT {
            seen.record(files(&format!("r{n}")));
        }
        assert!(
            seen.at(1).is_none(),
            "revision 1 was dropped, and no other version stands in for it"
        );
        assert_eq!(config_text(seen.at(2).unwrap()), config_text(&files("r1")));
        assert_eq!(
            config_text(seen.at(KEPT as u64 + 1).unwrap()),
            config_text(&files(&format!("r{KEPT}")))
        );
        assert!(
            seen.at(0).is_none() && seen.at(KEPT as u64 + 2).is_none(),
            "never shown"
        );
    }
}
