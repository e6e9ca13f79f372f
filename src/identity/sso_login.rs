//! Signing in to IAM Identity Center as AWS CLI v2 does (the authorization-code flow with PKCE
//! and a loopback redirect, or the device-code flow), refreshing a sign-in before it ends, and
//! signing out: one keyrack at a time per sign-in (a lock in the state folder), with the client
//! registration and the token kept in `~/.aws/sso/cache` exactly as the AWS CLI keeps them, so
//! every AWS tool shares them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::sso::{
    cache_time, cached_token, check_start_url, parse_time, store_token, ClientRegistration,
    SsoSignIn, SsoToken,
};
use crate::aws::sso_oidc::{self, Grant, Registration};
use crate::aws::{
    resolve_endpoint, AwsClient, AwsError, Endpoint, EndpointEnv, ProfileEndpointSettings, Service,
};
use crate::secret::Secret;

/// Where a sign-in is kept and how IAM Identity Center is reached.
pub struct SignInPlace<'a> {
    /// `~/.aws/sso/cache`.
    pub token_dir: &'a Path,
    /// keyrack's state folder, for the lock (none: no lock).
    pub state_dir: Option<&'a Path>,
    pub env: &'a EndpointEnv,
    pub client: &'a AwsClient,
}

/// How the person approves the sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// In this computer's browser, which comes back to keyrack on a loopback address (PKCE).
    AuthorizationCode,
    /// On any device: a page and a code to enter there.
    DeviceCode,
}

/// What the person is asked to do: open `url` (keyrack tried to open it when `browser_opened`)
/// and, in the device flow, enter `user_code` there.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SignInPrompt {
    pub sign_in: String,
    pub url: String,
    pub user_code: Option<String>,
    pub browser_opened: bool,
}

/// What shows the person a [`SignInPrompt`] (the terminal, the app's dialog).
pub type ShowPrompt = dyn Fn(&SignInPrompt) + Send + Sync;

/// How to sign in.
pub struct SignInOptions<'a> {
    pub flow: Flow,
    /// Open the system browser on the page (else only show it).
    pub open_browser: bool,
    /// How long the person has to approve (the AWS CLI waits 10 minutes).
    pub wait: Duration,
    /// For a tool that asked (credential-process): a sign-in another keyrack completed while
    /// this one waited for the lock is used instead of signing in again (unless it is the token
    /// that was just refused, given here); only the browser flow is used, and a browser that
    /// does not open ends the sign-in at once (nobody would see a page or code).
    /// `keyrack sso login` (`None`) always signs in.
    pub for_a_tool: Option<Option<Secret>>,
    /// The endpoint settings of the profile signed in for (its `services` section), if any.
    pub endpoint: ProfileEndpointSettings,
    /// Shows the person what to do.
    pub show: &'a ShowPrompt,
}

/// How long the AWS CLI waits for the person to approve a sign-in.
pub const APPROVAL_WAIT: Duration = Duration::from_secs(600);

/// A sign-in made.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SignedIn {
    pub sign_in: String,
    pub start_url: String,
    /// RFC 3339.
    pub expires: String,
    pub refreshable: bool,
    /// Another keyrack signed in while this one waited, and its sign-in was used.
    pub by_another: bool,
}

/// Why a sign-in failed; nothing is written then.
#[derive(Debug, thiserror::Error)]
pub enum SsoLoginError {
    #[error("{0}")]
    BadStartUrl(String),

    #[error("could not reach IAM Identity Center for {sign_in}: {detail}")]
    Endpoint { sign_in: String, detail: String },

