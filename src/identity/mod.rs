//! Who each profile is: its credentials found as the AWS CLI finds them, then STS's answer.

pub mod cli_cache;
mod endpoints;
mod error;
pub mod mfa;
mod process;
mod signing_in;
mod source;
pub mod sso;
pub mod sso_login;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use crate::aws::{
    is_valid_region_name, region_name_fix, resolve_ca_bundle, resolve_endpoint,
    resolve_region_source, sts, AwsClient, AwsError, ClientSettings, Credentials, Endpoint,
    EndpointEnv, EndpointSource, ProfileEndpointSettings, RegionSource, Service,
};
use crate::files::{AwsFiles, Dialect, FileKind, FilePaths, Origin, Reading, Settings};
use crate::keychain::Keychain;

pub use crate::aws::CallerIdentity;
pub use endpoints::endpoint_settings;
pub use error::IdentityError;
pub use process::{run_credential_process, split_command, ProcessError};
pub use source::{
    credential_source, CredentialSource, MfaSessionSettings, MfaSignIn, RoleSettings,
};

/// How many profiles [`check_all`] checks at once unless told otherwise. 32: Check all of 200
/// profiles in the window took 1.95 s at 16 and 1.25 s at 32 against moto (`scripts/bench-app`);
/// each is one small STS request, far below what STS takes from one account.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// How a [`Session`] reaches AWS, runs credential processes and reads the keychain.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Timeouts and retries of every AWS call (the CA bundle is chosen per profile).
    pub client: ClientSettings,
    /// A `credential_process` still running after this is stopped.
    pub process_timeout: Duration,
    /// Where keychain profiles' keys are read from.
    pub keychain: Keychain,
    /// The AWS CLI's cache of assumed-role sessions ([`cli_cache`]), used before assuming a
    /// role; `None` (the default): not used. The [`crate::Rack`] of a process uses the home
    /// folder's.
    pub cli_cache: Option<PathBuf>,
    /// The MFA code given for this run (`--mfa-code`): used for the first sign-in that needs
    /// one (a code works once: AWS refuses it again); later ones ask `mfa_prompt`.
    pub mfa_code: Option<mfa::GivenCode>,
    /// Who is asked for a code when a role needs one and none was given (the terminal).
    pub mfa_prompt: Option<Arc<dyn mfa::MfaPrompt>>,
    /// The AWS CLI's sign-in tokens of IAM Identity Center (`~/.aws/sso/cache`), read for SSO
    /// profiles; `None` (the default): not read, so SSO profiles need a sign-in.
    pub sso_cache: Option<PathBuf>,
    /// keyrack's state folder, for the lock that lets one keyrack at a time sign in to a role
    /// with an MFA code (the others wait, then use its session); `None`: no lock.
    pub state_dir: Option<PathBuf>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            client: ClientSettings::default(),
            process_timeout: Duration::from_secs(30),
            keychain: Keychain::platform(),
            cli_cache: None,
            mfa_code: None,
            mfa_prompt: None,
            sso_cache: None,
            state_dir: None,
        }
    }
}

/// What every AWS call of one run shares: the files as the AWS CLI read them, the environment,
/// the HTTP clients, and the credentials already fetched for source profiles and credential
/// processes (each is fetched once per session, however many profiles need it). Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

type Fetched = Arc<OnceCell<Result<Credentials, IdentityError>>>;

struct Inner {
    reading: Arc<Reading>,
    /// The files the reading came from, to name them in messages (when known).
    paths: Option<FilePaths>,
    env: EndpointEnv,
    options: SessionOptions,
    /// One client per CA bundle (almost always just the one without).
    clients: Mutex<HashMap<Option<PathBuf>, AwsClient>>,
    /// Keyed by (kind of step, profile).
    fetched: Mutex<HashMap<(&'static str, String), Fetched>>,
    /// Held while a person is asked for an MFA code: one question at a time.
    asking: Arc<Mutex<()>>,
    /// The devices the person declined to give a code for in this run (they are not asked again).
    codes: Mutex<CodesSettled>,
    /// When the session each profile was answered with ends (roles, MFA devices).
    expiries: Mutex<HashMap<String, time::OffsetDateTime>>,
    /// Why the last MFA session had could not be kept in the keychain, if it could not.
    not_kept: Mutex<Option<crate::keychain::KeychainError>>,
    /// The profiles answered with an MFA session kept from before, and its device.
    kept_used: Mutex<HashMap<String, String>>,
    /// The account names each IAM Identity Center sign-in's portal listed (asked once per
    /// sign-in and run; the async lock makes the profiles of one sign-in wait for one answer).
    sso_accounts: tokio::sync::Mutex<HashMap<String, HashMap<String, String>>>,
}

/// Whether a key-only profile's MFA session is needed for what its credentials are used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MfaUse {
    /// Asking who it is needs no MFA: the session when one is kept, else the key.
    IfKept,
    /// IAM calls and credentials served to other tools: the session, asked for when none is kept.
    Required,
}

