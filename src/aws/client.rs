//! The HTTP client that sends signed AWS Query API calls (STS, IAM) and retries what is safe.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::credentials::Credentials;
use super::endpoint::Endpoint;
use super::error::{classify, excerpt, parse_error_document, rule_out_clock, AwsError};
use super::xml::Element;

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// How many times a call is tried and how long to wait in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait ceiling before the first retry; it doubles for each further retry.
    pub base_delay: Duration,
    /// The wait ceiling never grows past this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(400),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): exponential, with half of it
    /// random ("equal jitter") so that many clients throttled at once do not come back together.
    fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = ceiling / 2;
        let random = RandomState::new().build_hasher().finish();
        let jitter_nanos = if half.is_zero() {
            0
        } else {
            random % half.as_nanos().max(1) as u64
        };
        half + Duration::from_nanos(jitter_nanos)
    }
}

/// How the HTTP client is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    /// A PEM file whose certificates are trusted in addition to the system's roots
    /// (`AWS_CA_BUNDLE` / `ca_bundle`, see [`super::endpoint::resolve_ca_bundle`]).
    pub ca_bundle: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// The limit for one attempt, from connecting to the end of the answer.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            ca_bundle: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
        }
    }
}

/// Sends signed calls to AWS Query APIs. Cheap to clone: clones share one connection pool.
///
/// HTTPS goes through rustls and trusts the system's roots, the bundled Mozilla roots, and the
/// CA bundle if one is set. Proxies come from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
/// `NO_PROXY` (and the system settings on macOS and Windows).
#[derive(Clone, Debug)]
pub struct AwsClient {
    http: reqwest::Client,
    retry: RetryPolicy,
}

/// What one attempt ended in, before the retry decision.
struct AttemptError {
    error: AwsError,
    /// False when the request certainly did not reach the service (no connection), so sending
    /// it again cannot repeat its effect.
    may_have_arrived: bool,
}

