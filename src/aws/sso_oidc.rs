//! IAM Identity Center's OIDC service (`oidc.REGION.amazonaws.com`, rest-json, unsigned):
//! registering keyrack as a client, starting a device sign-in, and CreateToken for the three
//! grants a sign-in uses (device code, authorization code with PKCE, refresh token).

use serde::Deserialize;

use super::client::AwsClient;
use super::endpoint::{Endpoint, Service};
use super::error::AwsError;
use crate::secret::Secret;

/// What to register: the AWS CLI's names and grants, so the portal shows the same client.
pub struct Registration<'a> {
    pub client_name: &'a str,
    /// `None` for a legacy sign-in (no refresh token is then issued).
    pub scopes: Option<&'a [String]>,
    /// For the authorization-code flow: `["authorization_code", "refresh_token"]`.
    pub grant_types: Option<&'a [&'a str]>,
    pub redirect_uris: Option<&'a [&'a str]>,
    /// The start URL (the authorization-code flow needs it).
    pub issuer_url: Option<&'a str>,
}

/// A registered client: its id and secret, and when the registration ends (epoch seconds).
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires_at: i64,
}

/// RegisterClient (`POST /client/register`).
pub async fn register_client(
    client: &AwsClient,
    endpoint: &Endpoint,
    registration: &Registration<'_>,
) -> Result<RegisteredClient, AwsError> {
    debug_assert_eq!(endpoint.service, Service::SsoOidc);
    let mut request = serde_json::json!({
        "clientName": registration.client_name,
        "clientType": "public",
    });
    if let Some(scopes) = registration.scopes {
        request["scopes"] = scopes.into();
    }
    if let Some(grants) = registration.grant_types {
        request["grantTypes"] = grants.into();
    }
    if let Some(uris) = registration.redirect_uris {
        request["redirectUris"] = uris.into();
    }
    if let Some(issuer) = registration.issuer_url {
        request["issuerUrl"] = issuer.into();
    }
    let body = zeroize::Zeroizing::new(request.to_string());
    let answer = client
        .post_json(endpoint, "/client/register", &body)
        .await?;
    // No `Debug`: it holds the client secret.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        client_id: String,
        client_secret: Secret,
        client_secret_expires_at: i64,
    }
    let answer: Answer = parse(&answer, "RegisterClient")?;
    Ok(RegisteredClient {
        client_id: answer.client_id,
        client_secret: answer.client_secret,
        expires_at: answer.client_secret_expires_at,
    })
}

/// A device sign-in started: the code the person approves, where, and how often to ask.
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    /// Since 2026-09 this no longer holds the user code: the code must always be shown.
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: i64,
}

/// StartDeviceAuthorization (`POST /device_authorization`).
pub async fn start_device_authorization(
    client: &AwsClient,
    endpoint: &Endpoint,
    (client_id, client_secret): (&str, &Secret),
    start_url: &str,
) -> Result<DeviceAuthorization, AwsError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        client_id: &'a str,
        client_secret: &'a str,
        start_url: &'a str,
    }
    let request = Request {
        client_id,
        client_secret: client_secret.expose(),
        start_url,
    };
    let body = zeroize::Zeroizing::new(
        serde_json::to_string(&request).expect("a JSON object of strings always serializes"),
    );
    let answer = client
        .post_json(endpoint, "/device_authorization", &body)
        .await?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        device_code: Secret,
        user_code: String,
        verification_uri: String,
        verification_uri_complete: Option<String>,
        expires_in: i64,
        interval: Option<i64>,
    }
    let answer: Answer = parse(&answer, "StartDeviceAuthorization")?;
    Ok(DeviceAuthorization {
        device_code: answer.device_code,
        user_code: answer.user_code,
        verification_uri: answer.verification_uri,
        verification_uri_complete: answer.verification_uri_complete,
        expires_in: answer.expires_in,
        interval: answer.interval.unwrap_or(5).max(1),
    })
}

/// What CreateToken is asked to exchange.
pub enum Grant<'a> {
    /// A device sign-in, once approved.
    DeviceCode(&'a Secret),
    /// The code the browser brought back, with the PKCE verifier and the redirect URI used.
    AuthorizationCode {
        code: &'a Secret,
        code_verifier: &'a Secret,
        redirect_uri: &'a str,
    },
    /// A refresh of an sso-session sign-in.
    RefreshToken(&'a Secret),
}

/// A sign-in token CreateToken handed back.
pub struct IssuedToken {
    pub access_token: Secret,
    pub expires_in_seconds: i64,
    /// A refresh token, when the answer has one (a refresh without one keeps the old one good).
    pub refresh_token: Option<Secret>,
}

/// CreateToken (`POST /token`) for `grant`, as client `client_id`.
pub async fn create_token(
    client: &AwsClient,
    endpoint: &Endpoint,
    (client_id, client_secret): (&str, &Secret),
    grant: &Grant<'_>,
) -> Result<IssuedToken, AwsError> {
    debug_assert_eq!(endpoint.service, Service::SsoOidc);
    // Borrowed, not copied: the only copy of the secrets is the body, wiped when sent.
    #[derive(serde::Serialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        client_id: &'a str,
        client_secret: &'a str,
        grant_type: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        device_code: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        code_verifier: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        redirect_uri: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        refresh_token: Option<&'a str>,
    }
    let mut request = Request {
        client_id,
        client_secret: client_secret.expose(),
        ..Request::default()
    };
    match grant {
        Grant::DeviceCode(code) => {
            request.grant_type = "urn:ietf:params:oauth:grant-type:device_code";
            request.device_code = Some(code.expose());
        }
        Grant::AuthorizationCode {
            code,
            code_verifier,
            redirect_uri,
        } => {
            request.grant_type = "authorization_code";
            request.code = Some(code.expose());
            request.code_verifier = Some(code_verifier.expose());
            request.redirect_uri = Some(redirect_uri);
        }
        Grant::RefreshToken(token) => {
            request.grant_type = "refresh_token";
            request.refresh_token = Some(token.expose());
        }
    }
    let body = zeroize::Zeroizing::new(
        serde_json::to_string(&request).expect("a JSON object of strings always serializes"),
    );
    let answer = client.post_json(endpoint, "/token", &body).await?;
    // No `Debug`: the fields are secrets.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        access_token: Secret,
        expires_in: i64,
        refresh_token: Option<Secret>,
    }
    let answer: Answer = parse(&answer, "CreateToken")?;
    Ok(IssuedToken {
        access_token: answer.access_token,
        expires_in_seconds: answer.expires_in,
        refresh_token: answer.refresh_token,
    })
}

/// The OAuth error code of a refused CreateToken (`AuthorizationPendingException`, …).
pub fn oauth_code(error: &AwsError) -> Option<&str> {
    match error {
        AwsError::Service { code, .. } | AwsError::AccessDenied { code, .. } => Some(code),
        _ => None,
    }
}

fn parse<T: serde::de::DeserializeOwned>(answer: &str, action: &str) -> Result<T, AwsError> {
    serde_json::from_str(answer).map_err(|_| AwsError::MalformedAnswer {
        action: action.to_owned(),
        detail: "it is not what the OIDC service answers with".into(),
    })
}