    #[error(
        "the sign-in to {sign_in} was denied in the browser (or cancelled there); nothing was \
         kept. Run the command again to retry"
    )]
    Denied { sign_in: String },

    #[error(
        "the sign-in to {sign_in} was not approved within {minutes} minutes, so it ended; run the \
         command again to get a new page and code"
    )]
    TimedOut { sign_in: String, minutes: u64 },

    #[error(
        "the browser came back to keyrack with a sign-in it did not start (its state does not \
         match), so it was refused and nothing was kept; run the command again"
    )]
    StateMismatch,

    #[error(
        "keyrack could not listen on 127.0.0.1 for the browser to come back ({detail}); run the \
         command again with --use-device-code"
    )]
    NoLoopback { detail: String },

    #[error("IAM Identity Center refused to sign in to {sign_in} ({step}): {error}")]
    Refused {
        sign_in: String,
        step: &'static str,
        error: AwsError,
    },

    #[error(
        "{sign_in} needs a sign-in that a person approves, and no browser could be opened here \
         (or it is a legacy sign-in, which takes a code typed on a page): run `keyrack sso \
         login` in a terminal, then try again"
    )]
    NeedsPerson { sign_in: String },

    #[error(
        "IAM Identity Center did not sign in to {sign_in}: {error}{}; run the command again, \
         and if it keeps failing ask your administrator",
        if .description.is_empty() { String::new() } else { format!(" ({})", .description) }
    )]
    AuthorizeFailed {
        sign_in: String,
        error: String,
        description: String,
    },

    #[error(
        "another keyrack has been signing in to {sign_in} for longer than keyrack waits; finish \
         or cancel that sign-in, then try again"
    )]
    Busy { sign_in: String },

    #[error("the sign-in worked but could not be kept in {}: {error}; nothing else was changed", .dir.display())]
    Storage { dir: PathBuf, error: std::io::Error },
}

impl SsoLoginError {
    /// A stable code for each kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            SsoLoginError::BadStartUrl(_) => "invalid_start_url",
            SsoLoginError::Endpoint { .. } => "invalid_endpoint",
            SsoLoginError::Denied { .. } => "sso_sign_in_denied",
            SsoLoginError::TimedOut { .. } => "sso_sign_in_timed_out",
            SsoLoginError::StateMismatch => "sso_state_mismatch",
            SsoLoginError::NoLoopback { .. } => "sso_no_loopback",
            SsoLoginError::Refused { .. } => "sso_sign_in_refused",
            SsoLoginError::Busy { .. } => "sso_sign_in_busy",
            SsoLoginError::NeedsPerson { .. } => "needs_sso_login",
            SsoLoginError::AuthorizeFailed { .. } => "sso_sign_in_refused",
            SsoLoginError::Storage { .. } => "sso_cache_write_failed",
        }
    }
}

/// The scopes a sign-in registers with: the session's, else the AWS CLI's default for the
/// authorization-code flow; a device sign-in without scopes registers none (legacy: no refresh).
fn scopes_for(sign_in: &SsoSignIn, flow: Flow) -> Option<Vec<String>> {
    match (flow, sign_in.scopes.is_empty()) {
        (_, false) => Some(sign_in.scopes.clone()),
        (Flow::AuthorizationCode, true) => Some(vec!["sso:account:access".to_owned()]),
        (Flow::DeviceCode, true) => None,
    }
}

/// The file the AWS CLI keeps the client registration of a sign-in in: the SHA-1 of Python's
/// `json.dumps({...}, sort_keys=True)` of tool, start URL, region, scopes and session name.
pub fn registration_file(dir: &Path, sign_in: &SsoSignIn, scopes: Option<&[String]>) -> PathBuf {
    let json = |s: &str| serde_json::to_string(s).expect("a string always serializes");
    let scopes = match scopes {
        None => "null".to_owned(),
        Some(list) => format!(
            "[{}]",
            list.iter().map(|s| json(s)).collect::<Vec<_>>().join(", ")
        ),
    };
    let session = sign_in
        .session
        .as_deref()
        .map(json)
        .unwrap_or_else(|| "null".to_owned());
    // Python's default separators (", " and ": ") and ensure_ascii, keys sorted.
    let text = format!(
        "{{\"region\": {}, \"scopes\": {scopes}, \"session_name\": {session}, \"startUrl\": {}, \"tool\": \"botocore\"}}",
        json(&sign_in.region),
        json(&sign_in.start_url)
    );
    let text = ascii_escaped(&text);
    let digest = sha1::Sha1::digest(text.as_bytes());
    let hex = crate::hex::hex(&digest);
    dir.join(format!("{hex}.json"))
}

/// `text` with every non-ASCII character written `\uXXXX`, as Python's `json.dumps` does.
fn ascii_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// A kept client registration, and whether it was made for the authorization-code flow.
struct KeptRegistration {
    client: ClientRegistration,
    for_auth_code: bool,
}

