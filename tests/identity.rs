//! Who each profile is, against a real moto server that checks every signature: static keys,
//! session tokens, role chains, credential processes, the `whoami` and `keys` commands, and the
//! AWS CLI as the independent client. The tests share one moto server, which none of them
//! changes; each has its own files.

use keyrack_test_support as support;

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::moto::{
    enable_auth_at, free_port, set_up, set_up_key, set_up_once, ProcessWideMoto, ACCOUNT,
};

use keyrack::aws::{
    resolve_endpoint, sts, AwsClient, ClientSettings, Credentials, Endpoint, EndpointEnv,
    ProfileEndpointSettings, RetryPolicy, RoleRequest, Service,
};
use keyrack::files::{AwsFiles, Dialect};
use keyrack::identity::{check_all, check_identity, IdentityError, Session, SessionOptions};
use keyrack::rotation::user_keys::list_user_keys;

const ALICE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["iam:*","sts:AssumeRole"],"Resource":"*"}]}"#;

fn trust_alice() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/alice"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn quick_retries() -> ClientSettings {
    ClientSettings {
        retry: RetryPolicy {
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientSettings::default()
    }
}

/// The moto server all tests of this file share (they only read from it), with signature
/// checks on, holding:
/// - `alice` (may use IAM and assume `deployer`) with an Active key and a second, Inactive key;
/// - `bob` (no permissions) with one key;
/// - a key of `carol` that was deleted;
/// - the role `deployer`, which trusts alice.
struct Stand {
    url: String,
    alice: Credentials,
    alice_inactive: Credentials,
    bob: Credentials,
    deleted: Credentials,
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
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (alice, alice_inactive, bob, deleted) = runtime.block_on(populate(&url));
    Stand {
        url,
        alice,
        alice_inactive,
        bob,
        deleted,
        _moto: moto,
    }
}

/// Creates the users, keys and role while moto lets requests through unchecked, then turns
/// checking on.
async fn populate(url: &str) -> (Credentials, Credentials, Credentials, Credentials) {
    for user in ["alice", "bob", "carol"] {
        set_up(url, "CreateUser", &[("UserName", user)]).await;
    }
    let params = [
        ("UserName", "alice"),
        ("PolicyName", "keys"),
        ("PolicyDocument", ALICE_POLICY),
    ];
    set_up(url, "PutUserPolicy", &params).await;
    let trust = trust_alice();
    let params = [
        ("RoleName", "deployer"),
        ("AssumeRolePolicyDocument", trust.as_str()),
    ];
    set_up(url, "CreateRole", &params).await;
    // The role IAM Identity Center assumes for alice's "Dev" assignment (tests/support/sso_portal.rs).
    let sso_role = support::sso_portal::reserved_role("Dev");
    let params = [
        ("RoleName", sso_role.as_str()),
        ("AssumeRolePolicyDocument", trust.as_str()),
    ];
    set_up(url, "CreateRole", &params).await;
    let alice = set_up_key(url, "alice").await;
    let alice_inactive = set_up_key(url, "alice").await;
    let params = [
        ("UserName", "alice"),
        ("AccessKeyId", alice_inactive.access_key_id.as_str()),
        ("Status", "Inactive"),
    ];
    set_up(url, "UpdateAccessKey", &params).await;
    let bob = set_up_key(url, "bob").await;
    let deleted = set_up_key(url, "carol").await;
    let params = [
        ("UserName", "carol"),
        ("AccessKeyId", deleted.access_key_id.as_str()),
    ];
    set_up(url, "DeleteAccessKey", &params).await;
    enable_auth_at(url).await;
    (alice, alice_inactive, bob, deleted)
}

fn endpoint(url: &str, service: Service) -> Endpoint {
    let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", url)]);
    resolve_endpoint(service, &ProfileEndpointSettings::default(), &env).unwrap()
}

/// One test's view: the shared moto server, and a temp dir of its own for files and scripts.
struct World {
    stand: &'static Stand,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for World {
    type Target = Stand;
    fn deref(&self) -> &Stand {
        self.stand
    }
}

