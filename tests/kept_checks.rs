//! What the last checks found is kept between launches (the window shows it again on start),
//! without a secret, and is shown as stale once what it was checked with changes: the profile's
//! key or settings, its source profile's, or its keychain entry (a rotation). Against moto with
//! signature checks on, through the command line and the Rack the window calls.

use keyrack_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use keyrack::aws::{Credentials, EndpointEnv};
use keyrack::files::FilePaths;
use keyrack::keychain::Keychain;
use keyrack::rack::{KeptCheck, StaleCause};
use keyrack::Rack;
use support::home::Home;
use support::moto::MotoServer;

fn keys(c: &Credentials) -> String {
    format!(
        "aws_access_key_id = {}\naws_secret_access_key = {}\n",
        c.access_key_id,
        c.secret_access_key.expose()
    )
}

struct World {
    moto: MotoServer,
    alice: Credentials,
    home: Home,
}

impl World {
    fn new(config: &str, credentials: impl Fn(&Credentials) -> String) -> World {
        let (moto, alice) = MotoServer::with_user("alice");
        let home = Home::new(config, &credentials(&alice));
        World { moto, alice, home }
    }

    fn state(&self) -> PathBuf {
        self.home.path().join("state")
    }

    fn keyrack(&self, args: &[&str]) -> Output {
        self.home
            .command(Path::new(env!("CARGO_BIN_EXE_keyrack")), args)
            .env("AWS_ENDPOINT_URL", &self.moto.url)
            .env("XDG_STATE_HOME", self.state())
            .output()
            .unwrap()
    }

    /// What a window opened now would show: a new Rack on the same files and state folder.
    fn kept(&self) -> Vec<KeptCheck> {
        Rack::new(
            FilePaths {
                config: self.home.config(),
                credentials: self.home.credentials(),
            },
            Keychain::platform(),
            self.state().join("keyrack"),
            EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", self.moto.url.as_str())]),
            "the keyrack app",
        )
        .kept_checks()
        .unwrap()
    }

    fn kept_of(&self, profile: &str) -> KeptCheck {
        self.kept()
            .into_iter()
            .find(|k| k.view["profile"] == profile)
            .unwrap_or_else(|| panic!("no kept result for {profile}"))
    }

    fn write_credentials(&self, text: &str) {
        fs::write(self.home.credentials(), text).unwrap();
    }
}