#[derive(Default)]
struct CodesSettled {
    declined: std::collections::HashSet<String>,
}

impl fmt::Debug for Session {
    /// The reading holds secrets from the files: only its size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("profiles", &self.inner.reading.profiles.len())
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// `reading` is the AWS CLI's reading of the files ([`AwsFiles::read`] with [`Dialect::Cli`]).
    pub fn new(
        reading: impl Into<Arc<Reading>>,
        env: EndpointEnv,
        options: SessionOptions,
    ) -> Session {
        Session {
            inner: Arc::new(Inner {
                reading: reading.into(),
                paths: None,
                env,
                options,
                clients: Mutex::default(),
                fetched: Mutex::default(),
                asking: Arc::default(),
                codes: Mutex::default(),
                expiries: Mutex::default(),
                not_kept: Mutex::default(),
                kept_used: Mutex::default(),
                sso_accounts: tokio::sync::Mutex::default(),
            }),
        }
    }

    /// The files as the AWS CLI reads them, the process's AWS variables, default options.
    pub fn from_files(files: &AwsFiles) -> Session {
        Session::new(
            Reading::clone(&files.read(Dialect::Cli)),
            EndpointEnv::from_process(),
            SessionOptions::default(),
        )
        .naming(FilePaths {
            config: files.config.path.clone(),
            credentials: files.credentials.path.clone(),
        })
    }

    /// The MFA code of `serial` for `profile` (a session of `session_seconds`, a role's when
    /// `for_role`): the one given for this run while unspent, else asked of the person (one
    /// prompt at a time, off the async workers), with whether the person typed it; `None`: none.
    async fn mfa_code(
        &self,
        (profile, serial, session_seconds, for_role): (&str, &str, u32, bool),
        retry: bool,
    ) -> Option<(mfa::MfaCode, bool)> {
        // The code given for the run works once (AWS refuses it again): for the first sign-in;
        // one AWS refused is not replaced by asking (the caller said which code to use).
        if let Some(given) = &self.inner.options.mfa_code {
            if retry {
                return None;
            }
            if let Some(code) = given.take() {
                return Some((code, false));
            }
        }
        if self
            .inner
            .codes
            .lock()
            .expect("codes lock")
            .declined
            .contains(serial)
        {
            return None;
        }
        let prompt = self.inner.options.mfa_prompt.clone()?;
        let request = mfa::MfaRequest {
            profile: profile.to_owned(),
            serial: serial.to_owned(),
            retry,
            session_seconds,
            aws_cli_shares: for_role,
            unlocks: source::behind_device(&self.inner.reading.profiles, serial),
        };
        let asking = self.inner.asking.clone();
        let code = tokio::task::spawn_blocking(move || {
            let _one_at_a_time = asking.lock().unwrap_or_else(|e| e.into_inner());
            prompt.code(&request)
        })
        .await
        .ok()
        .flatten();
        if code.is_none() {
            let mut settled = self.inner.codes.lock().expect("codes lock");
            settled.declined.insert(serial.to_owned());
        }
        code.map(|code| (code, true))
    }

    /// The keychain this session reads keychain profiles' keys from.
    pub fn keychain(&self) -> &Keychain {
        &self.inner.options.keychain
    }

    /// This new session, naming the files its reading came from in its messages.
    pub fn naming(self, paths: FilePaths) -> Session {
        let inner = Arc::into_inner(self.inner).expect("a new session is not shared yet");
        Session {
            inner: Arc::new(Inner {
                paths: Some(paths),
                ..inner
            }),
        }
    }

    /// Where a setting is: `/home/me/.aws/config, line 3` (`the config file, line 3` when the
    /// paths are not known).
    pub fn place(&self, origin: Origin) -> String {
        let file = match (&self.inner.paths, origin.file) {
            (Some(paths), FileKind::Config) => paths.config.display().to_string(),
            (Some(paths), FileKind::Credentials) => paths.credentials.display().to_string(),
            (None, kind) => format!("the {} file", kind.name()),
        };
        format!("{file}, line {}", origin.line)
    }

    pub fn reading(&self) -> &Reading {
        &self.inner.reading
    }

