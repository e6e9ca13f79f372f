//! A real moto server (IAM + STS) on a free loopback port, with signature checks switched on
//! by the test once its setup requests are done.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use keyrack::aws::{
    iam, resolve_endpoint, AwsClient, ClientSettings, Credentials, Endpoint, EndpointEnv,
    EndpointSource, ProfileEndpointSettings, RetryPolicy, Service,
};

/// The key the set-up signs with: moto checks no signature until `enable_auth`.
pub fn setup_key() -> Credentials {
    Credentials::new("AKIASETUPSETUPSETUP0", "setup", None)
}

/// A client that tries once: a set-up call that fails is a broken test.
fn setup_client() -> AwsClient {
    let retry = RetryPolicy {
        max_attempts: 1,
        ..Default::default()
    };
    AwsClient::new(ClientSettings {
        retry,
        ..Default::default()
    })
    .unwrap()
}

fn iam_at(url: &str) -> Endpoint {
    let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", url)]);
    resolve_endpoint(Service::Iam, &ProfileEndpointSettings::default(), &env).unwrap()
}

/// An IAM call of the tests' set-up at the moto server at `url`, made before signature checks
/// are on (any key signs then).
pub async fn set_up(url: &str, action: &str, params: &[(&str, &str)]) {
    setup_client()
        .call(&iam_at(url), action, params, &setup_key())
        .await
        .unwrap_or_else(|e| panic!("{action}: {e}"));
}

/// A new access key of `user`, made before signature checks are on.
pub async fn set_up_key(url: &str, user: &str) -> Credentials {
    let (key, secret) =
        iam::create_access_key(&setup_client(), &iam_at(url), &setup_key(), Some(user))
            .await
            .unwrap_or_else(|e| panic!("a key for {user}: {e}"));
    Credentials::new(key.access_key_id, secret, None)
}

