//! A strict stand-in for IAM Identity Center, on one loopback port, built from botocore's models
//! of it; one server is enough because the paths of its two services do not collide.
//!
//! Its portal (`portal.sso.REGION.amazonaws.com`, model `sso/2019-06-10`), which moto does not
//! have: `GET /federation/credentials?account_id=&role_name=`, `GET /assignment/accounts`, `GET
//! /assignment/roles?account_id=` and `POST /logout`, with the sign-in's access token in
//! `x-amz-sso_bearer_token`, unsigned, answered in rest-json with the error type in
//! `x-amzn-ErrorType`. A missing parameter is InvalidRequestException (400); a token it did not
//! issue, or one that ended or was signed out, UnauthorizedException (401); a role not assigned to
//! the user ForbiddenException "No access" (403, as the real portal answers). The role credentials
//! it hands out are real ones of moto: it assumes the role `AWSReservedSSO_<ROLE>_…` with an
//! admin key, as Identity Center does behind the scenes, so STS answers with the SSO role's ARN.
//!
//! The sign-in half of its OIDC service (`oidc.REGION.amazonaws.com`, model `sso-oidc/2019-06-10`),
//! unsigned JSON, which moto does not have either: RegisterClient (`POST /client/register`: public
//! clients only; an authorization-code client must register loopback redirect URIs
//! `http://127.0.0.1[:PORT]/oauth/callback` and an issuer URL), StartDeviceAuthorization (`POST
//! /device_authorization`: a user code `ABCD-EFGH` and, as the real service since 2026-09, a
//! complete verification URI that does not hold it), the browser's `GET /authorize` (PKCE with
//! S256 only; a redirect URI it cannot verify gets an error page, never a redirect), and
//! CreateToken (`POST /token`) for the device-code, authorization-code and refresh-token grants.
//! Errors are OIDC's: the type in `x-amzn-ErrorType`, `{"error", "error_description"}` in the
//! body, status 400 but for InvalidClientException (401, as the model has it). The access tokens
//! it hands out are taken by the portal; a client registered with scopes gets 1-hour access tokens
//! and refresh tokens, one registered without (the legacy device flow) 8-hour ones and none.
//! What the person does is the test's: approving or denying a device code
//! ([`SsoPortal::approve_device`]), who the browser is signed in as
//! ([`SsoPortal::browser_signed_in_as`]), and playing the browser ([`SsoPortal::play_browser`]);
//! so are the clocks ([`SsoPortal::expire_device_codes`], [`SsoPortal::expire_clients`]).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use keyrack::aws::{sts, AwsClient, ClientSettings, Credentials, RoleRequest, Service};
use sha2::{Digest, Sha256};

/// The portal; it stops when dropped.
pub struct SsoPortal {
    /// `http://127.0.0.1:PORT`, to use as `AWS_ENDPOINT_URL_SSO` (and `AWS_ENDPOINT_URL_SSO_OIDC`).
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

struct State {
    /// The stand-in's own address (`http://127.0.0.1:PORT`), for the verification URIs.
    url: String,
    /// Access tokens it takes, with the user they sign in.
    tokens: HashMap<String, String>,
    /// Account ids with their names, in the order the portal lists them.
    accounts: Vec<(String, String)>,
    /// (account, role name) pairs assigned to the user.
    assigned: HashSet<(String, String)>,
    /// Role credentials handed out.
    issued: usize,
    /// Portal Logouts answered.
    logouts: usize,
    /// OIDC: registered clients by id, refresh tokens (to their user and the client they were
    /// issued to), refreshes done, and whether a refresh hands out a new refresh token.
    clients: HashMap<String, Registration>,
    refresh_tokens: HashMap<String, (String, String)>,
    refreshed: usize,
    rotate_refresh_tokens: bool,
    /// OIDC: device authorizations in the order they were started, and authorization codes.
    devices: Vec<DeviceAuthorization>,
    codes: HashMap<String, AuthorizationCode>,
    /// Who the person's browser is signed in as; `None`: the person denies (or cancels).
    browser: Option<String>,
    /// OIDC: RegisterClient calls answered, device authorizations started, access tokens issued by
    /// the device-code and authorization-code grants, SlowDown answers.
    registrations: usize,
    device_authorizations: usize,
    tokens_issued: usize,
    slow_downs: usize,
    moto: String,
    admin: Credentials,
}

/// An OIDC client registration.
struct Registration {
    secret: String,
    /// The scopes it registered with; none: a legacy client (8-hour tokens, no refresh).
    scopes: Vec<String>,
    /// The grant types it registered; none: the device-code and refresh-token grants.
    grant_types: Vec<String>,
    redirect_uris: Vec<String>,
    /// When the registration ends (epoch seconds).
    expires_at: i64,
}

impl Registration {
    fn ended(&self) -> bool {
        time::OffsetDateTime::now_utc().unix_timestamp() >= self.expires_at
    }

    /// Whether the client may use grant `grant`.
    fn allows(&self, grant: &str) -> bool {
        if self.grant_types.is_empty() {
            grant == DEVICE_CODE || grant == "refresh_token"
        } else {
            self.grant_types.iter().any(|g| g == grant)
        }
    }
}

/// Where a device authorization stands.
enum Approval {
    Pending,
    Approved(String),
    Denied,
    /// Its token was handed out.
    Used,
}

/// A StartDeviceAuthorization answered.
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    client_id: String,
    expires_at: Instant,
    approval: Approval,
    /// When CreateToken last asked about it.
    polled_at: Option<Instant>,
}