    fn settings(&self, profile: &str) -> Result<&Settings, IdentityError> {
        self.inner
            .reading
            .profiles
            .get(profile)
            .ok_or_else(|| IdentityError::NoSuchProfile {
                profile: profile.to_owned(),
            })
    }

    /// Where `profile` sends calls to `service`: its region (us-east-1 when none), its endpoint
    /// settings and the `AWS_ENDPOINT_URL*` variables.
    ///
    /// A region the AWS CLI refuses is an [`IdentityError::InvalidRegion`].
    pub fn endpoint(&self, profile: &str, service: Service) -> Result<Endpoint, IdentityError> {
        let profile_settings = self.settings(profile)?;
        let settings = endpoint_settings(&self.inner.reading, profile_settings);
        self.check_region(profile, profile_settings, &settings)?;
        resolve_endpoint(service, &settings, &self.inner.env).map_err(|e| IdentityError::Endpoint {
            profile: profile.to_owned(),
            detail: e.to_string(),
        })
    }

    /// What the AWS CLI checks before it sends anything (botocore's `validate_region_name`): a
    /// region it refuses is said as such, with where it is set and how to fix it, instead of
    /// being sent and answered with a signature error that blames the secret.
    fn check_region(
        &self,
        profile: &str,
        settings: &Settings,
        endpoint: &ProfileEndpointSettings,
    ) -> Result<(), IdentityError> {
        let Some((region, source)) = resolve_region_source(endpoint, &self.inner.env) else {
            return Ok(());
        };
        if is_valid_region_name(&region) {
            return Ok(());
        }
        // botocore reads AWS_DEFAULT_REGION; AWS_REGION is the SDKs' (and keyrack's) variable.
        let refused_by = match source {
            RegionSource::EnvVar("AWS_REGION") => "the AWS SDKs refuse",
            _ => "the AWS CLI refuses",
        };
        let (place, fix) = match source {
            RegionSource::EnvVar(var) => (
                format!("from the environment variable {var}"),
                format!("set {var} to a region name such as eu-west-1, or unset it"),
            ),
            RegionSource::Profile => {
                let place = settings
                    .get("region")
                    .map_or_else(|| "the region setting".to_owned(), |s| self.place(s.origin));
                (place, region_name_fix(&region))
            }
        };
        Err(IdentityError::InvalidRegion {
            profile: profile.to_owned(),
            region,
            refused_by,
            place,
            fix,
        })
    }

    /// The HTTP client for `profile`'s calls (it trusts the profile's CA bundle, if any).
    pub fn client(&self, profile: &str) -> Result<AwsClient, IdentityError> {
        let settings = endpoint_settings(&self.inner.reading, self.settings(profile)?);
        let ca_bundle = resolve_ca_bundle(&settings, &self.inner.env);
        let mut clients = self.inner.clients.lock().expect("client cache lock");
        if let Some(client) = clients.get(&ca_bundle) {
            return Ok(client.clone());
        }
        let client = AwsClient::new(ClientSettings {
            ca_bundle: ca_bundle.clone(),
            ..self.inner.options.client.clone()
        })
        .map_err(|error| IdentityError::Aws {
            profile: profile.to_owned(),
            action: "setting up HTTPS".into(),
            error,
        })?;
        clients.insert(ca_bundle, client.clone());
        Ok(client)
    }

    /// `profile`'s credentials, as the AWS CLI would sign with them: its keys, its credential
    /// process's, or its role's (assumed through STS at the profile's STS endpoint).
    ///
    /// A key-only profile with `mfa_serial` gives its device's MFA session when one is kept, else
    /// its key (as the AWS tools sign with it): enough to ask who it is, which needs no MFA.
    pub async fn credentials(&self, profile: &str) -> Result<Credentials, IdentityError> {
        self.credentials_for(profile, MfaUse::IfKept).await
    }

    /// `profile`'s credentials for calls an MFA policy may guard (IAM, the credentials served to
    /// other tools): a key-only profile with `mfa_serial` gives its device's MFA session, asking
    /// for a code when none is kept.
    pub async fn credentials_with_mfa(&self, profile: &str) -> Result<Credentials, IdentityError> {
        self.credentials_for(profile, MfaUse::Required).await
    }

    async fn credentials_for(
        &self,
        profile: &str,
        need: MfaUse,
    ) -> Result<Credentials, IdentityError> {
        let source = credential_source(&self.inner.reading.profiles, profile)?;
        let sts = self.endpoint(profile, Service::Sts)?;
        let client = self.client(profile)?;
        self.fetch(&source, &client, &sts, need).await
    }

