//! Edits touch only the lines they must, and land where the AWS CLI reads them.
//! Each test states the file before and the exact bytes after.

use keyrack::files::edit::{EditError, KeyPath, Section};
use keyrack::files::{AwsFiles, Dialect, Value};

fn profile(name: &str) -> Section {
    Section::Profile(name.into())
}

fn key(k: &str) -> KeyPath {
    KeyPath::parse(k).unwrap()
}

fn config_after(config: &str, edit: impl FnOnce(&mut AwsFiles)) -> String {
    let mut files = AwsFiles::from_bytes(config.as_bytes(), b"");
    edit(&mut files);
    String::from_utf8(files.config.doc.to_bytes()).unwrap()
}

fn text_value(files: &AwsFiles, profile: &str, key: &str) -> Option<String> {
    files
        .read(Dialect::Cli)
        .profiles
        .get(profile)?
        .get(key)
        .and_then(|s| s.value.as_text().map(str::to_string))
}

#[test]
fn set_finds_a_section_by_meaning_not_by_exact_header_text() {
    let after = config_after("[profile   dev ]\nregion = us-east-1\n", |f| {
        f.set(&profile("dev"), &key("region"), "eu-west-1").unwrap();
    });
    assert_eq!(after, "[profile   dev ]\nregion = eu-west-1\n");
}

#[test]
fn set_matches_keys_case_insensitively_instead_of_adding_a_duplicate() {
    let after = config_after("[default]\nREGION = us-east-1\n", |f| {
        f.set(&profile("default"), &key("region"), "eu-west-1")
            .unwrap();
    });
    assert_eq!(after, "[default]\nregion = eu-west-1\n");
}

#[test]
fn set_nested_changes_only_that_sub_line() {
    let before = "[default]\ns3 =\n    max_concurrent_requests = 10\n    addressing_style = path\nregion = us-east-1\n";
    let after = config_after(before, |f| {
        f.set(
            &profile("default"),
            &key("s3.max_concurrent_requests"),
            "20",
        )
        .unwrap();
    });
    assert_eq!(after, "[default]\ns3 =\n    max_concurrent_requests = 20\n    addressing_style = path\nregion = us-east-1\n");
}

#[test]
fn set_nested_adds_a_sub_line_with_the_blocks_indentation() {
    let before = "[default]\ns3 =\n    addressing_style = path\n";
    let after = config_after(before, |f| {
        f.set(
            &profile("default"),
            &key("s3.max_concurrent_requests"),
            "20",
        )
        .unwrap();
    });
    assert_eq!(
        after,
        "[default]\ns3 =\n    addressing_style = path\n    max_concurrent_requests = 20\n"
    );
}

#[test]
fn a_top_level_key_never_overwrites_a_nested_line_of_the_same_name() {
    let before = "[default]\ns3 =\n  region = nested\n";
    let after = config_after(before, |f| {
        f.set(&profile("default"), &key("region"), "us-east-1")
            .unwrap();
    });
    assert_eq!(
        after,
        "[default]\ns3 =\n  region = nested\nregion = us-east-1\n"
    );
}

#[test]
fn setting_a_block_as_a_plain_value_is_refused() {
    let mut files = AwsFiles::from_bytes(b"[default]\ns3 =\n  a = b\n", b"");
    let err = files.set(&profile("default"), &key("s3"), "x").unwrap_err();
    assert!(matches!(err, EditError::IsABlock { .. }), "{err}");
    assert_eq!(files.config.doc.to_bytes(), b"[default]\ns3 =\n  a = b\n");
}

#[test]
fn new_keys_go_after_the_last_setting_not_after_a_trailing_comment() {
    let before = "[profile a]\nregion = us-east-1\n# about b\n[profile b]\n";
    let after = config_after(before, |f| {
        f.set(&profile("a"), &key("output"), "json").unwrap();
    });
    assert_eq!(
        after,
        "[profile a]\nregion = us-east-1\noutput = json\n# about b\n[profile b]\n"
    );
}

#[test]
fn new_keys_copy_the_sections_spacing_style() {
    let after = config_after("[default]\nregion=us-east-1\n", |f| {
        f.set(&profile("default"), &key("output"), "json").unwrap();
    });
    assert_eq!(after, "[default]\nregion=us-east-1\noutput=json\n");
}

#[test]
fn crlf_files_stay_crlf_and_untouched_lines_keep_their_own_endings() {
    let before = "[default]\r\nregion = us-east-1\r\n# lone CR next\rx = 1\r\n";
    let after = config_after(before, |f| {
        f.set(&profile("default"), &key("region"), "eu-west-1")
            .unwrap();
        f.set(&profile("default"), &key("output"), "json").unwrap();
    });
    assert_eq!(
        after,
        "[default]\r\nregion = eu-west-1\r\n# lone CR next\rx = 1\r\noutput = json\r\n"
    );
}

#[test]
fn a_file_without_final_newline_keeps_that_style() {
    let after = config_after("[default]\nregion = us-east-1", |f| {
        f.set(&profile("default"), &key("output"), "json").unwrap();
    });
    assert_eq!(after, "[default]\nregion = us-east-1\noutput = json");
}