/// An authorization code the browser took back to the app.
struct AuthorizationCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    user: String,
    #[allow(dead_code)] // kept as the real service keeps them: the token's scopes
    scopes: Vec<String>,
    used: bool,
}

/// The device-code grant's type.
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long a device code lasts, and how often it may be polled, in seconds.
const DEVICE_CODE_LASTS: u64 = 600;
const POLL_INTERVAL: u64 = 1;

/// How long a client registration lasts (90 days, as the real service's), in seconds.
const REGISTRATION_LASTS: i64 = 90 * 24 * 3600;

/// The role moto holds for SSO role `role` (as Identity Center names its roles).
pub fn reserved_role(role: &str) -> String {
    format!("AWSReservedSSO_{role}_0123456789abcdef")
}

impl SsoPortal {
    /// A portal whose role credentials are moto's (at `moto`), assumed with `admin`'s key.
    pub fn start(moto: &str, admin: &Credentials) -> SsoPortal {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SSO portal stand-in");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            url: url.clone(),
            tokens: HashMap::new(),
            accounts: Vec::new(),
            assigned: HashSet::new(),
            issued: 0,
            logouts: 0,
            clients: HashMap::new(),
            refresh_tokens: HashMap::new(),
            refreshed: 0,
            rotate_refresh_tokens: true,
            devices: Vec::new(),
            codes: HashMap::new(),
            browser: None,
            registrations: 0,
            device_authorizations: 0,
            tokens_issued: 0,
            slow_downs: 0,
            moto: moto.to_owned(),
            admin: admin.clone(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopped) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let state = shared.clone();
                        std::thread::spawn(move || answer(client, &state));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        SsoPortal { url, state, stop }
    }

    /// The portal takes `token` as a sign-in of `user` (an e-mail address, the session name of
    /// the role credentials).
    pub fn sign_in(&self, token: &str, user: &str) {
        let mut state = self.state.lock().unwrap();
        state.tokens.insert(token.to_owned(), user.to_owned());
    }

    /// `token` no longer works (signed out, or ended at the portal).
    pub fn sign_out(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    /// Role `role` in `account` is assigned to the user.
    pub fn assign(&self, account: &str, role: &str) {
        let mut state = self.state.lock().unwrap();
        state.assigned.insert((account.to_owned(), role.to_owned()));
    }

    /// Role `role` in `account` is no longer assigned.
    pub fn unassign(&self, account: &str, role: &str) {
        let mut state = self.state.lock().unwrap();
        state
            .assigned
            .remove(&(account.to_owned(), role.to_owned()));
    }

    /// Account `account` is called `name` (ListAccounts shows it once a role in it is assigned).
    pub fn name_account(&self, account: &str, name: &str) {
        let mut state = self.state.lock().unwrap();
        state.accounts.push((account.to_owned(), name.to_owned()));
    }

    /// OIDC: the client `id` (secret `secret`) is registered as the AWS CLI registers for an
    /// sso-session (scopes `sso:account:access`, the authorization-code and refresh-token grants,
    /// redirect URI `http://127.0.0.1/oauth/callback`, until 2099), and `refresh_token` refreshes
    /// a sign-in of `user` through it; `rotate`: a refresh hands out a new refresh token too.
    pub fn refreshable(
        &self,
        (id, secret): (&str, &str),
        refresh_token: &str,
        user: &str,
        rotate: bool,
    ) {
        let mut state = self.state.lock().unwrap();
        let registration = Registration {
            secret: secret.to_owned(),
            scopes: vec!["sso:account:access".to_owned()],
            grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
            redirect_uris: vec!["http://127.0.0.1/oauth/callback".to_owned()],
            // 2099-01-01T00:00:00Z, the registration `keep_sign_in` keeps.
            expires_at: 4_070_908_800,
        };
        state.clients.insert(id.to_owned(), registration);
        state
            .refresh_tokens
            .insert(refresh_token.to_owned(), (user.to_owned(), id.to_owned()));
        state.rotate_refresh_tokens = rotate;
    }

    /// How many sign-ins OIDC refreshed.
    pub fn refreshed(&self) -> usize {
        self.state.lock().unwrap().refreshed
    }

    /// How many role credentials it handed out.
    pub fn issued(&self) -> usize {
        self.state.lock().unwrap().issued
    }

    /// How many portal Logouts it answered (each ended a token).
    pub fn logouts(&self) -> usize {
        self.state.lock().unwrap().logouts
    }

    /// OIDC: the person, signed in as `user`, approves the device authorization showing
    /// `user_code`; false if no authorization with that code is pending (none, ended, decided).
    pub fn approve_device(&self, user_code: &str, user: &str) -> bool {
        self.decide_device(user_code, Approval::Approved(user.to_owned()))
    }

    /// OIDC: the person denies the device authorization showing `user_code`; false if no
    /// authorization with that code is pending.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.decide_device(user_code, Approval::Denied)
    }

