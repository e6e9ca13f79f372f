//! Signing in to IAM Identity Center with `keyrack sso login` (the browser with PKCE, or a
//! device code), signing out, and serving SSO profiles through `credential-process`, against
//! the strict portal and OIDC stand-in whose role credentials are moto's. The test plays the
//! person's browser (`BROWSER` is a script that notes the page; the test then opens it at the
//! stand-in, which approves as the signed-in user). The AWS CLI and botocore of the test venv
//! use what keyrack keeps.

use keyrack_test_support as support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use keyrack::aws::Credentials;
use support::moto::{set_up, set_up_once, ProcessWideMoto, ACCOUNT};
use support::sso_portal::{reserved_role, SsoPortal};

const USER: &str = "alice@example.com";
const START_URL: &str = "https://corp.awsapps.com/start";

/// The session `corp` and two profiles of it, and a legacy profile with its own start URL.
fn config() -> String {
    format!(
        "# my profiles\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile dev] # the one I use\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n\
         [profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = eu-west-1\n\
         sso_account_id = {ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n"
    )
}

/// The roles of the benchmark's 50 profiles.
fn bench_roles() -> impl Iterator<Item = String> {
    (1..=50).map(|n| format!("Role{n:02}"))
}

/// moto with the roles Identity Center assumes for the `Dev` assignment (and the benchmark's), and the admin key the
/// portal stand-in assumes it with.
struct Stand {
    url: String,
    admin: Credentials,
    _moto: ProcessWideMoto,
}

fn stand() -> &'static Stand {
    static STAND: OnceLock<Stand> = OnceLock::new();
    set_up_once(&STAND, || {
        let moto = ProcessWideMoto::start();
        let url = moto.url.clone();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let admin = runtime.block_on(async {
            let admin = support::moto::set_up_user(&url, "identity-center").await;
            let trust = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/identity-center"}},"Action":"sts:AssumeRole"}}]}}"#
            );
            for role in std::iter::once("Dev".to_owned()).chain(bench_roles()) {
                let role = reserved_role(&role);
                let params = [
                    ("RoleName", role.as_str()),
                    ("AssumeRolePolicyDocument", trust.as_str()),
                ];
                set_up(&url, "CreateRole", &params).await;
            }
            support::moto::enable_auth_at(&url).await;
            admin
        });
        Stand {
            url,
            admin,
            _moto: moto,
        }
    })
}

/// One test: a HOME with the files, the stand-in (Dev assigned to alice, whose browser is
/// signed in), and the browser script's notes.
struct World {
    home: tempfile::TempDir,
    portal: SsoPortal,
}