fn read_registration(file: &Path) -> Option<KeptRegistration> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Kept {
        client_id: String,
        client_secret: Secret,
        expires_at: String,
        #[serde(default)]
        grant_types: Vec<String>,
    }
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(file).ok()?);
    let kept: Kept = serde_json::from_str(&text).ok()?;
    Some(KeptRegistration {
        client: ClientRegistration {
            client_id: kept.client_id,
            client_secret: kept.client_secret,
            expires_at: parse_time(&kept.expires_at)?,
        },
        for_auth_code: kept.grant_types.iter().any(|g| g == "authorization_code"),
    })
}

/// The redirect URI registered for the authorization-code flow: without a port (RFC 8252), as
/// the AWS CLI registers it; the port is added when signing in.
const REGISTERED_REDIRECT: &str = "http://127.0.0.1/oauth/callback";
const AUTH_CODE_GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];

/// A client registration to sign in with, and, when it is new, the file to keep it in once the
/// sign-in worked (a registration nobody signed in with is not kept).
struct ToSignInWith {
    client: ClientRegistration,
    keep: Option<NewRegistration>,
}

/// A registration just made, kept as the AWS CLI keeps it.
struct NewRegistration {
    file: PathBuf,
    scopes: Option<Vec<String>>,
    auth_code: bool,
}

impl NewRegistration {
    fn keep(&self, client: &ClientRegistration) -> std::io::Result<()> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Kept<'a> {
            client_id: &'a str,
            client_secret: &'a str,
            expires_at: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            scopes: Option<&'a [String]>,
            #[serde(skip_serializing_if = "Option::is_none")]
            grant_types: Option<&'a [&'a str]>,
        }
        let kept = Kept {
            client_id: &client.client_id,
            client_secret: client.client_secret.expose(),
            expires_at: cache_time(client.expires_at),
            scopes: self.scopes.as_deref().filter(|s| !s.is_empty()),
            grant_types: self.auth_code.then_some(&AUTH_CODE_GRANTS[..]),
        };
        crate::files::private::write_json(&self.file, &kept)
    }
}

/// The kept registration for this sign-in and flow when it lasts longer than 15 minutes (the
/// AWS CLI's window), else a new one.
async fn registration(
    place: &SignInPlace<'_>,
    oidc: &Endpoint,
    sign_in: &SsoSignIn,
    flow: Flow,
    fresh: bool,
) -> Result<ToSignInWith, SsoLoginError> {
    let scopes = scopes_for(sign_in, flow);
    // Named from the scopes as configured (none: `null`), as the AWS CLI names it, even where
    // the registration itself asks for the default scope.
    let configured = (!sign_in.scopes.is_empty()).then_some(sign_in.scopes.as_slice());
    let file = registration_file(place.token_dir, sign_in, configured);
    let now = OffsetDateTime::now_utc();
    if !fresh {
        if let Some(kept) = read_registration(&file) {
            let lasts = kept.client.expires_at - now > super::sso::REFRESH_WINDOW;
            if lasts && kept.for_auth_code == (flow == Flow::AuthorizationCode) {
                return Ok(ToSignInWith {
                    client: kept.client,
                    keep: None,
                });
            }
        }
    }
    let client_name = match &sign_in.session {
        Some(name) => format!("botocore-client-{name}"),
        None => format!("botocore-client-{}", now.unix_timestamp()),
    };
    let auth_code = flow == Flow::AuthorizationCode;
    let redirect = [REGISTERED_REDIRECT];
    let registered = sso_oidc::register_client(
        place.client,
        oidc,
        &Registration {
            client_name: &client_name,
            scopes: scopes.as_deref(),
            grant_types: auth_code.then_some(&AUTH_CODE_GRANTS[..]),
            redirect_uris: auth_code.then_some(&redirect[..]),
            issuer_url: auth_code.then_some(sign_in.start_url.as_str()),
        },
    )
    .await
    .map_err(|error| SsoLoginError::Refused {
        sign_in: sign_in.describe(),
        step: "RegisterClient",
        error,
    })?;
    let expires_at = OffsetDateTime::from_unix_timestamp(registered.expires_at)
        .unwrap_or(now + time::Duration::days(90));
    Ok(ToSignInWith {
        client: ClientRegistration {
            client_id: registered.client_id,
            client_secret: registered.client_secret,
            expires_at,
        },
        keep: Some(NewRegistration {
            file,
            scopes,
            auth_code,
        }),
    })
}