    /// The credentials of `source` for other tools (`credential-process`), which is no profile of
    /// any files read: signed in (with an MFA code, if it names a device) at the STS endpoint the
    /// environment gives, as the SDKs would choose it for a profile without endpoint settings.
    /// Also when its session ends, if it is one.
    pub async fn serve(
        &self,
        source: &CredentialSource,
    ) -> Result<(Credentials, Option<time::OffsetDateTime>), IdentityError> {
        let profile = source.profile().to_owned();
        let settings = ProfileEndpointSettings::default();
        let sts = resolve_endpoint(Service::Sts, &settings, &self.inner.env).map_err(|e| {
            IdentityError::Endpoint {
                profile: profile.clone(),
                detail: e.to_string(),
            }
        })?;
        let client = AwsClient::new(ClientSettings {
            ca_bundle: resolve_ca_bundle(&settings, &self.inner.env),
            ..self.inner.options.client.clone()
        })
        .map_err(|error| IdentityError::Aws {
            profile: profile.clone(),
            action: "setting up HTTPS".into(),
            error,
        })?;
        self.serve_at(source, &client, &sts).await
    }

    /// [`Session::serve`] through `client` at `sts` (a rotated profile's own endpoint).
    pub async fn serve_at(
        &self,
        source: &CredentialSource,
        client: &AwsClient,
        sts: &Endpoint,
    ) -> Result<(Credentials, Option<time::OffsetDateTime>), IdentityError> {
        let credentials = self.fetch(source, client, sts, MfaUse::Required).await?;
        Ok((credentials, self.session_expiry(source.profile())))
    }

    /// Forget the kept MFA session `profile` was answered with, if it was (AWS no longer takes
    /// it); whether one was forgotten.
    async fn forget_dead_session(&self, profile: &str) -> bool {
        let serial = self
            .inner
            .kept_used
            .lock()
            .expect("kept lock")
            .remove(profile);
        let Some(serial) = serial else {
            return false;
        };
        self.inner
            .expiries
            .lock()
            .expect("expiries lock")
            .remove(profile);
        let keychain = self.inner.options.keychain.clone();
        tokio::task::spawn_blocking(move || keychain.forget_mfa_session(&serial))
            .await
            .is_ok_and(|forgot| forgot.is_ok())
    }

    /// Why an MFA session had in this run could not be kept in the keychain, if one could not
    /// (it works for this run; the next asks for a code again).
    pub fn keychain_failure(&self) -> Option<crate::keychain::KeychainError> {
        self.inner.not_kept.lock().expect("not kept lock").clone()
    }

    /// When the session `profile` was last answered with ends (a role's, or an MFA device's),
    /// if it was answered with one in this run.
    pub fn session_expiry(&self, profile: &str) -> Option<time::OffsetDateTime> {
        self.inner
            .expiries
            .lock()
            .expect("expiries lock")
            .get(profile)
            .copied()
    }

    fn record_expiry(&self, profile: &str, expires: time::OffsetDateTime) {
        self.inner
            .expiries
            .lock()
            .expect("expiries lock")
            .insert(profile.to_owned(), expires);
    }