impl World {
    fn new() -> World {
        let home = tempfile::tempdir().unwrap();
        fs::create_dir_all(home.path().join(".aws")).unwrap();
        fs::write(home.path().join(".aws/config"), config()).unwrap();
        fs::write(home.path().join(".aws/credentials"), "").unwrap();
        let browser = home.path().join("browser");
        fs::write(
            &browser,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                home.path().join("opened").display()
            ),
        )
        .unwrap();
        fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).unwrap();
        let stand = stand();
        let portal = SsoPortal::start(&stand.url, &stand.admin);
        portal.assign(ACCOUNT, "Dev");
        portal.name_account(ACCOUNT, "sandbox");
        portal.browser_signed_in_as(Some(USER));
        World { home, portal }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// `program` as a person runs it here: this HOME, keyrack's state under it, the stand-in
    /// as IAM Identity Center, moto as the rest of AWS, and the browser script.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.path("state"))
            .env("AWS_ENDPOINT_URL", &stand().url)
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.url)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.portal.url)
            .env("BROWSER", self.path("browser"))
            .stdin(Stdio::null());
        command
    }

    /// Why the kept result of `profile` is out of date (`None` when it is current).
    fn stale_because(&self, profile: &str) -> Option<keyrack::rack::StaleCause> {
        let paths = keyrack::files::FilePaths {
            config: self.path(".aws/config"),
            credentials: self.path(".aws/credentials"),
        };
        support::kept_stale_because(paths, &self.path("state").join("keyrack"), profile)
    }

    fn keyrack(&self, args: &[&str]) -> Command {
        let mut command = self.command(Path::new(env!("CARGO_BIN_EXE_keyrack")));
        command.args(args);
        command
    }

    fn start(&self, args: &[&str]) -> Child {
        self.keyrack(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The pages the browser was asked to open so far.
    fn opened(&self) -> Vec<String> {
        fs::read_to_string(self.path("opened"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Wait until the browser was asked to open a page; the first one.
    fn page_opened(&self) -> String {
        let started = Instant::now();
        loop {
            if let Some(page) = self.opened().into_iter().next() {
                return page;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no browser page was opened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The AWS CLI (v1, whose botocore reads SSO sign-ins) with `args`.
    fn aws(&self, args: &[&str]) -> Output {
        self.command(&support::venv_bin("aws"))
            .args(args)
            .output()
            .unwrap()
    }

    fn token_dir(&self) -> PathBuf {
        self.path(".aws/sso/cache")
    }

    /// Each JSON file of the sign-in cache, by file name.
    fn cached(&self) -> Vec<(String, serde_json::Value)> {
        let mut files: Vec<_> = fs::read_dir(self.token_dir())
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .map(|p| {
                        let json = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
                        (p.file_name().unwrap().to_string_lossy().into_owned(), json)
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }

    /// The secrets of the sign-in cache (tokens, client secrets), none of which may be shown.
    fn cached_secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for (_, json) in self.cached() {
            for field in ["accessToken", "refreshToken", "clientSecret"] {
                if let Some(value) = json[field].as_str() {
                    secrets.push(value.to_owned());
                }
            }
        }
        secrets
    }
}

fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `child` printed once it ended; a child still running after two minutes is killed and
/// the test fails with what it had said, instead of hanging the suite.
fn finish(child: Child) -> Output {
    let pid = child.id();
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output().unwrap()));
    match ended.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => out,
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let out = ended.recv().unwrap();
            panic!(
                "keyrack (pid {pid}) was still running after 120 s and was killed; it had said: {}",
                text(&out.stderr)
            );
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_shows_no_secret(w: &World, out: &Output) {
    let secrets = w.cached_secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    support::assert_output_has_no_secret(out, &secrets);
}

/// `keyrack sso login corp` with the test as the browser: it waits for the page, opens it at
/// the stand-in (which approves) and returns what keyrack printed.
fn browser_login(w: &World, args: &[&str]) -> Output {
    let child = w.start(args);
    let page = w.page_opened();
    let back = w
        .portal
        .play_browser(&page)
        .expect("the browser comes back");
    assert!(back.contains("Signed in"), "{back}");
    finish(child)
}

#[test]
fn login_in_the_browser_keeps_a_sign_in_that_the_aws_cli_and_keyrack_use() {
    let w = World::new();
    let out = browser_login(&w, &["sso", "login", "corp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("Signed in to sso-session 'corp' (https://corp.awsapps.com/start) until"),
        "{said}"
    );
    assert!(text(&out.stderr).contains("in the browser page that opened"));
    assert_shows_no_secret(&w, &out);

    // The page asked for the PKCE sign-in, with the loopback redirect the AWS CLI uses.
    let page = &w.opened()[0];
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
        "%2Foauth%2Fcallback",
        "scopes=sso%3Aaccount%3Aaccess",
    ] {
        assert!(page.contains(part), "{part} in {page}");
    }
    // Kept as AWS CLI v2 keeps it: the token under the SHA-1 of the session's name, the
    // registration (for the authorization-code flow) beside it, both 0600.
    let cached = w.cached();
    let token_name = format!("{}.json", sha1_hex("corp"));
    let token = &cached
        .iter()
        .find(|(n, _)| *n == token_name)
        .expect("token file")
        .1;
    for field in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(token.get(field).is_some(), "{field} in the token file");
    }
    assert_eq!(token["startUrl"], START_URL);
    let registration = &cached
        .iter()
        .find(|(n, _)| *n != token_name)
        .expect("registration file")
        .1;
    assert_eq!(
        registration["grantTypes"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    for (name, _) in &cached {
        let mode = fs::metadata(w.token_dir().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }

    // The AWS CLI signs in as the SSO role with keyrack's sign-in...
    let aws = w.aws(&[
        "sts",
        "get-caller-identity",
        "--profile",
        "dev",
        "--output",
        "json",
    ]);
    assert!(aws.status.success(), "{}", text(&aws.stderr));
    let identity: serde_json::Value = serde_json::from_slice(&aws.stdout).unwrap();
    let arn = format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/{}/{USER}",
        reserved_role("Dev")
    );
    assert_eq!(identity["Arn"], arn.as_str());
    // ... and so does keyrack.
    let whoami = w.keyrack(&["whoami", "dev", "--json"]).output().unwrap();
    assert!(whoami.status.success(), "{}", text(&whoami.stdout));
    assert!(text(&whoami.stdout).contains(&arn));
    let view: serde_json::Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(
        view[0]["account_name"], "sandbox",
        "the portal's name of the account"
    );
    // The files were not touched.
    assert_eq!(fs::read_to_string(w.path(".aws/config")).unwrap(), config());
}

#[test]
fn a_session_without_registration_scopes_keeps_its_registration_where_the_aws_cli_looks() {
    let w = World::new();
    let config = config().replace("sso_registration_scopes = sso:account:access\n", "");
    fs::write(w.path(".aws/config"), &config).unwrap();
    assert!(browser_login(&w, &["sso", "login", "corp"])
        .status
        .success());
    // sha1 of json.dumps({"tool": "botocore", "startUrl": ..., "region": "eu-west-1",
    // "scopes": None, "session_name": "corp"}, sort_keys=True), computed by Python.
    let script = format!(
        "import hashlib, json; print(hashlib.sha1(json.dumps({{'tool': 'botocore', 'startUrl': \
         '{START_URL}', 'region': 'eu-west-1', 'scopes': None, 'session_name': 'corp'}}, \
         sort_keys=True).encode()).hexdigest())"
    );
    let python = Command::new(support::venv_bin("python"))
        .args(["-c", &script])
        .output()
        .unwrap();
    let name = format!("{}.json", text(&python.stdout).trim());
    let cached = w.cached();
    let registration = &cached
        .iter()
        .find(|(n, _)| *n == name)
        .expect("registration")
        .1;
    // It asked for the default scope, as the AWS CLI does for the browser flow.
    assert_eq!(
        registration["scopes"],
        serde_json::json!(["sso:account:access"])
    );
}

#[test]
fn a_kept_registration_is_used_again_and_one_that_ended_is_made_again() {
    let w = World::new();
    assert!(browser_login(&w, &["sso", "login", "corp"])
        .status
        .success());
    fs::remove_file(w.path("opened")).unwrap();
    assert!(browser_login(&w, &["sso", "login", "corp"])
        .status
        .success());
    assert_eq!(
        w.portal.registrations(),
        1,
        "the second sign-in used the kept registration"
    );
    fs::remove_file(w.path("opened")).unwrap();
    // 90 days later the registration has ended, at OIDC and by its own date: keyrack
    // registers again instead of sending the person to a page that refuses it.
    w.portal.expire_clients();
    for (name, mut json) in w.cached() {
        if json.get("accessToken").is_none() {
            json["expiresAt"] = "2026-01-01T00:00:00Z".into();
            fs::write(w.token_dir().join(name), json.to_string()).unwrap();
        }
    }
    let out = browser_login(&w, &["sso", "login", "corp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(w.portal.registrations(), 2);
}

/// Read `child`'s stderr until it shows the device code; the code.
fn shown_user_code(child: &mut Child) -> (String, Vec<u8>) {
    use std::io::Read;
    let stderr = child.stderr.as_mut().unwrap();
    let mut shown = Vec::new();
    let started = Instant::now();
    loop {
        let said = text(&shown);
        if let Some(rest) = said.split("and approve:\n\n  ").nth(1) {
            if let Some(code) = rest.lines().next().filter(|c| c.len() == 9) {
                return (code.to_owned(), shown);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no code shown: {said}"
        );
        let mut buf = [0u8; 256];
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "keyrack stopped before showing a code: {said}");
        shown.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_legacy_profile_signs_in_with_a_device_code_that_is_always_shown() {
    let w = World::new();
    let mut child = w.start(&["sso", "login", "--profile", "legacy", "--no-browser"]);
    let (code, shown) = shown_user_code(&mut child);
    let said = text(&shown);
    // The page no longer carries the code (since 2026-09): it is shown, and no browser opened.
    let page = said
        .lines()
        .find(|l| l.contains("/platform/authorize?request_uri="))
        .expect("the page is shown");
    assert!(!page.contains(&code), "{page}");
    assert!(w.opened().is_empty(), "--no-browser opens nothing");
    assert_eq!(w.portal.pending_user_codes(), vec![code.clone()]);
    assert!(w.portal.approve_device(&code, USER));
    let out = finish(child);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("a legacy sign-in, which cannot be refreshed"));
    // Kept under the SHA-1 of its start URL, without a refresh token, as the AWS CLI keeps it.
    let token_name = format!("{}.json", sha1_hex("https://old.awsapps.com/start"));
    let cached = w.cached();
    let token = &cached
        .iter()
        .find(|(n, _)| *n == token_name)
        .expect("token")
        .1;
    assert!(token.get("refreshToken").is_none());
    let aws = w.aws(&["sts", "get-caller-identity", "--profile", "legacy"]);
    assert!(aws.status.success(), "{}", text(&aws.stderr));
    assert!(text(&aws.stdout).contains(&reserved_role("Dev")));
}

#[test]
fn a_sign_in_denied_timed_out_or_forged_keeps_nothing_and_says_so() {
    // Denied in the browser.
    let w = World::new();
    w.portal.browser_signed_in_as(None);
    let child = w.start(&["sso", "login", "corp"]);
    let page = w.page_opened();
    let back = w.portal.play_browser(&page).unwrap();
    assert!(back.contains("Not signed in"), "{back}");
    let out = finish(child);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("was denied in the browser"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        w.cached().is_empty(),
        "not even the client registration nobody signed in with is kept"
    );

    // A page that did not come from this sign-in (another state) is refused.
    let w = World::new();
    let child = w.start(&["sso", "login", "corp"]);
    let page = w.page_opened();
    let redirect: String = form_urlencoded::parse(page.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    let port = redirect
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap();
    let mut forged = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    use std::io::{Read, Write};
    forged
        .write_all(b"GET /oauth/callback?code=stolen&state=not-this-one HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = forged.read_to_string(&mut answer);
    let out = finish(child);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("did not start (its state does not match)"));
    assert!(!w
        .token_dir()
        .join(format!("{}.json", sha1_hex("corp")))
        .exists());

    // A device code denied on the other device.
    let w = World::new();
    let mut child = w.start(&["sso", "login", "corp", "--use-device-code", "--no-browser"]);
    let (code, _) = shown_user_code(&mut child);
    assert!(w.portal.deny_device(&code));
    let out = finish(child);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("was denied"),
        "{}",
        text(&out.stderr)
    );

    // A device code that ended before anyone approved it.
    let w = World::new();
    let mut child = w.start(&["sso", "login", "corp", "--use-device-code", "--no-browser"]);
    let _ = shown_user_code(&mut child);
    w.portal.expire_device_codes();
    let out = finish(child);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("was not approved within"),
        "{}",
        text(&out.stderr)
    );
    assert!(w
        .cached()
        .iter()
        .all(|(_, json)| json.get("accessToken").is_none()));
}

#[test]
fn a_start_url_that_is_not_identity_centers_is_refused_before_anything_is_sent() {
    for (url, said) in [
        (
            "http://corp.awsapps.com/start",
            "is not an https:// address",
        ),
        (
            "https://login.example.com/start",
            "login.example.com is not an AWS access portal",
        ),
    ] {
        let w = World::new();
        let config = format!("[sso-session bad]\nsso_start_url = {url}\nsso_region = eu-west-1\n");
        fs::write(w.path(".aws/config"), &config).unwrap();
        let out = w.keyrack(&["sso", "login", "bad"]).output().unwrap();
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(said), "{}", text(&out.stderr));
        assert_eq!(w.portal.registrations(), 0, "nothing was sent");
        assert!(w.opened().is_empty());
    }
    // No sso_region, and a session that is not there: what to fix.
    let w = World::new();
    fs::write(
        w.path(".aws/config"),
        format!("[sso-session half]\nsso_start_url = {START_URL}\n"),
    )
    .unwrap();
    let out = w.keyrack(&["sso", "login", "half"]).output().unwrap();
    assert!(
        text(&out.stderr).contains("it has no sso_region"),
        "{}",
        text(&out.stderr)
    );
    let out = w.keyrack(&["sso", "login", "nowhere"]).output().unwrap();
    assert!(text(&out.stderr).contains("no [sso-session nowhere] section"));
}

#[test]
fn logout_ends_the_sign_in_at_the_portal_and_removes_what_the_aws_cli_removes() {
    let w = World::new();
    assert!(browser_login(&w, &["sso", "login", "corp"])
        .status
        .success());
    // keyrack caches the role's credentials where the AWS CLI does (ProviderType sso).
    let whoami = w.keyrack(&["whoami", "dev"]).output().unwrap();
    assert!(whoami.status.success(), "{}", text(&whoami.stdout));
    assert_eq!(w.stale_because("dev"), None);
    let role_cache = w.path(".aws/cli/cache");
    assert_eq!(fs::read_dir(&role_cache).unwrap().count(), 1);
    // What a writer killed mid-write would leave beside the tokens.
    let stopped = w.token_dir().join(".0123.json.keyrack-999-1.tmp");
    fs::write(&stopped, r#"{"accessToken": "aoaHalfWritten"}"#).unwrap();
    let out = w.keyrack(&["sso", "logout"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 sign-in(s) ended at IAM Identity Center"));
    assert_eq!(w.portal.logouts(), 1);
    assert_eq!(
        w.stale_because("dev"),
        Some(keyrack::rack::StaleCause::SignedOut),
        "the kept result is of a sign-in that has ended"
    );
    assert!(!stopped.exists(), "a half-written token is not left behind");
    assert_eq!(fs::read_dir(&role_cache).unwrap().count(), 0);
    let left = w.cached();
    assert_eq!(left.len(), 1, "only the client registration stays");
    assert!(left[0].1.get("accessToken").is_none());
    let whoami = w.keyrack(&["whoami", "dev"]).output().unwrap();
    assert!(!whoami.status.success());
    assert!(
        text(&whoami.stdout).contains("keyrack sso login corp"),
        "{}",
        text(&whoami.stdout)
    );
}

/// A profile the AWS tools sign in with through keyrack: `credential_process` serving `dev`.
fn with_served_profile(w: &World) {
    let line = format!(
        "\n[profile served]\ncredential_process = {} credential-process --sso --profile dev\nregion = us-east-1\n",
        env!("CARGO_BIN_EXE_keyrack")
    );
    let mut config = config();
    config.push_str(&line);
    fs::write(w.path(".aws/config"), config).unwrap();
}

fn twenty_credential_processes(w: &World) -> Vec<Child> {
    (0..20)
        .map(|_| w.start(&["credential-process", "--sso", "--profile", "dev"]))
        .collect()
}

#[test]
fn twenty_credential_processes_at_a_sign_in_about_to_end_refresh_it_once() {
    let w = World::new();
    with_served_profile(&w);
    support::sso_portal::keep_sign_in(
        w.home.path(),
        ("corp", START_URL, "eu-west-1"),
        "aoaStaleButStillGoodFor5Minutes000000000",
        time::Duration::minutes(5),
    );
    // Refresh tokens are not rotated here: every refresh anyone asks for works and is counted.
    w.portal
        .refreshable(("client-id", "client-secret"), "refresh-token", USER, false);
    let children = twenty_credential_processes(&w);
    for child in children {
        let out = finish(child);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["Version"], 1);
        assert!(json["SessionToken"].is_string() && json["Expiration"].is_string());
    }
    assert_eq!(w.portal.refreshed(), 1, "one refresh for twenty callers");
    // The AWS CLI signs in through the line.
    let aws = w.aws(&["sts", "get-caller-identity", "--profile", "served"]);
    assert!(aws.status.success(), "{}", text(&aws.stderr));
    assert!(text(&aws.stdout).contains(&reserved_role("Dev")));
}

#[test]
fn twenty_credential_processes_without_a_sign_in_open_one_browser_page() {
    let w = World::new();
    with_served_profile(&w);
    let children = twenty_credential_processes(&w);
    let page = w.page_opened();
    assert!(w.portal.play_browser(&page).unwrap().contains("Signed in"));
    for child in children {
        let out = finish(child);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_shows_no_secret(&w, &out);
    }
    assert_eq!(w.opened().len(), 1, "one page for twenty callers");
    assert_eq!(w.portal.tokens_issued(), 1);
}

/// Check all of 50 SSO profiles (50 roles of one sign-in) with `keyrack whoami --all`, next to
/// the AWS CLI asked once per profile, the same stand-in and sign-in, in the same run; prints the
/// times and their ratio. `scripts/bench-sso` runs it (release build).
#[test]
#[ignore = "a benchmark: scripts/bench-sso"]
fn bench_check_all_of_50_sso_profiles_next_to_the_aws_cli() {
    let w = World::new();
    let mut config = format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\
         sso_registration_scopes = sso:account:access\n"
    );
    for role in bench_roles() {
        w.portal.assign(ACCOUNT, &role);
        config.push_str(&format!(
            "[profile {role}]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {role}\nregion = us-east-1\n"
        ));
    }
    fs::write(w.path(".aws/config"), &config).unwrap();
    let token = "aoaBenchmarkSignInToken000000000000000000";
    w.portal.sign_in(token, USER);
    support::sso_portal::keep_sign_in(
        w.home.path(),
        ("corp", START_URL, "eu-west-1"),
        token,
        time::Duration::hours(8),
    );
    let started = Instant::now();
    let ours = w.keyrack(&["whoami", "--all", "--json"]).output().unwrap();
    let keyrack = started.elapsed();
    assert!(ours.status.success(), "{}", text(&ours.stdout));
    let answered: Vec<serde_json::Value> = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(answered.iter().filter(|v| v["arn"].is_string()).count(), 50);
    let issued = w.portal.issued();
    let started = Instant::now();
    for role in bench_roles() {
        let aws = w.aws(&["sts", "get-caller-identity", "--profile", &role]);
        assert!(aws.status.success(), "{}", text(&aws.stderr));
    }
    let aws = started.elapsed();
    println!(
        "Check all of 50 SSO profiles: keyrack {:.3} s ({} role credentials asked for), the AWS \
         CLI once per profile {:.3} s: keyrack takes {:.1}% of its time ({:.1}x faster)",
        keyrack.as_secs_f64(),
        issued,
        aws.as_secs_f64(),
        100.0 * keyrack.as_secs_f64() / aws.as_secs_f64(),
        aws.as_secs_f64() / keyrack.as_secs_f64()
    );
}

#[test]
fn a_tool_asking_for_a_legacy_sign_in_is_told_the_command_that_signs_in_at_once() {
    let w = World::new();
    let started = Instant::now();
    let out = finish(w.start(&["credential-process", "--sso", "--profile", "legacy"]));
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("run `keyrack sso login --profile legacy` in a terminal"),
        "{said}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it did not wait for a code nobody sees"
    );
    assert!(w.opened().is_empty());
    assert_eq!(w.portal.device_authorizations(), 0);
}
