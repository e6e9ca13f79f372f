//! Key rotation against a real moto server that checks every signature: the happy path through
//! the `keyrack rotate` command (checked with the AWS CLI), the two-key limit, IAM's propagation
//! delay, a save that fails, and fault injection: a request dropped or a process killed at every
//! point of a rotation must leave a working key in the files, and a second run must finish with
//! exactly one Active key that is in the files and works. No secret may appear in any output,
//! error or journal.
//!
//! moto accepts Inactive keys and new keys at once, so key states are asserted with
//! ListAccessKeys, and the propagation delay is injected by a proxy (`rotation/proxy.rs`).

#[path = "rotation/proxy.rs"]
mod proxy;
#[path = "rotation/replace.rs"]
mod replace;
use keyrack_test_support as support;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proxy::{Fault, Proxy};
use serde_json::Value;
use support::moto::{enable_auth_at, set_up, set_up_key, set_up_once, ProcessWideMoto, ACCOUNT};

use keyrack::aws::{
    iam, resolve_endpoint, sts, AccessKeyMetadata, AccessKeyStatus, AwsClient, ClientSettings,
    Credentials, Endpoint, EndpointEnv, ProfileEndpointSettings, RetryPolicy, Service,
};
use keyrack::files::{AwsFiles, Dialect, FilePaths};
use keyrack::rotation::{
    interrupted_rotations, plan_recovery, plan_rotation, rotate, KeyRole, KeyStatus, OldKeyFate,
    Progress, PropagationWait, RotateOptions, RotationError, RotationReport, RotationSettings,
    Step,
};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;

/// The group whose policy lets its users manage keys. Users join it rather than getting a policy
/// of their own: with checks on, moto recomputes a signature over a body it encodes again, in
/// which `*` differs, so a policy cannot be sent once checks are on.
const GROUP: &str = "key-managers";

fn quick_retries() -> ClientSettings {
    ClientSettings {
        retry: RetryPolicy {
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientSettings::default()
    }
}

fn endpoint(url: &str, service: Service) -> Endpoint {
    let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", url)]);
    resolve_endpoint(service, &ProfileEndpointSettings::default(), &env).unwrap()
}

// ------------------------------------------------------------------ the shared moto server

/// The moto server all tests share, with signature checks on, and an admin key that creates
/// each test's own user. Tests never touch each other's users.
struct Stand {
    url: String,
    admin: Credentials,
    client: AwsClient,
    /// Kept for as long as the test process runs.
    _moto: ProcessWideMoto,
}

fn stand() -> &'static Stand {
    static STAND: OnceLock<Stand> = OnceLock::new();
    set_up_once(&STAND, start_stand)
}

fn start_stand() -> Stand {
    let moto = ProcessWideMoto::start();
    let url = moto.url.clone();
    let client = AwsClient::new(quick_retries()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let admin = runtime.block_on(async {
        set_up(&url, "CreateUser", &[("UserName", "admin")]).await;
        set_up(&url, "CreateGroup", &[("GroupName", GROUP)]).await;
        let params = [
            ("GroupName", GROUP),
            ("PolicyName", "keys"),
            ("PolicyDocument", POLICY),
        ];
        set_up(&url, "PutGroupPolicy", &params).await;
        let params = [("GroupName", GROUP), ("UserName", "admin")];
        set_up(&url, "AddUserToGroup", &params).await;
        let admin = set_up_key(&url, "admin").await;
        enable_auth_at(&url).await;
        admin
    });
    Stand {
        url,
        admin,
        client,
        _moto: moto,
    }
}

impl Stand {
    async fn admin_call(&self, action: &str, params: &[(&str, &str)]) {
        self.client
            .call(
                &endpoint(&self.url, Service::Iam),
                action,
                params,
                &self.admin,
            )
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }

    async fn new_key(&self, user: &str) -> Credentials {
        let (key, secret) = iam::create_access_key(
            &self.client,
            &endpoint(&self.url, Service::Iam),
            &self.admin,
            Some(user),
        )
        .await
        .unwrap();
        Credentials::new(key.access_key_id, secret, None)
    }

    async fn keys_of(&self, user: &str) -> Vec<AccessKeyMetadata> {
        iam::list_access_keys(
            &self.client,
            &endpoint(&self.url, Service::Iam),
            &self.admin,
            Some(user),
        )
        .await
        .unwrap()
    }

    async fn arn_of(&self, key: &Credentials) -> Result<String, String> {
        sts::get_caller_identity(&self.client, &endpoint(&self.url, Service::Sts), key)
            .await
            .map(|identity| identity.arn)
            .map_err(|e| e.to_string())
    }
}

// ------------------------------------------------------------------ one test's world

/// A user of its own with one key, held by profile `work` (credentials file, between comments)
/// and profile `ci` (config file); an unrelated profile and comments all around.
struct World {
    stand: &'static Stand,
    dir: tempfile::TempDir,
    user: String,
    old: Credentials,
    config: String,
    credentials: String,
}

static USERS: AtomicUsize = AtomicUsize::new(0);

impl World {
    async fn new() -> World {
        let stand = stand();
        let user = format!("user{}", USERS.fetch_add(1, Ordering::SeqCst));
        stand.admin_call("CreateUser", &[("UserName", &user)]).await;
        stand
            .admin_call(
                "AddUserToGroup",
                &[("GroupName", GROUP), ("UserName", &user)],
            )
            .await;
        let old = stand.new_key(&user).await;
        let (id, secret) = (&old.access_key_id, old.secret_access_key.expose());
        let credentials = format!(
            "# credentials kept by hand\n\n\
             [unrelated]\naws_access_key_id = AKIAUNRELATED0000000\n\
             aws_secret_access_key = unrelatedunrelatedunrelatedunrelated0000\n\n\
             # the work key: rotate every 90 days\n\
             [work]\n\
             aws_access_key_id = {id}\n\
             # (the secret comes next)\n\
             aws_secret_access_key={secret}\n\
             # end of work\n"
        );
        let config = format!(
            "[default]\nregion = us-east-1\n\n\
             [profile work]\n; settings of work; its key is in the credentials file\nregion = eu-west-1\noutput = json\n\n\
             # CI shares the work key\n\
             [profile ci]\n\
             aws_access_key_id   =   {id}\n\
             aws_secret_access_key = {secret}\n\
             region = us-west-2\n"
        );
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("config"), &config).unwrap();
        fs::write(dir.path().join("credentials"), &credentials).unwrap();
        World {
            stand,
            dir,
            user,
            old,
            config,
            credentials,
        }
    }

    fn paths(&self) -> FilePaths {
        FilePaths {
            config: self.dir.path().join("config"),
            credentials: self.dir.path().join("credentials"),
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn journal_dir(&self) -> PathBuf {
        self.state_dir().join("keyrack/rotations")
    }

    fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user)
    }

    /// A second key of the user, made Inactive (as a person retires one in the console).
    async fn inactive_second_key(&self) -> Credentials {
        let spare = self.stand.new_key(&self.user).await;
        let params = [
            ("UserName", self.user.as_str()),
            ("AccessKeyId", spare.access_key_id.as_str()),
            ("Status", "Inactive"),
        ];
        self.stand.admin_call("UpdateAccessKey", &params).await;
        spare
    }

    /// Rotation settings that send every call to `url` (moto or a proxy), with short waits.
    fn settings(&self, url: &str) -> RotationSettings {
        RotationSettings {
            paths: self.paths(),
            env: EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", url)]),
            client: quick_retries(),
            state_dir: self.state_dir().join("keyrack"),
            propagation: PropagationWait {
                timeout: Duration::from_secs(3),
                first_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(400),
            },
            keychain: keyrack::keychain::Keychain::platform(),
            mfa: Default::default(),
        }
    }

    /// Plan and run a rotation of `work` through `url`.
    async fn rotate_via(
        &self,
        url: &str,
        options: RotateOptions,
    ) -> Result<RotationReport, RotationError> {
        let settings = self.settings(url);
        let plan = plan_rotation(&settings, "work", options).await?;
        rotate(&settings, &plan, |_| {}).await
    }

    /// The key each profile signs with, as the AWS CLI reads the files.
    fn key_of(&self, profile: &str) -> Credentials {
        let files = AwsFiles::load(&self.paths()).unwrap();
        let reading = files.read(Dialect::Cli);
        let settings = &reading.profiles[profile];
        let text = |key: &str| settings[key].value.as_text().unwrap().to_owned();
        Credentials::new(
            text("aws_access_key_id"),
            text("aws_secret_access_key"),
            None,
        )
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(name)).unwrap()
    }

    /// Both profiles hold a key that works (GetCallerIdentity) and that IAM lists as Active
    /// (moto would accept an Inactive key too).
    async fn assert_files_hold_working_keys(&self, context: &str) {
        let listed = self.stand.keys_of(&self.user).await;
        for profile in ["work", "ci"] {
            let key = self.key_of(profile);
            let arn = self.stand.arn_of(&key).await;
            assert_eq!(
                arn.as_deref(),
                Ok(self.arn().as_str()),
                "{context}: profile {profile}'s key does not work"
            );
            let status = listed
                .iter()
                .find(|k| k.access_key_id == key.access_key_id)
                .map(|k| k.status);
            assert_eq!(
                status,
                Some(AccessKeyStatus::Active),
                "{context}: profile {profile}'s key is not Active: {listed:?}"
            );
        }
        assert_aws_cli_works(self, context);
    }

    /// Exactly one key, Active, held by both profiles, working; no journal left.
    async fn assert_rotated_cleanly(&self, context: &str) -> Credentials {
        let listed = self.stand.keys_of(&self.user).await;
        assert_eq!(listed.len(), 1, "{context}: keys left: {listed:?}");
        assert_eq!(listed[0].status, AccessKeyStatus::Active, "{context}");
        let key = self.key_of("work");
        assert_eq!(
            key.access_key_id, listed[0].access_key_id,
            "{context}: work holds another key"
        );
        assert_eq!(self.key_of("ci"), key, "{context}: ci holds another key");
        assert_eq!(
            self.stand.arn_of(&key).await.as_deref(),
            Ok(self.arn().as_str()),
            "{context}"
        );
        let left = interrupted_rotations(&self.journal_dir()).unwrap();
        assert!(left.is_empty(), "{context}: journals left: {left:?}");
        assert_aws_cli_works(self, context);
        key
    }

    /// Every file edit changed only the key and secret lines: the files are the originals with
    /// the old key and secret replaced by `new`.
    fn assert_only_keys_changed(&self, new: &Credentials) {
        let swap = |text: &str| {
            text.replace(&self.old.access_key_id, &new.access_key_id)
                .replace(
                    self.old.secret_access_key.expose(),
                    new.secret_access_key.expose(),
                )
        };
        assert_eq!(self.read("credentials"), swap(&self.credentials));
        assert_eq!(self.read("config"), swap(&self.config));
    }

    fn assert_files_untouched(&self) {
        assert_eq!(self.read("credentials"), self.credentials);
        assert_eq!(self.read("config"), self.config);
    }

    /// `keyrack ARGS` with the files, moto and the state folder of this world.
    fn keyrack(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_keyrack"))
            .args(args)
            .envs(self.env())
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HOME", self.dir.path().display().to_string()),
            ("XDG_STATE_HOME", self.state_dir().display().to_string()),
            ("AWS_CONFIG_FILE", self.paths().config.display().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                self.paths().credentials.display().to_string(),
            ),
            ("AWS_ENDPOINT_URL", self.stand.url.clone()),
        ]
    }

    /// The AWS CLI from the venv, as the independent client: who `profile` is.
    fn aws_cli_identity(&self, profile: &str) -> Output {
        Command::new(support::venv_bin("aws"))
            .args([
                "sts",
                "get-caller-identity",
                "--output",
                "json",
                "--profile",
                profile,
            ])
            .envs(self.env())
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap()
    }

    /// Neither the old secret nor `others` appear in `text`.
    fn assert_no_secret(&self, text: &str, others: &[&Credentials]) {
        let secrets: Vec<&str> = std::iter::once(&self.old)
            .chain(others.iter().copied())
            .map(|key| key.secret_access_key.expose())
            .collect();
        support::assert_no_secret_in(text, &secrets);
    }
}

