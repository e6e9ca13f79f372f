//! A strict stand-in for what STS and IAM do with MFA, which moto does not do: a loopback proxy
//! in front of moto that
//! - answers an AssumeRole or GetSessionToken carrying an MFA device or code exactly as STS does
//!   when the device is unknown, one of serial and code is missing, the code has the wrong shape,
//!   is wrong or too old (a TOTP device takes its current 30-second step, or the one before or
//!   after) or was used before (each code works once), or the duration is out of range;
//! - issues GetSessionToken sessions itself (moto hands out one fixed example key): an `ASIA` key,
//!   secret and token of the user whose long-term key signed, which this proxy checks the
//!   signature of, refuses once expired, refuses for another GetSessionToken ("Cannot call
//!   GetSessionToken with session credentials"), and otherwise signs again with the user's key
//!   before moto sees it, so GetCallerIdentity, IAM and AssumeRole answer as that user;
//! - for users who must use MFA, answers IAM calls signed with the long-term key alone with IAM's
//!   AccessDenied (an explicit deny on `aws:MultiFactorAuthPresent`); a key such a user creates
//!   (CreateAccessKey) is known to it from IAM's answer, under the same rule;
//! - forwards every other request to moto unchanged (its signature stays valid).
//!
//! The messages are STS's and IAM's own (see `../shared/notes/mfa-sso.md`).

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::clock_proxy::read_head;

#[derive(Default)]
struct Device {
    /// The code the device shows now (a device set up with [`MfaSts::show`]).
    current: String,
    /// The shared secret of a TOTP device ([`MfaSts::totp_device`]): STS takes the code of the
    /// current 30-second step, or of the one before or after it.
    totp: Option<Vec<u8>>,
    /// Codes STS accepted once: never again.
    used: HashSet<String>,
    accepted: usize,
}

/// A user's long-term key, known to the stand-in so it can sign for its sessions.
#[derive(Clone)]
struct UserKey {
    secret: String,
    /// The user's ARN, for IAM's messages.
    arn: String,
    /// IAM refuses this key's calls unless they come through an MFA session.
    mfa_required: bool,
}

/// A GetSessionToken session the stand-in issued.
#[derive(Clone)]
struct IssuedSession {
    secret: String,
    token: String,
    expires: OffsetDateTime,
    /// The long-term key it was issued for.
    made_with: String,
}

#[derive(Default)]
struct State {
    devices: HashMap<String, Device>,
    users: HashMap<String, UserKey>,
    sessions: HashMap<String, IssuedSession>,
    /// Every GetSessionToken STS answered with a session.
    issued: usize,
    /// IAM calls refused for want of MFA.
    refused_without_mfa: usize,
}

