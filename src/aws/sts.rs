//! STS calls: who do these credentials belong to, and temporary credentials for a role or an
//! MFA session.

use time::OffsetDateTime;

use super::client::AwsClient;
use super::credentials::Credentials;
use super::endpoint::{Endpoint, Service};
use super::error::AwsError;
use super::xml::Field;
use crate::secret::Secret;

/// The identity behind a set of credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `arn:aws:iam::123456789012:user/alice`, or `...:assumed-role/ROLE/SESSION`.
    pub arn: String,
    pub account: String,
    /// The unique id: `AIDA...` for a user, `AROA...:SESSION` for an assumed role.
    pub user_id: String,
}

/// What to ask of AssumeRole. Its `Debug` never shows the MFA code.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RoleRequest<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
    /// Session lifetime; AWS's default (1 hour) when `None`.
    pub duration_seconds: Option<u32>,
    /// The MFA device (`mfa_serial`) and its current code, for a role that needs them.
    pub mfa: Option<(&'a str, &'a str)>,
}

impl std::fmt::Debug for RoleRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleRequest")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("external_id", &self.external_id)
            .field("duration_seconds", &self.duration_seconds)
            .field("mfa_serial", &self.mfa.map(|(serial, _)| serial))
            .finish_non_exhaustive()
    }
}

/// Temporary credentials for an assumed role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumedRole {
    pub credentials: Credentials,
    pub expiration: OffsetDateTime,
    /// `arn:aws:sts::123456789012:assumed-role/ROLE/SESSION`
    pub assumed_role_arn: String,
    /// `AROA...:SESSION`
    pub assumed_role_id: String,
}

/// GetCallerIdentity: the account and ARN the credentials belong to. Needs no permission, so
/// it tells whether a key works at all.
pub async fn get_caller_identity(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
) -> Result<CallerIdentity, AwsError> {
    debug_assert_eq!(endpoint.service, Service::Sts);
    let action = "GetCallerIdentity";
    let answer = client.call_xml(endpoint, action, &[], credentials).await?;
    let result = Field::new(&answer, action);
    Ok(CallerIdentity {
        arn: result.text("Arn")?,
        account: result.text("Account")?,
        user_id: result.text("UserId")?,
    })
}

/// AssumeRole: temporary credentials for `request.role_arn`.
pub async fn assume_role(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    request: &RoleRequest<'_>,
) -> Result<AssumedRole, AwsError> {
    debug_assert_eq!(endpoint.service, Service::Sts);
    let action = "AssumeRole";
    let duration = request.duration_seconds.map(|d| d.to_string());
    let mut params = vec![
        ("RoleArn", request.role_arn),
        ("RoleSessionName", request.session_name),
    ];
    if let Some(external_id) = request.external_id {
        params.push(("ExternalId", external_id));
    }
    if let Some(duration) = &duration {
        params.push(("DurationSeconds", duration));
    }
    if let Some((serial, code)) = request.mfa {
        params.push(("SerialNumber", serial));
        params.push(("TokenCode", code));
    }
    let answer = client
        .call_xml(endpoint, action, &params, credentials)
        .await?;
    let answer = Field::new(&answer, action);
    let issued = answer.child("Credentials")?;
    Ok(AssumedRole {
        credentials: Credentials {
            access_key_id: issued.text("AccessKeyId")?,
            secret_access_key: Secret::new(issued.text("SecretAccessKey")?),
            session_token: Some(Secret::new(issued.text("SessionToken")?)),
        },
        expiration: issued.time("Expiration")?,
        assumed_role_arn: answer.child("AssumedRoleUser")?.text("Arn")?,
        assumed_role_id: answer.child("AssumedRoleUser")?.text("AssumedRoleId")?,
    })
}

/// Temporary credentials from GetSessionToken: the same user, with MFA present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionToken {
    pub credentials: Credentials,
    pub expiration: OffsetDateTime,
}

/// GetSessionToken with the code of MFA device `serial`: a session of the user whose long-term
/// key `credentials` is, that counts as signed in with MFA (`aws:MultiFactorAuthPresent`).
pub async fn get_session_token(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    duration_seconds: Option<u32>,
    mfa: (&str, &str),
) -> Result<SessionToken, AwsError> {
    debug_assert_eq!(endpoint.service, Service::Sts);
    let action = "GetSessionToken";
    let duration = duration_seconds.map(|d| d.to_string());
    let mut params = vec![("SerialNumber", mfa.0), ("TokenCode", mfa.1)];
    if let Some(duration) = &duration {
        params.push(("DurationSeconds", duration));
    }
    let answer = client
        .call_xml(endpoint, action, &params, credentials)
        .await?;
    let issued = Field::new(&answer, action).child("Credentials")?;
    Ok(SessionToken {
        credentials: Credentials {
            access_key_id: issued.text("AccessKeyId")?,
            secret_access_key: Secret::new(issued.text("SecretAccessKey")?),
            session_token: Some(Secret::new(issued.text("SessionToken")?)),
        },
        expiration: issued.time("Expiration")?,
    })
}