    fn decide_device(&self, user_code: &str, decision: Approval) -> bool {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let pending = state.devices.iter_mut().find(|d| {
            d.user_code == user_code
                && matches!(d.approval, Approval::Pending)
                && now < d.expires_at
        });
        match pending {
            Some(device) => {
                device.approval = decision;
                true
            }
            None => false,
        }
    }

    /// OIDC: every device code handed out so far has expired (CreateToken answers
    /// ExpiredTokenException for them).
    pub fn expire_device_codes(&self) {
        let now = Instant::now();
        for device in &mut self.state.lock().unwrap().devices {
            device.expires_at = now;
        }
    }

    /// OIDC: the user codes of the device authorizations still pending (not decided, not
    /// expired), in the order they were started.
    pub fn pending_user_codes(&self) -> Vec<String> {
        let now = Instant::now();
        let state = self.state.lock().unwrap();
        state
            .devices
            .iter()
            .filter(|d| matches!(d.approval, Approval::Pending) && now < d.expires_at)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// OIDC: who the person's browser is signed in to Identity Center as, and so who approves
    /// what `/authorize` asks; `None` (as at the start): the person denies, or cancels.
    pub fn browser_signed_in_as(&self, user: Option<&str>) {
        self.state.lock().unwrap().browser = user.map(str::to_owned);
    }

    /// OIDC: what the person's browser does with `authorize_url` (the app's `/authorize` address
    /// at this stand-in): GET it and, when it answers with a redirect, GET the redirect's
    /// address (the app's loopback listener, `http://127.0.0.1:PORT/oauth/callback?…`); the body
    /// of the app's page, or what went wrong. It blocks, up to 10 s a read; the app must be
    /// listening elsewhere (another process, or another thread).
    pub fn play_browser(&self, authorize_url: &str) -> Result<String, String> {
        if !authorize_url.starts_with(&format!("{}/authorize?", self.url)) {
            return Err(format!(
                "the address is not this stand-in's authorize page ({}/authorize?…)",
                self.url
            ));
        }
        let (status, headers, body) = browser_get(authorize_url)?;
        if status != 302 {
            return Err(format!("the authorize page answered {status}: {body}"));
        }
        let location = headers
            .get("location")
            .ok_or("the authorize page's redirect has no location")?;
        if !location.starts_with("http://127.0.0.1:") {
            return Err("the authorize page redirected off the loopback interface".into());
        }
        match browser_get(location)? {
            (200..=299, _, page) => Ok(page),
            (status, _, page) => Err(format!("the app's callback answered {status}: {page}")),
        }
    }

    /// OIDC: how many RegisterClient calls it answered with a registration.
    pub fn registrations(&self) -> usize {
        self.state.lock().unwrap().registrations
    }

    /// OIDC: how many device authorizations (StartDeviceAuthorization) it started.
    pub fn device_authorizations(&self) -> usize {
        self.state.lock().unwrap().device_authorizations
    }

    /// OIDC: how many access tokens the device-code and authorization-code grants issued
    /// (refreshes are [`SsoPortal::refreshed`]).
    pub fn tokens_issued(&self) -> usize {
        self.state.lock().unwrap().tokens_issued
    }

    /// OIDC: how many CreateToken polls it answered with SlowDownException (a device code asked
    /// about again sooner than its interval).
    pub fn slow_downs(&self) -> usize {
        self.state.lock().unwrap().slow_downs
    }

    /// OIDC: every client registration so far ends now (the clients get InvalidClientException).
    pub fn expire_clients(&self) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for registration in self.state.lock().unwrap().clients.values_mut() {
            registration.expires_at = now;
        }
    }
}

impl Drop for SsoPortal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Answer with `status`, `headers` and `body`, closing the connection.
fn respond(mut client: &TcpStream, status: u16, headers: &[(&str, &str)], body: &str) {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        500 => "Internal Server Error",
        _ => "Not Found",
    };
    let mut answer = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        answer.push_str(&format!("{name}: {value}\r\n"));
    }
    answer.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    let _ = client.write_all(answer.as_bytes());
}