impl AwsClient {
    pub fn new(settings: ClientSettings) -> Result<AwsClient, AwsError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("keyrack/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_bundle {
            for certificate in read_ca_bundle(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().map_err(|e| AwsError::Request {
            detail: format!("could not start the HTTP client: {e}"),
        })?;
        Ok(AwsClient {
            http,
            retry: settings.retry,
        })
    }

    /// Calls `action` on the endpoint's service with `params`, signed with `credentials`, and
    /// returns the XML answer. Throttling, 5xx answers and network failures are retried within
    /// the retry policy; a call that creates or deletes something is resent only when the
    /// earlier attempt certainly never reached AWS (no connection, or throttled).
    pub async fn call(
        &self,
        endpoint: &Endpoint,
        action: &str,
        params: &[(&str, &str)],
        credentials: &Credentials,
    ) -> Result<String, AwsError> {
        let body = form_body(endpoint, action, params);
        let resend_safe = !(action.starts_with("Create") || action.starts_with("Delete"));
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(endpoint, &body, credentials).await {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            let retry = attempt < self.retry.max_attempts
                && failure.error.is_transient()
                && (resend_safe || !failure.may_have_arrived);
            if !retry {
                return Err(match failure.error {
                    AwsError::Throttled { code, .. } => AwsError::Throttled {
                        code,
                        attempts: attempt,
                    },
                    other => other,
                });
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }

    /// A GET of `path_and_query` on a rest-json endpoint that takes no signature, with `token` in
    /// header `token_header` (IAM Identity Center's portal): the JSON answer. Throttling, 5xx
    /// answers and network failures are retried within the retry policy (a GET changes nothing).
    /// An error answer is sorted by the code in `x-amzn-errortype` (else the body's `__type` or
    /// `code`), with the body's `message`.
    pub(crate) async fn get_bearer(
        &self,
        endpoint: &Endpoint,
        path_and_query: &str,
        (token_header, token): (&str, &crate::secret::Secret),
    ) -> Result<zeroize::Zeroizing<String>, AwsError> {
        let url = format!("{}{path_and_query}", endpoint.url.trim_end_matches('/'));
        let mut attempt = 1;
        loop {
            let answer = async {
                let response = self
                    .http
                    .get(&url)
                    .header(token_header, token.expose())
                    .send()
                    .await
                    .map_err(|e| transport_error(&endpoint.url, &e).error)?;
                rest_json_answer(endpoint, response).await
            }
            .await;
            match answer {
                Err(error) if error.is_transient() && attempt < self.retry.max_attempts => {
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                }
                Err(AwsError::Throttled { code, .. }) => {
                    return Err(AwsError::Throttled {
                        code,
                        attempts: attempt,
                    })
                }
                other => return other,
            }
        }
    }

    /// A POST of the JSON `body` to `path` on a rest-json endpoint that takes no signature (IAM
    /// Identity Center's OIDC service): the JSON answer. Sent once: a token request is not
    /// repeated blindly.
    pub(crate) async fn post_json(
        &self,
        endpoint: &Endpoint,
        path: &str,
        body: &zeroize::Zeroizing<String>,
    ) -> Result<zeroize::Zeroizing<String>, AwsError> {
        self.post_json_as(endpoint, path, body, None).await
    }

    /// [`AwsClient::post_json`], with a bearer token in `token_header` (the portal's Logout).
    pub(crate) async fn post_json_as(
        &self,
        endpoint: &Endpoint,
        path: &str,
        body: &zeroize::Zeroizing<String>,
        bearer: Option<(&str, &crate::secret::Secret)>,
    ) -> Result<zeroize::Zeroizing<String>, AwsError> {
        let url = format!("{}{path}", endpoint.url.trim_end_matches('/'));
        let mut request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some((header, token)) = bearer {
            request = request.header(header, token.expose());
        }
        let response = request
            .body(body.as_bytes().to_vec())
            .send()
            .await
            .map_err(|e| transport_error(&endpoint.url, &e).error)?;
        rest_json_answer(endpoint, response).await
    }

    /// [`AwsClient::call`], with the answer read as XML.
    pub(crate) async fn call_xml(
        &self,
        endpoint: &Endpoint,
        action: &str,
        params: &[(&str, &str)],
        credentials: &Credentials,
    ) -> Result<Element, AwsError> {
        let answer = self.call(endpoint, action, params, credentials).await?;
        Element::parse(&answer).map_err(|e| AwsError::MalformedAnswer {
            action: action.to_owned(),
            detail: e.to_string(),
        })
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        body: &str,
        credentials: &Credentials,
    ) -> Result<String, AttemptError> {
        let signed_at = SystemTime::now();
        let signed_headers =
            sign_request(endpoint, body, credentials, signed_at).map_err(|error| AttemptError {
                error,
                may_have_arrived: false,
            })?;
        let mut request = self
            .http
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body.to_owned());
        for (name, value) in &signed_headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&endpoint.url, &e))?;
        let status = response.status().as_u16();
        let clock_offset = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|date| date.to_str().ok())
            .and_then(parse_http_date)
            .map(|server| seconds_between(signed_at, server));
        let answer = response
            .text()
            .await
            .map_err(|e| transport_error(&endpoint.url, &e))?;
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let error = match parse_error_document(&answer) {
            Some((code, message)) => {
                rule_out_clock(classify(&code, &message, status, credentials), clock_offset)
            }
            None => AwsError::UnexpectedAnswer {
                endpoint: endpoint.url.clone(),
                status,
                excerpt: excerpt(&answer, credentials),
            },
        };
        // A throttled request was turned away before it did anything.
        let may_have_arrived = !matches!(error, AwsError::Throttled { .. });
        Err(AttemptError {
            error,
            may_have_arrived,
        })
    }
}