/// The proxy; it stops when dropped.
pub struct MfaSts {
    /// `http://127.0.0.1:PORT`, to use as the endpoint URL.
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl MfaSts {
    /// In front of the server at `target` (`http://HOST:PORT`).
    pub fn start(target: &str) -> MfaSts {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the MFA stand-in");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state: Arc<Mutex<State>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopped) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (target, state) = (target.clone(), shared.clone());
                        std::thread::spawn(move || relay(client, &target, &state));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        MfaSts { url, state, stop }
    }

    /// A device `serial` that shows `code` now.
    pub fn show(&self, serial: &str, code: &str) {
        let mut state = self.state.lock().unwrap();
        state.devices.entry(serial.to_owned()).or_default().current = code.to_owned();
    }

    /// A virtual MFA device `serial` with the TOTP secret `secret` (RFC 6238, SHA-1, 30 s, six
    /// digits), as an authenticator app holds it: see [`totp`].
    pub fn totp_device(&self, serial: &str, secret: &[u8]) {
        let mut state = self.state.lock().unwrap();
        state.devices.entry(serial.to_owned()).or_default().totp = Some(secret.to_vec());
    }

    /// How many codes of `serial` STS accepted.
    pub fn accepted(&self, serial: &str) -> usize {
        let state = self.state.lock().unwrap();
        state.devices.get(serial).map_or(0, |d| d.accepted)
    }

    /// The long-term key `key_id` (secret `secret`) of the user `arn`, whose sessions this
    /// stand-in may issue; `mfa_required`: IAM refuses the key's own calls (only its MFA sessions
    /// may call IAM), as a policy denying IAM without `aws:MultiFactorAuthPresent` does.
    pub fn user_key(&self, key_id: &str, secret: &str, arn: &str, mfa_required: bool) {
        let user = UserKey {
            secret: secret.to_owned(),
            arn: arn.to_owned(),
            mfa_required,
        };
        self.state
            .lock()
            .unwrap()
            .users
            .insert(key_id.to_owned(), user);
    }

    /// How many MFA sessions (GetSessionToken) were issued.
    pub fn sessions_issued(&self) -> usize {
        self.state.lock().unwrap().issued
    }

    /// How many IAM calls were refused because they did not come through an MFA session.
    pub fn refused_without_mfa(&self) -> usize {
        self.state.lock().unwrap().refused_without_mfa
    }

    /// Ends every session issued so far, as time would.
    pub fn expire_sessions(&self) {
        let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        for session in self.state.lock().unwrap().sessions.values_mut() {
            session.expires = past;
        }
    }
}

impl Drop for MfaSts {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One request as it came: the request line, the headers (names in lower case) and the body.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn parse(head: &[u8], body: Vec<u8>) -> Request {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_owned();
        let path = first.next().unwrap_or("/").to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Request {
            method,
            path,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The SigV4 Authorization header's parts: key id, date, region, service, signed headers,
    /// signature.
    fn authorization(&self) -> Option<Authorization> {
        let value = self.header("authorization")?;
        let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
        let mut parts = HashMap::new();
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            parts.insert(name, value);
        }
        let scope: Vec<&str> = parts.get("Credential")?.split('/').collect();
        let [key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
            return None;
        };
        Some(Authorization {
            key_id: key_id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers: parts.get("SignedHeaders")?.to_string(),
            signature: parts.get("Signature")?.to_string(),
        })
    }