/// A rest-json answer, with the error type in `x-amzn-ErrorType` when it is an error.
fn reply(client: &TcpStream, status: u16, error_type: Option<&str>, body: &str) {
    let error_type = error_type
        .map(|t| format!("{t}:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(error_type) = &error_type {
        headers.push(("x-amzn-ErrorType", error_type.as_str()));
    }
    respond(client, status, &headers, body);
}

/// A portal error answer: `message` in the body.
fn refuse(client: &TcpStream, status: u16, error_type: &str, message: &str) {
    let body = serde_json::json!({ "message": message }).to_string();
    reply(client, status, Some(error_type), &body);
}

/// An OIDC error answer: the type (`…Exception`) in `x-amzn-ErrorType`, the OAuth error
/// (`invalid_grant`, …) and `description` in the body; 400, but 401 for InvalidClientException
/// and 500 for InternalServerException, the statuses of botocore's `sso-oidc` model.
fn oauth_error(client: &TcpStream, error_type: &str, error: &str, description: &str) {
    let status = match error_type {
        "InvalidClientException" => 401,
        "InternalServerException" => 500,
        _ => 400,
    };
    let body = serde_json::json!({"error": error, "error_description": description}).to_string();
    reply(client, status, Some(error_type), &body);
}

/// OIDC's InvalidRequestException, saying `description`.
fn invalid_request(client: &TcpStream, description: &str) {
    oauth_error(
        client,
        "InvalidRequestException",
        "invalid_request",
        description,
    );
}

/// The JSON object a request's body holds.
fn json_object(body: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice(body).ok()? {
        serde_json::Value::Object(object) => Some(object),
        _ => None,
    }
}

/// String member `name` of `request`: `Ok(None)` when absent (null or empty), `Err` when it is
/// not a string.
fn text(
    request: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<String>, String> {
    match request.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// List-of-strings member `name` of `request`: `Ok(None)` when absent, `Err` when it is not a
/// list of strings.
fn strings(
    request: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<Vec<String>>, String> {
    let not_strings = || format!("{name} must be a list of strings");
    match request.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(not_strings))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(not_strings()),
    }
}

/// The members `names` of `request`, which are required strings; else the InvalidRequestException
/// description.
fn required<const N: usize>(
    request: &serde_json::Map<String, serde_json::Value>,
    names: [&str; N],
) -> Result<[String; N], String> {
    let mut values: [String; N] = std::array::from_fn(|_| String::new());
    for (value, name) in values.iter_mut().zip(names) {
        *value = text(request, name)?.ok_or_else(|| format!("{name} is required"))?;
    }
    Ok(values)
}

/// Whether `uri` is a loopback redirect URI Identity Center takes: exactly
/// `http://127.0.0.1/oauth/callback` (`Some(None)`, registered so, per RFC 8252) or
/// `http://127.0.0.1:PORT/oauth/callback` (`Some(Some(PORT))`).
fn loopback_callback(uri: &str) -> Option<Option<u16>> {
    let rest = uri.strip_prefix("http://127.0.0.1")?;
    if rest == "/oauth/callback" {
        return Some(None);
    }
    let port = rest.strip_prefix(':')?.strip_suffix("/oauth/callback")?;
    let canonical =
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !port.starts_with('0');
    port.parse::<u16>().ok().filter(|_| canonical).map(Some)
}

/// The registration of client `id` if `secret` is its secret and it has not ended; else the
/// InvalidClientException description.
fn authenticate<'a>(
    state: &'a State,
    id: &str,
    secret: &str,
) -> Result<&'a Registration, &'static str> {
    match state.clients.get(id) {
        Some(registration) if registration.secret == secret && registration.ended() => {
            Err("Client registration has expired")
        }
        Some(registration) if registration.secret == secret => Ok(registration),
        _ => Err("Invalid client"),
    }
}

/// OIDC's RegisterClient: public clients only; an authorization-code client must register
/// loopback redirect URIs and its issuer URL.
fn register_client(client: &TcpStream, body: &[u8], state: &Mutex<State>) {
    let Some(request) = json_object(body) else {
        return invalid_request(client, "not JSON");
    };
    /// RegisterClient's members: client type, scopes, redirect URIs, grant types, issuer URL.
    type Members = (
        String,
        Vec<String>,
        Option<Vec<String>>,
        Vec<String>,
        Option<String>,
    );
    fn members(request: &serde_json::Map<String, serde_json::Value>) -> Result<Members, String> {
        let [_name, client_type] = required(request, ["clientName", "clientType"])?;
        let scopes = strings(request, "scopes")?.unwrap_or_default();
        let redirect_uris = strings(request, "redirectUris")?;
        let grant_types = strings(request, "grantTypes")?.unwrap_or_default();
        let issuer = text(request, "issuerUrl")?;
        Ok((client_type, scopes, redirect_uris, grant_types, issuer))
    }
    let (client_type, scopes, redirect_uris, grant_types, issuer) = match members(&request) {
        Ok(members) => members,
        Err(description) => return invalid_request(client, &description),
    };
    if client_type != "public" {
        return invalid_request(client, "Invalid client type");
    }
    let known = ["authorization_code", "refresh_token", DEVICE_CODE];
    if let Some(unknown) = grant_types.iter().find(|g| !known.contains(&g.as_str())) {
        return oauth_error(
            client,
            "InvalidClientMetadataException",
            "invalid_client_metadata",
            &format!("Unsupported grant type: {unknown}"),
        );
    }
    if grant_types.iter().any(|g| g == "authorization_code") {
        let loopback = redirect_uris.as_ref().is_some_and(|uris| {
            !uris.is_empty() && uris.iter().all(|u| loopback_callback(u).is_some())
        });
        if !loopback {
            return oauth_error(
                client,
                "InvalidRedirectUriException",
                "invalid_redirect_uri",
                "Invalid redirect URI",
            );
        }
        if issuer.is_none() {
            return invalid_request(client, "issuerUrl is required for authorization_code");
        }
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (id, secret) = (fastrand_token(22), fastrand_token(96));
    let registration = Registration {
        secret: secret.clone(),
        scopes,
        grant_types,
        redirect_uris: redirect_uris.unwrap_or_default(),
        expires_at: now + REGISTRATION_LASTS,
    };
    let mut state = state.lock().unwrap();
    state.clients.insert(id.clone(), registration);
    state.registrations += 1;
    let answer = serde_json::json!({
        "clientId": id, "clientSecret": secret,
        "clientIdIssuedAt": now, "clientSecretExpiresAt": now + REGISTRATION_LASTS,
    });
    reply(client, 200, None, &answer.to_string());
}

/// OIDC's StartDeviceAuthorization: a device code for a registered client, to poll CreateToken
/// with until the person approves its user code.
fn start_device_authorization(client: &TcpStream, body: &[u8], state: &Mutex<State>) {
    let Some(request) = json_object(body) else {
        return invalid_request(client, "not JSON");
    };
    let [id, secret, _start_url] =
        match required(&request, ["clientId", "clientSecret", "startUrl"]) {
            Ok(members) => members,
            Err(description) => return invalid_request(client, &description),
        };
    let mut state = state.lock().unwrap();
    match authenticate(&state, &id, &secret) {
        Err(description) => {
            return oauth_error(
                client,
                "InvalidClientException",
                "invalid_client",
                description,
            )
        }
        Ok(registration) if !registration.allows(DEVICE_CODE) => {
            return oauth_error(
                client,
                "UnauthorizedClientException",
                "unauthorized_client",
                "The client is not authorized for the device code grant",
            )
        }
        Ok(_) => {}
    }
    let user_code = loop {
        let letters = |n| -> String { (0..n).map(|_| fastrand::uppercase()).collect() };
        let code = format!("{}-{}", letters(4), letters(4));
        if !state.devices.iter().any(|d| d.user_code == code) {
            break code;
        }
    };
    let device_code = fastrand_token(64);
    let answer = serde_json::json!({
        "deviceCode": device_code,
        "userCode": user_code,
        "verificationUri": format!("{}/device", state.url),
        "verificationUriComplete":
            format!("{}/platform/authorize?request_uri={}", state.url, fastrand_token(32)),
        "expiresIn": DEVICE_CODE_LASTS,
        "interval": POLL_INTERVAL,
    });
    state.devices.push(DeviceAuthorization {
        device_code,
        user_code,
        client_id: id,
        expires_at: Instant::now() + Duration::from_secs(DEVICE_CODE_LASTS),
        approval: Approval::Pending,
        polled_at: None,
    });
    state.device_authorizations += 1;
    reply(client, 200, None, &answer.to_string());
}

/// The browser's `GET /authorize`: with the client and its redirect URI verified, a redirect to
/// that URI with a code (the person approved) or `error=access_denied`, and `state`. What it
/// cannot verify gets an error page and no redirect.
fn authorize(client: &TcpStream, params: &HashMap<String, String>, state: &Mutex<State>) {
    let page = |message: &str| {
        let body =
            format!("<!DOCTYPE html><html><body><h1>Error</h1><p>{message}</p></body></html>");
        respond(
            client,
            400,
            &[("content-type", "text/html; charset=utf-8")],
            &body,
        );
    };
    let param = |name: &str| params.get(name).filter(|v| !v.is_empty());
    let mut state = state.lock().unwrap();
    let Some((id, registration)) = param("client_id")
        .and_then(|id| state.clients.get(id).map(|r| (id.clone(), r)))
        .filter(|(_, r)| !r.ended())
    else {
        return page("Invalid client");
    };
    let Some(redirect_uri) = param("redirect_uri").cloned().filter(|uri| {
        matches!(loopback_callback(uri), Some(Some(_)))
            && registration
                .redirect_uris
                .iter()
                .any(|registered| registered == uri || loopback_callback(registered) == Some(None))
    }) else {
        return page("Invalid redirect URI");
    };
    let app_state = param("state").cloned();
    let back = |outcome: &[(&str, &str)]| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(outcome);
        if let Some(app_state) = &app_state {
            query.append_pair("state", app_state);
        }
        let location = format!("{redirect_uri}?{}", query.finish());
        let headers = [
            ("location", location.as_str()),
            ("content-type", "text/html"),
        ];
        respond(client, 302, &headers, "");
    };
    let error = |error: &str, description: &str| {
        back(&[("error", error), ("error_description", description)])
    };
    if param("response_type").map(String::as_str) != Some("code") {
        return error("unsupported_response_type", "response_type must be code");
    }
    if !registration.allows("authorization_code") {
        return error(
            "unauthorized_client",
            "The client is not authorized for this grant",
        );
    }
    if param("code_challenge_method").map(String::as_str) != Some("S256") {
        return error("invalid_request", "code_challenge_method must be S256");
    }
    let challenge = param("code_challenge").cloned().unwrap_or_default();
    let base64url = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    if challenge.len() != 43 || !challenge.bytes().all(base64url) {
        return error("invalid_request", "Invalid code_challenge");
    }
    if app_state.is_none() {
        return error("invalid_request", "state is required");
    }
    let scopes: Vec<String> = match param("scopes") {
        Some(asked) => asked.split_whitespace().map(str::to_owned).collect(),
        None => registration.scopes.clone(),
    };
    if scopes.iter().any(|s| !registration.scopes.contains(s)) {
        return error("invalid_scope", "Invalid scope requested");
    }
    let Some(user) = state.browser.clone() else {
        return error("access_denied", "The user denied the authorization request");
    };
    let code = fastrand_token(48);
    let remembered = AuthorizationCode {
        client_id: id,
        redirect_uri: redirect_uri.clone(),
        challenge,
        user,
        scopes,
        used: false,
    };
    state.codes.insert(code.clone(), remembered);
    back(&[("code", code.as_str())]);
}

/// An access token for `user` through client `id`, which the portal takes, with a refresh token
/// when the client registered with scopes; CreateToken's answer.
fn issue_token(state: &mut State, id: &str, user: &str) -> serde_json::Value {
    let scoped = !state.clients[id].scopes.is_empty();
    let access_token = format!("aoa{}", fastrand_token(40));
    state.tokens.insert(access_token.clone(), user.to_owned());
    state.tokens_issued += 1;
    let lasts = if scoped { 3600 } else { 8 * 3600 };
    let mut answer = serde_json::json!({
        "accessToken": access_token, "tokenType": "Bearer", "expiresIn": lasts,
    });
    if scoped {
        let refresh = format!("aor{}", fastrand_token(40));
        state
            .refresh_tokens
            .insert(refresh.clone(), (user.to_owned(), id.to_owned()));
        answer["refreshToken"] = refresh.into();
    }
    answer
}

/// OIDC's CreateToken: the client must be registered with its secret, its registration not
/// ended, and the grant one it registered for; then the grant's own checks.
fn create_token(client: &TcpStream, body: &[u8], state: &Mutex<State>) {
    let Some(request) = json_object(body) else {
        return invalid_request(client, "not JSON");
    };
    let [id, secret, grant] = match required(&request, ["clientId", "clientSecret", "grantType"]) {
        Ok(members) => members,
        Err(description) => return invalid_request(client, &description),
    };
    if !["refresh_token", DEVICE_CODE, "authorization_code"].contains(&grant.as_str()) {
        return oauth_error(
            client,
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            "Unsupported grant type",
        );
    }
    let mut state = state.lock().unwrap();
    match authenticate(&state, &id, &secret) {
        Err(description) => {
            return oauth_error(
                client,
                "InvalidClientException",
                "invalid_client",
                description,
            )
        }
        Ok(registration) if !registration.allows(&grant) => {
            return oauth_error(
                client,
                "UnauthorizedClientException",
                "unauthorized_client",
                "The client is not authorized for this grant type",
            )
        }
        Ok(_) => {}
    }
    match grant.as_str() {
        "refresh_token" => refresh_grant(client, &request, &mut state, &id),
        DEVICE_CODE => device_code_grant(client, &request, &mut state, &id),
        _ => authorization_code_grant(client, &request, &mut state, &id),
    }
}

/// CreateToken's refresh_token grant: the refresh token must be one issued to the client; the
/// answer has a new one when refresh tokens rotate (and the client registered with scopes).
fn refresh_grant(
    client: &TcpStream,
    request: &serde_json::Map<String, serde_json::Value>,
    state: &mut State,
    id: &str,
) {
    let [refresh_token] = match required(request, ["refreshToken"]) {
        Ok(members) => members,
        Err(description) => return invalid_request(client, &description),
    };
    let Some(user) = state
        .refresh_tokens
        .get(&refresh_token)
        .filter(|(_, to)| to == id)
        .map(|(user, _)| user.clone())
    else {
        return oauth_error(
            client,
            "InvalidGrantException",
            "invalid_grant",
            "Invalid refresh token provided",
        );
    };
    let access_token = format!("aoa{}", fastrand_token(40));
    state.tokens.insert(access_token.clone(), user.clone());
    state.refreshed += 1;
    let mut answer = serde_json::json!({
        "accessToken": access_token, "tokenType": "Bearer", "expiresIn": 3600,
    });
    if state.rotate_refresh_tokens && !state.clients[id].scopes.is_empty() {
        state.refresh_tokens.remove(&refresh_token);
        let refresh = format!("aor{}", fastrand_token(40));
        state
            .refresh_tokens
            .insert(refresh.clone(), (user, id.to_owned()));
        answer["refreshToken"] = refresh.into();
    }
    reply(client, 200, None, &answer.to_string());
}

/// CreateToken's device-code grant: a poll about a device code of the client, answered with its
/// token once the person approved it (once), else why not yet or not at all.
fn device_code_grant(
    client: &TcpStream,
    request: &serde_json::Map<String, serde_json::Value>,
    state: &mut State,
    id: &str,
) {
    let [device_code] = match required(request, ["deviceCode"]) {
        Ok(members) => members,
        Err(description) => return invalid_request(client, &description),
    };
    let Some(device) = state
        .devices
        .iter_mut()
        .find(|d| d.device_code == device_code && d.client_id == id)
    else {
        return oauth_error(
            client,
            "InvalidGrantException",
            "invalid_grant",
            "Invalid device code provided",
        );
    };
    let now = Instant::now();
    let too_soon = device
        .polled_at
        .is_some_and(|then| now.duration_since(then) < Duration::from_secs(POLL_INTERVAL));
    device.polled_at = Some(now);
    if matches!(device.approval, Approval::Used) {
        return oauth_error(
            client,
            "InvalidGrantException",
            "invalid_grant",
            "Device code has already been used",
        );
    }
    if now >= device.expires_at {
        return oauth_error(
            client,
            "ExpiredTokenException",
            "expired_token",
            "Device code has expired",
        );
    }
    let user = match std::mem::replace(&mut device.approval, Approval::Used) {
        Approval::Approved(user) => user,
        undecided => {
            let pending = matches!(undecided, Approval::Pending);
            device.approval = undecided;
            if !pending {
                return oauth_error(
                    client,
                    "AccessDeniedException",
                    "access_denied",
                    "The user denied the authorization request",
                );
            }
            if too_soon {
                state.slow_downs += 1;
                return oauth_error(
                    client,
                    "SlowDownException",
                    "slow_down",
                    "Client is polling too fast",
                );
            }
            return oauth_error(
                client,
                "AuthorizationPendingException",
                "authorization_pending",
                "Authorization is still pending",
            );
        }
    };
    let answer = issue_token(state, id, &user);
    reply(client, 200, None, &answer.to_string());
}

/// CreateToken's authorization_code grant (PKCE): a code `/authorize` gave the client, once, with
/// the same redirect URI and the verifier of its challenge.
fn authorization_code_grant(
    client: &TcpStream,
    request: &serde_json::Map<String, serde_json::Value>,
    state: &mut State,
    id: &str,
) {
    let [code, verifier, redirect_uri] =
        match required(request, ["code", "codeVerifier", "redirectUri"]) {
            Ok(members) => members,
            Err(description) => return invalid_request(client, &description),
        };
    let unreserved = |c: u8| c.is_ascii_alphanumeric() || b"-._~".contains(&c);
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
        return invalid_request(client, "Invalid code verifier");
    }
    let invalid_grant = |description: &str| {
        oauth_error(
            client,
            "InvalidGrantException",
            "invalid_grant",
            description,
        )
    };
    let Some(issued) = state.codes.get_mut(&code).filter(|c| c.client_id == id) else {
        return invalid_grant("Invalid authorization code provided");
    };
    if issued.used {
        return invalid_grant("Authorization code has already been used");
    }
    if issued.redirect_uri != redirect_uri {
        return invalid_grant("Redirect URI does not match");
    }
    let digest = Sha256::digest(verifier.as_bytes());
    if base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) != issued.challenge {
        return invalid_grant("Code verifier does not match");
    }
    issued.used = true;
    let user = issued.user.clone();
    let answer = issue_token(state, id, &user);
    reply(client, 200, None, &answer.to_string());
}

