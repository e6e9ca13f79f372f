//! Who each profile is: its credentials found as the AWS CLI finds them, then STS's answer.

pub mod cli_cache;
mod endpoints;
mod error;
pub mod mfa;
mod process;
mod source;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use crate::aws::{
    is_valid_region_name, region_name_fix, resolve_ca_bundle, resolve_endpoint,
    resolve_region_source, sts, AwsClient, AwsError, ClientSettings, Credentials, Endpoint,
    EndpointEnv, EndpointSource, ProfileEndpointSettings, RegionSource, RoleRequest, Service,
};
use crate::files::{AwsFiles, Dialect, FileKind, FilePaths, Origin, Reading, Settings};
use crate::keychain::Keychain;

pub use crate::aws::CallerIdentity;
pub use endpoints::endpoint_settings;
pub use error::IdentityError;
pub use process::{run_credential_process, split_command, ProcessError};
pub use source::{credential_source, CredentialSource, RoleSettings};

/// What STS would refuse about assuming `role` (from `source`), found before anything is sent or
/// anyone is asked for a code: a security key as the MFA device, a session outside 15 minutes to
/// 12 hours, or longer than the hour STS allows a role assumed with another role's session.
fn check_role_request(
    profile: &str,
    role: &RoleSettings,
    source: &CredentialSource,
) -> Result<(), IdentityError> {
    if let Some(serial) = role.mfa_serial.as_deref().filter(|s| s.contains(":u2f/")) {
        return Err(IdentityError::MfaDeviceNotUsable {
            profile: profile.to_owned(),
            serial: serial.to_owned(),
        });
    }
    let too_long = |seconds, limit| IdentityError::SessionTooLong {
        profile: profile.to_owned(),
        seconds,
        limit,
    };
    match role.duration_seconds {
        Some(seconds) if seconds < 900 => Err(too_long(seconds, "a session lasts at least 900 seconds")),
        Some(seconds) if seconds > 43_200 => Err(too_long(seconds, "a role's session lasts 12 hours (43200 seconds) at most")),
        Some(seconds) if seconds > 3600 && matches!(source, CredentialSource::AssumeRole { .. }) => Err(too_long(
            seconds,
            "a role assumed with another role's session (role chaining) lasts 1 hour (3600 seconds) at most",
        )),
        _ => Ok(()),
    }
}

/// How long a keyrack waits for another one that is signing in to the same MFA role before it
/// asks for a code itself: longer than a person is given to type three codes (the window waits
/// five minutes for each).
const MFA_SIGN_IN_WAIT: Duration = Duration::from_secs(16 * 60);

/// How many profiles [`check_all`] checks at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 16;

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
    /// The MFA code given for this run (`--mfa-code`): used to assume a role that needs one and
    /// has no cached session. A code works once: AWS refuses it again.
    pub mfa_code: Option<mfa::MfaCode>,
    /// Who is asked for a code when a role needs one and none was given (the terminal).
    pub mfa_prompt: Option<Arc<dyn mfa::MfaPrompt>>,
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
    /// What was settled about MFA codes in this run: the code given was spent, and the devices
    /// the person declined to give a code for (they are not asked again).
    codes: Mutex<CodesSettled>,
}

#[derive(Default)]
struct CodesSettled {
    given_code_spent: bool,
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