/// OIDC's endpoint for `sign_in` (`oidc.REGION.amazonaws.com`, or what the environment and the
/// profile's settings say).
fn oidc_endpoint(
    place: &SignInPlace<'_>,
    sign_in: &SsoSignIn,
    settings: &ProfileEndpointSettings,
) -> Result<Endpoint, AwsError> {
    let mut settings = settings.clone();
    settings.region = Some(sign_in.region.clone());
    resolve_endpoint(Service::SsoOidc, &settings, place.env).map_err(|e| AwsError::Service {
        code: "InvalidEndpoint".into(),
        message: e.to_string(),
        status: 0,
    })
}

/// Lock `name` in the state folder, waiting up to `wait` on a thread of its own (the wait
/// sleeps): `Ok(None)` without a state folder, `Err(())` when another holder kept it all along.
async fn lock(
    place: &SignInPlace<'_>,
    name: String,
    holder: &'static str,
    wait: Duration,
) -> Result<Option<crate::files::lock::FileSetLock>, ()> {
    let Some(state) = place.state_dir.map(Path::to_owned) else {
        return Ok(None);
    };
    let taken = tokio::task::spawn_blocking(move || {
        crate::files::lock::lock_named(&state, &name, holder, wait)
    })
    .await;
    match taken {
        Ok(Ok(Some(lock))) => Ok(Some(lock)),
        Ok(Ok(None)) => Err(()),
        // A state folder that cannot hold a lock must not stop a sign-in.
        _ => Ok(None),
    }
}

/// `token`, refreshed first when it ends within the refresh window and can be (an sso-session
/// sign-in with a refresh token and a registration that has not ended): one keyrack at a time
/// per sign-in refreshes (the lock), the others read what it kept. The new token is kept as the
/// AWS CLI keeps it, with the old refresh token when the answer has none (botocore drops it).
/// A refresh that fails leaves the token as it was.
pub async fn refresh_sign_in(
    place: &SignInPlace<'_>,
    sign_in: &SsoSignIn,
    token: SsoToken,
) -> SsoToken {
    let now = OffsetDateTime::now_utc();
    if sign_in.session.is_none() || !token.wants_refresh(now) {
        return token;
    }
    let _refreshing = lock(
        place,
        sign_in.refresh_lock(),
        "keyrack refreshing an IAM Identity Center sign-in",
        Duration::from_secs(60),
    )
    .await;
    // Another keyrack may have refreshed it (or signed in) meanwhile.
    let token = match cached_token(place.token_dir, sign_in) {
        Some(latest) if !latest.wants_refresh(now) => return latest,
        Some(latest) => latest,
        None => token,
    };
    let (Some(client), Some(refresh_token)) = (&token.client, &token.refresh_token) else {
        return token;
    };
    let Ok(oidc) = oidc_endpoint(place, sign_in, &ProfileEndpointSettings::default()) else {
        return token;
    };
    let answer = sso_oidc::create_token(
        place.client,
        &oidc,
        (&client.client_id, &client.client_secret),
        &Grant::RefreshToken(refresh_token),
    )
    .await;
    let Ok(answer) = answer else {
        return token;
    };
    let refreshed = SsoToken {
        access_token: answer.access_token,
        expires_at: OffsetDateTime::now_utc() + time::Duration::seconds(answer.expires_in_seconds),
        start_url: token.start_url.clone(),
        region: token.region.clone(),
        client: token.client.clone(),
        refresh_token: answer.refresh_token.or_else(|| token.refresh_token.clone()),
    };
    // Not keeping it only means refreshing again next time.
    let _ = store_token(place.token_dir, sign_in, &refreshed);
    refreshed
}

