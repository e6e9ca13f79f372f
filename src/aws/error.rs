//! The errors an AWS call can end in, sorted into the cases a user must act on differently.

use std::path::PathBuf;

use super::credentials::Credentials;
use super::xml::Element;

/// Why an AWS call failed. Messages say what happened in plain words and what to do next; none
/// holds a secret key or session token (text from servers is scrubbed of both).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AwsError {
    #[error(
        "AWS rejected the secret access key of {access_key_id}: the secret does not belong to this \
         key. Check the secret in the credentials file"
    )]
    WrongSecret { access_key_id: String },

    #[error(
        "AWS does not know the access key {access_key_id}: it was deleted or is mistyped, belongs \
         to another partition (China, GovCloud), or its session token is not valid"
    )]
    UnknownAccessKey { access_key_id: String },

    #[error("the temporary credentials have expired ({code}); get new ones and try again")]
    ExpiredToken { code: String },

    #[error("AWS denied access ({code}): {message}")]
    AccessDenied { code: String, message: String },

    #[error(
        "AWS did not accept the MFA code: it is wrong, already used (each code works once) or \
         too old; wait for the next code your authenticator app shows and try again"
    )]
    MfaCodeRejected,

    #[error(
        "AWS does not know the MFA device that mfa_serial names for this user; mfa_serial must be \
         the device's ARN as the IAM console shows it (arn:aws:iam::ACCOUNT:mfa/NAME)"
    )]
    MfaDeviceUnknown,

    #[error(
        "IAM Identity Center refused the sign-in token ({message}): it expired, was signed out, \
         or belongs to another start URL; sign in again"
    )]
    SsoTokenRefused { message: String },

    #[error(
        "AWS rejected the request because this computer's clock is off by more than a few \
         minutes ({}); set the clock right (turn on automatic time) and try again",
        clock_detail(.code, .message)
    )]
    ClockSkew { code: String, message: String },

    #[error(
        "AWS says the request was signed for the wrong region or service ({code}: {message}), \
         so it did not get as far as checking the secret; check the region and endpoint \
         settings of the profile"
    )]
    WrongSigningScope { code: String, message: String },

    #[error(
        "AWS is limiting the request rate ({code}) and still was after {attempts} attempts; \
         wait a minute and try again"
    )]
    Throttled { code: String, attempts: u32 },

    #[error("AWS answered {code} (HTTP {status}): {message}")]
    Service {
        code: String,
        message: String,
        status: u16,
    },

    #[error(
        "{endpoint} answered HTTP {status} with something that is not an AWS answer \
         ({excerpt}); check the endpoint URL and any proxy in between"
    )]
    UnexpectedAnswer {
        endpoint: String,
        status: u16,
        excerpt: String,
    },

    #[error(
        "could not reach {endpoint} ({detail}); check the network connection, the proxy \
         settings and the endpoint URL"
    )]
    Unreachable { endpoint: String, detail: String },

    #[error("{endpoint} did not answer in time; check the network connection and proxy settings")]
    Timeout { endpoint: String },

    #[error(
        "could not set up a secure connection to {endpoint} ({detail}); if a proxy inspects \
         HTTPS traffic, point AWS_CA_BUNDLE or the profile's ca_bundle at its root certificate"
    )]
    Tls { endpoint: String, detail: String },

    #[error("could not use the CA bundle {path}: {detail}")]
    CaBundle { path: PathBuf, detail: String },

    #[error("AWS's answer to {action} could not be read: {detail}")]
    MalformedAnswer { action: String, detail: String },

    #[error("could not prepare the request: {detail}")]
    Request { detail: String },
}

impl AwsError {
    /// True for failures that may go away if the same request is sent again a little later.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Throttled { .. }
            | AwsError::Unreachable { .. }
            | AwsError::Timeout { .. } => true,
            AwsError::Service { status, .. } | AwsError::UnexpectedAnswer { status, .. } => {
                *status >= 500 || *status == 429
            }
            _ => false,
        }
    }
}