fn succeeded(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_check_is_kept_between_launches_and_the_kept_file_holds_no_secret() {
    let world = World::new("[profile plain]\nregion = eu-west-1\n", |alice| {
        format!(
            "[work]\n{}[session]\n{}aws_session_token = a-session-token-never-kept\n",
            keys(alice),
            keys(alice)
        )
    });
    // The session's made-up token fails at AWS; its result is kept all the same.
    world.keyrack(&["whoami", "--all"]);

    let kept = world.kept_of("work");
    assert!(!kept.stale);
    assert_eq!(kept.view["status"], "ok");
    assert_eq!(kept.view["arn"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(world.kept_of("plain").view["status"], "settings_only");

    let dir = world.state().join("keyrack/checks");
    let files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one file for the one file set: {files:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    support::assert_no_secret_in(
        &fs::read_to_string(&files[0]).unwrap(),
        &[
            world.alice.secret_access_key.expose(),
            "a-session-token-never-kept",
        ],
    );
}

#[test]
fn the_results_of_one_pair_of_files_are_never_shown_for_another() {
    let world = World::new("", |alice| format!("[work]\n{}", keys(alice)));
    succeeded(&world.keyrack(&["whoami", "work"]));
    // Another project's files (AWS_CONFIG_FILE...), same profile name, same state folder.
    let other = tempfile::tempdir().unwrap();
    fs::write(other.path().join("config"), "").unwrap();
    fs::write(
        other.path().join("credentials"),
        format!("[work]\n{}", keys(&world.alice)),
    )
    .unwrap();
    let kept = Rack::new(
        FilePaths {
            config: other.path().join("config"),
            credentials: other.path().join("credentials"),
        },
        Keychain::platform(),
        world.state().join("keyrack"),
        EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", world.moto.url.as_str())]),
        "the keyrack app",
    )
    .kept_checks()
    .unwrap();
    assert!(kept.is_empty(), "{kept:?}");
    assert_eq!(world.kept().len(), 1, "the first pair keeps its own");
}

#[test]
fn fixing_a_wrong_secret_makes_the_red_result_stale_and_a_new_check_makes_it_true() {
    let world = World::new("", |alice| {
        format!(
            "[work]\naws_access_key_id = {}\naws_secret_access_key = not-the-secret\n",
            alice.access_key_id
        )
    });
    let failed = world.keyrack(&["whoami", "work"]);
    assert!(
        String::from_utf8_lossy(&failed.stdout).contains("wrong_secret"),
        "{failed:?}"
    );
    let kept = world.kept_of("work");
    assert_eq!(kept.view["status"], "failed");
    assert!(!kept.stale, "nothing changed yet");

    // Another program (an editor) puts the right secret in.
    world.write_credentials(&format!("[work]\n{}", keys(&world.alice)));
    let kept = world.kept_of("work");
    assert!(kept.stale, "the failure was of the old secret");
    assert_eq!(kept.stale_because, Some(StaleCause::SettingsChanged));
    assert_eq!(
        kept.view["status"], "failed",
        "shown as it was, marked stale"
    );

    succeeded(&world.keyrack(&["whoami", "work"]));
    let kept = world.kept_of("work");
    assert!(!kept.stale);
    assert_eq!(kept.view["status"], "ok");
}

#[test]
fn a_change_to_a_source_profile_makes_its_roles_result_stale_and_comments_change_nothing() {
    let config =
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n\
                  [profile other]\nregion = eu-west-1\n";
    let world = World::new(config, |alice| format!("[base]\n{}", keys(alice)));
    succeeded(&world.keyrack(&["whoami", "--all"]));
    assert!(world.kept().iter().all(|k| !k.stale));

    // Comments, blank lines and the order of settings do not change who a profile is.
    let secret = world.alice.secret_access_key.expose().to_owned();
    world.write_credentials(&format!(
        "# work key\n[base]\naws_secret_access_key = {secret}\n\naws_access_key_id = {}\n",
        world.alice.access_key_id
    ));
    assert!(world.kept().iter().all(|k| !k.stale), "{:?}", world.kept());

    // A region on the source profile is part of what its role is assumed with.
    world.write_credentials(&format!(
        "[base]\n{}region = us-east-2\n",
        keys(&world.alice)
    ));
    assert!(world.kept_of("admin").stale);
    assert!(world.kept_of("base").stale);
    assert!(!world.kept_of("other").stale);
}

#[test]
fn a_deleted_profile_has_no_kept_result_and_a_new_one_of_that_name_starts_stale() {
    let world = World::new("", |alice| format!("[work]\n{}", keys(alice)));
    succeeded(&world.keyrack(&["whoami", "work"]));
    world.write_credentials("");
    assert!(world.kept().is_empty());
    world.write_credentials("[work]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\n");
    assert!(world.kept_of("work").stale);
}

#[test]
fn rotating_a_key_in_the_keychain_makes_every_result_of_it_stale() {
    let _keyring = support::keyring::keychain();
    let config =
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = work\n\
                  [profile other]\nregion = eu-west-1\n";
    let world = World::new(config, |alice| format!("[work]\n{}", keys(alice)));
    succeeded(&world.keyrack(&["vault", "move", "work"]));
    succeeded(&world.keyrack(&["whoami", "--all"]));
    assert!(world.kept().iter().all(|k| !k.stale));
    let files_before = world.home.files();

    succeeded(&world.keyrack(&["rotate", "work", "--yes"]));
    assert_eq!(
        world.home.files(),
        files_before,
        "the key lives in the keychain: the files do not change, so only keyrack can say it did"
    );
    assert!(world.kept_of("work").stale);
    assert!(world.kept_of("admin").stale, "assumed with the rotated key");
    assert!(!world.kept_of("other").stale);
    // keyrack did it: the person is not told they changed the profile.
    assert_eq!(
        world.kept_of("work").stale_because,
        Some(StaleCause::KeyChanged)
    );
    assert_eq!(
        world.kept_of("admin").stale_because,
        Some(StaleCause::KeyChanged)
    );
}