/// A rest-json answer's body (it may hold credentials or tokens: wiped when dropped), or its error
/// sorted by the code in `x-amzn-errortype` (else the body's).
async fn rest_json_answer(
    endpoint: &Endpoint,
    response: reqwest::Response,
) -> Result<zeroize::Zeroizing<String>, AwsError> {
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split([':', '#']).next().unwrap_or_default().to_owned());
    let body = zeroize::Zeroizing::new(
        response
            .text()
            .await
            .map_err(|e| transport_error(&endpoint.url, &e).error)?,
    );
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(rest_json_error(endpoint, status, code, &body))
}

/// A rest-json error answer sorted into the kinds a user acts on (its body holds no secret: the
/// request carried the token in a header only).
fn rest_json_error(endpoint: &Endpoint, status: u16, code: Option<String>, body: &str) -> AwsError {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let code = code
        .filter(|c| !c.is_empty())
        .or_else(|| field("__type").map(|t| t.rsplit('#').next().unwrap_or_default().to_owned()))
        .or_else(|| field("code"));
    let Some(code) = code else {
        return AwsError::UnexpectedAnswer {
            endpoint: endpoint.url.clone(),
            status,
            excerpt: excerpt(body, &Credentials::new("", "", None)),
        };
    };
    // OIDC's errors carry OAuth's `error_description` instead of a message.
    let message = field("message")
        .or_else(|| field("Message"))
        .or_else(|| field("error_description"))
        .unwrap_or_default();
    match code.as_str() {
        "TooManyRequestsException" => AwsError::Throttled { code, attempts: 1 },
        "UnauthorizedException" => AwsError::SsoTokenRefused { message },
        "ForbiddenException" | "ResourceNotFoundException" => {
            AwsError::AccessDenied { code, message }
        }
        _ => AwsError::Service {
            code,
            message,
            status,
        },
    }
}

/// `Action=...&Version=...&` followed by the parameters, form-encoded.
fn form_body(endpoint: &Endpoint, action: &str, params: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action);
    form.append_pair("Version", endpoint.service.api_version());
    for (name, value) in params {
        form.append_pair(name, value);
    }
    form.finish()
}

/// SigV4 headers (`x-amz-date`, `authorization`, and `x-amz-security-token` with temporary
/// credentials) for a form POST of `body` to the endpoint. `user-agent` is not signed.
fn sign_request(
    endpoint: &Endpoint,
    body: &str,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<Vec<(String, String)>, AwsError> {
    let signing_failed = |what: &str| AwsError::Request {
        detail: format!("could not sign the request: {what}"),
    };
    let identity: Identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        None,
        "keyrack",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&endpoint.signing_region)
        .name(endpoint.service.id())
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_failed(&e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "POST",
        endpoint.url.as_str(),
        std::iter::once(("content-type", CONTENT_TYPE)),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|_| signing_failed("the endpoint URL is not a valid URI"))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| signing_failed(&e.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect())
}

/// The time of an HTTP `Date` header (`Tue, 01 Dec 2026 08:23:24 GMT`).
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parsed =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc2822)
            .ok()?;
    Some(SystemTime::from(parsed))
}

/// `later - earlier` in whole seconds, negative when `later` is before `earlier`.
fn seconds_between(earlier: SystemTime, later: SystemTime) -> i64 {
    match later.duration_since(earlier) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    }
}

/// Sorts a failure to talk HTTP at all into unreachable, timeout or TLS.
fn transport_error(endpoint: &str, error: &reqwest::Error) -> AttemptError {
    let endpoint = endpoint.to_owned();
    // A connect error (connect timeouts included) means nothing was sent.
    let may_have_arrived = !error.is_connect();
    let error = if let Some(tls) = find_rustls_error(error) {
        AwsError::Tls {
            endpoint,
            detail: tls.to_string(),
        }
    } else if error.is_timeout() {
        AwsError::Timeout { endpoint }
    } else {
        AwsError::Unreachable {
            endpoint,
            detail: root_cause(error),
        }
    };
    AttemptError {
        error,
        may_have_arrived,
    }
}