/// The portal's Logout: the token in `x-amz-sso_bearer_token` ends.
fn logout(client: &TcpStream, token: Option<&String>, state: &Mutex<State>) {
    let mut state = state.lock().unwrap();
    if token.and_then(|t| state.tokens.remove(t)).is_none() {
        return refuse(
            client,
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    }
    state.logouts += 1;
    reply(client, 200, None, "");
}

/// A GET as a browser makes it, over a connection it asks to close: the status, the headers
/// (names in lower case) and the body.
fn browser_get(url: &str) -> Result<(u16, HashMap<String, String>, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("the browser here only goes to http:// addresses")?;
    let (authority, target) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let failed = |e: std::io::Error| format!("GET at {authority}: {e}");
    let stream = TcpStream::connect(authority).map_err(failed)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(failed)?;
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: {authority}\r\nuser-agent: keyrack-tests-browser\r\naccept: text/html\r\nconnection: close\r\n\r\n"
    );
    (&stream).write_all(request.as_bytes()).map_err(failed)?;
    let mut reader = BufReader::new(&stream);
    let mut first = String::new();
    reader.read_line(&mut first).map_err(failed)?;
    let status: u16 = first
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("GET at {authority}: not an HTTP answer"))?;
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(failed)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).map_err(failed)?;
            let size = size.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| format!("GET at {authority}: a bad chunk"))?;
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).map_err(failed)?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = headers
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        body.resize(length, 0);
        reader.read_exact(&mut body).map_err(failed)?;
    } else {
        reader.read_to_end(&mut body).map_err(failed)?;
    }
    Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