#[test]
fn the_section_the_cli_reads_is_edited_when_default_appears_twice() {
    // The AWS CLI lets the later of [default] / [profile default] win wholesale.
    let before = "[profile default]\nregion = a\n\n[default]\nregion = b\n";
    let after = config_after(before, |f| {
        f.set(&profile("default"), &key("region"), "c").unwrap();
    });
    assert_eq!(
        after,
        "[profile default]\nregion = a\n\n[default]\nregion = c\n"
    );
}

#[test]
fn credential_keys_go_to_the_credentials_file_and_the_rest_to_config() {
    let mut files = AwsFiles::from_bytes(b"", b"");
    files
        .set(
            &profile("dev"),
            &key("aws_access_key_id"),
            "AKIAIOSFODNN7EXAMPLE",
        )
        .unwrap();
    files
        .set(&profile("dev"), &key("region"), "eu-west-1")
        .unwrap();
    assert_eq!(
        files.credentials.doc.to_bytes(),
        b"[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    );
    assert_eq!(
        files.config.doc.to_bytes(),
        b"[profile dev]\nregion = eu-west-1\n"
    );
}

#[test]
fn a_setting_the_credentials_file_overrides_is_edited_where_it_takes_effect() {
    let mut files = AwsFiles::from_bytes(b"[profile dev]\nregion = a\n", b"[dev]\nregion = b\n");
    files.set(&profile("dev"), &key("region"), "c").unwrap();
    assert_eq!(files.credentials.doc.to_bytes(), b"[dev]\nregion = c\n");
    assert_eq!(files.config.doc.to_bytes(), b"[profile dev]\nregion = a\n");
    assert_eq!(text_value(&files, "dev", "region").as_deref(), Some("c"));
}

#[test]
fn unset_removes_the_setting_from_both_files() {
    let mut files = AwsFiles::from_bytes(
        b"[profile dev]\nregion = a\noutput = json\n",
        b"[dev]\nregion = b\n",
    );
    files.unset(&profile("dev"), &key("region")).unwrap();
    assert_eq!(
        files.config.doc.to_bytes(),
        b"[profile dev]\noutput = json\n"
    );
    assert_eq!(files.credentials.doc.to_bytes(), b"[dev]\n");
    assert_eq!(text_value(&files, "dev", "region"), None);
}

#[test]
fn unsetting_the_last_nested_sub_setting_removes_the_block() {
    let after = config_after("[default]\ns3 =\n  a = 1\nregion = x\n", |f| {
        f.unset(&profile("default"), &key("s3.a")).unwrap();
    });
    assert_eq!(after, "[default]\nregion = x\n");
}

#[test]
fn a_setting_inherited_from_upper_case_default_is_not_silently_kept() {
    let mut files =
        AwsFiles::from_bytes(b"[DEFAULT]\nregion = a\n[profile x]\noutput = json\n", b"");
    let err = files.unset(&profile("x"), &key("region")).unwrap_err();
    assert!(matches!(err, EditError::Inherited { .. }), "{err}");
}

#[test]
fn delete_removes_the_section_and_its_glued_comments_and_nothing_else() {
    let before = "# top\n[profile a]\nregion = x\n\n# about b\n# more about b\n[profile b]\nregion = y\n\n# standalone\n\n[profile c]\nregion = z\n";
    let after = config_after(before, |f| {
        f.delete(&profile("b")).unwrap();
    });
    assert_eq!(
        after,
        "# top\n[profile a]\nregion = x\n\n# standalone\n\n[profile c]\nregion = z\n"
    );
}

#[test]
fn delete_removes_the_profile_from_both_files() {
    let mut files = AwsFiles::from_bytes(b"[profile a]\nregion = x\n[profile b]\nregion = y\n", b"[b]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n[a]\naws_access_key_id = AKIAEXAMPLE000000001\n");
    files.delete(&profile("b")).unwrap();
    assert_eq!(files.config.doc.to_bytes(), b"[profile a]\nregion = x\n");
    assert_eq!(
        files.credentials.doc.to_bytes(),
        b"[a]\naws_access_key_id = AKIAEXAMPLE000000001\n"
    );
}

#[test]
fn rename_rewrites_only_the_headers_keeping_trailing_comments() {
    let mut files = AwsFiles::from_bytes(
        b"[profile old] # team\nregion = x\n",
        b"[old]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    );
    files.rename(&profile("old"), "new").unwrap();
    assert_eq!(
        files.config.doc.to_bytes(),
        b"[profile new] # team\nregion = x\n"
    );
    assert_eq!(
        files.credentials.doc.to_bytes(),
        b"[new]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    );
}

#[test]
fn rename_refuses_an_existing_name() {
    let mut files =
        AwsFiles::from_bytes(b"[profile a]\nregion = x\n[profile b]\nregion = y\n", b"");
    assert!(matches!(
        files.rename(&profile("a"), "b"),
        Err(EditError::AlreadyExists(_))
    ));
}

#[test]
fn copy_appends_the_same_settings_under_the_new_name() {
    let mut files = AwsFiles::from_bytes(
        b"[profile a]\n# note\nregion = x\n",
        b"[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    );
    files.copy(&profile("a"), "b").unwrap();
    assert_eq!(
        files.config.doc.to_bytes(),
        b"[profile a]\n# note\nregion = x\n\n[profile b]\n# note\nregion = x\n"
    );
    let reading = files.read(Dialect::Cli);
    assert_eq!(
        reading.profiles["b"]["aws_access_key_id"].value,
        Value::Text("AKIAIOSFODNN7EXAMPLE".into())
    );
}

#[test]
fn sso_sessions_are_edited_like_profiles() {
    let mut files = AwsFiles::from_bytes(b"[sso-session corp]\nsso_region = us-east-1\n", b"");
    let corp = Section::SsoSession("corp".into());
    files
        .set(
            &corp,
            &key("sso_start_url"),
            "https://corp.awsapps.com/start#/",
        )
        .unwrap();
    files.rename(&corp, "main").unwrap();
    assert_eq!(
        files.config.doc.to_bytes(),
        b"[sso-session main]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start#/\n"
    );
    files.delete(&Section::SsoSession("main".into())).unwrap();
    assert_eq!(files.config.doc.to_bytes(), b"");
}

#[test]
fn values_and_names_that_cannot_be_read_back_are_refused() {
    let mut files = AwsFiles::from_bytes(b"[default]\nregion = a\n", b"");
    assert!(matches!(
        files.set(&profile("default"), &key("region"), "a\nb"),
        Err(EditError::BadValue { .. })
    ));
    assert!(matches!(
        files.set(&profile("a b"), &key("region"), "x"),
        Err(EditError::BadName { .. })
    ));
    assert!(matches!(
        files.add(&profile("x\ny"), &[]),
        Err(EditError::BadName { .. })
    ));
    assert!(KeyPath::parse("re:gion").is_err());
    assert_eq!(files.config.doc.to_bytes(), b"[default]\nregion = a\n");
}

#[test]
fn add_creates_the_profile_in_the_right_files() {
    let mut files = AwsFiles::from_bytes(b"# mine\n", b"");
    files
        .add(
            &profile("new"),
            &[
                (key("region"), "eu-west-1".into()),
                (key("aws_access_key_id"), "AKIAIOSFODNN7EXAMPLE".into()),
            ],
        )
        .unwrap();
    assert_eq!(
        files.config.doc.to_bytes(),
        b"# mine\n\n[profile new]\nregion = eu-west-1\n"
    );
    assert_eq!(
        files.credentials.doc.to_bytes(),
        b"[new]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    );
    assert!(matches!(
        files.add(&profile("new"), &[]),
        Err(EditError::AlreadyExists(_))
    ));
}

#[test]
fn a_new_profile_takes_the_settings_of_default_like_every_section_of_its_file() {
    let config = "[DEFAULT]\nregion = eu-north-1\n[profile a]\nx = 1\n";
    let mut files = AwsFiles::from_bytes(config.as_bytes(), b"");
    files.set(&profile("b"), &key("output"), "json").unwrap();
    assert_eq!(
        String::from_utf8(files.config.doc.to_bytes()).unwrap(),
        format!("{config}\n[profile b]\noutput = json\n")
    );
    assert_eq!(text_value(&files, "b", "output").as_deref(), Some("json"));
    assert_eq!(
        text_value(&files, "b", "region").as_deref(),
        Some("eu-north-1")
    );
}

#[test]
fn unsetting_a_setting_that_default_would_give_back_is_refused_with_the_reason() {
    let config = "[DEFAULT]\nregion = eu-north-1\n[profile a]\nregion = us-east-1\n";
    let mut files = AwsFiles::from_bytes(config.as_bytes(), b"");
    let err = files.unset(&profile("a"), &key("region")).unwrap_err();
    assert!(
        matches!(err, EditError::ShadowsDefault { file: "config", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("[DEFAULT]"), "{err}");
    assert_eq!(
        String::from_utf8(files.config.doc.to_bytes()).unwrap(),
        config
    );
}

#[test]
fn a_credentials_profile_whose_name_config_cannot_hold_gets_no_config_section() {
    // `[c d]` names "c d" in credentials; in config `[profile c d]` would name nothing.
    let credentials = "[c d]\naws_access_key_id = AKIAEXAMPLE000000001\n";
    let mut files = AwsFiles::from_bytes(b"", credentials.as_bytes());
    let err = files
        .set(&profile("c d"), &key("region"), "eu-west-1")
        .unwrap_err();
    assert!(
        matches!(err, EditError::CannotName { file: "config", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("keyrack rename"), "{err}");
    assert!(files.config.doc.to_bytes().is_empty());
    // Its own file can still be edited.
    files
        .set(
            &profile("c d"),
            &key("aws_access_key_id"),
            "AKIAEXAMPLE000000002",
        )
        .unwrap();
    assert_eq!(
        text_value(&files, "c d", "aws_access_key_id").as_deref(),
        Some("AKIAEXAMPLE000000002")
    );
}
