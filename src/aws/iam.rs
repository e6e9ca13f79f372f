//! IAM calls on access keys: list, inspect last use, create, activate or deactivate, delete.

use std::fmt;

use time::OffsetDateTime;

use super::client::AwsClient;
use super::credentials::Credentials;
use super::endpoint::{Endpoint, Service};
use super::error::AwsError;
use super::xml::{parse_timestamp, Field};
use crate::secret::Secret;

/// Whether AWS accepts an access key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

impl AccessKeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Active => "Active",
            AccessKeyStatus::Inactive => "Inactive",
        }
    }

    fn parse(text: &str) -> Option<AccessKeyStatus> {
        match text {
            "Active" => Some(AccessKeyStatus::Active),
            "Inactive" => Some(AccessKeyStatus::Inactive),
            _ => None,
        }
    }
}

impl fmt::Display for AccessKeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An access key as IAM lists it (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyMetadata {
    pub access_key_id: String,
    pub status: AccessKeyStatus,
    pub create_date: OffsetDateTime,
    pub user_name: String,
}

/// When and where an access key was last used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyLastUsed {
    pub user_name: String,
    /// `None` when the key was never used (or not since IAM began tracking, April 2015).
    pub last_used_date: Option<OffsetDateTime>,
    /// `None` when AWS reports "N/A".
    pub service_name: Option<String>,
    /// `None` when AWS reports "N/A".
    pub region: Option<String>,
}

/// ListAccessKeys: the keys of `user_name`, or of the calling user when `None`.
pub async fn list_access_keys(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    user_name: Option<&str>,
) -> Result<Vec<AccessKeyMetadata>, AwsError> {
    debug_assert_eq!(endpoint.service, Service::Iam);
    let action = "ListAccessKeys";
    let mut keys = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = Vec::new();
        if let Some(user_name) = user_name {
            params.push(("UserName", user_name));
        }
        if let Some(marker) = &marker {
            params.push(("Marker", marker.as_str()));
        }
        let answer = client
            .call_xml(endpoint, action, &params, credentials)
            .await?;
        let answer = Field::new(&answer, action);
        // A user without keys may come back with the list element left out.
        if let Ok(list) = answer.child("AccessKeyMetadata") {
            for member in list.each("member") {
                keys.push(read_key_metadata(&member)?);
            }
        }
        let truncated = answer
            .optional_text("IsTruncated")
            .is_some_and(|t| t == "true");
        marker = answer.optional_text("Marker");
        if !truncated || marker.is_none() {
            return Ok(keys);
        }
    }
}

/// GetAccessKeyLastUsed: who owns `access_key_id` and when it last signed a request.
pub async fn get_access_key_last_used(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    access_key_id: &str,
) -> Result<AccessKeyLastUsed, AwsError> {
    debug_assert_eq!(endpoint.service, Service::Iam);
    let action = "GetAccessKeyLastUsed";
    let params = [("AccessKeyId", access_key_id)];
    let answer = client
        .call_xml(endpoint, action, &params, credentials)
        .await?;
    let answer = Field::new(&answer, action);
    let last_used = answer.child("AccessKeyLastUsed")?;
    let known = |value: Option<String>| value.filter(|v| !v.is_empty() && v != "N/A");
    Ok(AccessKeyLastUsed {
        user_name: answer.text("UserName")?,
        last_used_date: last_used
            .optional_text("LastUsedDate")
            .as_deref()
            .and_then(parse_timestamp),
        service_name: known(last_used.optional_text("ServiceName")),
        region: known(last_used.optional_text("Region")),
    })
}

/// CreateAccessKey: a new Active key for `user_name` (the calling user when `None`). Its secret
/// is returned once, here, and never again by AWS. Not retried once it may have reached AWS, so
/// that a lost answer does not leave a second key behind.
pub async fn create_access_key(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    user_name: Option<&str>,
) -> Result<(AccessKeyMetadata, Secret), AwsError> {
    debug_assert_eq!(endpoint.service, Service::Iam);
    let action = "CreateAccessKey";
    let params: Vec<_> = user_name.map(|u| ("UserName", u)).into_iter().collect();
    let answer = client
        .call_xml(endpoint, action, &params, credentials)
        .await?;
    let key = Field::new(&answer, action).child("AccessKey")?;
    Ok((
        read_key_metadata(&key)?,
        Secret::new(key.text("SecretAccessKey")?),
    ))
}

/// UpdateAccessKey: makes `access_key_id` Active or Inactive.
pub async fn update_access_key(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    access_key_id: &str,
    status: AccessKeyStatus,
    user_name: Option<&str>,
) -> Result<(), AwsError> {
    debug_assert_eq!(endpoint.service, Service::Iam);
    let mut params = vec![("AccessKeyId", access_key_id), ("Status", status.as_str())];
    params.extend(user_name.map(|u| ("UserName", u)));
    client
        .call(endpoint, "UpdateAccessKey", &params, credentials)
        .await?;
    Ok(())
}

/// DeleteAccessKey: deletes `access_key_id` for good.
pub async fn delete_access_key(
    client: &AwsClient,
    endpoint: &Endpoint,
    credentials: &Credentials,
    access_key_id: &str,
    user_name: Option<&str>,
) -> Result<(), AwsError> {
    debug_assert_eq!(endpoint.service, Service::Iam);
    let mut params = vec![("AccessKeyId", access_key_id)];
    params.extend(user_name.map(|u| ("UserName", u)));
    client
        .call(endpoint, "DeleteAccessKey", &params, credentials)
        .await?;
    Ok(())
}

fn read_key_metadata(key: &Field<'_>) -> Result<AccessKeyMetadata, AwsError> {
    let status = key.text("Status")?;
    let status = AccessKeyStatus::parse(&status).ok_or_else(|| AwsError::MalformedAnswer {
        action: key.action().to_owned(),
        detail: format!("unknown key status {status:?}"),
    })?;
    Ok(AccessKeyMetadata {
        access_key_id: key.text("AccessKeyId")?,
        status,
        create_date: key.time("CreateDate")?,
        user_name: key.text("UserName")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::xml::Element;

    #[test]
    fn reads_key_metadata_from_a_list_member() {
        let doc = "<member><UserName>alice</UserName><AccessKeyId>AKIAEXAMPLE</AccessKeyId>\
                   <Status>Inactive</Status><CreateDate>2024-05-01T12:00:00Z</CreateDate></member>";
        let member = Element::parse(doc).unwrap();
        let key = read_key_metadata(&Field::new(&member, "ListAccessKeys")).unwrap();
        assert_eq!(key.access_key_id, "AKIAEXAMPLE");
        assert_eq!(key.status, AccessKeyStatus::Inactive);
        assert_eq!(key.user_name, "alice");
        assert_eq!(key.create_date.unix_timestamp(), 1_714_564_800);
    }

    #[test]
    fn an_unknown_status_is_a_malformed_answer() {
        let doc = "<member><UserName>a</UserName><AccessKeyId>K</AccessKeyId><Status>Odd</Status>\
                   <CreateDate>2024-05-01T12:00:00Z</CreateDate></member>";
        let member = Element::parse(doc).unwrap();
        let err = read_key_metadata(&Field::new(&member, "ListAccessKeys")).unwrap_err();
        assert!(matches!(err, AwsError::MalformedAnswer { .. }), "{err:?}");
    }
}