/// Sign in to `sign_in` as `options` say: the person approves in the browser (or on another
/// device with the code), and the token is kept where the AWS CLI keeps it. One keyrack at a
/// time signs in to a sign-in; for a tool, one that waited uses what the other made.
pub async fn sign_in(
    place: &SignInPlace<'_>,
    sign_in: &SsoSignIn,
    options: &SignInOptions<'_>,
) -> Result<SignedIn, SsoLoginError> {
    check_start_url(&sign_in.start_url).map_err(SsoLoginError::BadStartUrl)?;
    // The AWS CLI signs in a legacy profile with the device flow only.
    let flow = match sign_in.session {
        Some(_) => options.flow,
        None => Flow::DeviceCode,
    };
    let started = OffsetDateTime::now_utc();
    let _signing_in = lock(
        place,
        sign_in.sign_in_lock(),
        "keyrack signing in to IAM Identity Center",
        options.wait + Duration::from_secs(60),
    )
    .await
    .map_err(|()| SsoLoginError::Busy {
        sign_in: sign_in.describe(),
    })?;
    if let Some(refused) = &options.for_a_tool {
        if flow == Flow::DeviceCode {
            return Err(SsoLoginError::NeedsPerson {
                sign_in: sign_in.describe(),
            });
        }
        let now = OffsetDateTime::now_utc();
        let fresh = cached_token(place.token_dir, sign_in).filter(|t| {
            t.lasts(now)
                && refused
                    .as_ref()
                    .is_none_or(|r| r.expose() != t.access_token.expose())
        });
        if let Some(token) = fresh {
            return Ok(signed_in(sign_in, &token, true));
        }
    }
    let oidc =
        oidc_endpoint(place, sign_in, &options.endpoint).map_err(|e| SsoLoginError::Endpoint {
            sign_in: sign_in.describe(),
            detail: e.to_string(),
        })?;
    // A kept registration that OIDC no longer takes (it ended early, or was revoked) is made
    // again, once.
    let mut fresh_registration = false;
    let token = loop {
        let ToSignInWith { client, keep } =
            registration(place, &oidc, sign_in, flow, fresh_registration).await?;
        let issued = match flow {
            Flow::AuthorizationCode => {
                authorization_code(place, &oidc, sign_in, &client, options).await
            }
            Flow::DeviceCode => device_code(place, &oidc, sign_in, &client, options).await,
        };
        match issued {
            Err(SsoLoginError::Refused { error, .. })
                if !fresh_registration
                    && sso_oidc::oauth_code(&error) == Some("InvalidClientException") =>
            {
                fresh_registration = true;
            }
            Err(error) => return Err(error),
            Ok(issued) => {
                if let Some(new) = keep {
                    new.keep(&client).map_err(|error| SsoLoginError::Storage {
                        dir: place.token_dir.to_owned(),
                        error,
                    })?;
                }
                break SsoToken {
                    access_token: issued.access_token,
                    expires_at: started.max(OffsetDateTime::now_utc())
                        + time::Duration::seconds(issued.expires_in_seconds),
                    start_url: Some(sign_in.start_url.clone()),
                    region: Some(sign_in.region.clone()),
                    client: Some(client),
                    refresh_token: issued.refresh_token,
                };
            }
        }
    };
    store_token(place.token_dir, sign_in, &token).map_err(|error| SsoLoginError::Storage {
        dir: place.token_dir.to_owned(),
        error,
    })?;
    Ok(signed_in(sign_in, &token, false))
}

fn signed_in(sign_in: &SsoSignIn, token: &SsoToken, by_another: bool) -> SignedIn {
    SignedIn {
        sign_in: sign_in.describe(),
        start_url: sign_in.start_url.clone(),
        expires: token
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        refreshable: token.refresh_token.is_some(),
        by_another,
    }
}

/// `n` characters from the PKCE verifier's alphabet (`[A-Za-z0-9-._~]`), from the OS's random
/// source.
fn random_text(n: usize) -> Secret {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut bytes).expect("the OS's random source works");
    // 66 symbols: 256 % 66 leaves a bias under 2%, harmless for a 64-character verifier.
    Secret::new(
        bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect::<String>(),
    )
}

fn refused<'a>(
    sign_in: &'a SsoSignIn,
    step: &'static str,
) -> impl Fn(AwsError) -> SsoLoginError + 'a {
    move |error| SsoLoginError::Refused {
        sign_in: sign_in.describe(),
        step,
        error,
    }
}

