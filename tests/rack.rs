//! The engine's one surface, as the command line and the app use it, on real files with an
//! in-memory keychain: edits re-applied over other programs' changes, refusals with their codes,
//! keychain entries that follow their profile, and `credential-process` serving a moved key.
//! Fast tier: it needs nothing but this tree.

use std::fs;
use std::path::Path;

use keyrack::aws::EndpointEnv;
use keyrack::changes::{Operation, SettingChange};
use keyrack::files::{Dialect, FilePaths};
use keyrack::keychain::places::SecretStore;
use keyrack::keychain::Keychain;
use keyrack::secret::Secret;
use keyrack::vocabulary::Vocabulary;
use keyrack::Rack;

const KEY_ID: &str = "AKIAEXAMPLERACK00001";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLERACK";

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(config: &str, credentials: &str) -> Files {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("aws")).unwrap();
        let files = Files { dir };
        fs::write(files.paths().config, config).unwrap();
        fs::write(files.paths().credentials, credentials).unwrap();
        files
    }

    fn paths(&self) -> FilePaths {
        FilePaths {
            config: self.dir.path().join("aws/config"),
            credentials: self.dir.path().join("aws/credentials"),
        }
    }

    fn rack(&self, keychain: &Keychain) -> Rack {
        Rack::new(
            self.paths(),
            keychain.clone(),
            self.dir.path().join("state"),
            EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]),
            "a test",
        )
    }

    fn config(&self) -> String {
        fs::read_to_string(self.paths().config).unwrap()
    }

    fn credentials(&self) -> String {
        fs::read_to_string(self.paths().credentials).unwrap()
    }
}

fn set(profile: &str, key: &str, value: &str) -> Operation {
    Operation::Edit {
        profile: profile.into(),
        changes: vec![SettingChange::Set {
            key: key.into(),
            value: Secret::new(value),
        }],
        sso_session: false,
    }
}

