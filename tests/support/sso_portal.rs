//! A strict stand-in for IAM Identity Center's portal (`portal.sso.REGION.amazonaws.com`), which
//! moto does not have, built from botocore's model of it (`sso/2019-06-10`): `GET
//! /federation/credentials?account_id=&role_name=` with the sign-in's access token in
//! `x-amz-sso_bearer_token`, unsigned, answered in rest-json with the error type in
//! `x-amzn-ErrorType`. A missing parameter is InvalidRequestException (400); a token it did not
//! issue, or one that ended or was signed out, UnauthorizedException (401); a role not assigned to
//! the user ForbiddenException "No access" (403, as the real portal answers). The role credentials
//! it hands out are real ones of moto: it assumes the role `AWSReservedSSO_<ROLE>_…` with an
//! admin key, as Identity Center does behind the scenes, so STS answers with the SSO role's ARN.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyrack::aws::{sts, AwsClient, ClientSettings, Credentials, RoleRequest, Service};

/// The portal; it stops when dropped.
pub struct SsoPortal {
    /// `http://127.0.0.1:PORT`, to use as `AWS_ENDPOINT_URL_SSO`.
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

struct State {
    /// Access tokens it takes, with the user they sign in.
    tokens: HashMap<String, String>,
    /// Account ids with their names, in the order the portal lists them.
    accounts: Vec<(String, String)>,
    /// (account, role name) pairs assigned to the user.
    assigned: HashSet<(String, String)>,
    /// Role credentials handed out.
    issued: usize,
    /// OIDC: registered clients (id to secret), refresh tokens (to their user), refreshes done,
    /// and whether a refresh hands out a new refresh token.
    clients: HashMap<String, String>,
    refresh_tokens: HashMap<String, String>,
    refreshed: usize,
    rotate_refresh_tokens: bool,
    moto: String,
    admin: Credentials,
}

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
            tokens: HashMap::new(),
            accounts: Vec::new(),
            assigned: HashSet::new(),
            issued: 0,
            clients: HashMap::new(),
            refresh_tokens: HashMap::new(),
            refreshed: 0,
            rotate_refresh_tokens: true,
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

    /// OIDC: the client `id` (secret `secret`) is registered, and `refresh_token` refreshes a
    /// sign-in of `user`; `rotate`: a refresh hands out a new refresh token too.
    pub fn refreshable(
        &self,
        (id, secret): (&str, &str),
        refresh_token: &str,
        user: &str,
        rotate: bool,
    ) {
        let mut state = self.state.lock().unwrap();
        state.clients.insert(id.to_owned(), secret.to_owned());
        state
            .refresh_tokens
            .insert(refresh_token.to_owned(), user.to_owned());
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
}

impl Drop for SsoPortal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn reply(mut client: &TcpStream, status: u16, error_type: Option<&str>, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let error_header = error_type
        .map(|t| {
            format!("x-amzn-ErrorType: {t}:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/\r\n")
        })
        .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n{error_header}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes());
}

fn refuse(client: &TcpStream, status: u16, error_type: &str, message: &str) {
    let body = serde_json::json!({ "message": message }).to_string();
    reply(client, status, Some(error_type), &body);
}

/// OIDC's CreateToken, for the refresh_token grant only (the others belong to signing in): the
/// client must be registered with its secret, the refresh token known; errors as OIDC answers
/// them (400, `error` and `error_description`).
fn create_token(client: &TcpStream, body: &[u8], state: &Mutex<State>) {
    let oauth_error = |error_type: &str, error: &str, description: &str| {
        let body =
            serde_json::json!({"error": error, "error_description": description}).to_string();
        reply(client, 400, Some(error_type), &body);
    };
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return oauth_error("InvalidRequestException", "invalid_request", "not JSON");
    };
    let field = |name: &str| {
        request
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    if field("grantType") != "refresh_token" {
        return oauth_error(
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            "only refresh_token here",
        );
    }
    let mut state = state.lock().unwrap();
    if state.clients.get(&field("clientId")) != Some(&field("clientSecret")) {
        return oauth_error("InvalidClientException", "invalid_client", "Invalid client");
    }
    let Some(user) = state.refresh_tokens.get(&field("refreshToken")).cloned() else {
        return oauth_error(
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
    if state.rotate_refresh_tokens {
        state.refresh_tokens.remove(&field("refreshToken"));
        let refresh = format!("aor{}", fastrand_token(40));
        state.refresh_tokens.insert(refresh.clone(), user);
        answer["refreshToken"] = refresh.into();
    }
    reply(client, 200, None, &answer.to_string());
}

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

fn answer(client: TcpStream, state: &Mutex<State>) {
    client.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let target = first.split(' ').nth(1).unwrap_or("/").to_owned();
    if first.starts_with("POST ") && target == "/token" {
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        std::io::Read::read_exact(&mut reader, &mut body).unwrap();
        return create_token(&client, &body, state);
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let known = [
        "/federation/credentials",
        "/assignment/accounts",
        "/assignment/roles",
    ];
    if !first.starts_with("GET ") || !known.contains(&path) {
        return refuse(&client, 404, "ResourceNotFoundException", "Not found");
    }
    if path != "/federation/credentials" {
        let token = headers.get("x-amz-sso_bearer_token");
        return list(&client, path, &params, token, state);
    }
    let (Some(account), Some(role)) = (params.get("account_id"), params.get("role_name")) else {
        return refuse(
            &client,
            400,
            "InvalidRequestException",
            "account_id and role_name are required",
        );
    };
    let token = headers.get("x-amz-sso_bearer_token");
    let (user, assigned, moto, admin) = {
        let state = state.lock().unwrap();
        let user = token.and_then(|t| state.tokens.get(t)).cloned();
        let assigned = state.assigned.contains(&(account.clone(), role.clone()));
        (user, assigned, state.moto.clone(), state.admin.clone())
    };
    let Some(user) = user else {
        return refuse(
            &client,
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    };
    if !assigned {
        return refuse(&client, 403, "ForbiddenException", "No access");
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
    let Ok(assumed) = assumed else {
        return refuse(
            &client,
            500,
            "InternalServerException",
            "could not assume the role at moto",
        );
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
    reply(&client, 200, None, &body);
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