/// The authorization-code flow with PKCE: the browser signs in at OIDC's `/authorize` page and
/// comes back to a one-time loopback listener with the code, which is exchanged with the
/// verifier only keyrack knows.
async fn authorization_code(
    place: &SignInPlace<'_>,
    oidc: &Endpoint,
    sign_in: &SsoSignIn,
    client: &ClientRegistration,
    options: &SignInOptions<'_>,
) -> Result<sso_oidc::IssuedToken, SsoLoginError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| SsoLoginError::NoLoopback {
            detail: e.to_string(),
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| SsoLoginError::NoLoopback {
            detail: e.to_string(),
        })?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let verifier = random_text(64);
    let state = random_text(32).expose().replace(['.', '~'], "-");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.expose().as_bytes()));
    let scopes = scopes_for(sign_in, Flow::AuthorizationCode).unwrap_or_default();
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scopes", &scopes.join(" "))
        .append_pair("code_challenge", &challenge)
        .finish();
    let url = format!("{}/authorize?{query}", oidc.url.trim_end_matches('/'));
    let opened = options.open_browser && crate::browser::open(&url);
    if !opened && options.for_a_tool.is_some() {
        return Err(SsoLoginError::NeedsPerson {
            sign_in: sign_in.describe(),
        });
    }
    (options.show)(&SignInPrompt {
        sign_in: sign_in.describe(),
        url,
        user_code: None,
        browser_opened: opened,
    });
    let came_back = tokio::time::timeout(options.wait, callback(&listener, &state))
        .await
        .map_err(|_| SsoLoginError::TimedOut {
            sign_in: sign_in.describe(),
            minutes: options.wait.as_secs().div_ceil(60),
        })?;
    let code = match came_back? {
        Callback::Code(code) => code,
        Callback::Forged => return Err(SsoLoginError::StateMismatch),
        Callback::Error { error, .. } if error == "access_denied" => {
            return Err(SsoLoginError::Denied {
                sign_in: sign_in.describe(),
            })
        }
        Callback::Error { error, description } => {
            return Err(SsoLoginError::AuthorizeFailed {
                sign_in: sign_in.describe(),
                error,
                description,
            })
        }
    };
    sso_oidc::create_token(
        place.client,
        oidc,
        (&client.client_id, &client.client_secret),
        &Grant::AuthorizationCode {
            code: &code,
            code_verifier: &verifier,
            redirect_uri: &redirect_uri,
        },
    )
    .await
    .map_err(|error| match sso_oidc::oauth_code(&error) {
        Some("ExpiredTokenException") => SsoLoginError::TimedOut {
            sign_in: sign_in.describe(),
            minutes: options.wait.as_secs().div_ceil(60),
        },
        _ => refused(sign_in, "CreateToken")(error),
    })
}

/// What the browser brought back.
enum Callback {
    /// The code of this sign-in (its state matched).
    Code(Secret),
    /// OIDC's refusal (`access_denied` when the person denied) for this sign-in.
    Error { error: String, description: String },
    /// A code or refusal with another state: not of this sign-in.
    Forged,
}

/// The page the browser is shown once it is back.
const BACK_PAGE: &str = "<!doctype html><meta charset=utf-8><title>keyrack</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in to IAM Identity Center</h1>\
<p>keyrack has the sign-in. You can close this tab.</p></body>";
const DENIED_PAGE: &str = "<!doctype html><meta charset=utf-8><title>keyrack</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Not signed in</h1>\
<p>The sign-in was denied or cancelled. Nothing was kept. You can close this tab.</p></body>";
const FORGED_PAGE: &str = "<!doctype html><meta charset=utf-8><title>keyrack</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Not signed in</h1>\
<p>This page did not come from the sign-in keyrack started, so keyrack refused it. Run the \
command again.</p></body>";

