//! IAM Identity Center (SSO) profiles for every account and role a sign-in reaches: `keyrack sso
//! populate` previews, writes (losslessly, with a marker) and prunes only what it generated,
//! against the strict portal stand-in (its lists come a page of two at a time), with the sign-in
//! kept as the AWS CLI keeps it and the result read by botocore.

use keyrack_test_support as support;

use std::fs;
use std::path::Path;
use std::process::Output;

use keyrack::aws::Credentials;
use support::home::Home;
use support::sso_portal::SsoPortal;

const TOKEN: &str = "aoaAAAAAGgEXAMPLEPOPULATETOKEN0123456789";
const SESSION: (&str, &str, &str) = ("corp", "https://corp.awsapps.com/start", "eu-west-1");

const CONFIG: &str = "# my profiles\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\n\
                      [profile mine] # written by hand\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n";

fn keyrack(home: &Home, portal: &SsoPortal, args: &[&str]) -> Output {
    let out = home
        .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
        .env("AWS_ENDPOINT_URL_SSO", &portal.url)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    support::assert_output_has_no_secret(&out, &[TOKEN]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn populate_writes_a_profile_per_assigned_role_that_botocore_reads_and_prunes_only_its_own() {
    // Role credentials are not asked for here: the portal needs no moto behind it.
    let portal = SsoPortal::start("http://127.0.0.1:9", &Credentials::new("AKIA", "s", None));
    portal.sign_in(TOKEN, "alice@example.com");
    for (id, name) in [
        ("111111111111", "dev"),
        ("222222222222", "prod"),
        ("333333333333", "sandbox"),
    ] {
        portal.name_account(id, name);
    }
    for (id, role) in [
        ("111111111111", "Admin"),
        ("111111111111", "ReadOnly"),
        ("222222222222", "ReadOnly"),
        ("333333333333", "Admin"),
    ] {
        portal.assign(id, role);
    }
    let home = Home::new(CONFIG, "");
    support::sso_portal::keep_sign_in(home.path(), SESSION, TOKEN, time::Duration::hours(8));

    // The preview changes nothing.
    let preview = text(&keyrack(&home, &portal, &["sso", "populate", "corp"]));
    assert!(
        preview.contains(
            "would add profile dev-Admin (role Admin in dev 111111111111, region eu-west-1)"
        ),
        "{preview}"
    );
    assert!(
        preview.contains("would add profile sandbox-Admin"),
        "{preview}"
    );
    assert!(preview.contains("already there: profile mine"), "{preview}");
    assert!(preview.contains("add --yes"), "{preview}");
    assert_eq!(home.files().0, CONFIG);

    let written = text(&keyrack(
        &home,
        &portal,
        &["sso", "populate", "corp", "--yes"],
    ));
    assert!(written.contains("added profile dev-ReadOnly"), "{written}");
    let (config, credentials) = home.files();
    assert!(
        config.starts_with(CONFIG),
        "what was there stays byte for byte:\n{config}"
    );
    // botocore reads each new profile as that SSO role of the session.
    let read = support::botocore_read(&home.config(), &home.credentials());
    for (name, account, role) in [
        ("dev-Admin", "111111111111", "Admin"),
        ("dev-ReadOnly", "111111111111", "ReadOnly"),
        ("sandbox-Admin", "333333333333", "Admin"),
    ] {
        let profile = &read["profiles"][name];
        assert_eq!(profile["sso_session"], "corp", "{name}: {profile}");
        assert_eq!(profile["sso_account_id"], account);
        assert_eq!(profile["sso_role_name"], role);
        assert_eq!(profile["region"], "eu-west-1");
    }
    assert!(credentials.is_empty());
    // Run again: nothing to change.
    let again = text(&keyrack(
        &home,
        &portal,
        &["sso", "populate", "corp", "--yes"],
    ));
    assert!(again.contains("nothing to change"), "{again}");

    // Roles taken away: without --prune they are only named; with it, only keyrack's go.
    portal.unassign("333333333333", "Admin");
    portal.unassign("222222222222", "ReadOnly");
    let named = text(&keyrack(
        &home,
        &portal,
        &["sso", "populate", "corp", "--yes"],
    ));
    assert!(
        named.contains("no longer assigned: profile sandbox-Admin (add --prune"),
        "{named}"
    );
    let pruned = text(&keyrack(
        &home,
        &portal,
        &["sso", "populate", "corp", "--prune", "--yes"],
    ));
    assert!(pruned.contains("removed profile sandbox-Admin"), "{pruned}");
    let (config, _) = home.files();
    assert!(!config.contains("[profile sandbox-Admin]"), "{config}");
    assert!(
        config.contains("[profile mine] # written by hand"),
        "a person's profile is never pruned"
    );
    assert!(config.contains("[profile dev-Admin]"));
}

#[test]
fn populate_without_a_sign_in_says_how_to_sign_in_and_changes_nothing() {
    let portal = SsoPortal::start("http://127.0.0.1:9", &Credentials::new("AKIA", "s", None));
    let home = Home::new(CONFIG, "");
    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["sso", "populate", "corp", "--yes"],
        )
        .env("AWS_ENDPOINT_URL_SSO", &portal.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("keyrack sso login corp"), "{said}");
    // A sign-in the portal no longer takes: refused in plain words.
    support::sso_portal::keep_sign_in(home.path(), SESSION, TOKEN, time::Duration::hours(8));
    let out = home
        .command(
            Path::new(env!("CARGO_BIN_EXE_keyrack")),
            &["sso", "populate", "corp"],
        )
        .env("AWS_ENDPOINT_URL_SSO", &portal.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the sign-in token"));
    assert_eq!(home.files().0, CONFIG);
}

#[tokio::test]
async fn a_populate_shown_earlier_never_removes_a_profile_a_person_took_over_since_nor_overwrites_a_name_taken_since(
) {
    let portal = SsoPortal::start("http://127.0.0.1:9", &Credentials::new("AKIA", "s", None));
    portal.sign_in(TOKEN, "alice@example.com");
    portal.name_account("111111111111", "dev");
    portal.assign("111111111111", "Admin");
    let generated = "[profile old-Gone]\nsso_session = corp\nsso_account_id = 111111111111\n\
                     sso_role_name = Gone\nkeyrack_sso_populated = corp\n";
    let home = Home::new(&format!("{CONFIG}{generated}"), "");
    support::sso_portal::keep_sign_in(home.path(), SESSION, TOKEN, time::Duration::hours(8));
    let rack = keyrack::Rack::new(
        keyrack::files::FilePaths {
            config: home.config(),
            credentials: home.credentials(),
        },
        keyrack::keychain::Keychain::in_memory(),
        home.path().join("state"),
        keyrack::aws::EndpointEnv::from_pairs([("AWS_ENDPOINT_URL_SSO", portal.url.as_str())]),
        "a test",
    )
    .with_sso_cache(Some(home.path().join(".aws/sso/cache")));
    let plan = rack.sso_populate_plan("corp", None, None).await.unwrap();
    assert_eq!(plan.prune, ["old-Gone"]);
    assert_eq!(plan.add[0].name, "dev-Admin");

    // Meanwhile a person keeps old-Gone as their own (drops the marker) and writes dev-Admin.
    let (config, _) = home.files();
    let config = config.replace("keyrack_sso_populated = corp\n", "")
        + "[profile dev-Admin]\nregion = us-west-2\n";
    fs::write(home.config(), &config).unwrap();
    rack.sso_populate(&plan, true).unwrap();
    assert_eq!(
        home.files().0,
        config,
        "nothing of theirs was removed or overwritten"
    );
}
