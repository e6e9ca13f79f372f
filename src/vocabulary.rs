//! The words and rules the window takes from the engine instead of keeping copies: what each
//! rotation step, profile kind and key status is called, which settings are secrets, and the
//! headline of every error code the engine can answer with.

use serde::Serialize;

use crate::files::model::SECRET_KEYS;

/// A name the engine uses (a step, a kind, an error code) and its words for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Word {
    pub name: &'static str,
    pub label: &'static str,
}

/// Everything the page needs to word what the engine sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vocabulary {
    /// Every step a rotation can run ([`crate::rotation::Step::name`]), including the ones that
    /// only run after a failure.
    pub steps: &'static [Word],
    /// Every kind a profile can have ([`crate::profiles::kind_name`]).
    pub kinds: &'static [Word],
    /// IAM's key statuses and the plan's own (`deleted`, `unknown`).
    pub key_statuses: &'static [Word],
    /// The settings whose values are secrets, compared without regard to case (as
    /// [`crate::files::model::is_secret_key`] does), also as the sub-key of a nested block.
    pub secret_keys: &'static [&'static str],
    /// A short headline for every error code ([`crate::Error::code`]).
    pub headlines: &'static [Word],
    /// Why a kept result is out of date ([`crate::rack::StaleCause`]): the badge in the list.
    pub stale_badges: &'static [Word],
    /// The same causes, as the note on the profile's result says them.
    pub stale_notes: &'static [Word],
}

impl Vocabulary {
    pub fn new() -> Vocabulary {
        Vocabulary {
            steps: STEPS,
            kinds: KINDS,
            key_statuses: KEY_STATUSES,
            secret_keys: SECRET_KEYS,
            headlines: HEADLINES,
            stale_badges: STALE_BADGES,
            stale_notes: STALE_NOTES,
        }
    }

    /// The headline of `code`, if it has one.
    pub fn headline(&self, code: &str) -> Option<&'static str> {
        self.headlines
            .iter()
            .find(|w| w.name == code)
            .map(|w| w.label)
    }
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::new()
    }
}

const fn word(name: &'static str, label: &'static str) -> Word {
    Word { name, label }
}

const STALE_BADGES: &[Word] = &[
    word("settings_changed", "changed since"),
    word("key_changed", "key changed"),
    word("session_ended", "session ended"),
    word("session_forgotten", "session forgotten"),
    word("signed_out", "signed out"),
    word("changed_by_keyrack", "check again"),
];

const STALE_NOTES: &[Word] = &[
    word(
        "settings_changed",
        "This profile's settings or key changed after this check, so it may no longer be who it is. Check it again.",
    ),
    word(
        "key_changed",
        "Its key was changed by keyrack after this check (a rotation or a replacement): the result is the old key's. Check it again.",
    ),
    word(
        "session_ended",
        "The session this check signed in with has ended, so the profile may not sign in as shown now. Check it again.",
    ),
    word(
        "session_forgotten",
        "The session this check signed in with was forgotten since. Check it again (an MFA device asks for a code).",
    ),
    word(
        "signed_out",
        "You signed out of IAM Identity Center after this check. Sign in, then check it again.",
    ),
    word(
        "changed_by_keyrack",
        "After this check keyrack changed, or began to change, what this profile signs in with (a key, a session). Check it again.",
    ),
];

const STEPS: &[Word] = &[
    word("delete_unused_key", "Delete the unused key to make room"),
    word("create_key", "Create the new key"),
    word(
        "write_files",
        "Write the new key to every profile that held the old one",
    ),
    word(
        "verify_new_key",
        "Prove the new key works (IAM takes a few seconds to accept a new key)",
    ),
    word(
        "deactivate_old_key",
        "Switch the old key to Inactive, signed with the new key",
    ),
    word("delete_old_key", "Delete the old key"),
    word("restore_old_key", "Put the old key back"),
    word("delete_new_key", "Delete the unusable new key"),
    word("reactivate_old_key", "Make the old key Active again"),
];

const KINDS: &[Word] = &[
    word("static_keys", "Access keys"),
    word("session", "Session keys"),
    word("role", "Role"),
    word("sso", "SSO"),
    word("credential_process", "credential_process"),
    word("keychain", "Keychain"),
    word("settings_only", "Settings only"),
];