/// How far this computer's clock may be from AWS's before it is suspected: AWS refuses
/// requests dated more than 5 minutes (15 for some services) away from its own time.
pub const MAX_CLOCK_OFFSET_SECONDS: i64 = 5 * 60;

/// The code, and the measured offset or AWS's words when there are any.
fn clock_detail(code: &str, message: &str) -> String {
    if message.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {message}")
    }
}

/// A signature mismatch is blamed on the secret only once the clock is ruled out:
/// `clock_offset` is AWS's time (the `Date` of its answer) minus this computer's when it signed,
/// in seconds. A computer clock further off than [`MAX_CLOCK_OFFSET_SECONDS`] turns
/// [`AwsError::WrongSecret`] into [`AwsError::ClockSkew`] saying by how much: a request
/// signed with a wrong date cannot tell whether the secret is right.
pub(crate) fn rule_out_clock(error: AwsError, clock_offset: Option<i64>) -> AwsError {
    match (error, clock_offset) {
        (AwsError::WrongSecret { .. }, Some(offset)) if offset.abs() > MAX_CLOCK_OFFSET_SECONDS => {
            let minutes = (offset.abs() + 30) / 60;
            let direction = if offset > 0 { "behind" } else { "ahead of" };
            AwsError::ClockSkew {
                code: "SignatureDoesNotMatch".to_owned(),
                message: format!(
                    "this computer's clock is {minutes} minutes {direction} AWS's, by the date \
                     of AWS's answer; until the clock is right keyrack cannot tell whether the \
                     secret is right"
                ),
            }
        }
        (error, _) => error,
    }
}

/// `<Code>` and `<Message>` of an AWS error document, found wherever they sit (real AWS wraps
/// them in a namespaced `ErrorResponse/Error`, moto sometimes in `ErrorResponse/Errors/Error`).
/// `None` when `body` is not XML or has no `<Code>`.
pub(crate) fn parse_error_document(body: &str) -> Option<(String, String)> {
    let root = Element::parse(body).ok()?;
    let code = root.find_text("Code").filter(|c| !c.is_empty())?.to_owned();
    let message = root.find_text("Message").unwrap_or_default().to_owned();
    Some((code, message))
}

/// Sorts an AWS error code into the kinds a user acts on. The message is scrubbed of the
/// credentials' secrets first.
pub(crate) fn classify(
    code: &str,
    message: &str,
    status: u16,
    credentials: &Credentials,
) -> AwsError {
    let code = code.to_owned();
    let message = credentials.scrub(message);
    let access_key_id = credentials.access_key_id.clone();
    match code.as_str() {
        "SignatureDoesNotMatch" | "InvalidSignatureException"
            if message.contains("Signature expired") =>
        {
            AwsError::ClockSkew { code, message }
        }
        "RequestTimeTooSkewed" | "RequestInTheFuture" | "RequestExpired" => {
            AwsError::ClockSkew { code, message }
        }
        // Real AWS answers a request signed for another region or service this way.
        "SignatureDoesNotMatch" | "InvalidSignatureException"
            if message.contains("Credential should be scoped") =>
        {
            AwsError::WrongSigningScope { code, message }
        }
        "SignatureDoesNotMatch" | "InvalidSignatureException" => {
            AwsError::WrongSecret { access_key_id }
        }
        "InvalidClientTokenId" | "InvalidAccessKeyId" | "UnrecognizedClientException" => {
            AwsError::UnknownAccessKey { access_key_id }
        }
        "ExpiredToken" | "ExpiredTokenException" => AwsError::ExpiredToken { code },
        // STS says how an MFA code failed only in the message of an AccessDenied.
        "AccessDenied" if message.contains("invalid MFA one time pass code") => {
            AwsError::MfaCodeRejected
        }
        "AccessDenied" if message.contains("unable to validate MFA code") => {
            AwsError::MfaDeviceUnknown
        }
        c if c.starts_with("AccessDenied") => AwsError::AccessDenied { code, message },
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "RequestThrottled"
        | "SlowDown" => AwsError::Throttled { code, attempts: 1 },
        _ if status == 429 => AwsError::Throttled { code, attempts: 1 },
        _ => AwsError::Service {
            code,
            message,
            status,
        },
    }
}