/// `len` random letters and digits.
fn fastrand_token(len: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| alphabet[fastrand::usize(..alphabet.len())] as char)
        .collect()
}

/// How many items one page of a list holds, whatever `max_result` asks: few, so that every
/// caller has to follow `nextToken`.
const PAGE: usize = 2;

/// ListAccounts (`/assignment/accounts`) or ListAccountRoles (`/assignment/roles?account_id=`),
/// a page at a time: `next_token` is the index of the first item of the page.
fn list(
    client: &TcpStream,
    path: &str,
    params: &HashMap<String, String>,
    token: Option<&String>,
    state: &Mutex<State>,
) {
    let state = state.lock().unwrap();
    if token.and_then(|t| state.tokens.get(t)).is_none() {
        return refuse(
            client,
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    }
    let start: usize = match params.get("next_token").map(|t| t.parse()) {
        None => 0,
        Some(Ok(start)) => start,
        Some(Err(_)) => {
            return refuse(client, 400, "InvalidRequestException", "Invalid next token")
        }
    };
    let (items, field): (Vec<serde_json::Value>, &str) = if path == "/assignment/accounts" {
        let accounts = state
            .accounts
            .iter()
            .filter(|(id, _)| state.assigned.iter().any(|(a, _)| a == id))
            .map(|(id, name)| {
                serde_json::json!({"accountId": id, "accountName": name, "emailAddress": format!("aws+{id}@example.com")})
            })
            .collect();
        (accounts, "accountList")
    } else {
        let Some(account) = params.get("account_id") else {
            return refuse(
                client,
                400,
                "InvalidRequestException",
                "account_id is required",
            );
        };
        let mut roles: Vec<&String> = state
            .assigned
            .iter()
            .filter(|(a, _)| a == account)
            .map(|(_, role)| role)
            .collect();
        roles.sort();
        let roles = roles
            .into_iter()
            .map(|role| serde_json::json!({"roleName": role, "accountId": account}))
            .collect();
        (roles, "roleList")
    };
    let page: Vec<_> = items.iter().skip(start).take(PAGE).cloned().collect();
    let mut body = serde_json::json!({ field: page });
    if start + PAGE < items.len() {
        body["nextToken"] = (start + PAGE).to_string().into();
    }
    reply(client, 200, None, &body.to_string());
}

/// One request, read whole (a POST's body by its `content-length`), answered by path.
fn answer(client: TcpStream, state: &Mutex<State>) {
    client.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let method = first.split(' ').next().unwrap_or_default().to_owned();
    let target = first.split(' ').nth(1).unwrap_or("/").to_owned();
    let mut body = Vec::new();
    if method == "POST" {
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let token = headers.get("x-amz-sso_bearer_token");
    match (method.as_str(), target.as_str()) {
        ("POST", "/token") => return create_token(&client, &body, state),
        ("POST", "/client/register") => return register_client(&client, &body, state),
        ("POST", "/device_authorization") => {
            return start_device_authorization(&client, &body, state)
        }
        ("POST", "/logout") => return logout(&client, token, state),
        _ => {}
    }
    match (method.as_str(), path) {
        ("GET", "/authorize") => authorize(&client, &params, state),
        ("GET", "/federation/credentials") => role_credentials(&client, &params, token, state),
        ("GET", "/assignment/accounts" | "/assignment/roles") => {
            list(&client, path, &params, token, state)
        }
        _ => refuse(&client, 404, "ResourceNotFoundException", "Not found"),
    }
}

/// The portal's GetRoleCredentials: role credentials of moto's for an assigned role.
fn role_credentials(
    client: &TcpStream,
    params: &HashMap<String, String>,
    token: Option<&String>,
    state: &Mutex<State>,
) {
    let (Some(account), Some(role)) = (params.get("account_id"), params.get("role_name")) else {
        return refuse(
            client,
            400,
            "InvalidRequestException",
            "account_id and role_name are required",
        );
    };
    let (user, assigned, moto, admin) = {
        let state = state.lock().unwrap();
        let user = token.and_then(|t| state.tokens.get(t)).cloned();
        let assigned = state.assigned.contains(&(account.clone(), role.clone()));
        (user, assigned, state.moto.clone(), state.admin.clone())
    };
    let Some(user) = user else {
        return refuse(
            client,
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    };
    if !assigned {
        return refuse(client, 403, "ForbiddenException", "No access");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let role_arn = format!("arn:aws:iam::{account}:role/{}", reserved_role(role));
    let assumed = runtime.block_on(async {
        let client = AwsClient::new(ClientSettings::default()).unwrap();
        let endpoint = crate::moto::endpoint_at(&moto, Service::Sts);
        let request = RoleRequest {
            role_arn: &role_arn,
            session_name: &user,
            ..RoleRequest::default()
        };
        sts::assume_role(&client, &endpoint, &admin, &request).await
    });
    let assumed = match assumed {
        Ok(assumed) => assumed,
        Err(e) => {
            let message = format!("could not assume the role at moto: {e}");
            return refuse(client, 500, "InternalServerException", &message);
        }
    };
    let c = &assumed.credentials;
    let body = serde_json::json!({
        "roleCredentials": {
            "accessKeyId": c.access_key_id,
            "secretAccessKey": c.secret_access_key.expose(),
            "sessionToken": c.session_token.as_ref().map(|t| t.expose()).unwrap_or_default(),
            "expiration": assumed.expiration.unix_timestamp() * 1000,
        }
    })
    .to_string();
    state.lock().unwrap().issued += 1;
    reply(client, 200, None, &body);
}

/// Keep a sign-in of sso-session `session` (at `start_url`, in `region`) with `token`, ending in
/// `lasts`, under `home` as the AWS CLI keeps it (client `client-id`/`client-secret`, refresh
/// token `refresh-token`): through botocore's own token loader and cache, which choose the file
/// and its format.
pub fn keep_sign_in(
    home: &std::path::Path,
    (session, start_url, region): (&str, &str, &str),
    token: &str,
    lasts: time::Duration,
) {
    let format = time::format_description::parse_borrowed::<1>(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z",
    )
    .unwrap();
    let expires = (time::OffsetDateTime::now_utc() + lasts)
        .format(&format)
        .unwrap();
    let script = format!(
        r#"
import os
from botocore.utils import SSOTokenLoader, JSONFileCache
cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "sso", "cache")))
token = {{"startUrl": "{start_url}", "region": "{region}",
         "accessToken": "{token}", "expiresAt": "{expires}",
         "clientId": "client-id", "clientSecret": "client-secret",
         "registrationExpiresAt": "2099-01-01T00:00:00Z", "refreshToken": "refresh-token"}}
SSOTokenLoader(cache=cache).save_token("{start_url}", token, session_name="{session}")
"#
    );
    let saved = std::process::Command::new(crate::venv_bin("python"))
        .args(["-c", &script])
        .env("HOME", home)
        .output()
        .unwrap();
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
}