const KEY_STATUSES: &[Word] = &[
    word("active", "Active"),
    word("inactive", "Inactive"),
    word("deleted", "Deleted"),
    word("unknown", "Unknown (AWS could not be asked)"),
];

const HEADLINES: &[Word] = &[
    // The files and edits.
    word("files", "Could not read or save the files"),
    word("changed_on_disk", "Changed by another program"),
    word("view_too_old", "Changed on disk meanwhile"),
    word("refused", "Not a change keyrack can make"),
    word("busy", "The files kept changing"),
    word("files_locked", "Another keyrack is writing"),
    word("lock_failed", "Could not lock the files"),
    word("leftovers", "Could not clean up"),
    word("not_found", "Not found"),
    word("internal", "Stopped unexpectedly"),
    word("clipboard", "Clipboard not available"),
    word("clipboard_unsupported", "Copy in the page"),
    word("bad_command_line", "Cannot write that command line"),
    word("bad_file_set", "Not a file set"),
    word("no_cli", "Command line missing"),
    // Who a profile is.
    word("no_such_profile", "No such profile"),
    word("no_credentials", "No credentials"),
    word("settings_only", "Settings only"),
    word("partial_credentials", "Incomplete credentials"),
    word("invalid_config", "The AWS CLI refuses the files"),
    word("source_profile_missing", "Source profile missing"),
    word("source_profile_loop", "Source profile loop"),
    word("needs_mfa", "Needs an MFA code"),
    word("sso_role_not_assigned", "SSO role not assigned"),
    word("no_such_sso_session", "No such sso-session"),
    word("sso_portal_failed", "IAM Identity Center did not answer"),
    word("sso_token_refused", "SSO sign-in not accepted"),
    word(
        "session_from_session",
        "An MFA session needs the user's long-term key",
    ),
    word(
        "mfa_device_not_usable",
        "Security keys cannot sign API calls",
    ),
    word("session_too_long", "Session longer than STS allows"),
    word("no_mfa_device", "No MFA device to sign in with"),
    word("session_not_kept", "The session could not be kept"),
    word("needs_sso_login", "Needs SSO login"),
    word("invalid_sso_session", "The sso-session cannot sign in"),
    word("invalid_start_url", "Not an IAM Identity Center start URL"),
    word("sso_sign_in_denied", "Sign-in denied"),
    word("sso_sign_in_timed_out", "Sign-in not approved in time"),
    word("sso_state_mismatch", "A sign-in keyrack did not start"),
    word("sso_no_loopback", "The browser cannot come back"),
    word(
        "sso_sign_in_refused",
        "IAM Identity Center refused the sign-in",
    ),
    word("sso_sign_in_busy", "Another sign-in is under way"),
    word("sso_cache_write_failed", "The sign-in could not be kept"),
    word("no_home", "No home folder"),
    word("cancelled", "Cancelled"),
    word("settings_not_saved", "The settings could not be saved"),
    word("bad_key_file", "Not a key file from the IAM console"),
    word("key_not_saved", "The key file was kept"),
    word("delete_failed", "Could not delete the file"),
    word(
        "aws_tools_cannot_read",
        "Only keyrack can read it, the AWS tools cannot",
    ),
    word("not_supported", "Not supported yet"),
    word("credential_process_failed", "Credential process failed"),
    word("invalid_endpoint", "Endpoint the AWS CLI refuses"),
    word("invalid_region", "Region the AWS CLI refuses"),
    word("signing_region_differs", "Signed for another region"),
    word("wrong_secret", "Wrong secret"),
    word("unknown_access_key", "Key deleted or unknown"),
    word("expired_token", "Session expired"),
    word("access_denied", "Access denied"),
    word("wrong_mfa_code", "MFA code not accepted"),
    word("unknown_mfa_device", "Unknown MFA device"),
    word("throttled", "AWS asked to slow down"),
    word("aws_error", "AWS refused"),
    word("clock_skew", "Computer clock is off"),
    word("wrong_signing_scope", "Signed for the wrong region"),
    word("unexpected_answer", "Unexpected answer"),
    word("unreachable", "Cannot reach AWS"),
    word("timeout", "AWS did not answer"),
    word("tls", "Secure connection failed"),
    word("ca_bundle", "CA bundle unusable"),
    word("malformed_answer", "Unreadable answer from AWS"),
    word("request_failed", "Request failed"),
    // The keychain.
    word("nothing_to_move", "No key to move"),
    word("not_in_keychain", "Not in the keychain"),
    word("two_keys", "Two different keys"),
    word("entry_in_use", "Keychain entry in use"),
    word(
        "entry_holds_another_key",
        "Keychain entry holds another key",
    ),
    word("entry_of_another_file_set", "Another file set's entry"),
    word("no_session_bus", "No desktop session"),
    word("no_secret_service", "No keychain running"),
    word("keychain_locked", "Keychain locked"),
    word("no_keychain_entry", "Not in the keychain"),
    word("ambiguous_keychain_entry", "Several keychain entries"),
    word("unreadable_keychain_entry", "Unreadable keychain entry"),
    word("keychain_read_back_mismatch", "Keychain did not keep it"),
    word("no_keychain", "No keychain on this system"),
    word("keychain_failed", "Keychain failed"),
    // Rotation.
    word("journal", "Rotation journal unusable"),
    word("no_key_of_its_own", "No key of its own"),
    word("temporary_credentials", "Temporary credentials"),
    word("credentials", "Credentials unusable"),
    word("key_does_not_work", "Key does not work"),
    word("not_a_user", "Not an IAM user"),
    word("aws", "AWS refused"),
    word("old_key_inactive", "Key is Inactive"),
    word("other_key_active", "Two keys already"),
    word(
        "inactive_key_needs_confirmation",
        "Delete the Inactive key?",
    ),
    word("inactive_key_in_use", "Inactive key in use"),
    word("unknown_key", "No such key"),
    word("key_held_here", "Key in use here"),
    word("needs_confirmation", "Confirmation needed"),
    word("interrupted_key_gone", "Interrupted rotation's key gone"),
    word("nothing_to_recover", "Nothing to finish"),
    word("journal_of_other_files", "Rotation of other files"),
    word("plan_outdated", "Plan out of date"),
    word("new_key_not_long_term", "Not an access key"),
    word("new_key_held_already", "Same key"),
    word("new_key_does_not_work", "New key does not work"),
    word("not_the_same_user", "Another user's key"),
    word("new_key_inactive", "New key is Inactive"),
    word("other_interrupted", "Unfinished rotation"),
    word("state_write_failed", "State not saved"),
    word("new_key_not_kept", "New key not kept"),
    word("rotation_busy", "Another rotation is running"),
    word("stopped", "Rotation stopped"),
    word("no_plan", "Plan gone"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The string literals that `fn code` bodies return (`=> "name"`) and that errors are made
    /// with (`Error::new("name"`), in every Rust file under `dir`.
    fn codes_in(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                codes_in(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            // `fn code(` bodies, and `aws_kind` (the code of an AWS failure, src/identity/error.rs).
            for marker in ["fn code(", "fn aws_kind("] {
                let mut rest = text;
                while let Some(at) = rest.find(marker) {
                    let body = &rest[at..];
                    let end = body.find("\n}\n").unwrap_or(body.len());
                    let end = body[..end].find("\n    }\n").map_or(end, |e| e.min(end));
                    for piece in body[..end].split("=> \"").skip(1) {
                        let code: String = piece.chars().take_while(|c| *c != '"').collect();
                        found.push((code, path.display().to_string()));
                    }
                    rest = &body[end..];
                }
            }
            for piece in text.split("Error::new(").skip(1) {
                let piece = piece.trim_start();
                if let Some(literal) = piece.strip_prefix('"') {
                    let code: String = literal.chars().take_while(|c| *c != '"').collect();
                    found.push((code, path.display().to_string()));
                }
            }
        }
    }

    fn every_code_in_the_source() -> Vec<(String, String)> {
        let root = keyrack_test_support::repo_root();
        let mut found = Vec::new();
        codes_in(&root.join("src"), &mut found);
        codes_in(&root.join("src-tauri/src"), &mut found);
        found
    }

    #[test]
    fn every_error_code_the_engine_or_the_app_can_answer_with_has_a_headline() {
        let vocabulary = Vocabulary::new();
        let found = every_code_in_the_source();
        assert!(found.len() > 60, "the scan found too few codes: {found:?}");
        let missing: Vec<_> = found
            .iter()
            .filter(|(code, _)| vocabulary.headline(code).is_none())
            .collect();
        assert!(missing.is_empty(), "codes without a headline: {missing:?}");
    }

    #[test]
    fn every_error_code_the_page_acts_on_is_one_the_engine_has() {
        let ui = keyrack_test_support::repo_root().join("ui");
        let vocabulary = Vocabulary::new();
        let mut named = Vec::new();
        for entry in std::fs::read_dir(&ui).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "js") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["code === \"", "code !== \"", "errorHeadline(\""] {
                for piece in text.split(marker).skip(1) {
                    let code: String = piece.chars().take_while(|c| *c != '"').collect();
                    named.push((code, path.display().to_string()));
                }
            }
        }
        assert!(
            named.len() >= 4,
            "the page names codes it acts on: {named:?}"
        );
        let unknown: Vec<_> = named
            .iter()
            .filter(|(code, _)| vocabulary.headline(code).is_none())
            .collect();
        assert!(
            unknown.is_empty(),
            "the page acts on codes the engine never sends: {unknown:?}"
        );
    }

    #[test]
    fn every_code_is_snake_case_and_every_headline_is_used_once() {
        for w in HEADLINES {
            assert!(
                w.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{} is not snake_case",
                w.name
            );
            assert_eq!(
                HEADLINES.iter().filter(|o| o.name == w.name).count(),
                1,
                "{}",
                w.name
            );
            assert!(
                w.label.chars().next().is_some_and(char::is_uppercase),
                "{}",
                w.label
            );
        }
    }

    #[test]
    fn every_rotation_step_has_a_label() {
        use crate::rotation::Step;
        let steps = [
            Step::DeleteUnusedKey {
                access_key_id: String::new(),
            },
            Step::CreateKey,
            Step::WriteFiles {
                new_key_id: String::new(),
                profiles: Vec::new(),
            },
            Step::VerifyNewKey {
                new_key_id: String::new(),
            },
            Step::DeactivateOldKey {
                old_key_id: String::new(),
            },
            Step::DeleteOldKey {
                old_key_id: String::new(),
            },
            Step::RestoreOldKey {
                old_key_id: String::new(),
                profiles: Vec::new(),
            },
            Step::DeleteNewKey {
                new_key_id: String::new(),
            },
            Step::ReactivateOldKey {
                old_key_id: String::new(),
            },
        ];
        for step in steps {
            assert!(
                STEPS.iter().any(|w| w.name == step.name()),
                "{}",
                step.name()
            );
        }
        assert_eq!(STEPS.len(), 9);
    }

    #[test]
    fn every_profile_kind_has_a_label() {
        use crate::files::AwsFiles;
        let config = "[profile keys]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n\
                      [profile session]\naws_access_key_id = ASIA1\naws_secret_access_key = s\naws_session_token = t\n\
                      [profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = keys\n\
                      [profile sso]\nsso_session = corp\n\
                      [profile process]\ncredential_process = /bin/true\n\
                      [profile keychain]\ncredential_process = /usr/bin/keyrack credential-process --profile keychain\n\
                      [profile plain]\nregion = eu-west-1\n";
        let files = AwsFiles::from_bytes(config.as_bytes(), b"");
        let listing = crate::profiles::listing(&files, crate::files::Dialect::Cli);
        assert_eq!(listing.profiles.len(), 7);
        for profile in &listing.profiles {
            assert!(
                KINDS.iter().any(|w| w.name == profile.kind),
                "{}",
                profile.kind
            );
        }
        assert_eq!(KINDS.len(), 7);
    }

    #[test]
    fn every_stale_cause_has_a_badge_and_a_note_that_starts_with_a_capital() {
        let words = Vocabulary::new();
        for cause in crate::rack::StaleCause::ALL {
            let name = cause.name();
            assert_eq!(
                serde_json::to_value(cause).unwrap(),
                serde_json::json!(name),
                "the name the window receives"
            );
            assert!(words.stale_badges.iter().any(|w| w.name == name), "{name}");
            let note = words.stale_notes.iter().find(|w| w.name == name);
            assert!(
                note.is_some_and(|w| w.label.chars().next().is_some_and(char::is_uppercase)),
                "{name}: {note:?}"
            );
        }
        assert_eq!(words.stale_badges.len(), crate::rack::StaleCause::ALL.len());
        assert_eq!(words.stale_notes.len(), crate::rack::StaleCause::ALL.len());
    }
}