fn text_of(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text_of(out)))
}

/// Every key a stopped rotation describes, by role.
fn stopped_keys(error: &RotationError) -> Vec<(KeyRole, KeyStatus, Vec<String>)> {
    match error {
        RotationError::Stopped(stopped) => stopped
            .keys
            .iter()
            .map(|k| (k.role, k.status, k.profiles.clone()))
            .collect(),
        other => panic!("expected a stopped rotation, got {other:?}"),
    }
}

// ------------------------------------------------------------------ the command

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_writes_the_new_key_to_every_profile_and_leaves_one_active_key() {
    let world = World::new().await;
    let out = world.keyrack(&["rotate", "work", "--yes", "--json"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let report = stdout_json(&out);
    let new = world.key_of("work");
    assert_eq!(report["old_key_id"], world.old.access_key_id.as_str());
    assert_eq!(report["new_key_id"], new.access_key_id.as_str());
    assert_eq!(report["old_key"], "deleted");
    let updated: Vec<(&str, &str)> = report["profiles_updated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["profile"].as_str().unwrap(), p["file"].as_str().unwrap()))
        .collect();
    assert_eq!(updated, [("ci", "config"), ("work", "credentials")]);
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "create_key",
            "write_files",
            "verify_new_key",
            "deactivate_old_key",
            "delete_old_key"
        ]
    );
    // Progress went to stderr, step by step.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("creating a new access key...") && stderr.contains("deleting the old key"),
        "{stderr}"
    );

    world.assert_only_keys_changed(&new);
    world.assert_rotated_cleanly("after rotate").await;
    assert_ne!(new.access_key_id, world.old.access_key_id);
    world.assert_no_secret(&text_of(&out), &[&new]);
    for profile in ["work", "ci"] {
        let cli = world.aws_cli_identity(profile);
        assert!(
            cli.status.success(),
            "aws --profile {profile}: {}",
            text_of(&cli)
        );
        assert_eq!(stdout_json(&cli)["Arn"], world.arn().as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_old_leaves_the_old_key_inactive() {
    let world = World::new().await;
    let out = world.keyrack(&["rotate", "work", "--yes", "--keep-old", "--json"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let report = stdout_json(&out);
    assert_eq!(report["old_key"], "inactive");
    let new = world.key_of("work");
    let mut states: Vec<(String, AccessKeyStatus)> = world
        .stand
        .keys_of(&world.user)
        .await
        .into_iter()
        .map(|k| (k.access_key_id, k.status))
        .collect();
    states.sort_by_key(|(_, status)| *status == AccessKeyStatus::Inactive);
    assert_eq!(
        states,
        [
            (new.access_key_id.clone(), AccessKeyStatus::Active),
            (world.old.access_key_id.clone(), AccessKeyStatus::Inactive)
        ]
    );
    world.assert_only_keys_changed(&new);
    world.assert_no_secret(&text_of(&out), &[&new]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_output_shows_the_plan_and_each_step() {
    let world = World::new().await;
    let out = world.keyrack(&["rotate", "work", "--yes"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let new = world.key_of("work");
    for expected in [
        format!(
            "Rotating the access key {} of profile 'work'",
            world.old.access_key_id
        ),
        "Profiles that get the new key: 'ci'".to_owned(),
        "checking that AWS accepts the new key".to_owned(),
        format!(
            "Rotated: profile 'work' uses the new key {}",
            new.access_key_id
        ),
    ] {
        assert!(
            stdout.contains(&expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    world.assert_no_secret(&text_of(&out), &[&new]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_yes_and_without_a_terminal_nothing_happens() {
    let world = World::new().await;
    let out = world.keyrack(&["rotate", "work"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--yes") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    world.assert_files_untouched();
    let keys = world.stand.keys_of(&world.user).await;
    assert_eq!(keys.len(), 1);
    assert!(
        !world.journal_dir().exists(),
        "not even the journal folder is created"
    );
}

/// On a terminal the plan is shown and only "y" goes ahead (`script` gives keyrack a terminal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_plan_is_confirmed_before_anything_changes() {
    let world = World::new().await;
    let on_terminal = |answer: &str| {
        use std::io::Write;
        let command = format!("'{}' rotate work", env!("CARGO_BIN_EXE_keyrack"));
        let mut child = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .envs(world.env())
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run script");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let declined = on_terminal("n\n");
    let shown = text_of(&declined);
    assert!(!declined.status.success(), "{shown}");
    assert!(
        shown.contains("Profiles that get the new key") && shown.contains("Rotate now? [y/N]"),
        "{shown}"
    );
    assert!(shown.contains("cancelled; nothing was changed"), "{shown}");
    world.assert_files_untouched();
    assert_eq!(world.stand.keys_of(&world.user).await.len(), 1);

    let accepted = on_terminal("y\n");
    assert!(accepted.status.success(), "{}", text_of(&accepted));
    let new = world.assert_rotated_cleanly("after answering y").await;
    world.assert_no_secret(&text_of(&accepted), &[&new]);
}

// ------------------------------------------------------------------ the two-key limit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_second_key_stops_the_rotation_and_changes_nothing() {
    let world = World::new().await;
    let second = world.stand.new_key(&world.user).await;
    let out = world.keyrack(&["rotate", "work", "--yes", "--delete-inactive"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&second.access_key_id) && stderr.contains("is Active"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was changed"), "{stderr}");
    world.assert_files_untouched();
    let keys = world.stand.keys_of(&world.user).await;
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.status == AccessKeyStatus::Active));
    world.assert_no_secret(&text_of(&out), &[&second]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactive_unused_second_key_is_deleted_only_when_confirmed() {
    let world = World::new().await;
    let spare = world.inactive_second_key().await;

    let refused = world.keyrack(&["rotate", "work", "--yes"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&spare.access_key_id)
            && stderr.contains("(confirm with: keyrack rotate work --delete-inactive)"),
        "{stderr}"
    );
    world.assert_files_untouched();
    assert_eq!(world.stand.keys_of(&world.user).await.len(), 2);

    let out = world.keyrack(&["rotate", "work", "--yes", "--delete-inactive", "--json"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let report = stdout_json(&out);
    assert_eq!(
        report["deleted_first"],
        serde_json::json!([spare.access_key_id])
    );
    let new = world
        .assert_rotated_cleanly("after deleting the spare key")
        .await;
    world.assert_only_keys_changed(&new);
    world.assert_no_secret(&text_of(&out), &[&new, &spare]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_second_key_is_made_inactive_then_deleted_on_request_and_the_rotation_goes_on() {
    let world = World::new().await;
    let second = world.stand.new_key(&world.user).await;
    let refused = world.keyrack(&["rotate", "work", "--yes"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    let fix = format!(
        "(make it Inactive with: keyrack keys work --make-inactive {})",
        second.access_key_id
    );
    assert!(said.contains(&fix), "the refusal names the command: {said}");

    // The key the profiles hold is never switched off from here.
    let own = world.keyrack(&["keys", "work", "--make-inactive", &world.old.access_key_id]);
    assert!(!own.status.success());
    let said = String::from_utf8_lossy(&own.stderr);
    assert!(
        said.contains("key_held_here") && said.contains("'ci', 'work'"),
        "{said}"
    );
    let unknown = world.keyrack(&["keys", "work", "--delete", "AKIANOTTHEUSERSKEY00", "--yes"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown_key"));

    let inactive = world.keyrack(&["keys", "work", "--make-inactive", &second.access_key_id]);
    assert!(inactive.status.success(), "{}", text_of(&inactive));
    assert!(text_of(&inactive).contains(&format!("made {} Inactive", second.access_key_id)));
    let keys = world.stand.keys_of(&world.user).await;
    let status_of = |id: &str| {
        keys.iter()
            .find(|k| k.access_key_id == id)
            .map(|k| k.status)
    };
    assert_eq!(
        status_of(&second.access_key_id),
        Some(AccessKeyStatus::Inactive)
    );
    assert_eq!(
        status_of(&world.old.access_key_id),
        Some(AccessKeyStatus::Active)
    );

    // A deletion is confirmed: without a terminal it needs --yes.
    let unconfirmed = world.keyrack(&["keys", "work", "--delete", &second.access_key_id]);
    assert!(!unconfirmed.status.success());
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    assert_eq!(world.stand.keys_of(&world.user).await.len(), 2);
    let deleted = world.keyrack(&["keys", "work", "--delete", &second.access_key_id, "--yes"]);
    assert!(deleted.status.success(), "{}", text_of(&deleted));
    assert_eq!(world.stand.keys_of(&world.user).await.len(), 1);
    world.assert_files_untouched();

    let out = world.keyrack(&["rotate", "work", "--yes"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let new = world.assert_rotated_cleanly("after making room").await;
    world.assert_no_secret(&text_of(&inactive), &[&new, &second]);
    world.assert_no_secret(&text_of(&deleted), &[&new, &second]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_another_program_put_into_a_profile_after_the_window_looked_is_not_retired() {
    let world = World::new().await;
    let second = world.stand.new_key(&world.user).await;
    let rack = keyrack::Rack::new(
        world.paths(),
        keyrack::keychain::Keychain::platform(),
        world.state_dir().join("keyrack"),
        EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", world.stand.url.as_str())]),
        "the keyrack app",
    );
    // The window shows the files; then an editor gives profile `spare` the second key.
    rack.listing(Dialect::Cli, false).unwrap();
    let credentials = format!(
        "{}\n[spare]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        world.credentials,
        second.access_key_id,
        second.secret_access_key.expose()
    );
    fs::write(world.paths().credentials, &credentials).unwrap();
    let refused = rack
        .change_other_key(
            "work",
            &second.access_key_id,
            keyrack::rotation::OtherKeyChange::Delete,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "key_held_here", "{refused}");
    assert!(refused.message.contains("'spare'"), "{refused}");
    assert_eq!(
        world.stand.keys_of(&world.user).await.len(),
        2,
        "nothing deleted"
    );
}

// ------------------------------------------------------------------ propagation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rotation_waits_until_aws_accepts_the_new_key() {
    let world = World::new().await;
    let (proxy, settings, plan) = world
        .plan_with_slow_new_keys(1500, RotateOptions::default())
        .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let report = rotate(&settings, &plan, move |p| {
        seen.lock().unwrap().push(p.clone())
    })
    .await
    .unwrap();
    let waits = events
        .lock()
        .unwrap()
        .iter()
        .filter(|p| {
            matches!(
                p,
                Progress::Waiting {
                    step: Step::VerifyNewKey { .. },
                    ..
                }
            )
        })
        .count();
    assert!(
        waits >= 2,
        "the new key was refused, so the rotation had to wait: {events:?}"
    );
    assert!(proxy.refused() >= 2);
    assert_eq!(report.old_key, OldKeyFate::Deleted);
    world.assert_rotated_cleanly("after waiting").await;
}

/// The safest state when the new key never works: the old key, which works, back in the files,
/// still Active; the new key deleted (its secret would otherwise be nowhere). Nothing is left
/// half-done, so no journal remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_that_never_works_is_given_up_before_the_old_key_is_touched() {
    let world = World::new().await;
    let proxy = Proxy::start(&world.stand.url, Fault::None).await;
    proxy.refuse_new_keys_for(Duration::from_secs(3600));
    let mut settings = world.settings(&proxy.url);
    settings.propagation.timeout = Duration::from_millis(800);
    let plan = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap();
    let error = rotate(&settings, &plan, |_| {}).await.unwrap_err();
    let RotationError::Stopped(stopped) = &error else {
        panic!("{error:?}")
    };
    assert!(
        matches!(stopped.stopped_at, Step::VerifyNewKey { .. }),
        "{error}"
    );
    assert!(!stopped.unfinished);
    let keys = stopped_keys(&error);
    assert_eq!(
        keys[0],
        (
            KeyRole::Old,
            KeyStatus::Active,
            vec!["ci".to_owned(), "work".to_owned()]
        )
    );
    assert_eq!((keys[1].0, keys[1].1), (KeyRole::New, KeyStatus::Deleted));
    let message = error.to_string();
    assert!(
        message.contains("still refused the new key")
            && message.contains("the old key still works"),
        "{message}"
    );
    assert!(
        !proxy.actions().contains(&"UpdateAccessKey".to_owned()),
        "the old key was touched"
    );
    world.assert_files_untouched();
    let listed = world.stand.keys_of(&world.user).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].access_key_id.as_str(), listed[0].status),
        (world.old.access_key_id.as_str(), AccessKeyStatus::Active)
    );
    world
        .assert_files_hold_working_keys("after giving up")
        .await;
    world.assert_no_secret(&format!("{error} {error:?}"), &[]);
}

// ------------------------------------------------------------------ a save that fails

/// A full disk under the credentials file: the config file (saved first) gets its old key back,
/// the new key is deleted again with the old one, and the old key keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_deletes_the_new_key_again_and_keeps_the_old_one() {
    let world = World::new().await;
    let padding = "# ".to_string() + &"x".repeat(7000) + "\n";
    let credentials = format!("{padding}{}", world.credentials);
    let script = "set -e; mount -t tmpfs -o size=12k tmpfs \"$1\"; printf '%s' \"$2\" > \"$1/credentials\"; \
                  status=0; AWS_SHARED_CREDENTIALS_FILE=\"$1/credentials\" \"$3\" rotate work --yes --json || status=$?; \
                  echo '--- credentials after:' >&2; cat \"$1/credentials\" >&2; exit $status";
    let mount_point = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", script, "sh"])
        .arg(mount_point.path())
        .arg(&credentials)
        .arg(env!("CARGO_BIN_EXE_keyrack"))
        .envs(world.env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "saving to a full disk must fail: {}",
        text_of(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (message, after) = stderr.split_once("--- credentials after:\n").unwrap();
    assert!(
        after == credentials,
        "the credentials file on the full disk changed"
    );
    assert!(message.contains("No space left on device"), "{message}");
    let failure = stdout_json(&out);
    assert_eq!(failure["error"]["code"], "stopped", "{failure}");
    let report = &failure["error"]["details"]["stopped"];
    assert_eq!(report["stopped_at"]["step"], "write_files");
    assert_eq!(report["unfinished"], false);
    let steps: Vec<&str> = report["steps_done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["create_key", "restore_old_key", "delete_new_key"]);
    assert_eq!(
        world.read("config"),
        world.config,
        "the config file got its old key back"
    );
    let listed = world.stand.keys_of(&world.user).await;
    assert_eq!(listed.len(), 1, "no orphan key: {listed:?}");
    assert_eq!(
        (listed[0].access_key_id.as_str(), listed[0].status),
        (world.old.access_key_id.as_str(), AccessKeyStatus::Active)
    );
    assert_eq!(world.stand.arn_of(&world.old).await, Ok(world.arn()));
    assert!(interrupted_rotations(&world.journal_dir())
        .unwrap()
        .is_empty());
    // (stderr ends with the test's own dump of the file, secret included: not keyrack's output)
    world.assert_no_secret(
        &format!("{}{message}", String::from_utf8_lossy(&out.stdout)),
        &[],
    );
}

// ------------------------------------------------------------------ secrets

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_progress_plan_report_or_journal() {
    let world = World::new().await;
    let settings = world.settings(&world.stand.url);
    let plan = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap();
    let journal_dir = world.journal_dir();
    let seen = Arc::new(Mutex::new(vec![format!(
        "{plan:?} {}",
        serde_json::to_string(&plan).unwrap()
    )]));
    let record = seen.clone();
    let report = rotate(&settings, &plan, move |progress| {
        let mut record = record.lock().unwrap();
        record.push(format!(
            "{progress} {progress:?} {}",
            serde_json::to_string(progress).unwrap()
        ));
        for entry in fs::read_dir(&journal_dir).unwrap().flatten() {
            record.push(fs::read_to_string(entry.path()).unwrap_or_default());
        }
    })
    .await
    .unwrap();
    let new = world.key_of("work");
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().any(|s| s.contains("\"step\": \"key_created\"")),
        "the journal was read during the run"
    );
    let all = format!(
        "{} {report:?} {}",
        seen.join("\n"),
        serde_json::to_string(&report).unwrap()
    );
    world.assert_no_secret(&all, &[&new]);
}

// ------------------------------------------------------------------ fault injection

/// The number of requests an undisturbed rotation (plan and run) sends.
async fn requests_of_a_rotation() -> usize {
    let world = World::new().await;
    let proxy = Proxy::start(&world.stand.url, Fault::None).await;
    world
        .rotate_via(&proxy.url, RotateOptions::default())
        .await
        .expect("undisturbed rotation");
    // Everything up to the creation is signed with the old key, everything after with the new.
    let new = world.key_of("work").access_key_id;
    let (old, new) = (world.old.access_key_id.as_str(), new.as_str());
    assert_eq!(proxy.signers(), [old, old, old, old, new, new, new]);
    let actions = proxy.actions();
    assert_eq!(
        actions,
        [
            "GetCallerIdentity",
            "ListAccessKeys",
            "GetAccessKeyLastUsed",
            "CreateAccessKey",
            "GetCallerIdentity",
            "UpdateAccessKey",
            "DeleteAccessKey"
        ]
    );
    actions.len()
}

/// After an interrupted first run: the files hold working keys; then a second run (straight to
/// moto) must end with one Active key in the files.
async fn assert_recovers(world: &World, context: &str) {
    world.assert_files_hold_working_keys(context).await;
    let second = world
        .rotate_via(&world.stand.url, RotateOptions::default())
        .await;
    if let Err(e) = &second {
        panic!("{context}: the second run failed: {e}");
    }
    let key = world.assert_rotated_cleanly(context).await;
    world.assert_no_secret(&format!("{second:?}"), &[&key]);
    // The retired key's secret is gone from backups too, even when the run that deleted the
    // key never saw that secret in the files (an earlier run had written the new key).
    let old = world.old.secret_access_key.expose().to_owned();
    assert_nowhere_on_disk(world, &[old], context);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_dropped_at_any_point_leaves_a_working_key_and_a_second_run_finishes() {
    let total = requests_of_a_rotation().await;
    for k in 1..=total {
        for fault in [Fault::DropBefore(k), Fault::DropAfter(k)] {
            let world = World::new().await;
            let proxy = Proxy::start(&world.stand.url, fault).await;
            let first = world.rotate_via(&proxy.url, RotateOptions::default()).await;
            let action = proxy.actions().get(k - 1).cloned().unwrap_or_default();
            let context = format!("{fault:?} ({action}): {first:?}");
            match (fault, action.as_str(), &first) {
                // Lost before or after AWS made the key: nothing is left half-done, and a key
                // AWS made without the answer arriving is deleted again.
                (_, "CreateAccessKey", Err(RotationError::Stopped(stopped))) => {
                    assert!(matches!(stopped.stopped_at, Step::CreateKey), "{context}");
                    assert!(!stopped.unfinished, "{context}");
                    let deleted_lost_key = stopped
                        .steps_done
                        .iter()
                        .any(|s| matches!(s, Step::DeleteNewKey { .. }));
                    assert_eq!(
                        deleted_lost_key,
                        matches!(fault, Fault::DropAfter(_)),
                        "{context}"
                    );
                }
                // A delete that never arrived stops the run, which the next run finishes; one
                // whose answer was lost is found done.
                (Fault::DropBefore(_), "DeleteAccessKey", Err(RotationError::Stopped(stopped))) => {
                    assert!(stopped.unfinished, "{context}")
                }
                // Everything else is sent again by the client or waited for.
                (_, _, Ok(_)) => {}
                _ => panic!("{context}"),
            }
            if let Err(error) = &first {
                world.assert_no_secret(&format!("{error} {error:?}"), &[]);
            }
            assert_recovers(&world, &context).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_after_any_request_reached_aws_is_finished_by_the_next_run() {
    let total = requests_of_a_rotation().await;
    for k in 1..=total {
        let world = World::new().await;
        let proxy = Proxy::start(&world.stand.url, Fault::HoldAfter(k)).await;
        let settings = world.settings(&proxy.url);
        let mut run = tokio::spawn(async move {
            let plan = plan_rotation(&settings, "work", RotateOptions::default()).await?;
            rotate(&settings, &plan, |_| {}).await
        });
        tokio::select! {
            _ = proxy.held() => {
                run.abort();
                let _ = (&mut run).await;
            }
            finished = &mut run => panic!("request {k} was never sent: {finished:?}"),
        }
        let context = format!("killed after request {k} ({})", proxy.actions()[k - 1]);
        if proxy.actions()[k - 1] == "CreateAccessKey" {
            let left = interrupted_rotations(&world.journal_dir()).unwrap();
            assert_eq!(left.len(), 1, "{context}: the journal tells the next run");
            assert_eq!(left[0].new_key_id, None, "{context}");
            assert_eq!(
                world.stand.keys_of(&world.user).await.len(),
                2,
                "{context}: AWS made the key"
            );
        }
        assert_recovers(&world, &context).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_at_any_step_is_finished_by_the_next_run() {
    // A panic in the progress callback stops the rotation right there, like a killed process.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("simulated kill") {
            default_hook(info)
        }
    }));
    let mut kills = 0;
    for at in 0.. {
        let world = World::new().await;
        let settings = world.settings(&world.stand.url);
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let run = tokio::spawn(async move {
            let plan = plan_rotation(&settings, "work", RotateOptions::default()).await?;
            rotate(&settings, &plan, move |progress| {
                let count = seen.lock().unwrap().len();
                if count == at {
                    panic!("simulated kill");
                }
                seen.lock().unwrap().push(progress.to_string());
            })
            .await
        });
        match run.await {
            Err(join) if join.is_panic() => kills += 1,
            Ok(Ok(_)) => break,
            other => panic!("event {at}: {other:?}"),
        }
        let context = format!("killed at event {at} after {:?}", events.lock().unwrap());
        assert_recovers(&world, &context).await;
    }
    assert!(kills >= 10, "only {kills} kill points");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_rotation_is_offered_until_it_is_finished() {
    let world = World::new().await;
    let proxy = Proxy::start(&world.stand.url, Fault::HoldAfter(5)).await;
    let settings = world.settings(&proxy.url);
    let mut run = tokio::spawn(async move {
        let plan = plan_rotation(
            &settings,
            "work",
            RotateOptions {
                keep_old: true,
                ..RotateOptions::default()
            },
        )
        .await?;
        rotate(&settings, &plan, |_| {}).await
    });
    tokio::select! {
        _ = proxy.held() => { run.abort(); let _ = (&mut run).await; }
        finished = &mut run => panic!("never held: {finished:?}"),
    }
    // Killed while checking the new key: it is in the files, both keys Active.
    let left = interrupted_rotations(&world.journal_dir()).unwrap();
    assert_eq!(left.len(), 1);
    let interrupted = &left[0];
    assert_eq!(interrupted.old_key_id, world.old.access_key_id);
    let new = world.key_of("work");
    assert_eq!(interrupted.new_key_id.as_ref(), Some(&new.access_key_id));
    assert!(interrupted.keep_old);
    world.assert_files_hold_working_keys("interrupted").await;

    let settings = world.settings(&world.stand.url);
    let plan = plan_recovery(&settings, interrupted, RotateOptions::default())
        .await
        .unwrap();
    assert_eq!(
        plan.old_key,
        OldKeyFate::Inactive,
        "the interrupted run asked to keep the old key"
    );
    let report = rotate(&settings, &plan, |_| {}).await.unwrap();
    assert_eq!(report.new_key_id, new.access_key_id);
    assert!(interrupted_rotations(&world.journal_dir())
        .unwrap()
        .is_empty());
    let listed = world.stand.keys_of(&world.user).await;
    let old_status = listed
        .iter()
        .find(|k| k.access_key_id == world.old.access_key_id)
        .map(|k| k.status);
    assert_eq!(old_status, Some(AccessKeyStatus::Inactive));
    world.assert_files_hold_working_keys("finished").await;
}

// ------------------------------------------------------------------ other programs write too

/// Another program that read the credentials file before the rotation and writes it back from
/// that copy once the new key is in it (as tools that wait for an MFA code do), once or for
/// as long as the test lets it. It writes atomically, as most tools do.
struct StaleWriter {
    stop: Arc<std::sync::atomic::AtomicBool>,
    armed: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl StaleWriter {
    /// Reads the file now and starts writing it back at once.
    fn start(path: PathBuf, forever: bool) -> StaleWriter {
        let writer = StaleWriter::waiting(path, forever);
        writer.arm();
        writer
    }

    /// Reads the file now; writes it back only once [`Self::arm`]ed.
    fn waiting(path: PathBuf, forever: bool) -> StaleWriter {
        let stale = fs::read(&path).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stopping, armed_now) = (stop.clone(), armed.clone());
        let thread = std::thread::spawn(move || {
            let mut writes = 0;
            while !stopping.load(Ordering::SeqCst) {
                if armed_now.load(Ordering::SeqCst) && fs::read(&path).is_ok_and(|now| now != stale)
                {
                    let tmp = path.with_extension("stale-writer.tmp");
                    fs::write(&tmp, &stale).unwrap();
                    fs::rename(&tmp, &path).unwrap();
                    writes += 1;
                    if !forever {
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            writes
        });
        StaleWriter {
            stop,
            armed,
            thread: Some(thread),
        }
    }

    fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// A handle that arms it from elsewhere (a progress callback).
    fn trigger(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.armed.clone()
    }

    /// Stops it; how many times it wrote its copy back.
    fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// No file under the world's folder (the AWS files' folder with its backups and temporary
/// files, keyrack's state folder) holds any of `secrets`.
fn assert_nowhere_on_disk(world: &World, secrets: &[String], context: &str) {
    let needles: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let found = support::files_holding(world.dir.path(), &needles);
    assert!(
        found.is_empty(),
        "{context}: a secret that left the files is still in {found:?}"
    );
}

impl World {
    /// A proxy in front of moto that refuses each new key for `refused_ms` (as IAM does while
    /// it spreads), the settings to go through it, and the plan of rotating `work` with them.
    async fn plan_with_slow_new_keys(
        &self,
        refused_ms: u64,
        options: RotateOptions,
    ) -> (Proxy, RotationSettings, keyrack::rotation::RotationPlan) {
        let proxy = Proxy::start(&self.stand.url, Fault::None).await;
        proxy.refuse_new_keys_for(Duration::from_millis(refused_ms));
        let mut settings = self.settings(&proxy.url);
        settings.propagation.timeout = Duration::from_secs(15);
        let plan = plan_rotation(&settings, "work", options).await.unwrap();
        (proxy, settings, plan)
    }
}

impl World {
    /// Runs a rotation of `work` that is killed (a panic in its progress callback, like a killed
    /// process) when the step `at` starts, right after another program wrote both files back to
    /// what they were. Returns the id of the new key that run had created.
    async fn kill_after_writing_the_files_back(
        &self,
        at: impl Fn(&Step) -> bool + Send + 'static,
    ) -> String {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.to_string().contains("simulated kill") {
                default_hook(info)
            }
        }));
        let settings = self.settings(&self.stand.url);
        let (paths, config, credentials) =
            (self.paths(), self.config.clone(), self.credentials.clone());
        let run = tokio::spawn(async move {
            let plan = plan_rotation(&settings, "work", RotateOptions::default()).await?;
            rotate(&settings, &plan, move |progress| {
                if matches!(progress, Progress::Started { step } if at(step)) {
                    fs::write(&paths.config, &config).unwrap();
                    fs::write(&paths.credentials, &credentials).unwrap();
                    panic!("simulated kill");
                }
            })
            .await
        });
        assert!(run.await.unwrap_err().is_panic());
        let interrupted = interrupted_rotations(&self.journal_dir())
            .unwrap()
            .remove(0);
        interrupted.new_key_id.expect("the key was created")
    }
}

/// The AWS CLI from the venv signs with profile `work` and is told who it is (checked after
/// every rotation scenario: keyrack's files must work for the AWS tools, not only for keyrack).
fn assert_aws_cli_works(world: &World, context: &str) {
    let out = world.aws_cli_identity("work");
    assert!(out.status.success(), "{context}: {}", text_of(&out));
    assert_eq!(stdout_json(&out)["Arn"], world.arn(), "{context}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_back_from_a_stale_copy_during_the_wait_gets_the_new_key_again() {
    let world = World::new().await;
    let (_proxy, settings, plan) = world
        .plan_with_slow_new_keys(1500, RotateOptions::default())
        .await;
    let writer = StaleWriter::start(world.paths().credentials, false);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let report = rotate(&settings, &plan, move |p| {
        seen.lock().unwrap().push(p.clone())
    })
    .await
    .unwrap();
    assert_eq!(
        writer.stop(),
        1,
        "the other program wrote its copy back once"
    );
    let events = events.lock().unwrap().clone();
    let rewritten = events.iter().any(|p| {
        matches!(p, Progress::Done { step: Step::WriteFiles { profiles, .. }, outcome }
            if profiles == &["work".to_owned()] && outcome.contains("written again")
                && outcome.contains(&world.paths().credentials.display().to_string()))
    });
    assert!(
        rewritten,
        "the new key was written again, naming the file: {events:?}"
    );
    assert_eq!(report.old_key, OldKeyFate::Deleted);
    let new = world.assert_rotated_cleanly("after the stale write").await;
    world.assert_only_keys_changed(&new);
    let old_secret = world.old.secret_access_key.expose().to_owned();
    assert_nowhere_on_disk(&world, &[old_secret], "the retired key");
    world.assert_no_secret(&format!("{events:?} {report:?}"), &[&new]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_keeps_writing_the_old_key_back_leaves_the_old_key_working() {
    let world = World::new().await;
    let (proxy, settings, plan) = world
        .plan_with_slow_new_keys(800, RotateOptions::default())
        .await;
    let writer = StaleWriter::start(world.paths().credentials, true);
    let result = rotate(&settings, &plan, |_| {}).await;
    assert!(writer.stop() >= 2, "it kept writing");
    let error = result.expect_err("the rotation cannot succeed against such a program");
    let message = error.to_string();
    assert!(
        message.contains("keeps writing the old key back")
            && message.contains(&world.paths().credentials.display().to_string()),
        "the message names the file that changed under keyrack: {message}"
    );
    assert!(
        !proxy.actions().contains(&"UpdateAccessKey".to_owned()),
        "the old key was never touched"
    );
    let keys = stopped_keys(&error);
    assert_eq!((keys[0].0, keys[0].1), (KeyRole::Old, KeyStatus::Active));
    assert_eq!((keys[1].0, keys[1].1), (KeyRole::New, KeyStatus::Deleted));
    world.assert_files_untouched();
    world
        .assert_files_hold_working_keys("after giving up")
        .await;
    assert_nowhere_on_disk(&world, &proxy.created_secrets(), "the given-up key");
    world.assert_no_secret(&format!("{error} {error:?}"), &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_removed_between_the_plan_and_the_write_make_the_rotation_fail_not_succeed() {
    let world = World::new().await;
    let proxy = Proxy::start(&world.stand.url, Fault::None).await;
    let settings = world.settings(&proxy.url);
    let plan = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap();
    let paths = world.paths();
    let (config, credentials) = (world.config.clone(), world.credentials.clone());
    let result = rotate(&settings, &plan, move |progress| {
        // While AWS creates the key, someone removes both profiles that hold the old one.
        if matches!(
            progress,
            Progress::Started {
                step: Step::CreateKey
            }
        ) {
            let cut = |text: &str, from: &str| text[..text.find(from).unwrap()].to_owned();
            fs::write(&paths.credentials, cut(&credentials, "# the work key")).unwrap();
            fs::write(&paths.config, cut(&config, "# CI shares the work key")).unwrap();
        }
    })
    .await;
    let error = result.expect_err("writing the new key to no profile is a failure");
    let message = error.to_string();
    assert!(message.contains("no profile holds the key"), "{message}");
    let listed = world.stand.keys_of(&world.user).await;
    assert_eq!(listed.len(), 1, "the new key was deleted again: {listed:?}");
    assert_eq!(
        (listed[0].access_key_id.as_str(), listed[0].status),
        (world.old.access_key_id.as_str(), AccessKeyStatus::Active),
        "the old key is untouched"
    );
    assert_eq!(world.stand.arn_of(&world.old).await, Ok(world.arn()));
    assert!(interrupted_rotations(&world.journal_dir())
        .unwrap()
        .is_empty());
    assert_eq!(proxy.created_secrets().len(), 1);
    assert_nowhere_on_disk(
        &world,
        &proxy.created_secrets(),
        "the key written to no profile",
    );
    world.assert_no_secret(&format!("{error} {error:?}"), &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_planned_for_deletion_is_kept_when_a_profile_holds_it_by_then() {
    let world = World::new().await;
    let spare = world.inactive_second_key().await;
    let settings = world.settings(&world.stand.url);
    let options = RotateOptions {
        delete_inactive: true,
        ..RotateOptions::default()
    };
    let plan = plan_rotation(&settings, "work", options).await.unwrap();
    assert_eq!(plan.delete_first.len(), 1);
    // Meanwhile the person puts the spare key into a profile, to use it again.
    let spare_profile = format!(
        "{}\n[spare]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        world.credentials,
        spare.access_key_id,
        spare.secret_access_key.expose()
    );
    fs::write(world.paths().credentials, &spare_profile).unwrap();
    let error = rotate(&settings, &plan, |_| {}).await.unwrap_err();
    assert!(
        matches!(error, RotationError::PlanOutdated { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("profile 'spare'"), "{error}");
    let listed = world.stand.keys_of(&world.user).await;
    assert!(
        listed
            .iter()
            .any(|k| k.access_key_id == spare.access_key_id),
        "the spare key a profile holds was not deleted: {listed:?}"
    );
    assert_eq!(world.read("credentials"), spare_profile);
    world.assert_no_secret(&format!("{error} {error:?}"), &[&spare]);
}

/// Two file sets hold the same key (a project's copy of the credentials). A rotation
/// interrupted in one is finished only there: from the other, it is refused with the files named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_rotation_is_finished_only_on_the_files_it_ran_on() {
    let world = World::new().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let other = FilePaths {
        config: elsewhere.path().join("config"),
        credentials: elsewhere.path().join("credentials"),
    };
    fs::write(&other.config, &world.config).unwrap();
    fs::write(&other.credentials, &world.credentials).unwrap();

    let proxy = Proxy::start(&world.stand.url, Fault::HoldAfter(5)).await;
    let settings = world.settings(&proxy.url);
    let mut run = tokio::spawn(async move {
        let plan = plan_rotation(&settings, "work", RotateOptions::default()).await?;
        rotate(&settings, &plan, |_| {}).await
    });
    tokio::select! {
        _ = proxy.held() => { run.abort(); let _ = (&mut run).await; }
        finished = &mut run => panic!("never held: {finished:?}"),
    }
    let interrupted = interrupted_rotations(&world.journal_dir())
        .unwrap()
        .remove(0);
    let new = world.key_of("work");
    assert_eq!(interrupted.new_key_id.as_ref(), Some(&new.access_key_id));

    // The app, opened on the other files, offers to finish it.
    let mut from_elsewhere = world.settings(&world.stand.url);
    from_elsewhere.paths = other.clone();
    let refused = plan_recovery(&from_elsewhere, &interrupted, RotateOptions::default()).await;
    let error = refused.expect_err("the journal's files are not these");
    let message = error.to_string();
    assert!(
        message.contains(&world.paths().config.display().to_string())
            && message.contains(&world.paths().credentials.display().to_string()),
        "{message}"
    );
    assert!(
        matches!(error, RotationError::OtherFiles { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "journal_of_other_files");
    let also_refused = plan_rotation(&from_elsewhere, "work", RotateOptions::default()).await;
    assert!(
        matches!(also_refused, Err(RotationError::OtherFiles { .. })),
        "{also_refused:?}"
    );
    world
        .assert_files_hold_working_keys("refused elsewhere")
        .await;
    assert_eq!(
        fs::read_to_string(&other.credentials).unwrap(),
        world.credentials
    );

    let settings = world.settings(&world.stand.url);
    let plan = plan_recovery(&settings, &interrupted, RotateOptions::default())
        .await
        .unwrap();
    rotate(&settings, &plan, |_| {}).await.unwrap();
    assert_eq!(
        world.assert_rotated_cleanly("finished on its files").await,
        new
    );
}

/// The new key's secret is never only in memory: killed after another program wrote both files
/// back, the next run still finishes with the key the first run created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_after_its_files_were_written_back_finishes_with_its_own_new_key() {
    let world = World::new().await;
    let created = world
        .kill_after_writing_the_files_back(|step| matches!(step, Step::VerifyNewKey { .. }))
        .await;
    world.assert_files_untouched();

    let second = world
        .rotate_via(&world.stand.url, RotateOptions::default())
        .await
        .unwrap();
    assert_eq!(
        second.new_key_id, created,
        "the first run's key, not a third one"
    );
    let new = world.assert_rotated_cleanly("after the second run").await;
    world.assert_only_keys_changed(&new);
    let in_state = support::files_holding(&world.state_dir(), &[new.secret_access_key.expose()]);
    assert!(
        in_state.is_empty(),
        "the state folder still holds the new secret: {in_state:?}"
    );
    let old_secret = world.old.secret_access_key.expose().to_owned();
    assert_nowhere_on_disk(&world, &[old_secret], "the retired key");
}

/// The user may choose to keep the new key when such a program stops the rotation: the old key
/// stays Active, the new key waits (kept safely) and the next run finishes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_asked_the_new_key_is_kept_for_the_next_run_after_such_a_program_stopped_it() {
    let world = World::new().await;
    let options = RotateOptions {
        keep_new_on_stop: true,
        ..RotateOptions::default()
    };
    let (_proxy, settings, plan) = world.plan_with_slow_new_keys(800, options).await;
    let writer = StaleWriter::start(world.paths().credentials, true);
    let result = rotate(&settings, &plan, |_| {}).await;
    assert!(writer.stop() >= 2, "it kept writing");
    let error = result.expect_err("stopped by the other program");
    let RotationError::Stopped(stopped) = &error else {
        panic!("{error:?}")
    };
    assert!(stopped.unfinished, "the journal stays for the next run");
    let keys = stopped_keys(&error);
    assert_eq!((keys[0].0, keys[0].1), (KeyRole::Old, KeyStatus::Active));
    assert_eq!((keys[1].0, keys[1].1), (KeyRole::New, KeyStatus::Active));
    assert!(error.to_string().contains("is kept, Active"), "{error}");
    world
        .assert_files_hold_working_keys("stopped, both keys kept")
        .await;

    let kept = interrupted_rotations(&world.journal_dir())
        .unwrap()
        .remove(0);
    let report = world
        .rotate_via(&world.stand.url, RotateOptions::default())
        .await
        .unwrap();
    assert_eq!(
        Some(report.new_key_id),
        kept.new_key_id,
        "finished with the kept key"
    );
    let new = world.assert_rotated_cleanly("finished later").await;
    world.assert_only_keys_changed(&new);
    let old_secret = world.old.secret_access_key.expose().to_owned();
    assert_nowhere_on_disk(&world, &[old_secret], "the retired key");
    let in_state = support::files_holding(&world.state_dir(), &[new.secret_access_key.expose()]);
    assert!(
        in_state.is_empty(),
        "the state folder still holds the new secret: {in_state:?}"
    );
    world.assert_no_secret(&format!("{error} {error:?}"), &[&new]);
}

/// The files are written back right after the old key was made Inactive: the old key would lock
/// the user out, so it is made Active again and the new key given up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_written_back_after_the_old_key_went_inactive_get_the_old_key_active_again() {
    let world = World::new().await;
    let settings = world.settings(&world.stand.url);
    let plan = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap();
    let writer = StaleWriter::waiting(world.paths().credentials, true);
    let arm = writer.trigger();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let (credentials_path, stale) = (world.paths().credentials, world.credentials.clone());
    let result = rotate(&settings, &plan, move |p| {
        if matches!(
            p,
            Progress::Done {
                step: Step::DeactivateOldKey { .. },
                ..
            }
        ) {
            // The other program writes its copy back right now, and again whenever keyrack
            // writes the new key.
            fs::write(&credentials_path, &stale).unwrap();
            arm.store(true, Ordering::SeqCst);
        }
        seen.lock().unwrap().push(p.clone());
    })
    .await;
    assert!(writer.stop() >= 1, "it kept writing");
    let error = result.expect_err("stopped before the old key was deleted");
    let steps: Vec<&str> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Progress::Done { step, .. } => Some(step.name()),
            _ => None,
        })
        .collect();
    assert!(steps.contains(&"reactivate_old_key"), "{steps:?}");
    assert!(!steps.contains(&"delete_old_key"), "{steps:?}");
    let keys = stopped_keys(&error);
    assert_eq!(
        (keys[0].0, keys[0].1),
        (KeyRole::Old, KeyStatus::Active),
        "{error}"
    );
    assert_eq!(
        (keys[1].0, keys[1].1),
        (KeyRole::New, KeyStatus::Deleted),
        "{error}"
    );
    world.assert_files_untouched();
    world
        .assert_files_hold_working_keys("old key Active again")
        .await;
    world.assert_no_secret(&format!("{error} {error:?}"), &[]);
}

/// Killed after the old key went Inactive, with both files written back to it: AWS refuses the
/// old key now, so the next run plans with the kept new key and finishes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_after_deactivation_with_its_files_written_back_finishes_with_the_kept_key(
) {
    let world = World::new().await;
    let created = world
        .kill_after_writing_the_files_back(|step| matches!(step, Step::DeleteOldKey { .. }))
        .await;
    world.assert_files_untouched();

    let proxy = Proxy::start(&world.stand.url, Fault::None).await;
    proxy.refuse_signer(&world.old.access_key_id);
    let second = world
        .rotate_via(&proxy.url, RotateOptions::default())
        .await
        .unwrap();
    assert_eq!(second.new_key_id, created, "the kept key, not a third one");
    let new = world.assert_rotated_cleanly("after the second run").await;
    world.assert_only_keys_changed(&new);
    let in_state = support::files_holding(&world.state_dir(), &[new.secret_access_key.expose()]);
    assert!(
        in_state.is_empty(),
        "the state folder still holds the new secret: {in_state:?}"
    );
}

/// The new key an interrupted rotation kept was deleted since (by the person, or by a give-up
/// whose answer was lost): the next run plans with the profile's own key and starts afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_new_key_deleted_since_does_not_block_the_next_rotation() {
    let world = World::new().await;
    let created = world
        .kill_after_writing_the_files_back(|step| matches!(step, Step::VerifyNewKey { .. }))
        .await;
    let params = [
        ("UserName", world.user.as_str()),
        ("AccessKeyId", created.as_str()),
    ];
    world.stand.admin_call("DeleteAccessKey", &params).await;

    let second = world
        .rotate_via(&world.stand.url, RotateOptions::default())
        .await
        .unwrap();
    assert_ne!(second.new_key_id, created);
    let new = world.assert_rotated_cleanly("after the second run").await;
    world.assert_only_keys_changed(&new);
    let in_state = support::files_holding(&world.state_dir(), &[new.secret_access_key.expose()]);
    assert!(
        in_state.is_empty(),
        "the state folder still holds a secret: {in_state:?}"
    );
}

// ------------------------------------------------------------------ MFA

/// A person with the user's authenticator app: each time keyrack asks, they wait for the next
/// code (which the MFA stand-in's device then shows) and type it.
struct NextCode {
    sts: Arc<support::sts_mfa::MfaSts>,
    serial: String,
    asked: Mutex<Vec<keyrack::identity::mfa::MfaRequest>>,
}

impl keyrack::identity::mfa::MfaPrompt for NextCode {
    fn code(
        &self,
        request: &keyrack::identity::mfa::MfaRequest,
    ) -> Option<keyrack::identity::mfa::MfaCode> {
        let mut asked = self.asked.lock().unwrap();
        asked.push(request.clone());
        let code = format!("{:06}", 420_000 + asked.len());
        self.sts.show(&self.serial, &code);
        keyrack::identity::mfa::MfaCode::parse(&code).ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_user_must_use_mfa_for_iam_is_rotated_through_mfa_sessions() {
    let world = World::new().await;
    let sts = Arc::new(support::sts_mfa::MfaSts::start(&world.stand.url));
    let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/{}", world.user);
    let secret = world.old.secret_access_key.expose();
    sts.user_key(&world.old.access_key_id, secret, &world.arn(), true);
    let keychain = keyrack::keychain::Keychain::in_memory();
    let person = Arc::new(NextCode {
        sts: sts.clone(),
        serial: serial.clone(),
        asked: Mutex::default(),
    });
    let settings = RotationSettings {
        keychain: keychain.clone(),
        mfa: keyrack::rotation::MfaAsking {
            code: None,
            prompt: Some(person.clone()),
        },
        ..world.settings(&sts.url)
    };

    // Without mfa_serial the key alone signs, IAM refuses it, and nothing changes.
    let refused = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("mfa_serial"), "{refused}");
    assert_eq!(person.asked.lock().unwrap().len(), 0);

    // With it, every IAM call goes through an MFA session: the old key's for the plan and the
    // new key, the new key's for retiring the old one (one code each).
    let config = world.config.replace(
        "[profile work]\n",
        &format!("[profile work]\nmfa_serial = {serial}\n"),
    );
    fs::write(world.paths().config, &config).unwrap();
    let plan = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap();
    let report = rotate(&settings, &plan, |_| {}).await.unwrap();
    assert_eq!(report.old_key, OldKeyFate::Deleted);
    assert_eq!(sts.refused_without_mfa(), 1, "only the first, refused plan");
    assert_eq!(person.asked.lock().unwrap().len(), 2);
    assert_eq!(sts.sessions_issued(), 2);
    let new = world.assert_rotated_cleanly("after an MFA rotation").await;
    // The retired key's session is gone; the new key's is kept for the next calls.
    let kept = keychain.mfa_session(&serial).unwrap().expect("a session");
    assert_eq!(kept.made_with, new.access_key_id);
    assert!(world
        .read("config")
        .contains(&format!("mfa_serial = {serial}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_given_for_an_mfa_rotation_is_spent_once_and_the_new_keys_code_is_asked_for() {
    let world = World::new().await;
    let sts = Arc::new(support::sts_mfa::MfaSts::start(&world.stand.url));
    let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/{}", world.user);
    let secret = world.old.secret_access_key.expose();
    sts.user_key(&world.old.access_key_id, secret, &world.arn(), true);
    let config = world.config.replace(
        "[profile work]\n",
        &format!("[profile work]\nmfa_serial = {serial}\n"),
    );
    fs::write(world.paths().config, &config).unwrap();
    sts.show(&serial, "909090");
    let person = Arc::new(NextCode {
        sts: sts.clone(),
        serial: serial.clone(),
        asked: Mutex::default(),
    });
    let settings = RotationSettings {
        keychain: keyrack::keychain::Keychain::in_memory(),
        mfa: keyrack::rotation::MfaAsking {
            code: Some(keyrack::identity::mfa::GivenCode::new(
                keyrack::identity::mfa::MfaCode::parse("909090").unwrap(),
            )),
            prompt: Some(person.clone()),
        },
        ..world.settings(&sts.url)
    };
    let plan = plan_rotation(&settings, "work", RotateOptions::default())
        .await
        .unwrap();
    let report = rotate(&settings, &plan, |_| {}).await.unwrap();
    assert_eq!(report.old_key, OldKeyFate::Deleted);
    // The given code signed in the old key; the new key's code was asked for, never the same
    // code sent twice (STS refuses a code it has seen).
    assert_eq!(person.asked.lock().unwrap().len(), 1);
    assert_eq!(sts.accepted(&serial), 2);
    world
        .assert_rotated_cleanly("after a rotation with --mfa-code")
        .await;
}