impl World {
    fn new() -> World {
        World {
            stand: stand(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A session over these files that sends every call to moto.
    fn session(&self, config: &str, credentials: &str) -> Session {
        session_at(&self.url, config, credentials)
    }

    /// Every secret this world handed out, to check that none is ever shown.
    fn secrets(&self) -> Vec<String> {
        [&self.alice, &self.alice_inactive, &self.bob, &self.deleted]
            .iter()
            .map(|c| c.secret_access_key.expose().to_owned())
            .collect()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A shell script in the temp dir, and the `credential_process` line that runs it (through
    /// `sh`, quoted, from a folder with a space in its name).
    fn script(&self, name: &str, body: &str) -> String {
        let folder = self.path("my scripts");
        fs::create_dir_all(&folder).unwrap();
        let path = folder.join(name);
        fs::write(&path, body).unwrap();
        format!("sh '{}'", path.display())
    }

    /// Runs the keyrack binary on files written here, against moto, with no AWS variable from the
    /// outside; asserts that no secret was printed.
    fn keyrack(&self, config: &str, credentials: &str, args: &[&str]) -> Output {
        self.keyrack_via(&self.url, config, credentials, args)
    }

    /// [`World::keyrack`] with every call sent to `url` (a stand-in in front of moto).
    fn keyrack_via(&self, url: &str, config: &str, credentials: &str, args: &[&str]) -> Output {
        self.keyrack_with(url, &[], config, credentials, args)
    }

    /// [`World::keyrack_via`] with these variables set too.
    fn keyrack_with(
        &self,
        url: &str,
        vars: &[(&str, &str)],
        config: &str,
        credentials: &str,
        args: &[&str],
    ) -> Output {
        let (config_path, credentials_path) = self.write_files(config, credentials);
        let out = Command::new(env!("CARGO_BIN_EXE_keyrack"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_CONFIG_FILE", config_path)
            .env("AWS_SHARED_CREDENTIALS_FILE", credentials_path)
            .env("AWS_ENDPOINT_URL", url)
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        assert_no_secret(&out, &self.secrets());
        out
    }

    /// Why the kept result of `profile` (checked on the files written last) is out of date, if
    /// it is.
    fn stale_because(&self, profile: &str) -> Option<keyrack::rack::StaleCause> {
        let paths = keyrack::files::FilePaths {
            config: self.path("config"),
            credentials: self.path("credentials"),
        };
        let state = self.dir.path().join(".local/state/keyrack");
        support::kept_stale_because(paths, &state, profile)
    }

    fn write_files(&self, config: &str, credentials: &str) -> (PathBuf, PathBuf) {
        let config_path = self.path("config");
        let credentials_path = self.path("credentials");
        fs::write(&config_path, config).unwrap();
        fs::write(&credentials_path, credentials).unwrap();
        (config_path, credentials_path)
    }
}

fn session_at(endpoint_url: &str, config: &str, credentials: &str) -> Session {
    let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
    let options = SessionOptions {
        client: quick_retries(),
        process_timeout: Duration::from_secs(2),
        ..SessionOptions::default()
    };
    Session::new(
        files.read(Dialect::Cli),
        EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", endpoint_url)]),
        options,
    )
}

/// A credentials-file (or config-file) section body holding these keys.
fn keys(credentials: &Credentials) -> String {
    let mut text = format!(
        "aws_access_key_id = {}\naws_secret_access_key = {}\n",
        credentials.access_key_id,
        credentials.secret_access_key.expose()
    );
    if let Some(token) = &credentials.session_token {
        text.push_str(&format!("aws_session_token = {}\n", token.expose()));
    }
    text
}

/// The credential_process JSON for these keys.
fn process_json(credentials: &Credentials) -> String {
    json!({
        "Version": 1,
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key.expose(),
    })
    .to_string()
}

fn assert_no_secret(out: &Output, secrets: &[String]) {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    support::assert_output_has_no_secret(out, &secrets);
}

fn assert_error_has_no_secret(error: &IdentityError, secrets: &[String]) {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    support::assert_no_secret_in(&format!("{error} {error:?}"), &secrets);
}

fn alice_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/alice")
}

fn deployer_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/deployer")
}

#[tokio::test]
async fn static_keys_give_the_users_arn_account_and_user_id() {
    let w = World::new();
    let session = w.session("", &format!("[dev]\n{}", keys(&w.alice)));
    let identity = check_identity(&session, "dev").await.unwrap();
    assert_eq!(identity.arn, alice_arn());
    assert_eq!(identity.account, ACCOUNT);
    assert!(!identity.user_id.is_empty());
    assert_ne!(identity.user_id, w.alice.access_key_id);
}

#[tokio::test]
async fn keys_in_the_config_file_work_too() {
    let w = World::new();
    let session = w.session(&format!("[profile dev]\n{}", keys(&w.bob)), "");
    let identity = check_identity(&session, "dev").await.unwrap();
    assert_eq!(identity.arn, format!("arn:aws:iam::{ACCOUNT}:user/bob"));
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match_in_plain_words() {
    let w = World::new();
    let wrong = Credentials::new(w.alice.access_key_id.clone(), "x".repeat(40), None);
    let session = w.session("", &format!("[dev]\n{}", keys(&wrong)));
    let err = check_identity(&session, "dev").await.unwrap_err();
    assert_eq!(err.code(), "wrong_secret");
    let message = err.to_string();
    assert!(message.starts_with("wrong secret access key"), "{message}");
    assert!(message.contains(&w.alice.access_key_id), "{message}");
    assert_error_has_no_secret(&err, &[w.secrets(), vec!["x".repeat(40)]].concat());
}

#[tokio::test]
async fn a_deleted_key_is_invalid_client_token_id() {
    let w = World::new();
    let session = w.session("", &format!("[old]\n{}", keys(&w.deleted)));
    let err = check_identity(&session, "old").await.unwrap_err();
    assert_eq!(err.code(), "unknown_access_key");
    assert!(err.to_string().contains("deleted or unknown"), "{err}");
    assert_error_has_no_secret(&err, &w.secrets());
}

#[tokio::test]
async fn temporary_keys_with_a_session_token_work() {
    let w = World::new();
    let client = AwsClient::new(quick_retries()).unwrap();
    let request = RoleRequest {
        role_arn: &deployer_arn(),
        session_name: "handmade",
        ..RoleRequest::default()
    };
    let role = sts::assume_role(&client, &endpoint(&w.url, Service::Sts), &w.alice, &request)
        .await
        .unwrap();
    let session = w.session("", &format!("[temp]\n{}", keys(&role.credentials)));
    let identity = check_identity(&session, "temp").await.unwrap();
    assert_eq!(identity.arn, role.assumed_role_arn);
}

#[tokio::test]
async fn a_role_with_a_source_profile_gives_the_assumed_role_arn() {
    let w = World::new();
    let config = format!(
        "[profile admin]\nrole_arn = {}\nsource_profile = base\nexternal_id = ext-1\n\
         role_session_name = keyrack-test\nduration_seconds = 900\n\
         [profile plain]\nrole_arn = {}\nsource_profile = base\n",
        deployer_arn(),
        deployer_arn()
    );
    let session = w.session(&config, &format!("[base]\n{}", keys(&w.alice)));
    let identity = check_identity(&session, "admin").await.unwrap();
    assert_eq!(
        identity.arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/keyrack-test")
    );
    assert_eq!(identity.account, ACCOUNT);
    let plain = check_identity(&session, "plain").await.unwrap();
    let prefix = format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/botocore-session-");
    assert!(plain.arn.starts_with(&prefix), "{}", plain.arn);
}

#[tokio::test]
async fn a_source_profile_loop_is_reported_without_any_network_call() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n\
                  [profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n";
    let session = session_at(&url, config, "");
    let err = check_identity(&session, "a").await.unwrap_err();
    assert_eq!(
        err,
        IdentityError::SourceProfileLoop {
            profiles: vec!["a".into(), "b".into(), "a".into()]
        }
    );
    assert!(err.to_string().contains("a -> b -> a"), "{err}");
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected to the endpoint: {accepted:?}"
    );
}

#[tokio::test]
async fn credential_process_credentials_are_used() {
    let w = World::new();
    let command = w.script(
        "get.sh",
        &format!("cat <<'EOF'\n{}\nEOF\n", process_json(&w.bob)),
    );
    let session = w.session(
        &format!("[profile proc]\ncredential_process = {command}\n"),
        "",
    );
    let identity = check_identity(&session, "proc").await.unwrap();
    assert_eq!(identity.arn, format!("arn:aws:iam::{ACCOUNT}:user/bob"));
}

#[tokio::test]
async fn a_failing_credential_process_is_reported_with_its_last_stderr_line() {
    let w = World::new();
    let command = w.script(
        "fail.sh",
        &format!(
            "echo '{}'\necho 'starting' >&2\necho 'session expired: run corp-login' >&2\nexit 3\n",
            process_json(&w.alice)
        ),
    );
    let session = w.session(
        &format!("[profile proc]\ncredential_process = {command}\n"),
        "",
    );
    let err = check_identity(&session, "proc").await.unwrap_err();
    assert_eq!(err.code(), "credential_process_failed");
    let message = err.to_string();
    assert!(message.contains("status 3"), "{message}");
    assert!(
        message.ends_with("session expired: run corp-login"),
        "{message}"
    );
    assert_error_has_no_secret(&err, &w.secrets());
}

#[tokio::test]
async fn credential_process_output_that_is_not_json_is_reported_without_echoing_it() {
    let w = World::new();
    let truncated = process_json(&w.alice).trim_end_matches('}').to_owned();
    let command = w.script("bad.sh", &format!("echo '{truncated}'\n"));
    let session = w.session(
        &format!("[profile proc]\ncredential_process = {command}\n"),
        "",
    );
    let err = check_identity(&session, "proc").await.unwrap_err();
    assert_eq!(err.code(), "credential_process_failed");
    assert!(err.to_string().contains("not JSON"), "{err}");
    assert_error_has_no_secret(&err, &w.secrets());
}

#[tokio::test]
async fn a_credential_process_that_hangs_is_stopped_at_the_time_limit() {
    let w = World::new();
    let command = w.script("hang.sh", "exec sleep 30\n");
    let session = w.session(
        &format!("[profile proc]\ncredential_process = {command}\n"),
        "",
    );
    let started = Instant::now();
    let err = check_identity(&session, "proc").await.unwrap_err();
    assert_eq!(err.code(), "credential_process_failed");
    assert!(
        err.to_string().contains("did not finish within 2 s"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_source_shared_by_many_profiles_is_fetched_once_per_run() {
    let w = World::new();
    let counter = w.path("runs");
    let command = w.script(
        "counted.sh",
        &format!(
            "echo run >> '{}'\ncat <<'EOF'\n{}\nEOF\n",
            counter.display(),
            process_json(&w.alice)
        ),
    );
    let mut config = format!("[profile base]\ncredential_process = {command}\n");
    for name in ["r1", "r2", "r3"] {
        config.push_str(&format!(
            "[profile {name}]\nrole_arn = {}\nsource_profile = base\nrole_session_name = {name}\n",
            deployer_arn()
        ));
    }
    let session = w.session(&config, "");
    let profiles: Vec<String> = ["base", "r1", "r2", "r3"].map(String::from).to_vec();
    let outcomes = check_all(&session, &profiles, 16, |_| {}).await;
    for outcome in &outcomes {
        assert!(
            outcome.result.is_ok(),
            "{}: {:?}",
            outcome.profile,
            outcome.result
        );
    }
    assert_eq!(
        outcomes[2].result.as_ref().unwrap().arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/r2")
    );
    let runs = fs::read_to_string(&counter).unwrap();
    assert_eq!(
        runs.lines().count(),
        1,
        "the credential process ran {} times",
        runs.lines().count()
    );
}

#[tokio::test]
async fn check_all_reports_each_profile_as_it_finishes_and_returns_them_in_order() {
    let w = World::new();
    let wrong = Credentials::new(w.bob.access_key_id.clone(), "y".repeat(40), None);
    let mut credentials = String::new();
    let mut names = Vec::new();
    for i in 0..20 {
        let creds = if i % 5 == 3 { &wrong } else { &w.alice };
        credentials.push_str(&format!("[p{i}]\n{}", keys(creds)));
        names.push(format!("p{i}"));
    }
    let session = w.session("", &credentials);
    let reported = AtomicUsize::new(0);
    let outcomes = check_all(&session, &names, 4, |_| {
        reported.fetch_add(1, Ordering::Relaxed);
    })
    .await;
    assert_eq!(reported.load(Ordering::Relaxed), 20);
    let order: Vec<&str> = outcomes.iter().map(|o| o.profile.as_str()).collect();
    assert_eq!(order, names);
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.result.is_err())
        .map(|o| o.profile.as_str())
        .collect();
    assert_eq!(failed, ["p3", "p8", "p13", "p18"]);
}

#[tokio::test]
async fn list_user_keys_shows_both_keys_of_the_user_with_their_holders() {
    let w = World::new();
    let credentials = format!(
        "[dev]\n{}[spare]\n{}",
        keys(&w.alice),
        keys(&w.alice_inactive)
    );
    let config = format!(
        "[profile dev-copy]\naws_access_key_id = {}\n",
        w.alice.access_key_id
    );
    let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
    let session = w.session(&config, &credentials);
    let listed = list_user_keys(&session, &files, "dev").await.unwrap();
    assert_eq!(listed.user, "alice");
    assert_eq!(listed.keys.len(), 2);
    let active = listed
        .keys
        .iter()
        .find(|k| k.access_key_id == w.alice.access_key_id)
        .unwrap();
    assert_eq!(active.status, keyrack::rotation::KeyStatus::Active);
    assert_eq!(active.profiles, ["dev-copy", "dev"]);
    assert_eq!(active.age_days, 0);
}

// The command line.

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test]
async fn whoami_all_json_gives_one_entry_per_profile_in_file_order_and_exits_1_on_failure() {
    let w = World::new();
    let wrong = Credentials::new(w.alice.access_key_id.clone(), "z".repeat(40), None);
    let config = format!(
        "[profile role]\nrole_arn = {}\nsource_profile = good\nrole_session_name = cli\n\
         [profile loop]\nrole_arn = {}\nsource_profile = loop\n\
         [profile settings-only]\nregion = eu-west-1\n",
        deployer_arn(),
        deployer_arn()
    );
    let credentials = format!(
        "[good]\n{}[wrong-secret]\n{}[deleted]\n{}",
        keys(&w.alice),
        keys(&wrong),
        keys(&w.deleted)
    );
    let out = w.keyrack(&config, &credentials, &["whoami", "--all", "--json"]);
    assert_no_secret(&out, &["z".repeat(40)]);
    assert_eq!(out.status.code(), Some(1));
    let entries = json_of(&out);
    let entries = entries.as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "role",
            "loop",
            "settings-only",
            "good",
            "wrong-secret",
            "deleted"
        ]
    );
    let by_name = |name: &str| entries.iter().find(|e| e["profile"] == name).unwrap();
    let good = by_name("good");
    assert_eq!(good["arn"], alice_arn());
    assert_eq!(good["account"], ACCOUNT);
    assert!(!good["user_id"].as_str().unwrap().is_empty());
    assert_eq!(good["status"], "ok");
    assert_eq!(good["secret_store"]["store"], "file");
    assert_eq!(good["error"], serde_json::Value::Null);
    assert_eq!(
        support::members(good),
        [
            "profile",
            "status",
            "arn",
            "account",
            "user_id",
            "error",
            "secret_store",
            "checked_at",
            "session_minutes_left",
            "mfa_device",
            "account_name",
            "key_health",
            "needs_attention"
        ]
    );
    assert_eq!(
        by_name("role")["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/cli")
    );
    assert_eq!(by_name("role")["secret_store"]["store"], "elsewhere");
    let settings_only = by_name("settings-only");
    assert_eq!(
        settings_only["status"], "settings_only",
        "a settings-only profile is no failure: {settings_only}"
    );
    assert_eq!(settings_only["error"]["code"], "settings_only");
    assert_eq!(settings_only["secret_store"]["store"], "none");
    for (name, code, aws_code, store) in [
        ("loop", "source_profile_loop", None, "elsewhere"),
        (
            "wrong-secret",
            "wrong_secret",
            Some("SignatureDoesNotMatch"),
            "file",
        ),
        (
            "deleted",
            "unknown_access_key",
            Some("InvalidClientTokenId"),
            "file",
        ),
    ] {
        let entry = by_name(name);
        assert_eq!(entry["status"], "failed", "{entry}");
        assert_eq!(entry["error"]["code"], code, "{entry}");
        assert_eq!(
            entry["error"]["details"]["aws_code"].as_str(),
            aws_code,
            "{entry}"
        );
        assert!(!entry["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(entry["secret_store"]["store"], store, "{entry}");
        assert_eq!(entry["arn"], serde_json::Value::Null, "{entry}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "keyrack: 3 of 6 profile(s) could not be checked"
    );
}

#[tokio::test]
async fn whoami_text_prints_one_line_per_profile_and_exits_0_when_all_succeed() {
    let w = World::new();
    let credentials = format!("[default]\n{}[b]\n{}", keys(&w.alice), keys(&w.bob));
    let out = w.keyrack("", &credentials, &["whoami", "b", "default"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("b ") && lines[0].contains(":user/bob"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("default ") && lines[1].contains(&alice_arn()),
        "{stdout}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn whoami_without_a_profile_checks_aws_profile_else_default() {
    let dir = tempfile::tempdir().unwrap();
    let run = |aws_profile: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyrack"));
        command
            .args(["whoami", "--json"])
            .env_clear()
            .env("HOME", dir.path())
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", free_port()),
            );
        if let Some(p) = aws_profile {
            command.env("AWS_PROFILE", p);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        json_of(&out)
    };
    let answer = run(None);
    assert_eq!(answer.as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer[0]["profile"], "default");
    assert_eq!(answer[0]["status"], "failed");
    assert_eq!(
        answer[0]["error"],
        json!({"code": "no_such_profile", "details": {},
               "message": "there is no profile named 'default' in the config or credentials file"})
    );
    assert_eq!(answer[0]["secret_store"], serde_json::Value::Null);
    assert_eq!(run(Some("ops"))[0]["profile"], "ops");
}

#[tokio::test]
async fn the_aws_cli_agrees_with_keyrack_on_each_profiles_arn() {
    let w = World::new();
    let config = format!(
        "[profile user]\nregion = eu-west-1\n\
         [profile role]\nregion = eu-west-1\nrole_arn = {}\nsource_profile = user\nrole_session_name = both\n",
        deployer_arn()
    );
    let credentials = format!("[user]\n{}", keys(&w.alice));
    let out = w.keyrack(&config, &credentials, &["whoami", "user", "role", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = json_of(&out);
    let (config_path, credentials_path) = w.write_files(&config, &credentials);
    for (index, profile) in ["user", "role"].iter().enumerate() {
        let aws = Command::new(support::venv_bin("aws"))
            .args([
                "sts",
                "get-caller-identity",
                "--output",
                "json",
                "--profile",
                profile,
            ])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", w.dir.path())
            .env("AWS_CONFIG_FILE", &config_path)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials_path)
            .env("AWS_ENDPOINT_URL", &w.url)
            .output()
            .unwrap();
        assert!(
            aws.status.success(),
            "aws: {}",
            String::from_utf8_lossy(&aws.stderr)
        );
        let theirs = json_of(&aws);
        assert_eq!(ours[index]["arn"], theirs["Arn"], "{profile}");
        assert_eq!(ours[index]["account"], theirs["Account"], "{profile}");
        assert_eq!(ours[index]["user_id"], theirs["UserId"], "{profile}");
    }
}

// The AWS CLI's cache of assumed-role sessions.

impl World {
    /// The real AWS CLI (from the test venv) on files written here, against moto.
    fn aws(&self, args: &[&str]) -> Output {
        Command::new(support::venv_bin("aws"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_CONFIG_FILE", self.path("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("credentials"))
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .output()
            .unwrap()
    }

    /// A command of `program` on this world's files, with every call sent to `url` and no
    /// outside AWS variable.
    fn command_via(&self, program: &str, url: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_CONFIG_FILE", self.path("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("credentials"))
            .env("AWS_ENDPOINT_URL", url);
        command
    }

    /// The strict STS stand-in in front of this world's moto, with alice's MFA device showing
    /// `code`; and the files of a role `admin` that needs that device's code, assumed with
    /// alice's key (written here): the stand-in, the device and the config.
    fn mfa_role(&self, code: &str) -> (support::sts_mfa::MfaSts, String, String) {
        let (sts, serial) = self.mfa_stand(code);
        let config = format!(
            "[profile admin]\nrole_arn = {}\nsource_profile = dev\nmfa_serial = {serial}\n",
            deployer_arn()
        );
        self.write_files(&config, &format!("[dev]\n{}", keys(&self.alice)));
        (sts, serial, config)
    }

    /// The strict STS stand-in in front of this world's moto, with alice's MFA device showing
    /// `code`: the stand-in and the device.
    fn mfa_stand(&self, code: &str) -> (support::sts_mfa::MfaSts, String) {
        let sts = support::sts_mfa::MfaSts::start(&self.url);
        let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/alice");
        sts.show(&serial, code);
        (sts, serial)
    }

    /// The files in the AWS CLI's session cache under this world's home.
    fn cached_sessions(&self) -> Vec<String> {
        let dir = self.dir.path().join(".aws/cli/cache");
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

#[tokio::test]
async fn a_role_session_the_aws_cli_cached_is_used_instead_of_assuming_the_role_again() {
    let w = World::new();
    let config = format!(
        "[profile deploy]\nrole_arn = {}\nsource_profile = dev\nrole_session_name = cached\nduration_seconds = 1800\n",
        deployer_arn()
    );
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    w.write_files(&config, &credentials);
    let aws = w.aws(&[
        "sts",
        "get-caller-identity",
        "--profile",
        "deploy",
        "--output",
        "json",
    ]);
    assert!(
        aws.status.success(),
        "aws: {}",
        String::from_utf8_lossy(&aws.stderr)
    );
    let theirs = json_of(&aws);
    // The AWS CLI named its cache file as keyrack computes the name for this profile.
    let role = keyrack::identity::RoleSettings {
        role_arn: deployer_arn(),
        external_id: None,
        session_name: Some("cached".into()),
        duration_seconds: Some(1800),
        mfa_serial: None,
    };
    let key = keyrack::identity::cli_cache::cache_key(&role);
    assert_eq!(w.cached_sessions(), [format!("{key}.json")]);

    // The source key no longer works: only the cached session can answer.
    let wrong = Credentials::new(w.alice.access_key_id.clone(), "q".repeat(40), None);
    let broken = format!("[dev]\n{}", keys(&wrong));
    let out = w.keyrack(&config, &broken, &["whoami", "deploy", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = &json_of(&out)[0];
    assert_eq!(ours["user_id"], theirs["UserId"], "{ours}");
    assert_eq!(ours["arn"], theirs["Arn"]);
    // A session about to expire is not used (the AWS CLI's 15 minutes).
    let file = w
        .dir
        .path()
        .join(".aws/cli/cache")
        .join(format!("{key}.json"));
    let mut cached: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    cached["Credentials"]["Expiration"] = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .into();
    fs::write(&file, cached.to_string()).unwrap();
    let expired = w.keyrack(&config, &broken, &["whoami", "deploy", "--json"]);
    assert_eq!(json_of(&expired)[0]["error"]["code"], "wrong_secret");
}

#[tokio::test]
async fn an_mfa_role_answers_with_the_session_the_aws_cli_cached_and_without_one_says_how_to_get_it(
) {
    let w = World::new();
    let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/alice");
    let config = format!(
        "[profile admin]\nrole_arn = {}\nsource_profile = dev\nmfa_serial = {serial}\n",
        deployer_arn()
    );
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    let before = w.keyrack(&config, &credentials, &["whoami", "admin", "--json"]);
    assert_eq!(before.status.code(), Some(1));
    let error = &json_of(&before)[0]["error"];
    assert_eq!(error["code"], "needs_mfa", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("aws sts get-caller-identity --profile admin"),
        "{error}"
    );

    // Sign in as the AWS CLI does: botocore's assume-role provider with the AWS CLI's cache
    // folder, the code typed at its prompt (moto accepts any code).
    let script = r#"
import os, sys
import botocore.session
from botocore.utils import JSONFileCache
session = botocore.session.Session(profile="admin")
provider = session.get_component("credential_provider").get_provider("assume-role")
provider.cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
provider._prompter = lambda prompt: "123456"
client = session.create_client("sts", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
print(client.get_caller_identity()["UserId"])
"#;
    let python = support::venv_bin("python");
    let signed_in = w
        .command_via(python.to_str().unwrap(), &w.url)
        .args(["-c", script])
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        signed_in.status.success(),
        "botocore: {}",
        String::from_utf8_lossy(&signed_in.stderr)
    );
    let their_user_id = String::from_utf8_lossy(&signed_in.stdout)
        .trim()
        .to_string();
    assert_eq!(w.cached_sessions().len(), 1);

    let after = w.keyrack(&config, &credentials, &["whoami", "admin", "--json"]);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let ours = &json_of(&after)[0];
    assert_eq!(ours["status"], "ok");
    assert_eq!(ours["user_id"], their_user_id.as_str(), "{ours}");
}

#[tokio::test]
async fn an_mfa_role_signs_in_with_the_code_given_and_the_aws_cli_reuses_that_session() {
    let w = World::new();
    let config = format!(
        "[profile admin]\nrole_arn = {}\nsource_profile = dev\nmfa_serial = arn:aws:iam::{ACCOUNT}:mfa/alice\nduration_seconds = 1800\n",
        deployer_arn()
    );
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    let out = w.keyrack(
        &config,
        &credentials,
        &["whoami", "admin", "--mfa-code", "864 209", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = json_of(&out)[0].clone();
    assert_eq!(ours["status"], "ok", "{ours}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("864209"));

    // The session is where the AWS CLI looks for it, private, holding no code.
    let sessions = w.cached_sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let file = w.dir.path().join(".aws/cli/cache").join(&sessions[0]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!fs::read_to_string(&file).unwrap().contains("864209"));
    // The AWS CLI uses it: without it, it would have to ask for a code, and there is no terminal.
    let aws = w.aws(&[
        "sts",
        "get-caller-identity",
        "--profile",
        "admin",
        "--output",
        "json",
    ]);
    assert!(
        aws.status.success(),
        "aws: {}",
        String::from_utf8_lossy(&aws.stderr)
    );
    assert_eq!(json_of(&aws)["UserId"], ours["user_id"]);
    // And keyrack, on the next run, without a code, saying how long the session lasts.
    let again = w.keyrack(&config, &credentials, &["whoami", "admin", "--json"]);
    assert_eq!(json_of(&again)[0]["status"], "ok");
    let text = w.keyrack(&config, &credentials, &["whoami", "admin"]);
    let line = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        line.contains("session 29 min left") || line.contains("session 30 min left"),
        "{line}"
    );

    // The session is listed with its device and time left, and forgotten on request.
    let listed = json_of(&w.keyrack(&config, &credentials, &["sessions", "list", "--json"]));
    assert_eq!(listed[0]["profile"], "admin", "{listed}");
    assert_eq!(
        listed[0]["mfa_serial"],
        format!("arn:aws:iam::{ACCOUNT}:mfa/alice")
    );
    let left = listed[0]["minutes_left"].as_i64().unwrap();
    assert!((25..=30).contains(&left), "{listed}");
    fs::write(w.dir.path().join(".aws/cli/cache/someone-elses.json"), "{}").unwrap();
    assert_eq!(w.stale_because("admin"), None);
    let forgot = w.keyrack(&config, &credentials, &["sessions", "forget"]);
    assert!(forgot.status.success());
    assert_eq!(
        w.stale_because("admin"),
        Some(keyrack::rack::StaleCause::SessionForgotten),
        "the kept result is of the session forgotten"
    );
    assert_eq!(
        w.cached_sessions(),
        ["someone-elses.json"],
        "only this profile's session goes"
    );
    let after = w.keyrack(&config, &credentials, &["whoami", "admin", "--json"]);
    assert_eq!(json_of(&after)[0]["error"]["code"], "needs_mfa");
}

#[tokio::test]
async fn a_wrong_reused_or_unknown_mfa_code_is_refused_by_name_and_nothing_is_cached() {
    let w = World::new();
    let (sts, serial) = w.mfa_stand("246813");
    let config = |serial: &str| {
        format!(
            "[profile admin]\nrole_arn = {}\nsource_profile = dev\nmfa_serial = {serial}\n",
            deployer_arn()
        )
    };
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    let whoami = |serial: &str, code: &str| {
        let out = w.keyrack_via(
            &sts.url,
            &config(serial),
            &credentials,
            &["whoami", "admin", "--mfa-code", code, "--json"],
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(code));
        json_of(&out)[0].clone()
    };

    let wrong = whoami(&serial, "135792");
    assert_eq!(wrong["error"]["code"], "wrong_mfa_code", "{wrong}");
    assert!(
        wrong["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wait for the next code"),
        "{wrong}"
    );
    assert!(
        w.cached_sessions().is_empty(),
        "a refused code caches nothing"
    );

    let right = whoami(&serial, "246813");
    assert_eq!(right["status"], "ok", "{right}");
    assert_eq!(sts.accepted(&serial), 1);
    // The same code again (the session forgotten): STS refuses a code it has seen.
    fs::remove_dir_all(w.dir.path().join(".aws/cli/cache")).unwrap();
    let reused = whoami(&serial, "246813");
    assert_eq!(reused["error"]["code"], "wrong_mfa_code", "{reused}");

    let unknown = whoami(&format!("arn:aws:iam::{ACCOUNT}:mfa/nobody"), "246813");
    assert_eq!(unknown["error"]["code"], "unknown_mfa_device", "{unknown}");
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("arn:aws:iam::ACCOUNT:mfa/NAME"));
}

#[tokio::test]
async fn the_command_line_asks_for_the_mfa_code_on_the_terminal_and_again_after_a_wrong_one() {
    use std::io::{Read, Write};
    let w = World::new();
    let (sts, serial, _) = w.mfa_role("975310");
    let shell = format!("'{}' whoami admin --json", env!("CARGO_BIN_EXE_keyrack"));
    let mut child = w
        .command_via("script", &sts.url)
        .args(["-qefc", &shell, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut stdout, mut shown) = (child.stdout.take().unwrap(), Vec::new());
    let mut stdin = child.stdin.take().unwrap();
    support::read_until(&mut stdout, &mut shown, "MFA code of");
    assert!(String::from_utf8_lossy(&shown).contains(&serial));
    stdin.write_all(b"111111\n").unwrap();
    support::read_until(&mut stdout, &mut shown, "AWS did not accept that code");
    stdin.write_all(b"975310\n").unwrap();
    stdout.read_to_end(&mut shown).unwrap();
    assert!(child.wait().unwrap().success());
    let shown = String::from_utf8_lossy(&shown);
    assert!(
        !shown.contains("111111") && !shown.contains("975310"),
        "a code is never shown: {shown}"
    );
    let json = &shown[shown.find('[').unwrap()..];
    let answer: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(answer[0]["status"], "ok", "{answer}");
    assert_eq!(sts.accepted(&serial), 1);
}

#[tokio::test]
async fn keyracks_that_need_the_same_mfa_role_at_once_spend_one_code_and_share_its_session() {
    let w = World::new();
    let (sts, serial, _) = w.mfa_role("424242");
    // Four at once, each with the code (as scripts started together would be): STS accepts a
    // code once, so without the sign-in lock all but one would be refused.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            w.command_via(env!("CARGO_BIN_EXE_keyrack"), &sts.url)
                .args(["whoami", "admin", "--mfa-code", "424242", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(json_of(&out)[0]["status"], "ok");
    }
    assert_eq!(sts.accepted(&serial), 1, "one code spent for all four");
}

#[tokio::test]
async fn a_code_given_on_the_command_line_is_spent_on_one_role_and_never_sent_twice() {
    let w = World::new();
    let (sts, serial) = w.mfa_stand("314159");
    let role = |name: &str| {
        format!(
            "[profile {name}]\nrole_arn = {}\nsource_profile = dev\nmfa_serial = {serial}\nrole_session_name = {name}\n",
            deployer_arn()
        )
    };
    let config = format!("{}{}", role("first"), role("second"));
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    let out = w.keyrack_via(
        &sts.url,
        &config,
        &credentials,
        &["whoami", "--all", "--mfa-code", "314159", "--json"],
    );
    let answers = json_of(&out);
    let codes: Vec<&str> = answers
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["profile"] != "dev")
        .map(|a| a["error"]["code"].as_str().unwrap_or("ok"))
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, ["needs_mfa", "ok"], "{answers}");
    assert_eq!(sts.accepted(&serial), 1);
}

#[test]
fn an_mfa_code_of_the_wrong_shape_is_refused_before_anything_is_read_or_sent() {
    let w = World::new();
    let config = format!(
        "[profile admin]\nrole_arn = {}\nsource_profile = dev\nmfa_serial = arn:aws:iam::{ACCOUNT}:mfa/alice\n",
        deployer_arn()
    );
    for bad in ["12345", "12a456"] {
        let out = w.keyrack(&config, "", &["whoami", "admin", "--mfa-code", bad]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("an MFA code is the 6 digits") && stderr.contains("nothing was sent"),
            "{stderr}"
        );
        assert!(!stderr.contains(bad), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    // `--mfa-code -` takes it from stdin (out of the process list), checked the same way.
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .args(["whoami", "admin", "--mfa-code", "-"])
        .env_clear()
        .env("HOME", w.dir.path())
        .env("AWS_CONFIG_FILE", w.path("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", w.path("credentials"))
        .env("AWS_ENDPOINT_URL", &w.url)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"12a45\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("an MFA code is the 6 digits") && !stderr.contains("12a45"),
        "{stderr}"
    );
    assert!(w.cached_sessions().is_empty());
}

#[tokio::test]
async fn keys_lists_both_keys_with_their_holders_and_statuses() {
    let w = World::new();
    let config = format!(
        "[profile dev-config]\n{}[profile other]\nregion = eu-west-1\n",
        keys(&w.alice)
    );
    let credentials = format!("[dev]\n{}[bob]\n{}", keys(&w.alice), keys(&w.bob));
    let out = w.keyrack(&config, &credentials, &["keys", "dev", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = json_of(&out);
    assert_eq!(listed["user"], "alice");
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{listed}");
    let key = |id: &str| keys.iter().find(|k| k["access_key_id"] == id).unwrap();
    let active = key(&w.alice.access_key_id);
    assert_eq!(active["status"], "active");
    assert_eq!(active["profiles"], json!(["dev-config", "dev"]));
    assert_eq!(active["age_days"], 0);
    assert!(active["created"].as_str().unwrap().ends_with('Z'));
    assert!(active["last_used"].is_null() || active["last_used"].as_str().unwrap().ends_with('Z'));
    let inactive = key(&w.alice_inactive.access_key_id);
    assert_eq!(inactive["status"], "inactive");
    assert_eq!(inactive["profiles"], json!([]));

    let text = w.keyrack(&config, &credentials, &["keys", "dev"]);
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.starts_with("user alice ("), "{stdout}");
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
}

#[tokio::test]
async fn keys_of_a_role_profile_explain_that_roles_have_no_keys() {
    let w = World::new();
    let config = format!(
        "[profile role]\nrole_arn = {}\nsource_profile = dev\n",
        deployer_arn()
    );
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    let out = w.keyrack(&config, &credentials, &["keys", "role", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"]["code"], "not_a_user");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an IAM user"), "{stderr}");
}

// Diagnosing by the real cause.

#[tokio::test]
async fn a_region_with_an_inline_comment_is_diagnosed_as_the_region_never_the_secret() {
    let w = World::new();
    let config = "[profile dev]\nregion = us-west-2 # oregon\noutput = json\n";
    let credentials = format!("[dev]\n{}", keys(&w.alice));
    let out = w.keyrack(config, &credentials, &["whoami", "dev", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let entry = &json_of(&out)[0];
    assert_eq!(entry["error"]["code"], "invalid_region", "{entry}");
    let message = entry["error"]["message"].as_str().unwrap();
    let config_path = w.path("config").display().to_string();
    assert!(
        message.contains(&format!("{config_path}, line 2")),
        "{message}"
    );
    assert!(
        message.contains("move '# oregon' to its own line"),
        "{message}"
    );
    assert!(message.contains("'region = us-west-2'"), "{message}");
    assert!(
        !message.contains("wrong secret") && !message.contains("copy the secret"),
        "{message}"
    );

    let text = w.keyrack(config, &credentials, &["whoami", "dev"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("invalid_region") && !stdout.contains("wrong secret"),
        "{stdout}"
    );

    // The AWS CLI refuses the same files for the same reason, before sending anything.
    let (config_path, credentials_path) = w.write_files(config, &credentials);
    let aws = Command::new(support::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--profile", "dev"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.dir.path())
        .env("AWS_CONFIG_FILE", &config_path)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials_path)
        .env("AWS_ENDPOINT_URL", &w.url)
        .output()
        .unwrap();
    assert!(!aws.status.success());
    let stderr = String::from_utf8_lossy(&aws.stderr);
    assert!(
        stderr
            .contains("Provided region_name 'us-west-2 # oregon' doesn't match a supported format"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_region_in_the_environment_that_the_aws_cli_refuses_is_named_as_such() {
    let w = World::new();
    let files = AwsFiles::from_bytes(b"", format!("[dev]\n{}", keys(&w.alice)).as_bytes());
    let env = EndpointEnv::from_pairs([
        ("AWS_ENDPOINT_URL", w.url.as_str()),
        ("AWS_DEFAULT_REGION", "eu west 1"),
    ]);
    let session = Session::new(files.read(Dialect::Cli), env, SessionOptions::default());
    let err = check_identity(&session, "dev").await.unwrap_err();
    assert_eq!(err.code(), "invalid_region");
    let message = err.to_string();
    assert!(
        message.contains("environment variable AWS_DEFAULT_REGION")
            && message.contains("the AWS CLI refuses"),
        "{message}"
    );
    assert_error_has_no_secret(&err, &w.secrets());
    // AWS_REGION is read by the SDKs (and keyrack), not by the AWS CLI: it is not blamed.
    let env = EndpointEnv::from_pairs([
        ("AWS_ENDPOINT_URL", w.url.as_str()),
        ("AWS_REGION", "eu west 1"),
    ]);
    let session = Session::new(files.read(Dialect::Cli), env, SessionOptions::default());
    let err = check_identity(&session, "dev").await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("environment variable AWS_REGION")
            && message.contains("the AWS SDKs refuse")
            && !message.contains("AWS CLI"),
        "{message}"
    );
}

/// Whether botocore (`Session._resolve_region_name`, where the AWS CLI validates the region
/// when it creates a client) accepts the region of `[default]` in each config file.
fn botocore_accepts_regions(configs: &[PathBuf]) -> Vec<bool> {
    let script = r#"
import sys, botocore.session
from botocore.exceptions import InvalidRegionError
for path in sys.stdin.read().splitlines():
    session = botocore.session.Session()
    session.set_config_variable('config_file', path)
    session.set_config_variable('credentials_file', '/nonexistent')
    try:
        session._resolve_region_name(None, None)
        print('ok')
    except InvalidRegionError:
        print('refused')
"#;
    let mut child = Command::new(support::venv_bin("python"))
        .args(["-c", script])
        .env_clear()
        .env("PYTHONUTF8", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = configs
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "ok")
        .collect()
}

#[test]
fn regions_are_refused_exactly_when_botocore_refuses_them_on_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut values: Vec<String> = [
        "us-west-2",
        "us-west-2 # oregon",
        "eu-west-1 ;ireland",
        "us-west-2#x",
        "",
        "123",
        "0",
        "1a",
        "-us",
        "us-",
        "a--b",
        "US-EAST-1",
        "us_east_1",
        "us east 1",
        "é-1",
        "aws-global",
        "us-west-2\n  continued",
        "local",
        "x\u{a0}y",
    ]
    .map(String::from)
    .to_vec();
    values.push("a".repeat(63));
    values.push("a".repeat(64));
    // Generated values from the characters that matter, in every length up to 70.
    let alphabet = ['a', 'Z', '7', '-', '_', '#', ' ', '.', ';'];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for length in 0..=70 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut state = seed;
        let value: String = (0..length)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Mostly letters and digits, so that long valid names come up too.
                let pick = ((state >> 33) % 20) as usize;
                if pick < 14 {
                    alphabet[pick % 3]
                } else {
                    alphabet[3 + (pick - 14) % 6]
                }
            })
            .collect();
        values.push(value);
    }
    let mut configs = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let path = dir.path().join(format!("config{index}"));
        fs::write(&path, format!("[default]\nregion = {value}\n")).unwrap();
        configs.push(path);
    }
    let botocore = botocore_accepts_regions(&configs);
    assert_eq!(botocore.len(), values.len());
    let mut refused = 0;
    for ((value, path), accepted) in values.iter().zip(&configs).zip(botocore) {
        let files = AwsFiles::from_bytes(&fs::read(path).unwrap(), b"");
        let session = Session::new(
            files.read(Dialect::Cli),
            EndpointEnv::default(),
            SessionOptions::default(),
        );
        let ours = session.endpoint("default", Service::Sts);
        let refused_here = matches!(&ours, Err(e) if e.code() == "invalid_region");
        assert_eq!(
            !refused_here, accepted,
            "region = {value:?}: keyrack {ours:?}"
        );
        refused += usize::from(refused_here);
    }
    assert!(
        refused > 10 && refused < values.len() - 10,
        "{refused} of {} refused",
        values.len()
    );
}

#[tokio::test]
async fn a_settings_only_default_is_neutral_in_whoami_all_but_fails_when_named() {
    let w = World::new();
    let config = "[default]\nregion = eu-west-1\noutput = json\n";
    let credentials = format!("[work]\n{}", keys(&w.alice));
    let out = w.keyrack(config, &credentials, &["whoami", "--all", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = json_of(&out);
    let default = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["profile"] == "default")
        .unwrap();
    assert_eq!(default["status"], "settings_only", "{default}");
    assert!(
        default["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only settings (region, output)"),
        "{default}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = w.keyrack(config, &credentials, &["whoami", "--all"]);
    assert_eq!(text.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&text.stdout);
    let line = stdout.lines().find(|l| l.starts_with("default ")).unwrap();
    assert!(line.contains("settings only (region, output)"), "{stdout}");
    assert!(
        !line.contains("no_credentials") && !line.contains("settings_only"),
        "{stdout}"
    );

    let named = w.keyrack(config, &credentials, &["whoami", "default", "--json"]);
    assert_eq!(named.status.code(), Some(1));
    assert_eq!(json_of(&named)[0]["status"], "failed");
    assert_eq!(json_of(&named)[0]["error"]["code"], "settings_only");
    let implicit = w.keyrack(config, &credentials, &["whoami"]);
    assert_eq!(implicit.status.code(), Some(1));
}

#[tokio::test]
async fn a_signature_refused_by_an_endpoint_signed_for_a_region_the_cli_would_not_use_is_not_blamed_on_the_secret(
) {
    let w = World::new();
    let wrong = Credentials::new(w.bob.access_key_id.clone(), "q".repeat(40), None);
    let files = AwsFiles::from_bytes(
        b"[profile dev]\nregion = us-east-2\n",
        format!("[dev]\n{}", keys(&wrong)).as_bytes(),
    );
    let check = |env: EndpointEnv| {
        let session = Session::new(files.read(Dialect::Cli), env, SessionOptions::default());
        async move { check_identity(&session, "dev").await.unwrap_err() }
    };
    let err = check(EndpointEnv::from_pairs([
        ("AWS_ENDPOINT_URL", w.url.as_str()),
        ("AWS_REGION", "eu-west-1"),
    ]))
    .await;
    assert_eq!(err.code(), "signing_region_differs", "{err}");
    let message = err.to_string();
    assert!(
        message.contains("'eu-west-1' from AWS_REGION")
            && message.contains("signs for 'us-east-2'"),
        "{message}"
    );
    assert_error_has_no_secret(&err, &[w.secrets(), vec!["q".repeat(40)]].concat());
    // Signed for the region the AWS CLI uses too, the secret is what is left.
    let err = check(EndpointEnv::from_pairs([(
        "AWS_ENDPOINT_URL",
        w.url.as_str(),
    )]))
    .await;
    assert_eq!(err.code(), "wrong_secret", "{err}");
}

#[tokio::test]
async fn a_signature_mismatch_while_the_clock_is_far_off_blames_the_clock_not_the_secret() {
    let w = World::new();
    let wrong = Credentials::new(w.bob.access_key_id.clone(), "k".repeat(40), None);
    let files = AwsFiles::from_bytes(b"", format!("[dev]\n{}", keys(&wrong)).as_bytes());
    let through = |shift: i64| {
        let proxy = support::clock_proxy::ClockProxy::start(&w.url, shift);
        let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", proxy.url.clone())]);
        let session = Session::new(files.read(Dialect::Cli), env, SessionOptions::default());
        async move {
            let err = check_identity(&session, "dev").await.unwrap_err();
            drop(proxy);
            err
        }
    };
    let err = through(2 * 3600).await;
    assert_eq!(err.code(), "clock_skew", "{err}");
    let message = err.to_string();
    assert!(message.contains("120 minutes behind AWS's"), "{message}");
    assert!(!message.contains("wrong secret"), "{message}");
    assert_error_has_no_secret(&err, &[w.secrets(), vec!["k".repeat(40)]].concat());
    let err = through(-3 * 3600).await;
    assert!(
        err.to_string().contains("180 minutes ahead of AWS's"),
        "{err}"
    );
    // The same proxy with AWS's own time: the secret is what is wrong.
    let err = through(0).await;
    assert_eq!(err.code(), "wrong_secret", "{err}");
    assert!(
        err.to_string().starts_with("wrong secret access key"),
        "{err}"
    );
}

// Key-only profiles with an MFA device: GetSessionToken sessions, one per device, in the keychain.

/// A person at the keyboard who types the code `code` each time keyrack asks, and what they were
/// asked.
struct Typist {
    code: String,
    asked: std::sync::Mutex<Vec<keyrack::identity::mfa::MfaRequest>>,
}

impl Typist {
    fn new(code: &str) -> std::sync::Arc<Typist> {
        std::sync::Arc::new(Typist {
            code: code.to_owned(),
            asked: Default::default(),
        })
    }

    fn times_asked(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

impl keyrack::identity::mfa::MfaPrompt for Typist {
    fn code(
        &self,
        request: &keyrack::identity::mfa::MfaRequest,
    ) -> Option<keyrack::identity::mfa::MfaCode> {
        self.asked.lock().unwrap().push(request.clone());
        keyrack::identity::mfa::MfaCode::parse(&self.code).ok()
    }
}

impl World {
    /// A session over these files through the MFA stand-in at `url`, keeping MFA sessions in
    /// `keychain` and asking `typist` for codes (one run of keyrack).
    fn mfa_session(
        &self,
        url: &str,
        (config, credentials): (&str, &str),
        keychain: &keyrack::keychain::Keychain,
        typist: Option<std::sync::Arc<Typist>>,
    ) -> Session {
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        let options = SessionOptions {
            client: quick_retries(),
            keychain: keychain.clone(),
            mfa_prompt: typist.map(|t| t as std::sync::Arc<dyn keyrack::identity::mfa::MfaPrompt>),
            state_dir: Some(self.path("state")),
            ..SessionOptions::default()
        };
        Session::new(
            files.read(Dialect::Cli),
            EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", url)]),
            options,
        )
    }

    /// alice's key on `base`, which names her MFA device, and a role `admin` assumed with it;
    /// the stand-in knows alice's key (`mfa_required`: IAM refuses it without MFA).
    fn key_behind_device(
        &self,
        sts: &support::sts_mfa::MfaSts,
        serial: &str,
        mfa_required: bool,
    ) -> (String, String) {
        let arn = format!("arn:aws:iam::{ACCOUNT}:user/alice");
        let alice = &self.alice;
        sts.user_key(
            &alice.access_key_id,
            alice.secret_access_key.expose(),
            &arn,
            mfa_required,
        );
        let config = format!(
            "[profile base]\nmfa_serial = {serial}\n\
             [profile admin]\nrole_arn = {}\nsource_profile = base\n",
            deployer_arn()
        );
        (config, format!("[base]\n{}", keys(alice)))
    }
}

#[tokio::test]
async fn a_key_behind_an_mfa_device_answers_with_its_key_until_one_code_unlocks_every_profile_behind_it(
) {
    let w = World::new();
    let (sts, serial) = w.mfa_stand("556677");
    let (config, credentials) = w.key_behind_device(&sts, &serial, false);
    let keychain = keyrack::keychain::Keychain::in_memory();
    let typist = Typist::new("556677");
    let files = (config.as_str(), credentials.as_str());
    let run = w.mfa_session(&sts.url, files, &keychain, Some(typist.clone()));

    // Who the key is needs no MFA: no code is asked for, no session is had.
    let who = check_identity(&run, "base").await.unwrap();
    assert_eq!(who.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(typist.times_asked(), 0);
    assert_eq!(sts.sessions_issued(), 0);
    assert_eq!(run.session_expiry("base"), None);

    // The role uses the device's session: one question, naming every profile it unlocks.
    let role = check_identity(&run, "admin").await.unwrap();
    assert!(role.arn.contains(":assumed-role/deployer/"), "{}", role.arn);
    assert_eq!(typist.times_asked(), 1);
    let asked = typist.asked.lock().unwrap()[0].clone();
    assert_eq!(asked.serial, serial);
    assert_eq!(asked.unlocks, ["base", "admin"]);
    assert_eq!(asked.session_seconds, 12 * 3600);
    assert!(!asked.aws_cli_shares);
    assert_eq!(sts.sessions_issued(), 1);
    assert_eq!(sts.accepted(&serial), 1);

    // Kept in the keychain, for alice's key, for 12 hours.
    let kept = keychain
        .mfa_session(&serial)
        .unwrap()
        .expect("a session is kept");
    assert_eq!(kept.made_with, w.alice.access_key_id);
    assert!(kept.credentials.access_key_id.starts_with("ASIA"));
    let left = kept.minutes_left(time::OffsetDateTime::now_utc());
    assert!((715..=720).contains(&left), "{left}");

    // The next run asks nobody: both profiles answer from the kept session, as alice.
    let next = w.mfa_session(&sts.url, files, &keychain, None);
    let outcomes = check_all(&next, &["base".into(), "admin".into()], 4, |_| {}).await;
    for outcome in &outcomes {
        assert!(outcome.result.is_ok(), "{outcome:?}");
    }
    assert_eq!(outcomes[0].result.as_ref().unwrap().arn, who.arn);
    assert!(next.session_expiry("base").is_some());
    assert_eq!(sts.sessions_issued(), 1, "no second session");
}

#[tokio::test]
async fn iam_calls_of_a_user_who_must_use_mfa_are_signed_with_the_devices_session() {
    let w = World::new();
    let (sts, serial) = w.mfa_stand("707070");
    let (config, credentials) = w.key_behind_device(&sts, &serial, true);
    let keychain = keyrack::keychain::Keychain::in_memory();
    let typist = Typist::new("707070");

    // Without mfa_serial the key alone calls IAM, and IAM refuses it.
    let plain = config.replace(&format!("mfa_serial = {serial}\n"), "");
    let files = AwsFiles::from_bytes(plain.as_bytes(), credentials.as_bytes());
    let run = w.mfa_session(&sts.url, (&plain, &credentials), &keychain, None);
    let refused = list_user_keys(&run, &files, "base").await.unwrap_err();
    assert_eq!(refused.code(), "access_denied", "{refused}");
    assert!(refused.to_string().contains("mfa_serial"), "{refused}");
    assert_eq!(sts.refused_without_mfa(), 1);

    // With it, keyrack asks for a code once and lists the keys through the session.
    let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
    let run = w.mfa_session(
        &sts.url,
        (&config, &credentials),
        &keychain,
        Some(typist.clone()),
    );
    let listed = list_user_keys(&run, &files, "base").await.unwrap();
    assert_eq!(listed.user, "alice");
    assert_eq!(listed.keys.len(), 2);
    assert_eq!(typist.times_asked(), 1);
    assert_eq!(sts.refused_without_mfa(), 1, "no IAM call went without MFA");
}

#[tokio::test]
async fn what_sts_refuses_about_mfa_sessions_is_said_before_sending_and_the_stand_in_refuses_it_too(
) {
    let w = World::new();
    let (sts, serial) = w.mfa_stand("131313");
    let (config, credentials) = w.key_behind_device(&sts, &serial, false);
    let keychain = keyrack::keychain::Keychain::in_memory();
    let typist = Typist::new("131313");
    let ask = |config: &str, credentials: &str| {
        let run = w.mfa_session(
            &sts.url,
            (config, credentials),
            &keychain,
            Some(typist.clone()),
        );
        async move { run.credentials_with_mfa("base").await.unwrap_err() }
    };
    let too_long = config.replace(
        "\n[profile admin]",
        "\nduration_seconds = 200000\n[profile admin]",
    );
    let error = ask(&too_long, &credentials).await;
    assert_eq!(error.code(), "session_too_long", "{error}");
    assert!(error.to_string().contains("36 hours"), "{error}");
    let session_keys = format!("{credentials}aws_session_token = IQoJb3JpZ2luX2VjEXAMPLE\n");
    let error = ask(&config, &session_keys).await;
    assert_eq!(error.code(), "session_from_session", "{error}");
    assert_eq!(
        typist.times_asked(),
        0,
        "nobody is asked for a code STS would refuse"
    );

    // The stand-in refuses the same, in STS's words, when asked anyway.
    let client = AwsClient::new(quick_retries()).unwrap();
    let sts_endpoint = endpoint(&sts.url, Service::Sts);
    let direct = sts::get_session_token(
        &client,
        &sts_endpoint,
        &w.alice,
        Some(200_000),
        (&serial, "131313"),
    )
    .await
    .unwrap_err();
    assert!(
        direct.to_string().contains("less than or equal to 129600"),
        "{direct}"
    );
    sts.show(&serial, "242424");
    let session =
        sts::get_session_token(&client, &sts_endpoint, &w.alice, None, (&serial, "242424"))
            .await
            .unwrap();
    sts.show(&serial, "353535");
    let again = sts::get_session_token(
        &client,
        &sts_endpoint,
        &session.credentials,
        None,
        (&serial, "353535"),
    )
    .await
    .unwrap_err();
    assert!(
        again
            .to_string()
            .contains("Cannot call GetSessionToken with session credentials"),
        "{again}"
    );
    // A session's signature is checked, and it ends.
    let mut forged = session.credentials.clone();
    forged.secret_access_key = keyrack::secret::Secret::new("x".repeat(40));
    let refused = sts::get_caller_identity(&client, &sts_endpoint, &forged)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, keyrack::aws::AwsError::WrongSecret { .. }),
        "{refused}"
    );
    sts.expire_sessions();
    let expired = sts::get_caller_identity(&client, &sts_endpoint, &session.credentials)
        .await
        .unwrap_err();
    assert!(
        matches!(expired, keyrack::aws::AwsError::ExpiredToken { .. }),
        "{expired}"
    );
}

#[tokio::test]
async fn a_kept_mfa_session_aws_no_longer_takes_is_forgotten_and_the_key_answers() {
    let w = World::new();
    let (sts, serial) = w.mfa_stand("818181");
    let (config, credentials) = w.key_behind_device(&sts, &serial, false);
    let keychain = keyrack::keychain::Keychain::in_memory();
    let files = (config.as_str(), credentials.as_str());
    let run = w.mfa_session(&sts.url, files, &keychain, Some(Typist::new("818181")));
    run.credentials_with_mfa("base").await.unwrap();
    assert!(keychain.mfa_session(&serial).unwrap().is_some());

    // Revoked at AWS (here: ended early) while the keychain still says it has hours left.
    sts.expire_sessions();
    let next = w.mfa_session(&sts.url, files, &keychain, None);
    let who = check_identity(&next, "base").await.unwrap();
    assert_eq!(who.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(
        keychain.mfa_session(&serial).unwrap(),
        None,
        "the dead session is gone"
    );
    assert_eq!(next.session_expiry("base"), None);
}

#[tokio::test]
async fn codes_of_a_totp_device_work_in_their_step_and_the_next_and_never_twice() {
    let w = World::new();
    let sts = support::sts_mfa::MfaSts::start(&w.url);
    let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/alice-phone");
    let secret = b"keyrack-test-authenticator-secret";
    sts.totp_device(&serial, secret);
    let (config, credentials) = w.key_behind_device(&sts, &serial, false);
    let files = (config.as_str(), credentials.as_str());
    // Not at the very end of a step, so that "now" stays in it while the test runs.
    if time::OffsetDateTime::now_utc().unix_timestamp() % 30 > 25 {
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sign_in = |code: String| {
        let keychain = keyrack::keychain::Keychain::in_memory();
        let run = w.mfa_session(&sts.url, files, &keychain, None);
        let given = keyrack::identity::mfa::GivenCode::new(
            keyrack::identity::mfa::MfaCode::parse(&code).unwrap(),
        );
        let run = Session::new(
            run.reading().clone(),
            EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", sts.url.as_str())]),
            SessionOptions {
                client: quick_retries(),
                keychain,
                mfa_code: Some(given),
                ..SessionOptions::default()
            },
        );
        async move {
            run.credentials_with_mfa("base")
                .await
                .map(|_| ())
                .map_err(|e| e.code())
        }
    };
    // Two steps old: too old. The step before (an app a little behind) and this one: taken.
    let too_old = support::sts_mfa::totp(secret, now - 60);
    assert_eq!(sign_in(too_old).await, Err("wrong_mfa_code"));
    let previous = support::sts_mfa::totp(secret, now - 30);
    let current = support::sts_mfa::totp(secret, now);
    if previous != current {
        assert_eq!(sign_in(previous).await, Ok(()));
    }
    assert_eq!(sign_in(current.clone()).await, Ok(()));
    // The same code again: refused, as STS refuses a code it has seen.
    assert_eq!(sign_in(current).await, Err("wrong_mfa_code"));
}

// IAM Identity Center (SSO): the sign-in the AWS CLI keeps, the portal's role credentials.

/// The access token of alice's sign-in in the SSO tests (a secret: never shown).
const SSO_TOKEN: &str = "aoaAAAAAGgEXAMPLESSOACCESSTOKEN0123456789";

impl World {
    /// The portal stand-in (role credentials assumed at moto with alice's key), with alice signed
    /// in and her "Dev" role assigned; and the config of profile `dev` on sso-session `corp`.
    /// Tools reach the stand-in through `AWS_ENDPOINT_URL_SSO` ([`World::sso_keyrack`]).
    fn sso_stand(&self) -> (support::sso_portal::SsoPortal, String) {
        let portal = support::sso_portal::SsoPortal::start(&self.url, &self.alice);
        portal.sign_in(SSO_TOKEN, "alice@example.com");
        portal.assign(ACCOUNT, "Dev");
        let config = format!(
            "[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = Dev\n\
             region = us-east-1\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
             sso_registration_scopes = sso:account:access\n"
        );
        (portal, config)
    }

    /// Keep a sign-in of sso-session `corp` that ends in `hours`, as the AWS CLI keeps it.
    fn keep_sso_sign_in(&self, hours: i64) {
        self.keep_sso_sign_in_for(time::Duration::hours(hours));
    }

    fn keep_sso_sign_in_for(&self, lasts: time::Duration) {
        let session = ("corp", "https://corp.awsapps.com/start", "eu-west-1");
        support::sso_portal::keep_sign_in(self.dir.path(), session, SSO_TOKEN, lasts);
    }

    /// keyrack on these files, reaching the portal (and OIDC) stand-in at `portal`.
    fn sso_keyrack(
        &self,
        portal: &support::sso_portal::SsoPortal,
        config: &str,
        args: &[&str],
    ) -> Output {
        let portal_env = [
            ("AWS_ENDPOINT_URL_SSO", portal.url.as_str()),
            ("AWS_ENDPOINT_URL_SSO_OIDC", portal.url.as_str()),
        ];
        self.keyrack_with(&self.url, &portal_env, config, "", args)
    }

    /// botocore's SSO provider on these files with the AWS CLI's credential cache (as AWS CLI v2
    /// sets it up), reaching the portal at `portal`: who it says `dev` is (the UserId), or its
    /// error.
    fn botocore_sso(&self, portal: &support::sso_portal::SsoPortal) -> Result<String, String> {
        let script = r#"
import os
import botocore.session
from botocore.utils import JSONFileCache
session = botocore.session.Session(profile="dev")
provider = session.get_component("credential_provider").get_provider("sso")
provider.cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
client = session.create_client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
print(client.get_caller_identity()["UserId"])
"#;
        let python = support::venv_bin("python");
        let out = self
            .command_via(python.to_str().unwrap(), &self.url)
            .args(["-c", script])
            .env("AWS_ENDPOINT_URL_SSO", &portal.url)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &portal.url)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

#[tokio::test]
async fn an_sso_profile_answers_with_its_role_from_the_sign_in_the_aws_cli_keeps() {
    let w = World::new();
    let (portal, config) = w.sso_stand();
    w.keep_sso_sign_in(8);
    let out = w.sso_keyrack(&portal, &config, &["whoami", "dev", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let ours = json_of(&out)[0].clone();
    let role = support::sso_portal::reserved_role("Dev");
    assert_eq!(
        ours["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/alice@example.com"),
        "{ours}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SSO_TOKEN));
    assert_eq!(portal.issued(), 1);
    // botocore's SSO provider, on the same files and sign-in, says the same.
    let theirs = w.botocore_sso(&portal).unwrap();
    assert_eq!(ours["user_id"], theirs.as_str());
    // keyrack kept the role's credentials where and as botocore keeps them: botocore answered
    // from them, not from the portal.
    assert_eq!(
        portal.issued(),
        1,
        "botocore used keyrack's cached role credentials"
    );
    assert_eq!(w.cached_sessions().len(), 1);
    let cached = fs::read_to_string(
        w.dir
            .path()
            .join(".aws/cli/cache")
            .join(&w.cached_sessions()[0]),
    )
    .unwrap();
    assert!(
        cached.contains("\"ProviderType\": \"sso\"") || cached.contains("\"ProviderType\":\"sso\""),
        "{cached}"
    );

    // And the other way round: role credentials botocore cached are used by keyrack, even with
    // the sign-in gone from the portal.
    fs::remove_dir_all(w.dir.path().join(".aws/cli/cache")).unwrap();
    let theirs = w.botocore_sso(&portal).unwrap();
    assert_eq!(portal.issued(), 2);
    portal.sign_out(SSO_TOKEN);
    let again = json_of(&w.sso_keyrack(&portal, &config, &["whoami", "dev", "--json"]))[0].clone();
    assert_eq!(again["status"], "ok", "{again}");
    assert_eq!(again["user_id"], theirs.as_str());
    assert!(
        again["session_minutes_left"].as_i64().unwrap() > 50,
        "{again}"
    );
}

#[tokio::test]
async fn an_sso_profile_without_a_working_sign_in_or_assignment_says_what_to_do() {
    let w = World::new();
    let (portal, config) = w.sso_stand();
    let whoami = |config: &str| {
        json_of(&w.sso_keyrack(&portal, config, &["whoami", "dev", "--json"]))[0]["error"].clone()
    };

    let never = whoami(&config);
    assert_eq!(never["code"], "needs_sso_login", "{never}");
    let said = never["message"].as_str().unwrap();
    assert!(
        said.contains("no sign-in is kept") && said.contains("keyrack sso login corp"),
        "{said}"
    );

    w.keep_sso_sign_in(-1);
    let ended = whoami(&config);
    assert_eq!(ended["code"], "needs_sso_login");
    assert!(
        ended["message"]
            .as_str()
            .unwrap()
            .contains("its sign-in ended at"),
        "{ended}"
    );

    w.keep_sso_sign_in(8);
    portal.sign_out(SSO_TOKEN);
    let refused = whoami(&config);
    assert_eq!(refused["code"], "needs_sso_login");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("no longer takes its sign-in"),
        "{refused}"
    );

    portal.sign_in(SSO_TOKEN, "alice@example.com");
    let other_role = config.replace("sso_role_name = Dev", "sso_role_name = Admin");
    let unassigned = whoami(&other_role);
    assert_eq!(unassigned["code"], "sso_role_not_assigned", "{unassigned}");
    assert!(
        unassigned["message"]
            .as_str()
            .unwrap()
            .contains("role Admin in account"),
        "{unassigned}"
    );

    let clash = config.replace(
        "region = us-east-1\n",
        "region = us-east-1\nsso_region = us-west-2\n",
    );
    let refused_by_botocore = whoami(&clash);
    assert_eq!(
        refused_by_botocore["code"], "invalid_config",
        "{refused_by_botocore}"
    );
    assert!(w
        .botocore_sso(&portal)
        .unwrap_err()
        .contains("inconsistent"));
    assert_eq!(portal.issued(), 0);
}

#[tokio::test]
async fn an_sso_sign_in_about_to_end_is_refreshed_and_kept_as_the_aws_cli_keeps_it() {
    let w = World::new();
    let (portal, config) = w.sso_stand();
    // The answer has no new refresh token: the old one must be kept (botocore drops it).
    portal.refreshable(
        ("client-id", "client-secret"),
        "refresh-token",
        "alice@example.com",
        false,
    );
    w.keep_sso_sign_in_for(time::Duration::minutes(5));
    let out = w.sso_keyrack(&portal, &config, &["whoami", "dev", "--json"]);
    let ours = json_of(&out)[0].clone();
    assert_eq!(ours["status"], "ok", "{ours}");
    assert_eq!(portal.refreshed(), 1);
    let cache = w.dir.path().join(".aws/sso/cache");
    let files: Vec<_> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "the refreshed sign-in replaced the old one: {files:?}"
    );
    let kept: Value = serde_json::from_str(&fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_ne!(kept["accessToken"], SSO_TOKEN);
    assert_eq!(kept["refreshToken"], "refresh-token", "{kept}");
    assert_eq!(kept["clientId"], "client-id");
    assert_eq!(kept["startUrl"], "https://corp.awsapps.com/start");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // botocore reads the refreshed sign-in: with the role credentials gone, its SSO provider
    // asks the portal with the new token, which the portal takes (the old one too, here).
    fs::remove_dir_all(w.dir.path().join(".aws/cli/cache")).unwrap();
    portal.sign_out(SSO_TOKEN);
    let theirs = w.botocore_sso(&portal).unwrap();
    assert_eq!(ours["user_id"], theirs.as_str());
    // A sign-in that can no longer be refreshed and has ended says so.
    w.keep_sso_sign_in_for(time::Duration::minutes(-5));
    portal.refreshable(
        ("client-id", "other-secret"),
        "refresh-token",
        "alice@example.com",
        false,
    );
    fs::remove_dir_all(w.dir.path().join(".aws/cli/cache")).unwrap();
    let ended = json_of(&w.sso_keyrack(&portal, &config, &["whoami", "dev", "--json"]))[0].clone();
    assert_eq!(ended["error"]["code"], "needs_sso_login", "{ended}");
}

#[test]
fn a_profile_aws_answers_for_is_not_called_working_when_the_aws_cli_cannot_read_the_files() {
    let w = World::new();
    // A line without `=`: keyrack reads the rest, the AWS CLI refuses the whole file.
    let config = "[default]\nregion = us-east-1\nthis line has no equals sign\n";
    let credentials = format!("[default]\n{}", keys(&w.alice));
    let out = w.keyrack(config, &credentials, &["whoami", "--all", "--json"]);
    assert_eq!(out.status.code(), Some(1), "no AWS tool can use it");
    let view = &json_of(&out)[0];
    assert_eq!(view["status"], "aws_tools_cannot_read");
    assert_eq!(view["arn"], alice_arn(), "AWS still answered for it");
    let said = view["error"]["message"].as_str().unwrap();
    assert!(said.contains("config:3"), "{said}");
    // The AWS CLI on the same bytes: it fails, as keyrack says.
    let aws = w.aws(&["sts", "get-caller-identity"]);
    assert!(!aws.status.success());
    assert!(
        String::from_utf8_lossy(&aws.stderr).contains("Unable to parse config file"),
        "{}",
        String::from_utf8_lossy(&aws.stderr)
    );
}

#[test]
fn profiles_sharing_a_key_ask_iam_about_it_once() {
    let w = World::new();
    let proxy = support::clock_proxy::ClockProxy::start(&w.url, 0);
    let credentials = format!("[a]\n{k}[b]\n{k}[c]\n{k}", k = keys(&w.alice));
    let out = w.keyrack_via(&proxy.url, "", &credentials, &["whoami", "--all", "--json"]);
    let views = json_of(&out);
    for view in views.as_array().unwrap() {
        assert_eq!(
            view["key_health"]["access_key_id"],
            w.alice.access_key_id.as_str(),
            "{view}"
        );
        assert!(view["key_health"]["age_days"].is_number(), "{view}");
    }
    assert_eq!(
        proxy.count("GetCallerIdentity"),
        3,
        "each profile is asked who it is"
    );
    assert_eq!(proxy.count("ListAccessKeys"), 1, "one key, one question");
    assert_eq!(proxy.count("GetAccessKeyLastUsed"), 1);

    // A check again the same day asks who each profile is, and takes the key's age and last
    // use from what IAM said last.
    let again =
        json_of(&w.keyrack_via(&proxy.url, "", &credentials, &["whoami", "--all", "--json"]));
    let health = |views: &Value| -> Vec<Value> {
        views
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["key_health"].clone())
            .collect()
    };
    assert_eq!(health(&again), health(&views), "the same answer of IAM");
    assert_eq!(proxy.count("GetCallerIdentity"), 6);
    assert_eq!(proxy.count("ListAccessKeys"), 1, "IAM is not asked again");
    assert_eq!(proxy.count("GetAccessKeyLastUsed"), 1);
}

#[test]
fn whoami_gives_each_keys_age_and_last_use_against_the_rotation_setting() {
    let w = World::new();
    let credentials = format!("[default]\n{}", keys(&w.alice));
    let out = w.keyrack("", &credentials, &["whoami"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        said.contains("days old") && !said.contains("(rotate it)"),
        "{said}"
    );
    let set = w.keyrack(
        "",
        &credentials,
        &["settings", "set", "rotate_after_days", "0"],
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let out = w.keyrack("", &credentials, &["whoami", "--json"]);
    let health = &json_of(&out)[0]["key_health"];
    assert_eq!(health["access_key_id"], w.alice.access_key_id.as_str());
    assert_eq!(health["age_days"], 0);
    assert_eq!(health["rotate_due"], true, "{health}");
    assert_eq!(json_of(&out)[0]["needs_attention"], true);
    let out = w.keyrack("", &credentials, &["whoami"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(rotate it)"));
    let wrong = w.keyrack(
        "",
        &credentials,
        &["settings", "set", "rotate_after_days", "soon"],
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("whole number"));
}
