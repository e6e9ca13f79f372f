//! The AWS calls of a rotation, made at the rotated profile's endpoints for its IAM user; for a
//! key behind an MFA device, each IAM call is signed with the MFA session of the key that signs
//! it (accounts that require MFA refuse IAM to a key alone).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::aws::{
    iam, sts, AccessKeyLastUsed, AccessKeyMetadata, AccessKeyStatus, AwsClient, AwsError,
    CallerIdentity, ClientSettings, Credentials, Endpoint, RetryPolicy, Service,
};
use crate::files::{FileKind, Reading};
use crate::identity::{
    credential_source, CredentialSource, IdentityError, MfaSessionSettings, Session, SessionOptions,
};
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
    /// The MFA device the rotated key is behind, and how to sign in with it.
    mfa: Option<Arc<MfaSigning>>,
}

/// What signing IAM calls with MFA sessions takes: the profile's reading and settings to start a
/// sign-in with, and the sessions had so far, by the key they were had with.
#[derive(Debug)]
struct MfaSigning {
    profile: String,
    device: MfaSessionSettings,
    reading: Arc<Reading>,
    settings: RotationSettings,
    sessions: Mutex<HashMap<String, Credentials>>,
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
        let device = match credential_source(&reading.profiles, profile) {
            Ok(CredentialSource::MfaSession { mfa, .. }) => Some(mfa),
            _ => None,
        };
        Ok(AwsAccess {
            client: normal.client(profile)?,
            quick: quick.client(profile)?,
            sts: normal.endpoint(profile, Service::Sts)?,
            iam: normal.endpoint(profile, Service::Iam)?,
            mfa: device.map(|device| {
                Arc::new(MfaSigning {
                    profile: profile.to_owned(),
                    device,
                    reading: reading.clone(),
                    settings: settings.clone(),
                    sessions: Mutex::default(),
                })
            }),
        })
    }

    /// The MFA device the rotated key is behind, if it is.
    pub(super) fn mfa_device(&self) -> Option<&str> {
        self.mfa.as_deref().map(|m| m.device.serial.as_str())
    }

    /// What signs an IAM call for `key`: the key itself, or behind an MFA device that key's MFA
    /// session (kept, or had now with a code; each key's once per rotation). A sign-in that
    /// fails is said as a request that could not be prepared: nothing reached IAM.
    async fn signer(&self, key: &Credentials) -> Result<Credentials, AwsError> {
        let Some(mfa) = &self.mfa else {
            return Ok(key.clone());
        };
        if let Some(session) = mfa
            .sessions
            .lock()
            .expect("sessions lock")
            .get(&key.access_key_id)
        {
            return Ok(session.clone());
        }
        // A new sign-in for each attempt: a failed one (a key IAM does not know yet) is not
        // remembered as this key's answer.
        let session = Session::new(
            mfa.reading.clone(),
            mfa.settings.env.clone(),
            SessionOptions {
                client: mfa.settings.client.clone(),
                keychain: mfa.settings.keychain.clone(),
                mfa_code: mfa.settings.mfa.code.clone(),
                mfa_prompt: mfa.settings.mfa.prompt.clone(),
                state_dir: Some(mfa.settings.state_dir.clone()),
                ..SessionOptions::default()
            },
        )
        .naming(mfa.settings.paths.clone());
        let source = CredentialSource::MfaSession {
            profile: mfa.profile.clone(),
            mfa: mfa.device.clone(),
            keys: Box::new(CredentialSource::StaticKeys {
                profile: mfa.profile.clone(),
                file: FileKind::Credentials,
                credentials: key.clone(),
            }),
        };
        let (signed_in, _) = session
            .serve_at(&source, &self.client, &self.sts)
            .await
            .map_err(|error| match error {
                IdentityError::Aws { error, .. } => error,
                other => AwsError::Request {
                    detail: other.to_string(),
                },
            })?;
        mfa.sessions
            .lock()
            .expect("sessions lock")
            .insert(key.access_key_id.clone(), signed_in.clone());
        Ok(signed_in)
    }

    pub(super) async fn who(&self, key: &Credentials) -> Result<CallerIdentity, AwsError> {
        sts::get_caller_identity(&self.client, &self.sts, key).await
    }

    pub(super) async fn list(
        &self,
        key: &Credentials,
        user: &str,
    ) -> Result<Vec<AccessKeyMetadata>, AwsError> {
        let signer = self.signer(key).await?;
        iam::list_access_keys(&self.client, &self.iam, &signer, Some(user)).await
    }

    /// ListAccessKeys, tried once with short timeouts.
    pub(super) async fn list_quickly(
        &self,
        key: &Credentials,
        user: &str,
    ) -> Result<Vec<AccessKeyMetadata>, AwsError> {
        let signer = self.signer(key).await?;
        iam::list_access_keys(&self.quick, &self.iam, &signer, Some(user)).await
    }

    /// GetAccessKeyLastUsed of each of `keys`, all at once.
    pub(super) async fn last_uses(
        &self,
        signer: &Credentials,
        keys: &[AccessKeyMetadata],
    ) -> Vec<Result<AccessKeyLastUsed, AwsError>> {
        let signer = match self.signer(signer).await {
            Ok(signer) => signer,
            Err(error) => return keys.iter().map(|_| Err(error.clone())).collect(),
        };
        super::user_keys::last_uses(&self.client, &self.iam, &signer, keys).await
    }

    /// GetAccessKeyLastUsed of `key_id`: it names the key's user (in the signer's account).
    pub(super) async fn last_use(
        &self,
        signer: &Credentials,
        key_id: &str,
    ) -> Result<AccessKeyLastUsed, AwsError> {
        let signer = self.signer(signer).await?;
        iam::get_access_key_last_used(&self.client, &self.iam, &signer, key_id).await
    }

    pub(super) async fn create(
        &self,
        key: &Credentials,
        user: &str,
    ) -> Result<Credentials, AwsError> {
        let (created, secret): (AccessKeyMetadata, Secret) = iam::create_access_key(
            &self.client,
            &self.iam,
            &self.signer(key).await?,
            Some(user),
        )
        .await?;
        Ok(Credentials::new(created.access_key_id, secret, None))
    }

    pub(super) async fn deactivate(
        &self,
        key: &Credentials,
        key_id: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        let inactive = AccessKeyStatus::Inactive;
        let signer = self.signer(key).await?;
        iam::update_access_key(
            &self.client,
            &self.iam,
            &signer,
            key_id,
            inactive,
            Some(user),
        )
        .await
    }

    pub(super) async fn reactivate(
        &self,
        key: &Credentials,
        key_id: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        let active = AccessKeyStatus::Active;
        let signer = self.signer(key).await?;
        iam::update_access_key(&self.client, &self.iam, &signer, key_id, active, Some(user)).await
    }

    pub(super) async fn delete(
        &self,
        key: &Credentials,
        key_id: &str,
        user: &str,
    ) -> Result<(), AwsError> {
        let signer = self.signer(key).await?;
        iam::delete_access_key(&self.client, &self.iam, &signer, key_id, Some(user)).await
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
