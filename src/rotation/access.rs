//! The AWS calls of a rotation, made at the rotated profile's endpoints for its IAM user.

use std::sync::Arc;
use std::time::Duration;

use crate::aws::{
    iam, sts, AccessKeyLastUsed, AccessKeyMetadata, AccessKeyStatus, AwsClient, AwsError,
    CallerIdentity, ClientSettings, Credentials, Endpoint, RetryPolicy, Service,
};
use crate::files::Reading;
use crate::identity::{IdentityError, Session, SessionOptions};
use crate::secret::Secret;

use super::RotationSettings;

/// A client and the STS and IAM endpoints of the rotated profile.
#[derive(Clone, Debug)]
pub(super) struct AwsAccess {
    client: AwsClient,
    /// Tries once, gives up fast: for describing the keys after a failure.
    quick: AwsClient,
    sts: Endpoint,
    iam: Endpoint,
}

impl AwsAccess {
    pub(super) fn for_profile(
        reading: Arc<Reading>,
        settings: &RotationSettings,
        profile: &str,
    ) -> Result<AwsAccess, IdentityError> {
        let session = |client: ClientSettings| {
            Session::new(
                reading.clone(),
                settings.env.clone(),
                SessionOptions {
                    client,
                    ..SessionOptions::default()
                },
            )
            .naming(settings.paths.clone())
        };
        let normal = session(settings.client.clone());
        let quick = session(ClientSettings {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..settings.client.clone()
        });
        Ok(AwsAccess {
            client: normal.client(profile)?,
            quick: quick.client(profile)?,
            sts: normal.endpoint(profile, Service::Sts)?,
            iam: normal.endpoint(profile, Service::Iam)?,
        })
    }

    pub(super) async fn who(&self, key: &Credentials) -> Result<CallerIdentity, AwsError> {
        sts::get_caller_identity(&self.client, &self.sts, key).await
    }

    pub(super) async fn list(
        &self,
        key: &Credentials,
        user: &str,
    ) -> Result<Vec<AccessKeyMetadata>, AwsError> {
        iam::list_access_keys(&self.client, &self.iam, key, Some(user)).await
    }

    /// ListAccessKeys, tried once with short timeouts.
    pub(super) async fn list_quickly(
        &self,
        key: &Credentials,
        user: &str,
    ) -> Result<Vec<AccessKeyMetadata>, AwsError> {
        iam::list_access_keys(&self.quick, &self.iam, key, Some(user)).await
    }

    /// GetAccessKeyLastUsed of each of `keys`, all at once.
    pub(super) async fn last_uses(
        &self,
        signer: &Credentials,
        keys: &[AccessKeyMetadata],
    ) -> Vec<Result<AccessKeyLastUsed, AwsError>> {
        super::user_keys::last_uses(&self.client, &self.iam, signer, keys).await
    }

    pub(super) async fn create(
        &self,
        key: &Credentials,
        user: &str,
    ) -> Result<Credentials, AwsError> {
        let (created, secret): (AccessKeyMetadata, Secret) =
            iam::create_access_key(&self.client, &self.iam, key, Some(user)).await?;
        Ok(Credentials::new(created.access_key_id, secret, None))
    }

    pub(super) async fn deactivate(
        &self,
        key: &Credentials,
        key_id: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        let inactive = AccessKeyStatus::Inactive;
        iam::update_access_key(&self.client, &self.iam, key, key_id, inactive, Some(user)).await
    }

    pub(super) async fn reactivate(
        &self,
        key: &Credentials,
        key_id: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        let active = AccessKeyStatus::Active;
        iam::update_access_key(&self.client, &self.iam, key, key_id, active, Some(user)).await
    }

    pub(super) async fn delete(
        &self,
        key: &Credentials,
        key_id: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        iam::delete_access_key(&self.client, &self.iam, key, key_id, Some(user)).await
    }
}

/// IAM's answer for a key (or user) that does not exist.
pub(super) fn is_no_such_entity(error: &AwsError) -> bool {
    matches!(error, AwsError::Service { code, .. } if code == "NoSuchEntity")
}

/// Whether a failed CreateAccessKey may still have created the key: the request may have
/// reached AWS and its answer was lost or unreadable.
pub(super) fn may_have_created(error: &AwsError) -> bool {
    match error {
        AwsError::Unreachable { .. }
        | AwsError::Timeout { .. }
        | AwsError::MalformedAnswer { .. }
        | AwsError::UnexpectedAnswer { .. } => true,
        AwsError::Service { status, .. } => *status >= 500,
        _ => false,
    }
}