/// Wait on `listener` for the browser's `GET /oauth/callback?code=&state=` (or `?error=`);
/// anything else it asks for (a favicon) is answered 404 and the wait goes on.
async fn callback(
    listener: &tokio::net::TcpListener,
    expected_state: &str,
) -> Result<Callback, SsoLoginError> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            // Out of file handles, say: do not spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut request = zeroize::Zeroizing::new(Vec::with_capacity(2048));
        let mut chunk = [0u8; 1024];
        let head_read = tokio::time::timeout(Duration::from_secs(10), async {
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        chunk.iter_mut().for_each(|b| *b = 0);
        if head_read.is_err() {
            continue;
        }
        let line = request
            .split(|b| *b == b'\n')
            .next()
            .and_then(|l| std::str::from_utf8(l).ok())
            .unwrap_or_default()
            .trim();
        let target = line
            .strip_prefix("GET ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != "/oauth/callback" {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let mut code = None;
        let mut state = None;
        let mut error = None;
        let mut description = String::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "code" => code = Some(Secret::new(value.into_owned())),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                "error_description" => description = value.into_owned(),
                _ => {}
            }
        }
        if error.is_none() && code.is_none() {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let (page, back) = match (state.as_deref() == Some(expected_state), error, code) {
            (false, _, _) => (FORGED_PAGE, Callback::Forged),
            (true, Some(error), _) => (DENIED_PAGE, Callback::Error { error, description }),
            (true, None, Some(code)) => (BACK_PAGE, Callback::Code(code)),
            (true, None, None) => unreachable!("answered above"),
        };
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        return Ok(back);
    }
}

/// The device-code flow: the person opens the page (on any device), enters the code and
/// approves; keyrack asks for the token every `interval` seconds meanwhile, slower when told.
async fn device_code(
    place: &SignInPlace<'_>,
    oidc: &Endpoint,
    sign_in: &SsoSignIn,
    client: &ClientRegistration,
    options: &SignInOptions<'_>,
) -> Result<sso_oidc::IssuedToken, SsoLoginError> {
    let secret = (client.client_id.as_str(), &client.client_secret);
    let device =
        sso_oidc::start_device_authorization(place.client, oidc, secret, &sign_in.start_url)
            .await
            .map_err(refused(sign_in, "StartDeviceAuthorization"))?;
    let timed_out = || SsoLoginError::TimedOut {
        sign_in: sign_in.describe(),
        minutes: (device.expires_in.max(0) as u64)
            .min(options.wait.as_secs())
            .div_ceil(60),
    };
    let url = device
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| device.verification_uri.clone());
    let opened = options.open_browser && crate::browser::open(&url);
    (options.show)(&SignInPrompt {
        sign_in: sign_in.describe(),
        url,
        user_code: Some(device.user_code.clone()),
        browser_opened: opened,
    });
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs(device.expires_in.max(1) as u64).min(options.wait);
    let mut interval = Duration::from_secs(device.interval as u64);
    loop {
        let answer = sso_oidc::create_token(
            place.client,
            oidc,
            secret,
            &Grant::DeviceCode(&device.device_code),
        )
        .await;
        match answer {
            Ok(token) => return Ok(token),
            Err(error) => match sso_oidc::oauth_code(&error) {
                Some("AuthorizationPendingException") => {}
                Some("SlowDownException") => interval += Duration::from_secs(5),
                Some("ExpiredTokenException") => return Err(timed_out()),
                Some("AccessDeniedException") => {
                    return Err(SsoLoginError::Denied {
                        sign_in: sign_in.describe(),
                    })
                }
                _ => return Err(refused(sign_in, "CreateToken")(error)),
            },
        }
        if tokio::time::Instant::now() + interval > deadline {
            return Err(timed_out());
        }
        tokio::time::sleep(interval).await;
    }
}

/// What signing out did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SignedOut {
    /// Sign-ins the portal was told to end (Logout answered).
    pub signed_out: usize,
    /// Sign-ins whose Logout failed (their files are removed all the same).
    pub logout_failed: usize,
    /// Token files and role-credential files removed.
    pub removed_files: usize,
}