/// A short, tag-free, single-line excerpt of a body that is not an AWS error, for the message.
/// The credentials' secrets are scrubbed from the whole text before it is cut to length: a
/// secret cut in two would no longer be found.
pub(crate) fn excerpt(body: &str, credentials: &Credentials) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut line = credentials.scrub(&words.join(" "));
    if line.is_empty() {
        return "empty body".to_owned();
    }
    if line.chars().count() > 160 {
        line = line.chars().take(160).collect::<String>() + "…";
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";

    fn creds() -> Credentials {
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, Some(Secret::new(TOKEN)))
    }

    fn no_secret_in(err: &AwsError) {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(
                !text.contains(SECRET) && !text.contains(TOKEN),
                "secret leaked: {text}"
            );
        }
    }

    #[test]
    fn finds_code_and_message_in_real_aws_shape() {
        let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
    <Message>The security token included in the request is invalid.</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"#;
        let (code, message) = parse_error_document(body).unwrap();
        assert_eq!(code, "InvalidClientTokenId");
        assert_eq!(
            message,
            "The security token included in the request is invalid."
        );
    }

    #[test]
    fn finds_code_and_message_in_moto_auth_shape() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Errors><Error>\
            <Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does \
            not match the signature you provided.</Message></Error></Errors></ErrorResponse>";
        let (code, _) = parse_error_document(body).unwrap();
        assert_eq!(code, "SignatureDoesNotMatch");
    }

    #[test]
    fn html_and_plain_bodies_are_not_error_documents() {
        let html = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n\
                    <h1>Internal Server Error</h1><p>The server encountered an error.</p>";
        assert_eq!(parse_error_document(html), None);
        assert_eq!(parse_error_document("Service Unavailable"), None);
        assert_eq!(parse_error_document("<Response><Ok/></Response>"), None);
    }

    #[test]
    fn signature_mismatch_means_wrong_secret() {
        let err = classify("SignatureDoesNotMatch", "does not match", 403, &creds());
        assert_eq!(
            err,
            AwsError::WrongSecret {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into()
            }
        );
    }

    #[test]
    fn expired_signature_means_clock_skew() {
        let message = "Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z";
        let err = classify("SignatureDoesNotMatch", message, 403, &creds());
        assert!(matches!(err, AwsError::ClockSkew { .. }), "{err:?}");
        let err = classify("RequestTimeTooSkewed", "", 403, &creds());
        assert!(matches!(err, AwsError::ClockSkew { .. }), "{err:?}");
    }

    #[test]
    fn a_signature_scoped_to_the_wrong_region_is_not_the_secret() {
        let message = "Credential should be scoped to a valid region, not 'us-west-2 # oregon'. ";
        let err = classify("SignatureDoesNotMatch", message, 403, &creds());
        assert!(matches!(err, AwsError::WrongSigningScope { .. }), "{err:?}");
        assert!(err.to_string().contains("region"), "{err}");
    }

    #[test]
    fn a_signature_mismatch_with_a_clock_far_off_is_clock_skew_not_the_secret() {
        let wrong = || classify("SignatureDoesNotMatch", "does not match", 403, &creds());
        for offset in [3600, -3600, MAX_CLOCK_OFFSET_SECONDS + 1] {
            let err = rule_out_clock(wrong(), Some(offset));
            assert!(
                matches!(err, AwsError::ClockSkew { .. }),
                "{offset}: {err:?}"
            );
        }
        let behind = rule_out_clock(wrong(), Some(3600)).to_string();
        assert!(behind.contains("60 minutes behind AWS's"), "{behind}");
        let ahead = rule_out_clock(wrong(), Some(-7200)).to_string();
        assert!(ahead.contains("120 minutes ahead of AWS's"), "{ahead}");
        for offset in [Some(0), Some(-MAX_CLOCK_OFFSET_SECONDS), Some(90), None] {
            assert!(
                matches!(
                    rule_out_clock(wrong(), offset),
                    AwsError::WrongSecret { .. }
                ),
                "{offset:?}"
            );
        }
        let denied = classify("AccessDenied", "no", 403, &creds());
        assert_eq!(rule_out_clock(denied.clone(), Some(3600)), denied);
    }

    #[test]
    fn unknown_key_expired_token_and_denied_are_told_apart() {
        let c = creds();
        assert!(matches!(
            classify("InvalidClientTokenId", "", 403, &c),
            AwsError::UnknownAccessKey { .. }
        ));
        assert!(matches!(
            classify("ExpiredToken", "", 400, &c),
            AwsError::ExpiredToken { .. }
        ));
        assert!(matches!(
            classify("AccessDenied", "no", 403, &c),
            AwsError::AccessDenied { .. }
        ));
        assert!(matches!(
            classify("AccessDeniedException", "no", 400, &c),
            AwsError::AccessDenied { .. }
        ));
    }

    #[test]
    fn throttling_codes_and_http_429_are_throttled_and_transient() {
        for (code, status) in [
            ("Throttling", 400),
            ("ThrottlingException", 400),
            ("RequestLimitExceeded", 503),
            ("Whatever", 429),
        ] {
            let err = classify(code, "", status, &creds());
            assert!(matches!(err, AwsError::Throttled { .. }), "{code}: {err:?}");
            assert!(err.is_transient());
        }
    }

    #[test]
    fn other_codes_stay_service_errors_and_only_5xx_is_transient() {
        let err = classify("LimitExceeded", "Cannot exceed quota", 409, &creds());
        assert_eq!(
            err,
            AwsError::Service {
                code: "LimitExceeded".into(),
                message: "Cannot exceed quota".into(),
                status: 409
            }
        );
        assert!(!err.is_transient());
        assert!(classify("InternalFailure", "", 500, &creds()).is_transient());
        assert!(!classify("SignatureDoesNotMatch", "", 403, &creds()).is_transient());
    }

    #[test]
    fn secrets_echoed_by_a_server_are_scrubbed_from_every_error() {
        let c = creds();
        let message =
            format!("canonical request had x-amz-security-token:{TOKEN} and key {SECRET}");
        for code in [
            "AccessDenied",
            "RequestTimeTooSkewed",
            "SomethingElse",
            "SignatureDoesNotMatch",
        ] {
            no_secret_in(&classify(code, &message, 403, &c));
        }
        let html = format!("<html><body>{SECRET}</body></html>");
        let err = AwsError::UnexpectedAnswer {
            endpoint: "x".into(),
            status: 500,
            excerpt: excerpt(&html, &c),
        };
        no_secret_in(&err);
    }

    #[test]
    fn a_secret_where_the_excerpt_is_cut_is_scrubbed_before_the_cut() {
        let c = creds();
        for before in [140, 150, 158] {
            for secret in [SECRET, TOKEN] {
                let body = format!("<p>{}{secret} more text after it</p>", "x".repeat(before));
                let text = excerpt(&body, &c);
                assert!(
                    !text.contains(&secret[..8]),
                    "part of a secret survived the cut: {text}"
                );
                assert!(
                    text.contains("<redacted>") || text.chars().count() == 161,
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn excerpt_strips_tags_and_shortens() {
        let html = "<!doctype html><title>500 Internal Server Error</title>\n<h1>Internal</h1>";
        assert_eq!(
            excerpt(html, &creds()),
            "500 Internal Server Error Internal"
        );
        assert!(excerpt(&"x".repeat(500), &creds()).chars().count() <= 161);
        assert_eq!(excerpt("", &creds()), "empty body");
    }
}
