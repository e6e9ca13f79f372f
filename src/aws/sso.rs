//! IAM Identity Center's portal (`portal.sso.REGION.amazonaws.com`, rest-json, unsigned: the
//! sign-in's access token goes in the `x-amz-sso_bearer_token` header): the short-term
//! credentials of a role assigned to the signed-in user, and the accounts and roles assigned.

use serde::Deserialize;
use time::OffsetDateTime;

use super::client::AwsClient;
use super::credentials::Credentials;
use super::endpoint::{Endpoint, Service};
use super::error::AwsError;
use super::sts::SessionToken;
use crate::secret::Secret;

/// The header the portal takes the access token in.
const TOKEN_HEADER: &str = "x-amz-sso_bearer_token";

/// GetRoleCredentials: credentials of `role_name` in `account_id` for the user whose sign-in
/// `access_token` is.
pub async fn get_role_credentials(
    client: &AwsClient,
    endpoint: &Endpoint,
    access_token: &Secret,
    account_id: &str,
    role_name: &str,
) -> Result<SessionToken, AwsError> {
    debug_assert_eq!(endpoint.service, Service::Sso);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("account_id", account_id)
        .append_pair("role_name", role_name)
        .finish();
    let answer = client
        .get_bearer(
            endpoint,
            &format!("/federation/credentials?{query}"),
            (TOKEN_HEADER, access_token),
        )
        .await?;
    // No `Debug`: the fields are secrets.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        role_credentials: RoleCredentials,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct RoleCredentials {
        access_key_id: String,
        secret_access_key: String,
        session_token: String,
        /// Milliseconds since the epoch.
        expiration: i64,
    }
    let malformed = |detail: &str| AwsError::MalformedAnswer {
        action: "GetRoleCredentials".into(),
        detail: detail.to_owned(),
    };
    let answer: Answer = serde_json::from_str(&answer)
        .map_err(|_| malformed("it is not the roleCredentials the portal answers with"))?;
    let c = answer.role_credentials;
    let expiration =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(c.expiration) * 1_000_000)
            .map_err(|_| malformed("its expiration is not a time"))?;
    Ok(SessionToken {
        credentials: Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(Secret::new(c.session_token)),
        ),
        expiration,
    })
}

/// An AWS account the signed-in user has roles in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SsoAccount {
    pub account_id: String,
    pub account_name: String,
}

/// ListAccounts, every page: the accounts the user of `access_token` has roles in.
pub async fn list_accounts(
    client: &AwsClient,
    endpoint: &Endpoint,
    access_token: &Secret,
) -> Result<Vec<SsoAccount>, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Page {
        #[serde(default)]
        account_list: Vec<Account>,
        next_token: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Account {
        account_id: String,
        #[serde(default)]
        account_name: String,
    }
    let mut accounts = Vec::new();
    let mut next: Option<String> = None;
    loop {
        // Built before the await: a Serializer is not Send.
        let path = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("max_result", "100");
            if let Some(token) = &next {
                query.append_pair("next_token", token);
            }
            format!("/assignment/accounts?{}", query.finish())
        };
        let answer = client
            .get_bearer(endpoint, &path, (TOKEN_HEADER, access_token))
            .await?;
        let page: Page = serde_json::from_str(&answer).map_err(|e| AwsError::MalformedAnswer {
            action: "ListAccounts".into(),
            detail: e.to_string(),
        })?;
        accounts.extend(page.account_list.into_iter().map(|a| SsoAccount {
            account_id: a.account_id,
            account_name: a.account_name,
        }));
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(token) => next = Some(token),
            None => return Ok(accounts),
        }
    }
}

/// ListAccountRoles, every page: the roles of `account_id` assigned to the user.
pub async fn list_account_roles(
    client: &AwsClient,
    endpoint: &Endpoint,
    access_token: &Secret,
    account_id: &str,
) -> Result<Vec<String>, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Page {
        #[serde(default)]
        role_list: Vec<Role>,
        next_token: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Role {
        role_name: String,
    }
    let mut roles = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("account_id", account_id);
            query.append_pair("max_result", "100");
            if let Some(token) = &next {
                query.append_pair("next_token", token);
            }
            format!("/assignment/roles?{}", query.finish())
        };
        let answer = client
            .get_bearer(endpoint, &path, (TOKEN_HEADER, access_token))
            .await?;
        let page: Page = serde_json::from_str(&answer).map_err(|e| AwsError::MalformedAnswer {
            action: "ListAccountRoles".into(),
            detail: e.to_string(),
        })?;
        roles.extend(page.role_list.into_iter().map(|r| r.role_name));
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(token) => next = Some(token),
            None => return Ok(roles),
        }
    }
}

/// Logout (`POST /logout`): the portal no longer takes `access_token` (nor the role sessions it
/// handed out, as far as Identity Center ends them).
pub async fn logout(
    client: &AwsClient,
    endpoint: &Endpoint,
    access_token: &Secret,
) -> Result<(), AwsError> {
    debug_assert_eq!(endpoint.service, Service::Sso);
    let empty = zeroize::Zeroizing::new(String::new());
    client
        .post_json_as(
            endpoint,
            "/logout",
            &empty,
            Some((TOKEN_HEADER, access_token)),
        )
        .await
        .map(drop)
}