/// Sign out as `aws sso logout` does: every sign-in kept in `token_dir` (a file with an
/// `accessToken`) is ended at the portal of its region and removed, and so are the SSO role
/// credentials in `role_cache` (`ProviderType: sso`). Registrations are kept.
pub async fn sign_out(
    place: &SignInPlace<'_>,
    role_cache: Option<&Path>,
) -> std::io::Result<SignedOut> {
    let mut done = SignedOut::default();
    for file in json_files(place.token_dir)? {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Kept {
            access_token: Option<Secret>,
            region: Option<String>,
        }
        // No refresh writes this sign-in back while it is ended and removed.
        let digest: String = file
            .file_stem()
            .map(|s| s.to_string_lossy().chars().take(16).collect())
            .unwrap_or_default();
        let _no_refresh = lock(
            place,
            super::sso::refresh_lock_of(&digest),
            "keyrack signing out of IAM Identity Center",
            Duration::from_secs(60),
        )
        .await;
        let Ok(text) = std::fs::read_to_string(&file).map(zeroize::Zeroizing::new) else {
            continue;
        };
        let Ok(kept) = serde_json::from_str::<Kept>(&text) else {
            continue;
        };
        let Some(token) = kept.access_token else {
            continue;
        };
        if let Some(region) = kept.region {
            let settings = ProfileEndpointSettings {
                region: Some(region),
                ..ProfileEndpointSettings::default()
            };
            let logged_out = match resolve_endpoint(Service::Sso, &settings, place.env) {
                Ok(portal) => crate::aws::sso::logout(place.client, &portal, &token)
                    .await
                    .is_ok(),
                Err(_) => false,
            };
            if logged_out {
                done.signed_out += 1;
            } else {
                done.logout_failed += 1;
            }
        }
        done.removed_files += remove_if_there(&file)?;
    }
    // What a writer killed mid-write left: it may hold a token.
    done.removed_files += remove_temporaries(place.token_dir)?;
    if let Some(dir) = role_cache {
        for file in json_files(dir)? {
            let Ok(text) = std::fs::read_to_string(&file).map(zeroize::Zeroizing::new) else {
                continue;
            };
            let sso = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("ProviderType").map(|p| p == "sso"))
                .unwrap_or(false);
            if sso {
                done.removed_files += remove_if_there(&file)?;
            }
        }
    }
    Ok(done)
}

/// Remove `file`: 1, or 0 when another program (`aws sso logout`) removed it first.
fn remove_if_there(file: &Path) -> std::io::Result<usize> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(1),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Remove the temporary files keyrack's cache writers left in `dir`: how many.
fn remove_temporaries(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for path in files_in(dir, crate::files::private::is_json_temporary)? {
        removed += remove_if_there(&path)?;
    }
    Ok(removed)
}

/// The `*.json` files directly in `dir` (none when it does not exist).
fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_in(dir, |name| name.ends_with(".json"))
}

/// The files directly in `dir` whose names `keep` takes, sorted (none when `dir` is missing).
fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| keep(&n)) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corp(session: Option<&str>) -> SsoSignIn {
        SsoSignIn {
            start_url: "https://corp.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            session: session.map(str::to_owned),
            scopes: Vec::new(),
        }
    }

    #[test]
    fn the_registration_file_is_named_as_the_aws_cli_names_it() {
        // Python: hashlib.sha1(json.dumps({"tool": "botocore", "startUrl": ..., "region": ...,
        // "scopes": ..., "session_name": ...}, sort_keys=True).encode()).hexdigest()
        let file = registration_file(
            Path::new("/c"),
            &corp(Some("corp")),
            Some(&["sso:account:access".to_owned()]),
        );
        assert_eq!(
            file,
            Path::new("/c").join("787ef34d0a944c01385765faa28b5e67d1c08f33.json")
        );
        let legacy = registration_file(Path::new("/c"), &corp(None), None);
        assert_eq!(
            legacy,
            Path::new("/c").join("3a62fc7fd3ab838419eccab5b58d0124a95b510d.json")
        );
    }

    #[test]
    fn non_ascii_is_escaped_as_python_escapes_it() {
        assert_eq!(ascii_escaped("é😀"), "\\u00e9\\ud83d\\ude00");
    }

    #[test]
    fn a_pkce_verifier_has_64_characters_of_its_alphabet() {
        let v = random_text(64);
        assert_eq!(v.expose().len(), 64);
        assert!(v
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)));
        assert_ne!(random_text(64).expose(), v.expose());
    }
}