    fn fetch<'a>(
        &'a self,
        source: &'a CredentialSource,
        client: &'a AwsClient,
        sts: &'a Endpoint,
        need: MfaUse,
    ) -> Pin<Box<dyn Future<Output = Result<Credentials, IdentityError>> + Send + 'a>> {
        Box::pin(async move {
            match source {
                CredentialSource::StaticKeys { credentials, .. } => Ok(credentials.clone()),
                CredentialSource::Process { profile, command } => {
                    self.once("process", profile, async {
                        run_credential_process(command, self.inner.options.process_timeout)
                            .await
                            .map_err(|problem| IdentityError::CredentialProcess {
                                profile: profile.clone(),
                                problem,
                            })
                    })
                    .await
                }
                CredentialSource::Keychain { profile, account } => {
                    self.once("keychain", account, async {
                        let account = account.clone();
                        let keychain = self.inner.options.keychain.clone();
                        // The keychain's calls block: keep them off the async workers.
                        let read = tokio::task::spawn_blocking(move || keychain.get(&account));
                        match read.await.expect("the keychain read panicked") {
                            Ok(key) => Ok(key.credentials),
                            Err(error) => Err(IdentityError::Keychain {
                                profile: profile.clone(),
                                error,
                            }),
                        }
                    })
                    .await
                }
                CredentialSource::AssumeRole {
                    profile,
                    role,
                    source,
                } => {
                    self.once(
                        "role",
                        profile,
                        self.assume(profile, role, source, client, sts),
                    )
                    .await
                }
                CredentialSource::MfaSession { profile, mfa, keys } => {
                    self.mfa_session(profile, mfa, keys, client, sts, need)
                        .await
                }
                CredentialSource::Sso { profile } => {
                    self.once("sso", profile, self.sso_role(profile)).await
                }
            }
        })
    }

    /// A failed call of `action` to `endpoint` with `profile`'s credentials. A signature refused
    /// by a configured endpoint (`endpoint_url`, `AWS_ENDPOINT_URL*`, a services section) is not
    /// blamed on the secret when keyrack signed it for another region than the AWS CLI would
    /// (keyrack reads `AWS_REGION`, the AWS CLI does not): the region is then a cause too.
    fn aws_failure(
        &self,
        profile: &str,
        action: &str,
        endpoint: &Endpoint,
        error: AwsError,
    ) -> IdentityError {
        let signature_refused = matches!(
            error,
            AwsError::WrongSecret { .. } | AwsError::WrongSigningScope { .. }
        );
        if signature_refused && endpoint.source != EndpointSource::Default {
            let cli_region = self.settings(profile).ok().and_then(|settings| {
                let settings = endpoint_settings(&self.inner.reading, settings);
                let env = self.inner.env.without("AWS_REGION");
                resolve_endpoint(endpoint.service, &settings, &env).ok()
            });
            if let Some(cli) =
                cli_region.filter(|cli| cli.signing_region != endpoint.signing_region)
            {
                return IdentityError::SigningRegionDiffers {
                    profile: profile.to_owned(),
                    url: endpoint.url.clone(),
                    region: endpoint.signing_region.clone(),
                    cli_region: cli.signing_region,
                };
            }
        }
        IdentityError::Aws {
            profile: profile.to_owned(),
            action: action.to_owned(),
            error,
        }
    }

    /// Runs `fetch` at most once per session for this step and profile; later and concurrent
    /// callers get its result.
    async fn once(
        &self,
        kind: &'static str,
        profile: &str,
        fetch: impl Future<Output = Result<Credentials, IdentityError>>,
    ) -> Result<Credentials, IdentityError> {
        let cell = {
            let mut fetched = self.inner.fetched.lock().expect("credential cache lock");
            fetched
                .entry((kind, profile.to_owned()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| fetch).await.clone()
    }
}

/// Who `profile` is: the ARN, account and user id STS's GetCallerIdentity gives for its
/// credentials.
pub async fn check_identity(
    session: &Session,
    profile: &str,
) -> Result<CallerIdentity, IdentityError> {
    let credentials = session.credentials(profile).await?;
    let sts = session.endpoint(profile, Service::Sts)?;
    let client = session.client(profile)?;
    let answer = sts::get_caller_identity(&client, &sts, &credentials).await;
    // A kept MFA session that AWS no longer takes (revoked, or ended early by a clock that is
    // off) is forgotten, and the key itself answers: the session would only fail every tool.
    let dead = matches!(
        answer,
        Err(AwsError::ExpiredToken { .. } | AwsError::UnknownAccessKey { .. })
    );
    if dead && session.forget_dead_session(profile).await {
        let key = session.credentials(profile).await?;
        return sts::get_caller_identity(&client, &sts, &key)
            .await
            .map_err(|error| session.aws_failure(profile, "GetCallerIdentity", &sts, error));
    }
    answer.map_err(|error| session.aws_failure(profile, "GetCallerIdentity", &sts, error))
}

/// The outcome of checking one profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileIdentity {
    pub profile: String,
    pub result: Result<CallerIdentity, IdentityError>,
}

/// Checks every profile in `profiles`, `concurrency` at a time, and hands each outcome to
/// `on_result` as soon as it is known (in the order they finish). Returns every outcome in the
/// order of `profiles`. Must run inside a tokio runtime.
pub async fn check_all(
    session: &Session,
    profiles: &[String],
    concurrency: usize,
    mut on_result: impl FnMut(&ProfileIdentity),
) -> Vec<ProfileIdentity> {
    let mut waiting = profiles.iter().cloned().enumerate();
    let mut running = JoinSet::new();
    let mut outcomes: Vec<Option<ProfileIdentity>> = profiles.iter().map(|_| None).collect();
    loop {
        while running.len() < concurrency.max(1) {
            let Some((index, profile)) = waiting.next() else {
                break;
            };
            let session = session.clone();
            running.spawn(async move {
                let result = check_identity(&session, &profile).await;
                (index, ProfileIdentity { profile, result })
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (index, outcome) = match joined {
            Ok(done) => done,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        on_result(&outcome);
        outcomes[index] = Some(outcome);
    }
    outcomes.into_iter().flatten().collect()
}