    /// SigV4's signature of this request with `secret`, over `signed_headers`.
    fn signature(&self, secret: &str, auth: &Authorization) -> String {
        let amz_date = self.header("x-amz-date").unwrap_or_default();
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let mut query: Vec<&str> = query.split('&').filter(|q| !q.is_empty()).collect();
        query.sort();
        let names: Vec<&str> = auth.signed_headers.split(';').collect();
        let canonical_headers: String = names
            .iter()
            .map(|name| {
                let value = self.header(name).unwrap_or_default();
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                format!("{name}:{value}\n")
            })
            .collect();
        let payload = self
            .header("x-amz-content-sha256")
            .map(str::to_owned)
            .unwrap_or_else(|| hex(&Sha256::digest(&self.body)));
        let canonical = format!(
            "{}\n{path}\n{}\n{canonical_headers}\n{}\n{payload}",
            self.method,
            query.join("&"),
            auth.signed_headers
        );
        let scope = format!(
            "{}/{}/{}/aws4_request",
            auth.date, auth.region, auth.service
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut key = hmac::<Sha256>(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
        for part in [&auth.region, &auth.service, &"aws4_request".to_owned()] {
            key = hmac::<Sha256>(&key, part.as_bytes());
        }
        hex(&hmac::<Sha256>(&key, to_sign.as_bytes()))
    }

    /// This request signed anew with the long-term key `key_id`/`secret`, without a session
    /// token: what moto checks (the signed headers in SigV4's sorted order).
    fn signed_again(&self, key_id: &str, secret: &str, auth: &Authorization) -> Vec<u8> {
        let mut again = Request {
            method: self.method.clone(),
            path: self.path.clone(),
            headers: ["content-type", "host", "x-amz-date"]
                .iter()
                .filter_map(|name| Some((name.to_string(), self.header(name)?.to_owned())))
                .collect(),
            body: self.body.clone(),
        };
        let names: Vec<&str> = again.headers.iter().map(|(n, _)| n.as_str()).collect();
        let auth = Authorization {
            key_id: key_id.to_owned(),
            signed_headers: names.join(";"),
            ..auth.clone()
        };
        let signature = again.signature(secret, &auth);
        again.headers.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={key_id}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={signature}",
                auth.date, auth.region, auth.service, auth.signed_headers
            ),
        ));
        again
            .headers
            .push(("content-length".into(), again.body.len().to_string()));
        again.headers.push(("connection".into(), "close".into()));
        let mut bytes = format!("{} {} HTTP/1.1\r\n", again.method, again.path).into_bytes();
        for (name, value) in &again.headers {
            bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        bytes
    }
}

#[derive(Clone)]
struct Authorization {
    key_id: String,
    date: String,
    region: String,
    service: String,
    signed_headers: String,
    signature: String,
}

/// The code an authenticator app shows at `unix_time` for `secret` (RFC 6238: HMAC-SHA-1 of the
/// 30-second step, dynamically truncated to six digits).
pub fn totp(secret: &[u8], unix_time: i64) -> String {
    let step = (unix_time / 30) as u64;
    let mac = hmac::<sha1::Sha1>(secret, &step.to_be_bytes());
    let offset = (mac[19] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:06}", number % 1_000_000)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC (RFC 2104) over a hash with 64-byte blocks (SHA-256 for SigV4, SHA-1 for TOTP).
fn hmac<D: Digest>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        let digest = D::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = D::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    D::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// What to do with a request: answer it here, or send these bytes to moto (and learn the key a
/// CreateAccessKey makes: it belongs to the user who signed, as at AWS).
enum Decision {
    Answer(Refusal),
    Issue(Vec<u8>),
    Forward(Vec<u8>, Option<UserKey>),
}

/// An error answer: status, service namespace, code, message.
struct Refusal {
    status: u16,
    namespace: &'static str,
    code: &'static str,
    message: String,
}

const STS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const IAM: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn sts_refusal(status: u16, code: &'static str, message: impl Into<String>) -> Decision {
    Decision::Answer(Refusal {
        status,
        namespace: STS,
        code,
        message: message.into(),
    })
}

fn decide(head: &[u8], body: Vec<u8>, state: &Mutex<State>) -> Decision {
    let request = Request::parse(head, body);
    let form: HashMap<String, String> =
        form_urlencoded::parse(&request.body).into_owned().collect();
    let action = form.get("Action").cloned().unwrap_or_default();
    let Some(auth) = request.authorization() else {
        return Decision::Forward(head.to_vec(), None);
    };
    // A session this stand-in issued: checked here, then signed as its user for moto.
    let issued = state.lock().unwrap().sessions.get(&auth.key_id).cloned();
    if let Some(session) = issued {
        if request.header("x-amz-security-token") != Some(session.token.as_str()) {
            return sts_refusal(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            );
        }
        if request.signature(&session.secret, &auth) != auth.signature {
            return sts_refusal(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }
        if session.expires <= OffsetDateTime::now_utc() {
            return sts_refusal(
                403,
                "ExpiredToken",
                "The security token included in the request is expired",
            );
        }
        if action == "GetSessionToken" {
            return sts_refusal(
                403,
                "AccessDenied",
                "Cannot call GetSessionToken with session credentials",
            );
        }
        let user = state.lock().unwrap().users[&session.made_with].clone();
        let again = request.signed_again(&session.made_with, &user.secret, &auth);
        return Decision::Forward(again, Some(user));
    }
    let user = state.lock().unwrap().users.get(&auth.key_id).cloned();
    if auth.service == "iam" && user.as_ref().is_some_and(|u| u.mfa_required) {
        let user = user.unwrap();
        state.lock().unwrap().refused_without_mfa += 1;
        let name = user.arn.rsplit('/').next().unwrap_or_default();
        return Decision::Answer(Refusal {
            status: 403,
            namespace: IAM,
            code: "AccessDenied",
            message: format!(
                "User: {} is not authorized to perform: iam:{action} on resource: user {name} with an explicit deny in an identity-based policy",
                user.arn
            ),
        });
    }
    if !matches!(action.as_str(), "AssumeRole" | "GetSessionToken") {
        return Decision::Forward(head.to_vec(), user);
    }
    // moto never sees a GetSessionToken: its signature is checked here, as STS checks it first.
    if let (Some(user), "GetSessionToken") = (&user, action.as_str()) {
        if request.signature(&user.secret, &auth) != auth.signature {
            return sts_refusal(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }
    }
    if let Some(refused) = mfa_refusal(&form, state) {
        return refused;
    }
    if let Some(refused) = duration_refusal(&action, &form) {
        return refused;
    }
    if action == "GetSessionToken" {
        assert!(
            user.is_some(),
            "GetSessionToken signed with {}, a key the MFA stand-in was not told of (MfaSts::user_key)",
            auth.key_id
        );
        return Decision::Issue(issue(&auth.key_id, &form, state));
    }
    Decision::Forward(head.to_vec(), None)
}

/// The key in a CreateAccessKey answer, if `answer` is one.
fn created_key(answer: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(answer);
    if !text.contains("<CreateAccessKeyResponse") {
        return None;
    }
    let between = |tag: &str| {
        let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
        let end = start + text[start..].find(&format!("</{tag}>"))?;
        Some(text[start..end].to_owned())
    };
    Some((between("AccessKeyId")?, between("SecretAccessKey")?))
}

/// STS's refusal of an MFA check, or `None` to let the request through.
fn mfa_refusal(form: &HashMap<String, String>, state: &Mutex<State>) -> Option<Decision> {
    let (serial, code) = (form.get("SerialNumber"), form.get("TokenCode"));
    let denied = |message: &str| Some(sts_refusal(403, "AccessDenied", message));
    match (serial, code) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => denied(
            "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.",
        ),
        (Some(serial), Some(code)) => {
            let broken = if code.len() > 6 {
                Some("Member must have length less than or equal to 6")
            } else if code.len() < 6 {
                Some("Member must have length greater than or equal to 6")
            } else if !code.bytes().all(|b| b.is_ascii_digit()) {
                Some("Member must satisfy regular expression pattern: [\\d]*")
            } else {
                None
            };
            if let Some(constraint) = broken {
                let message = format!(
                    "1 validation error detected: Value '{code}' at 'tokenCode' failed to satisfy constraint: {constraint}"
                );
                return Some(sts_refusal(400, "ValidationError", message));
            }
            let mut state = state.lock().unwrap();
            let Some(device) = state.devices.get_mut(serial) else {
                return denied(
                    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.",
                );
            };
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let valid = match &device.totp {
                Some(secret) => [-30, 0, 30].iter().any(|shift| totp(secret, now + shift) == *code),
                None => *code == device.current,
            };
            if !valid || device.used.contains(code) {
                return denied("MultiFactorAuthentication failed with invalid MFA one time pass code. ");
            }
            device.used.insert(code.clone());
            device.accepted += 1;
            None
        }
    }
}

/// STS's refusal of a `DurationSeconds` outside what the action allows (AssumeRole: 15 minutes to
/// 12 hours; GetSessionToken for an IAM user: 15 minutes to 36 hours).
fn duration_refusal(action: &str, form: &HashMap<String, String>) -> Option<Decision> {
    let seconds: i64 = form.get("DurationSeconds")?.parse().ok()?;
    let most = if action == "GetSessionToken" {
        129_600
    } else {
        43_200
    };
    let constraint = if seconds < 900 {
        "Member must have value greater than or equal to 900".to_owned()
    } else if seconds > most {
        format!("Member must have value less than or equal to {most}")
    } else {
        return None;
    };
    Some(sts_refusal(
        400,
        "ValidationError",
        format!("1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: {constraint}"),
    ))
}

fn random_text(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[fastrand::usize(..alphabet.len())] as char)
        .collect()
}

/// A new session of the user of `key_id`, as GetSessionToken answers it.
fn issue(key_id: &str, form: &HashMap<String, String>, state: &Mutex<State>) -> Vec<u8> {
    let seconds: i64 = form
        .get("DurationSeconds")
        .and_then(|d| d.parse().ok())
        .unwrap_or(43_200);
    let upper = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let any = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let id = format!("ASIA{}", random_text(upper, 16));
    let session = IssuedSession {
        secret: random_text(any, 40),
        token: format!("IQoJb3JpZ2luX2Vj{}", random_text(any, 200)),
        expires: (OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
            .replace_nanosecond(0)
            .unwrap(),
        made_with: key_id.to_owned(),
    };
    let expires = session
        .expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let xml = format!(
        "<GetSessionTokenResponse xmlns=\"{STS}\"><GetSessionTokenResult><Credentials><AccessKeyId>{id}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{expires}</Expiration></Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>58c5dbae-abef-11e0-8cfe-09039844ac7d</RequestId></ResponseMetadata></GetSessionTokenResponse>",
        session.secret, session.token
    );
    let mut state = state.lock().unwrap();
    state.sessions.insert(id, session);
    state.issued += 1;
    answer(200, "OK", &xml)
}

fn answer(status: u16, reason: &str, xml: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
        xml.len()
    )
    .into_bytes()
}

fn relay(client: TcpStream, target: &str, state: &Mutex<State>) {
    client.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let (head, length) = read_head(&mut reader, None);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let mut client = client;
    let upstream_head = match decide(&head, body.clone(), state) {
        Decision::Answer(refusal) => {
            let reason = if refusal.status == 403 {
                "Forbidden"
            } else {
                "Bad Request"
            };
            let xml = format!(
                "<ErrorResponse xmlns=\"{}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>",
                refusal.namespace, refusal.code, refusal.message
            );
            let _ = client.write_all(&answer(refusal.status, reason, &xml));
            return;
        }
        Decision::Issue(bytes) => {
            let _ = client.write_all(&bytes);
            return;
        }
        Decision::Forward(head, signer) => (head, signer),
    };
    let (upstream_head, signer) = upstream_head;
    let mut upstream =
        TcpStream::connect(target).expect("connect to the server behind the stand-in");
    upstream.write_all(&upstream_head).unwrap();
    upstream.write_all(&body).unwrap();
    let mut reply = BufReader::new(upstream);
    let (head, _) = read_head(&mut reply, None);
    let mut rest = Vec::new();
    reply.read_to_end(&mut rest).unwrap();
    if let (Some(user), Some((key_id, secret))) = (signer, created_key(&rest)) {
        let key = UserKey { secret, ..user };
        state.lock().unwrap().users.insert(key_id, key);
    }
    client.write_all(&head).unwrap();
    client.write_all(&rest).unwrap();
    let _ = client.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_is_rfc_6238s() {
        // RFC 6238, appendix B (SHA-1), the last six of its eight digits.
        let secret = b"12345678901234567890";
        assert_eq!(totp(secret, 59), "287082");
        assert_eq!(totp(secret, 1_111_111_109), "081804");
        assert_eq!(totp(secret, 2_000_000_000), "279037");
    }

    #[test]
    fn hmac_sha256_is_rfc_4231s() {
        // RFC 4231, test case 2.
        let mac = hmac::<Sha256>(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