    /// The MFA code for `serial` to assume `profile`'s role: the one given for this run, else
    /// asked of the person (one prompt at a time, off the async workers); `None`: none.
    async fn mfa_code(
        &self,
        profile: &str,
        role: &RoleSettings,
        serial: &str,
        retry: bool,
    ) -> Option<mfa::MfaCode> {
        // The code given for the run works once (AWS refuses it again): for the first role.
        if let Some(code) = &self.inner.options.mfa_code {
            let mut settled = self.inner.codes.lock().expect("codes lock");
            if retry || settled.given_code_spent {
                return None;
            }
            settled.given_code_spent = true;
            return Some(code.clone());
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
            session_seconds: role.duration_seconds.unwrap_or(3600),
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
        code
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
    pub async fn credentials(&self, profile: &str) -> Result<Credentials, IdentityError> {
        let source = credential_source(&self.inner.reading.profiles, profile)?;
        let sts = self.endpoint(profile, Service::Sts)?;
        let client = self.client(profile)?;
        self.fetch(&source, &client, &sts).await
    }

    fn fetch<'a>(
        &'a self,
        source: &'a CredentialSource,
        client: &'a AwsClient,
        sts: &'a Endpoint,
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
                    self.once("role", profile, async {
                        // A session the AWS CLI cached for this role (after asking for its
                        // MFA code, say) is used as the AWS CLI would use it.
                        let cached = self.inner.options.cli_cache.as_deref().and_then(|dir| {
                            cli_cache::cached_session(dir, role, time::OffsetDateTime::now_utc())
                        });
                        if let Some(credentials) = cached {
                            return Ok(credentials);
                        }
                        check_role_request(profile, role, source)?;
                        // One keyrack at a time signs in to an MFA role: the others wait for
                        // its session instead of asking for (and spending) a code of their own.
                        let _signing_in = match (&role.mfa_serial, &self.inner.options.state_dir) {
                            (Some(_), Some(dir)) => {
                                let (dir, name) =
                                    (dir.clone(), format!("mfa-{}", cli_cache::cache_key(role)));
                                tokio::task::spawn_blocking(move || {
                                    crate::files::lock::lock_named(
                                        &dir,
                                        &name,
                                        "keyrack signing in with an MFA code",
                                        MFA_SIGN_IN_WAIT,
                                    )
                                })
                                .await
                                .ok()
                                .and_then(Result::ok)
                                .flatten()
                            }
                            _ => None,
                        };
                        let cached = self.inner.options.cli_cache.as_deref().and_then(|dir| {
                            cli_cache::cached_session(dir, role, time::OffsetDateTime::now_utc())
                        });
                        if let Some(credentials) = cached {
                            return Ok(credentials);
                        }
                        let source_credentials = self.fetch(source, client, sts).await?;
                        let session_name = role.session_name.clone().unwrap_or_else(|| {
                            let epoch = SystemTime::now()
                                .duration_since(UNIX_EPOCH)
                                .unwrap_or_default();
                            format!("botocore-session-{}", epoch.as_secs())
                        });
                        let mut retry = false;
                        for _attempt in 0..mfa::ATTEMPTS {
                            let code = match &role.mfa_serial {
                                Some(serial) => {
                                    match self.mfa_code(profile, role, serial, retry).await {
                                        Some(code) => Some(code),
                                        None => {
                                            return Err(IdentityError::NeedsMfa {
                                                profile: profile.clone(),
                                            })
                                        }
                                    }
                                }
                                None => None,
                            };
                            let mfa = role
                                .mfa_serial
                                .as_deref()
                                .zip(code.as_ref().map(|c| c.expose()));
                            let request = RoleRequest {
                                role_arn: &role.role_arn,
                                session_name: &session_name,
                                external_id: role.external_id.as_deref(),
                                duration_seconds: role.duration_seconds,
                                mfa,
                            };
                            let assumed =
                                sts::assume_role(client, sts, &source_credentials, &request).await;
                            let assumed = match assumed {
                                // A code the person typed may be asked for again.
                                Err(AwsError::MfaCodeRejected)
                                    if self.inner.options.mfa_prompt.is_some()
                                        && self.inner.options.mfa_code.is_none() =>
                                {
                                    retry = true;
                                    continue;
                                }
                                other => other.map_err(|error| IdentityError::Aws {
                                    profile: source.profile().to_owned(),
                                    action: format!("AssumeRole {}", role.role_arn),
                                    error,
                                })?,
                            };
                            // A session that took an MFA code is kept where the AWS CLI keeps
                            // its own, so neither keyrack nor the AWS CLI asks for another code
                            // until it expires. Not keeping it only means asking again.
                            if let (Some(_), Some(dir)) = (mfa, &self.inner.options.cli_cache) {
                                let _ = cli_cache::store_session(dir, role, &assumed);
                            }
                            return Ok(assumed.credentials);
                        }
                        Err(IdentityError::Aws {
                            profile: profile.clone(),
                            action: format!("AssumeRole {}", role.role_arn),
                            error: AwsError::MfaCodeRejected,
                        })
                    })
                    .await
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
    sts::get_caller_identity(&client, &sts, &credentials)
        .await
        .map_err(|error| session.aws_failure(profile, "GetCallerIdentity", &sts, error))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn role(duration: Option<u32>, serial: Option<&str>) -> RoleSettings {
        RoleSettings {
            role_arn: "arn:aws:iam::1:role/r".into(),
            external_id: None,
            session_name: None,
            duration_seconds: duration,
            mfa_serial: serial.map(str::to_owned),
        }
    }

    fn keys() -> CredentialSource {
        CredentialSource::StaticKeys {
            profile: "base".into(),
            file: crate::files::FileKind::Credentials,
            credentials: Credentials::new("AKIA1", "s", None),
        }
    }

    #[test]
    fn what_sts_would_refuse_about_a_role_is_found_before_anything_is_sent() {
        let check = |role: RoleSettings, source: CredentialSource| {
            check_role_request("p", &role, &source)
                .err()
                .map(|e| e.code())
        };
        assert_eq!(
            check(role(None, Some("arn:aws:iam::1:mfa/alice")), keys()),
            None
        );
        assert_eq!(check(role(Some(43_200), None), keys()), None);
        assert_eq!(
            check(
                role(None, Some("arn:aws:iam::1:u2f/user/alice/key-ABC")),
                keys()
            ),
            Some("mfa_device_not_usable")
        );
        assert_eq!(
            check(role(Some(899), None), keys()),
            Some("session_too_long")
        );
        assert_eq!(
            check(role(Some(43_201), None), keys()),
            Some("session_too_long")
        );
        let chained = CredentialSource::AssumeRole {
            profile: "first".into(),
            role: role(None, None),
            source: Box::new(keys()),
        };
        assert_eq!(check(role(Some(3600), None), chained.clone()), None);
        let error = check_role_request("p", &role(Some(7200), None), &chained).unwrap_err();
        assert_eq!(error.code(), "session_too_long");
        assert!(error.to_string().contains("role chaining"), "{error}");
    }
}
