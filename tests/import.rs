//! `keyrack import --csv FILE`: the access-key file the IAM console downloads, proven with STS
//! (moto, signatures checked), saved as a profile the AWS CLI uses, and deleted on request only
//! once its key is in the files; a key AWS refuses or a taken name saves nothing.

use keyrack_test_support as support;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::home::Home;
use support::moto::MotoServer;

fn keyrack(home: &Home, moto: &MotoServer, args: &[&str], secrets: &[&str]) -> Output {
    let out = home
        .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    support::assert_output_has_no_secret(&out, secrets);
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_console_key_file_becomes_a_profile_the_aws_cli_uses_and_is_deleted_after() {
    let (moto, alice) = MotoServer::with_user("alice");
    let secret = alice.secret_access_key.expose().to_owned();
    let home = Home::new("# mine\n[default]\nregion = us-east-1\n", "");
    let csv = home.path().join("Downloads/alice_accessKeys.csv");
    fs::create_dir_all(csv.parent().unwrap()).unwrap();
    fs::write(
        &csv,
        format!(
            "\u{feff}Access key ID,Secret access key\r\n{},{secret}\r\n",
            alice.access_key_id
        ),
    )
    .unwrap();
    let csv_arg = csv.display().to_string();
    let out = keyrack(
        &home,
        &moto,
        &[
            "import",
            "--csv",
            &csv_arg,
            "--profile",
            "work",
            "--region",
            "eu-west-1",
            "--delete-csv",
        ],
        &[&secret],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!(
            "saved profile work with key {}",
            alice.access_key_id
        )) && said.contains("user/alice"),
        "{said}"
    );
    assert!(said.contains("deleted"), "{said}");
    assert!(!csv.exists(), "the plaintext copy of the secret is gone");
    let (config, _) = home.files();
    assert!(
        config.starts_with("# mine\n[default]\nregion = us-east-1\n"),
        "{config}"
    );
    assert!(support::botocore_secret_is(
        &home.config(),
        &home.credentials(),
        "work",
        &secret
    ));
    let aws = home
        .command(
            &support::venv_bin("aws"),
            &["sts", "get-caller-identity", "--profile", "work"],
        )
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    assert!(aws.status.success(), "{}", text(&aws.stderr));
    assert!(text(&aws.stdout).contains("user/alice"));
}

#[test]
fn the_user_credentials_file_names_the_profile_after_the_iam_user_and_the_file_is_kept_unless_asked(
) {
    let (moto, alice) = MotoServer::with_user("alice");
    let secret = alice.secret_access_key.expose().to_owned();
    let home = Home::new("", "");
    let csv = home.path().join("credentials.csv");
    fs::write(
        &csv,
        format!(
            "User name,Password,Access key ID,Secret access key,Console login link\nalice,,{},{secret},https://123456789012.signin.aws.amazon.com/console\n",
            alice.access_key_id
        ),
    )
    .unwrap();
    let csv_arg = csv.display().to_string();
    let out = keyrack(&home, &moto, &["import", "--csv", &csv_arg], &[&secret]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("saved profile alice"));
    assert!(text(&out.stdout).contains("still holds the secret in plaintext"));
    assert!(csv.exists());
    assert!(home.files().1.contains("[alice]"));
}

#[test]
fn a_key_aws_refuses_or_a_name_already_taken_saves_nothing_and_keeps_the_file() {
    let (moto, alice) = MotoServer::with_user("alice");
    let secret = alice.secret_access_key.expose().to_owned();
    let wrong = "x".repeat(40);
    let home = Home::new("[profile work]\nregion = us-east-1\n", "");
    let csv = home.path().join("k.csv");
    fs::write(
        &csv,
        format!(
            "Access key ID,Secret access key\n{},{wrong}\n",
            alice.access_key_id
        ),
    )
    .unwrap();
    let csv_arg = csv.display().to_string();
    let before = home.files();
    let out = keyrack(
        &home,
        &moto,
        &[
            "import",
            "--csv",
            &csv_arg,
            "--profile",
            "new",
            "--delete-csv",
        ],
        &[&wrong, &secret],
    );
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("does not work") && said.contains("nothing was saved"),
        "{said}"
    );
    assert_eq!(home.files(), before);
    assert!(csv.exists(), "a refused file is never deleted");
    // The right secret, but the name is taken.
    fs::write(
        &csv,
        format!(
            "Access key ID,Secret access key\n{},{secret}\n",
            alice.access_key_id
        ),
    )
    .unwrap();
    let out = keyrack(
        &home,
        &moto,
        &["import", "--csv", &csv_arg, "--profile", "work"],
        &[&secret],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("there is a profile 'work' already"));
    assert_eq!(home.files(), before);
}

#[test]
fn a_key_file_is_deleted_only_when_its_key_is_in_the_files_and_it_holds_no_console_password() {
    let home = Home::new("", "[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = the-saved-secret\n");
    let rack = keyrack::Rack::new(
        keyrack::files::FilePaths {
            config: home.config(),
            credentials: home.credentials(),
        },
        keyrack::keychain::Keychain::in_memory(),
        home.path().join("state"),
        keyrack::aws::EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]),
        "a test",
    );
    let csv = home.path().join("k.csv");
    // Another secret than the one saved: the file may be the only copy of this one.
    fs::write(
        &csv,
        "Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,another-secret\n",
    )
    .unwrap();
    let error = rack.delete_key_file(&csv).unwrap_err();
    assert!(
        error
            .message
            .contains("is not in these files with that secret"),
        "{}",
        error.message
    );
    assert!(csv.exists());
    // The console password of the user-credentials file is not kept anywhere by keyrack.
    fs::write(
        &csv,
        "User name,Password,Access key ID,Secret access key\nalice,Pa55word!,AKIAIOSFODNN7EXAMPLE,the-saved-secret\n",
    )
    .unwrap();
    let error = rack.delete_key_file(&csv).unwrap_err();
    assert!(
        error.message.contains("console password"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("Pa55word!"));
    assert!(csv.exists());
    // The saved key, and nothing else: deleted.
    fs::write(
        &csv,
        "Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,the-saved-secret\n",
    )
    .unwrap();
    rack.delete_key_file(&csv).unwrap();
    assert!(!csv.exists());
}