/// A user allowed all of IAM and STS, with one access key (returned), made before signature
/// checks are on.
pub async fn set_up_user(url: &str, user: &str) -> Credentials {
    set_up(url, "CreateUser", &[("UserName", user)]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#;
    let params = [
        ("UserName", user),
        ("PolicyName", "all"),
        ("PolicyDocument", policy),
    ];
    set_up(url, "PutUserPolicy", &params).await;
    set_up_key(url, user).await
}

/// The account moto's users live in.
pub const ACCOUNT: &str = "123456789012";

/// `service`'s endpoint at the server at `url` (`http://127.0.0.1:PORT`).
pub fn endpoint_at(url: &str, service: Service) -> Endpoint {
    let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", url)]);
    let endpoint = resolve_endpoint(service, &ProfileEndpointSettings::default(), &env).unwrap();
    assert_eq!(endpoint.source, EndpointSource::GlobalEnvVar);
    endpoint
}

/// A moto server on a free loopback port, killed when dropped.
pub struct MotoServer {
    child: Child,
    pub url: String,
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// The server's process (a benchmark reads how busy it was).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn start() -> MotoServer {
        let program = super::venv_bin("moto_server");
        let log = tempfile::NamedTempFile::new().expect("temp file for the moto log");
        // Port 0: moto takes a free port itself and says which. A port picked here and freed
        // for moto could be taken meanwhile by another test's server (tauri-driver, another
        // moto), and the set-up would then talk to that one.
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            // Setup requests pass unchecked; `enable_auth` turns checking on after them.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1000")
            .env("MOTO_ACCOUNT_ID", ACCOUNT)
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("log handle"))
            .stderr(log.reopen().expect("log handle"))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", program.display()));
        let mut server = MotoServer {
            child,
            url: String::new(),
            log,
        };
        let port = server.wait_until_listening();
        server.url = format!("http://127.0.0.1:{port}");
        server
    }

    /// moto with one IAM user (allowed all of IAM and STS, as a rotation needs) and its access
    /// key, which is returned; signature checks on.
    pub fn with_user(user: &str) -> (MotoServer, Credentials) {
        let moto = MotoServer::start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let credentials = runtime.block_on(async {
            let credentials = moto.set_up_user(user).await;
            moto.enable_auth().await;
            credentials
        });
        (moto, credentials)
    }

    /// [`set_up`] on this server.
    pub async fn set_up(&self, action: &str, params: &[(&str, &str)]) {
        set_up(&self.url, action, params).await
    }

    /// [`set_up_key`] on this server.
    pub async fn set_up_key(&self, user: &str) -> Credentials {
        set_up_key(&self.url, user).await
    }

    /// [`set_up_user`] on this server.
    pub async fn set_up_user(&self, user: &str) -> Credentials {
        set_up_user(&self.url, user).await
    }

    /// The port moto says it listens on ([`listening_port`]).
    fn wait_until_listening(&mut self) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(port) = listening_port(self.log.path()) {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited ({status}) before answering:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 30 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// From now on every request's signature and permissions are checked.
    pub async fn enable_auth(&self) {
        enable_auth_at(&self.url).await
    }

    pub fn endpoint(&self, service: Service) -> Endpoint {
        endpoint_at(&self.url, service)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The port a moto_server started with `-p 0` says in its log `log` that it runs on
/// (werkzeug's ` * Running on http://127.0.0.1:PORT`), once it accepts connections there.
fn listening_port(log: &std::path::Path) -> Option<u16> {
    let said = std::fs::read_to_string(log).unwrap_or_default();
    let port = said
        .split("Running on http://127.0.0.1:")
        .nth(1)
        // Only a whole line: a port half written is another port.
        .and_then(|rest| rest.split_once('\n'))
        .and_then(|(digits, _)| digits.trim().parse::<u16>().ok())?;
    TcpStream::connect(("127.0.0.1", port))
        .is_ok()
        .then_some(port)
}

/// Turn signature and permission checks on for every later request to the moto at `url`.
pub async fn enable_auth_at(url: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{url}/moto-api/reset-auth"))
        .header("Content-Type", "text/plain")
        .body("0")
        .send()
        .await
        .expect("reset-auth request");
    assert!(
        answer.status().is_success(),
        "reset-auth answered {}",
        answer.status()
    );
}

/// A moto server shared by every test of one test binary, for as long as that process runs:
/// moto runs under an `sh` that kills it when its stdin (a pipe from this process) closes,
/// that is when the test process ends, however it ends.
pub struct ProcessWideMoto {
    pub url: String,
    _shell: std::sync::Mutex<Child>,
    /// Where moto says which port it took.
    _log: tempfile::NamedTempFile,
}

impl ProcessWideMoto {
    /// Start it (checks off until `enable_auth_at`) and wait until it listens.
    pub fn start() -> ProcessWideMoto {
        let log = tempfile::NamedTempFile::new().expect("temp file for the moto log");
        // Port 0, as MotoServer::start: moto takes a free port itself and says which.
        let shell = Command::new("sh")
            .args(["-c", r#""$0" "$@" & moto=$!; cat >/dev/null; kill $moto"#])
            .arg(super::venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1000")
            .env("MOTO_ACCOUNT_ID", ACCOUNT)
            .stdin(Stdio::piped())
            .stdout(log.reopen().expect("log handle"))
            .stderr(log.reopen().expect("log handle"))
            .spawn()
            .expect("start moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(port) = listening_port(log.path()) {
                break port;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        ProcessWideMoto {
            url: format!("http://127.0.0.1:{port}"),
            _shell: std::sync::Mutex::new(shell),
            _log: log,
        }
    }
}

/// A value every test of the process shares (a moto server and its users), set up by the
/// first test that asks, on a thread of its own: the tests run inside a tokio runtime already,
/// where a setup with a runtime of its own would panic.
pub fn set_up_once<T: Send + Sync>(cell: &'static OnceLock<T>, set_up: fn() -> T) -> &'static T {
    cell.get_or_init(|| {
        std::thread::spawn(set_up)
            .join()
            .expect("the shared test setup failed")
    })
}