fn keys() -> String {
    format!("[dev]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
}

#[test]
fn an_edit_made_from_an_older_view_is_applied_over_another_programs_change_to_other_settings() {
    let files = Files::new("[profile dev]\nregion = eu-west-1\n", "");
    let rack = files.rack(&Keychain::in_memory());
    let shown = rack.listing(Dialect::Cli, false).unwrap();
    fs::write(
        files.paths().config,
        "# an editor added this\n[profile dev]\nregion = eu-west-1\n",
    )
    .unwrap();
    let applied = rack
        .edit(shown.revision, &set("dev", "output", "json"), false)
        .unwrap();
    assert!(applied.reapplied);
    assert_eq!(
        files.config(),
        "# an editor added this\n[profile dev]\nregion = eu-west-1\noutput = json\n"
    );
}

#[test]
fn an_edit_of_a_setting_another_program_changed_meanwhile_is_refused_naming_it() {
    let files = Files::new("[profile dev]\nregion = eu-west-1\n", "");
    let rack = files.rack(&Keychain::in_memory());
    let shown = rack.listing(Dialect::Cli, false).unwrap();
    fs::write(files.paths().config, "[profile dev]\nregion = us-east-2\n").unwrap();
    let error = rack
        .edit(shown.revision, &set("dev", "region", "ap-south-1"), false)
        .unwrap_err();
    assert_eq!(error.code, "changed_on_disk");
    assert_eq!(error.details["keys"], serde_json::json!(["region"]));
    assert_eq!(files.config(), "[profile dev]\nregion = us-east-2\n");
    // The person chose to apply theirs anyway.
    rack.edit(shown.revision, &set("dev", "region", "ap-south-1"), true)
        .unwrap();
    assert_eq!(files.config(), "[profile dev]\nregion = ap-south-1\n");
}

#[test]
fn removing_a_setting_that_is_not_there_is_refused_and_changes_nothing() {
    let files = Files::new("[profile dev]\nregion = eu-west-1\n", "");
    let rack = files.rack(&Keychain::in_memory());
    let unset = Operation::Edit {
        profile: "dev".into(),
        changes: vec![SettingChange::Unset {
            key: "output".into(),
        }],
        sso_session: false,
    };
    let error = rack.edit_now(&unset).unwrap_err();
    assert_eq!(error.code, "refused", "{error}");
    assert_eq!(files.config(), "[profile dev]\nregion = eu-west-1\n");
}

#[test]
fn a_key_moved_to_the_keychain_is_served_by_credential_process_and_comes_back_on_restore() {
    let files = Files::new("[profile dev]\nregion = eu-west-1\n", &keys());
    let keychain = Keychain::in_memory();
    let rack = files.rack(&keychain);
    rack.move_to_keychain("dev", Path::new("/usr/bin/keyrack"))
        .unwrap();
    assert!(
        !files.credentials().contains(SECRET),
        "the secret left the file"
    );
    let listing = rack.listing(Dialect::Cli, true).unwrap();
    let dev = listing.profiles.iter().find(|p| p.name == "dev").unwrap();
    assert_eq!(dev.kind, "keychain");
    assert!(matches!(dev.secret_store, SecretStore::Keychain { .. }));
    assert_eq!(
        dev.access_key_id.as_deref(),
        Some(KEY_ID),
        "read from the entry"
    );
    assert!(!serde_json::to_string(&listing).unwrap().contains(SECRET));

    let set_id = files.paths().set_id();
    let served = Rack::credential_process(&keychain, &served_by("dev", &set_id), None).unwrap();
    assert_eq!(
        served.to_json_line(),
        format!(
            "{{\"Version\":1,\"AccessKeyId\":\"{KEY_ID}\",\"SecretAccessKey\":\"{SECRET}\"}}\n"
        )
    );

    rack.restore_from_keychain("dev").unwrap();
    assert!(files.credentials().contains(SECRET));
    let error = Rack::credential_process(&keychain, &served_by("dev", &set_id), None)
        .err()
        .expect("the entry is gone after the restore");
    assert_eq!(error.code, "no_keychain_entry");
    assert!(!error.message.contains(SECRET));
}

/// The line that serves `profile`'s entry of file set `set_id`.
fn served_by(profile: &str, set_id: &str) -> keyrack::keychain::command::KeyrackCommand {
    let program = std::path::Path::new("/usr/bin/keyrack");
    keyrack::keychain::command::KeyrackCommand::new(program, profile, set_id)
}

#[test]
fn a_renamed_keychain_profile_takes_its_entry_along_and_a_deleted_one_removes_it() {
    let files = Files::new("[profile dev]\nregion = eu-west-1\n", &keys());
    let keychain = Keychain::in_memory();
    let rack = files.rack(&keychain);
    rack.move_to_keychain("dev", Path::new("/usr/bin/keyrack"))
        .unwrap();
    let set_id = files.paths().set_id();
    let rename = Operation::Rename {
        profile: "dev".into(),
        to: "prod".into(),
        sso_session: false,
    };
    let applied = rack.edit_now(&rename).unwrap();
    assert_eq!(applied.removed_entry, Some(format!("{set_id}:dev")));
    assert!(Rack::credential_process(&keychain, &served_by("prod", &set_id), None).is_ok());
    assert!(Rack::credential_process(&keychain, &served_by("dev", &set_id), None).is_err());

    assert!(rack.deleting_removes_entry("prod").unwrap());
    let delete = Operation::Delete {
        profile: "prod".into(),
        sso_session: false,
    };
    rack.edit_now(&delete).unwrap();
    assert!(Rack::credential_process(&keychain, &served_by("prod", &set_id), None).is_err());
    assert!(!files.config().contains("prod"));
}

#[test]
fn an_sso_session_section_is_edited_as_one() {
    let files = Files::new("[sso-session corp]\nsso_region = eu-west-1\n", "");
    let rack = files.rack(&Keychain::in_memory());
    let op = Operation::Edit {
        profile: "corp".into(),
        changes: vec![SettingChange::Set {
            key: "sso_start_url".into(),
            value: Secret::new("https://corp.awsapps.com/start"),
        }],
        sso_session: true,
    };
    rack.edit_now(&op).unwrap();
    assert_eq!(
        files.config(),
        "[sso-session corp]\nsso_region = eu-west-1\nsso_start_url = https://corp.awsapps.com/start\n"
    );
}

#[test]
fn every_refusal_carries_a_code_with_a_headline_in_the_vocabulary() {
    let files = Files::new("[profile dev]\nregion = eu-west-1\n", "");
    let rack = files.rack(&Keychain::in_memory());
    let vocabulary = Vocabulary::new();
    let refusals = [
        rack.edit_now(&set("bad name", "region", "x")).unwrap_err(),
        rack.edit_now(&set("dev", "region", "a\nb")).unwrap_err(),
        rack.reveal("dev", "aws_secret_access_key").unwrap_err(),
        rack.move_to_keychain("dev", Path::new("/usr/bin/keyrack"))
            .unwrap_err(),
        rack.restore_from_keychain("dev").unwrap_err(),
        Rack::credential_process(&Keychain::in_memory(), &served_by("dev", "not-a-set"), None)
            .err()
            .unwrap(),
    ];
    for error in refusals {
        assert!(
            vocabulary.headline(error.code).is_some(),
            "{}: {}",
            error.code,
            error.message
        );
        assert!(!error.message.is_empty());
    }
}

#[test]
fn a_secret_inside_a_nested_block_is_never_listed() {
    let files = Files::new(
        "[profile dev]\nregion = eu-west-1\ns3 =\n  aws_secret_access_key = nested-secret-value\n  max_concurrent_requests = 20\n",
        "",
    );
    let rack = files.rack(&Keychain::in_memory());
    let listing = rack.listing(Dialect::Cli, false).unwrap();
    let text = serde_json::to_string(&listing).unwrap();
    assert!(!text.contains("nested-secret-value"), "{text}");
    assert!(text.contains("max_concurrent_requests"), "{text}");
}

#[test]
fn a_new_profile_with_half_an_access_key_is_refused_in_the_window_and_warned_about_on_the_command_line(
) {
    let files = Files::new("[default]\nregion = us-east-1\n", "");
    let rack = files.rack(&Keychain::in_memory());
    let set = |key: &str, value: &str| SettingChange::Set {
        key: key.into(),
        value: Secret::new(value.to_owned()),
    };
    for (changes, missing) in [
        (vec![set("aws_access_key_id", KEY_ID)], "secret access key"),
        (
            vec![
                set("aws_access_key_id", KEY_ID),
                set("aws_secret_access_key", "  "),
            ],
            "secret access key",
        ),
        (vec![set("aws_secret_access_key", SECRET)], "access key ID"),
    ] {
        let add = Operation::Add {
            profile: "half".into(),
            changes,
            sso_session: false,
        };
        // The window (an edit from a shown view) refuses it...
        let shown = rack.listing(Dialect::Cli, false).unwrap();
        let error = rack.edit(shown.revision, &add, false).unwrap_err();
        assert_eq!(error.code, "refused");
        assert!(
            error.message.contains(&format!("add its {missing}")),
            "{}",
            error.message
        );
        assert_eq!(files.config(), "[default]\nregion = us-east-1\n");
        assert_eq!(files.credentials(), "");
    }
    // ... the command line, where a script may set the secret next, makes it and warns.
    let add = Operation::Add {
        profile: "half".into(),
        changes: vec![set("aws_access_key_id", KEY_ID)],
        sso_session: false,
    };
    let applied = rack.edit_now(&add).unwrap();
    assert!(
        applied
            .warnings
            .iter()
            .any(|w| w.contains("add its secret access key")),
        "{:?}",
        applied.warnings
    );
    // Both halves, or neither: created.
    let whole = Operation::Add {
        profile: "whole".into(),
        changes: vec![
            set("aws_access_key_id", KEY_ID),
            set("aws_secret_access_key", SECRET),
        ],
        sso_session: false,
    };
    rack.edit_now(&whole).unwrap();
    assert!(files.credentials().contains("[whole]"));
}