/// The next error down a chain. rustls errors travel inside (sometimes nested) `io::Error`s,
/// whose `source()` skips the error they wrap, so an `io::Error` is opened with `get_ref()`.
fn next_cause<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    match error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(inner) => Some(inner),
        None => error.source(),
    }
}

/// The rustls error somewhere in the chain.
fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = next_cause(e);
    }
    None
}

/// The innermost message of an error chain: "Connection refused (os error 111)", "dns error: ...".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = next_cause(current) {
        current = next;
    }
    current.to_string()
}

fn read_ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>, AwsError> {
    let ca_error = |detail: String| AwsError::CaBundle {
        path: path.to_owned(),
        detail,
    };
    let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| ca_error(format!("it is not a PEM certificate file ({e})")))?;
    if certificates.is_empty() {
        return Err(ca_error("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::endpoint::{EndpointSource, Service};
    use crate::secret::Secret;

    fn endpoint(service: Service) -> Endpoint {
        Endpoint {
            service,
            url: "https://sts.eu-west-1.amazonaws.com".into(),
            signing_region: "eu-west-1".into(),
            source: EndpointSource::Default,
        }
    }

    #[test]
    fn form_body_starts_with_action_and_service_version_and_encodes_values() {
        let body = form_body(
            &endpoint(Service::Iam),
            "ListAccessKeys",
            &[("UserName", "a+b c/é")],
        );
        assert_eq!(
            body,
            "Action=ListAccessKeys&Version=2010-05-08&UserName=a%2Bb+c%2F%C3%A9"
        );
        let body = form_body(&endpoint(Service::Sts), "GetCallerIdentity", &[]);
        assert_eq!(body, "Action=GetCallerIdentity&Version=2011-06-15");
    }

    #[test]
    fn signature_covers_content_type_host_date_and_token_but_not_user_agent() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some(Secret::new("token")));
        let headers = sign_request(
            &endpoint(Service::Sts),
            "Action=GetCallerIdentity",
            &creds,
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let auth = get("authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/19700101/eu-west-1/sts/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert_eq!(get("x-amz-security-token"), Some("token"));
        assert_eq!(get("x-amz-date"), Some("19700101T000000Z"));
    }

    #[test]
    fn the_date_of_an_answer_is_read_and_compared_with_the_local_clock() {
        let date = parse_http_date("Tue, 01 Dec 2026 08:23:24 GMT").unwrap();
        let later = parse_http_date("Tue, 01 Dec 2026 09:23:24 GMT").unwrap();
        assert_eq!(seconds_between(date, later), 3600);
        assert_eq!(seconds_between(later, date), -3600);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn retry_delay_grows_and_stays_under_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        for _ in 0..50 {
            let first = policy.delay(1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let second = policy.delay(2);
            assert!(
                second >= Duration::from_millis(100) && second <= Duration::from_millis(200),
                "{second:?}"
            );
            assert!(policy.delay(9) <= Duration::from_millis(300));
        }
    }

    #[test]
    fn a_tls_error_is_found_inside_nested_io_errors() {
        use std::io::{Error, ErrorKind};
        let tls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let nested = Error::other(Error::new(ErrorKind::InvalidData, tls.clone()));
        assert_eq!(find_rustls_error(&nested), Some(&tls));
        assert_eq!(root_cause(&nested), tls.to_string());
        assert_eq!(
            find_rustls_error(&Error::new(ErrorKind::ConnectionRefused, "refused")),
            None
        );
    }

    #[test]
    fn a_missing_ca_bundle_is_a_typed_error_naming_the_file() {
        let settings = ClientSettings {
            ca_bundle: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let err = AwsClient::new(settings).unwrap_err();
        assert!(matches!(err, AwsError::CaBundle { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"));
    }
}
