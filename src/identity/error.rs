//! Why a profile's identity could not be checked: a stable short code for programs and a
//! plain-words message, with what to do next, for people.

use crate::aws::AwsError;
use crate::keychain::KeychainError;

use super::process::ProcessError;

/// Why the identity of a profile (or the credentials it needs) could not be had. No variant holds
/// a secret: AWS messages are scrubbed by the client, process output is never echoed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("there is no profile named '{profile}' in the config or credentials file")]
    NoSuchProfile { profile: String },

    #[error(
        "profile '{profile}' has no credentials: add aws_access_key_id and aws_secret_access_key \
         (keyrack set {profile} aws_access_key_id ...), a role_arn with a source_profile, or a \
         credential_process"
    )]
    NoCredentials { profile: String },

    #[error(
        "profile '{profile}' holds only settings ({}) and no credentials of its own; the AWS \
         tools use it for those settings. To sign in with it, add aws_access_key_id and \
         aws_secret_access_key, a role_arn with a source_profile, or a credential_process",
        .settings.join(", ")
    )]
    SettingsOnly {
        profile: String,
        /// Its settings' names, in file order.
        settings: Vec<String>,
    },

    #[error("profile '{profile}' has incomplete credentials: {detail}")]
    PartialCredentials { profile: String, detail: String },

    #[error("profile '{profile}' is set up wrongly: {detail}")]
    InvalidConfig { profile: String, detail: String },

    #[error(
        "profile '{profile}' names source_profile '{source_profile}', which does not exist; \
         create it or fix the name"
    )]
    SourceProfileMissing {
        profile: String,
        source_profile: String,
    },

    #[error(
        "the source_profile settings go round in a loop ({}); point one of them at a profile \
         that has keys",
        .profiles.join(" -> ")
    )]
    SourceProfileLoop { profiles: Vec<String> },

    #[error(
        "profile '{profile}' needs an MFA code (mfa_serial is set), no session of it is kept, \
         and no code was given: run `keyrack mfa login {profile}` in a terminal, enter the code \
         when the window's Check asks for it, or give --mfa-code CODE on the command line{}; \
         keyrack then uses that session until it expires",
        if *.role { format!(", or sign in once with the AWS CLI (`aws sts get-caller-identity --profile {profile}`, which asks for the code and caches the session for keyrack too)") } else { String::new() }
    )]
    NeedsMfa {
        profile: String,
        /// A role's code (the AWS CLI can sign in to it too); else a key's MFA session.
        role: bool,
    },

    #[error(
        "profile '{profile}' has temporary credentials (a session token) and an mfa_serial: STS \
         makes an MFA session only from a user's long-term key (\"Cannot call GetSessionToken \
         with session credentials\"); put the user's access key (AKIA...) in the profile, or \
         remove mfa_serial"
    )]
    SessionFromSession { profile: String },

    #[error(
        "profile '{profile}' names a security key or passkey as its MFA device ({serial}); AWS \
         accepts only codes from an authenticator app (a virtual MFA device) or a hardware token \
         for API calls and the AWS CLI, never a FIDO/U2F key: add a virtual MFA device to the \
         user in the IAM console and set mfa_serial to its ARN (arn:aws:iam::ACCOUNT:mfa/NAME)"
    )]
    MfaDeviceNotUsable { profile: String, serial: String },

    #[error(
        "profile '{profile}' asks for a session of {seconds} seconds (duration_seconds), which STS \
         refuses: {limit}; change duration_seconds"
    )]
    SessionTooLong {
        profile: String,
        seconds: u32,
        limit: &'static str,
    },

    #[error(
        "there is no [sso-session {session}] section in the config file (the AWS CLI says \"The \
         specified sso-session does not exist\"); add one with sso_start_url and sso_region, or \
         fix the name"
    )]
    NoSuchSsoSession { session: String },

    #[error("[sso-session {session}] cannot sign in: {detail}")]
    InvalidSsoSession { session: String, detail: String },

    #[error(
        "profile '{profile}' signs in through IAM Identity Center ({sign_in}), and {why}: run \
         `{login}` (it opens the browser to sign in), then check again"
    )]
    NeedsSsoLogin {
        profile: String,
        /// `sso-session 'corp'` or `start URL https://…`.
        sign_in: String,
        /// `no one has signed in yet`, `the sign-in ended at …`.
        why: String,
        /// The command that signs in.
        login: String,
    },

    #[error(
        "profile '{profile}' asks IAM Identity Center for role {role} in account {account}, which \
         is not assigned to the signed-in user ({message}); ask an administrator for the \
         assignment, or use a role that is assigned"
    )]
    SsoRoleNotAssigned {
        profile: String,
        role: String,
        account: String,
        message: String,
    },

    #[error("profile '{profile}' uses {what}, which keyrack does not support yet")]
    NotSupported { profile: String, what: String },

    #[error("the credential_process of profile '{profile}' {problem}")]
    CredentialProcess {
        profile: String,
        problem: ProcessError,
    },

    #[error("profile '{profile}': {detail}")]
    Endpoint { profile: String, detail: String },

    #[error(
        "profile '{profile}' has region '{region}' ({place}), which {refused_by} as a region \
         name: every AWS call with this profile fails before anything is sent, whatever its \
         keys. To fix it: {fix}"
    )]
    InvalidRegion {
        profile: String,
        region: String,
        /// "the AWS CLI refuses", or for `AWS_REGION` (which only the SDKs read) "the AWS SDKs
        /// refuse".
        refused_by: &'static str,
        /// Where it is set: `/home/me/.aws/config, line 3` or `the environment variable AWS_REGION`.
        place: String,
        fix: String,
    },

    #[error(
        "{url} refused the signature of profile '{profile}' (SignatureDoesNotMatch), and keyrack \
         signed it for region '{region}' from AWS_REGION, which the AWS CLI does not read: it \
         signs for '{cli_region}'. An endpoint answers a region it does not expect this way \
         too, so the secret may be fine: unset AWS_REGION or set it to '{cli_region}', then \
         check again"
    )]
    SigningRegionDiffers {
        profile: String,
        url: String,
        region: String,
        cli_region: String,
    },

    #[error("the key of profile '{profile}' is in the keychain: {error}")]
    Keychain {
        profile: String,
        error: KeychainError,
    },

    #[error("{}", aws_message(.profile, .action, .error))]
    Aws {
        /// The profile whose credentials signed the failing request.
        profile: String,
        /// What was asked: `GetCallerIdentity`, `AssumeRole arn:...`, `ListAccessKeys`.
        action: String,
        error: AwsError,
    },
}

impl IdentityError {
    /// A stable snake_case code for programs (`wrong_secret`, `unknown_access_key`,
    /// `no_credentials`, `source_profile_loop`, `unreachable`, `clock_skew`...); the code AWS
    /// answered with, when it did, is [`IdentityError::aws_code`].
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::NoSuchProfile { .. } => "no_such_profile",
            IdentityError::NoCredentials { .. } => "no_credentials",
            IdentityError::SettingsOnly { .. } => "settings_only",
            IdentityError::PartialCredentials { .. } => "partial_credentials",
            IdentityError::InvalidConfig { .. } => "invalid_config",
            IdentityError::SourceProfileMissing { .. } => "source_profile_missing",
            IdentityError::SourceProfileLoop { .. } => "source_profile_loop",
            IdentityError::NeedsMfa { .. } => "needs_mfa",
            IdentityError::SessionFromSession { .. } => "session_from_session",
            IdentityError::MfaDeviceNotUsable { .. } => "mfa_device_not_usable",
            IdentityError::SessionTooLong { .. } => "session_too_long",
            IdentityError::NeedsSsoLogin { .. } => "needs_sso_login",
            IdentityError::NoSuchSsoSession { .. } => "no_such_sso_session",
            IdentityError::InvalidSsoSession { .. } => "invalid_sso_session",
            IdentityError::SsoRoleNotAssigned { .. } => "sso_role_not_assigned",
            IdentityError::NotSupported { .. } => "not_supported",
            IdentityError::CredentialProcess { .. } => "credential_process_failed",
            IdentityError::Endpoint { .. } => "invalid_endpoint",
            IdentityError::InvalidRegion { .. } => "invalid_region",
            IdentityError::SigningRegionDiffers { .. } => "signing_region_differs",
            IdentityError::Keychain { error, .. } => error.code(),
            IdentityError::Aws { error, .. } => aws_kind(error),
        }
    }

    /// The error code AWS answered with (`SignatureDoesNotMatch`, `InvalidClientTokenId`,
    /// `ExpiredToken`, `AccessDenied`...), when AWS answered.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            IdentityError::Aws { error, .. } => aws_answer_code(error),
            _ => None,
        }
    }

    /// True for a profile that holds only settings (region, output...) and no credentials of its
    /// own. When every profile is checked (Check all, `whoami --all`) it is shown as such, not
    /// as a failure; asked for by name, it is one.
    pub fn is_settings_only(&self) -> bool {
        matches!(self, IdentityError::SettingsOnly { .. })
    }

    /// The AWS error behind this failure, when AWS (or the way to it) is what failed.
    pub fn aws_error(&self) -> Option<&AwsError> {
        match self {
            IdentityError::Aws { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// What kind of AWS failure this is, as keyrack's code.
fn aws_kind(error: &AwsError) -> &'static str {
    match error {
        AwsError::WrongSecret { .. } => "wrong_secret",
        AwsError::UnknownAccessKey { .. } => "unknown_access_key",
        AwsError::ExpiredToken { .. } => "expired_token",
        AwsError::AccessDenied { .. } => "access_denied",
        AwsError::MfaCodeRejected => "wrong_mfa_code",
        AwsError::MfaDeviceUnknown => "unknown_mfa_device",
        AwsError::SsoTokenRefused { .. } => "sso_token_refused",
        AwsError::Throttled { .. } => "throttled",
        AwsError::Service { .. } => "aws_error",
        AwsError::ClockSkew { .. } => "clock_skew",
        AwsError::WrongSigningScope { .. } => "wrong_signing_scope",
        AwsError::UnexpectedAnswer { .. } => "unexpected_answer",
        AwsError::Unreachable { .. } => "unreachable",
        AwsError::Timeout { .. } => "timeout",
        AwsError::Tls { .. } => "tls",
        AwsError::CaBundle { .. } => "ca_bundle",
        AwsError::MalformedAnswer { .. } => "malformed_answer",
        AwsError::Request { .. } => "request_failed",
    }
}

/// The code AWS answered with. STS and IAM answer a wrong secret with `SignatureDoesNotMatch`
/// and an unknown key with `InvalidClientTokenId`; the client sorts them into typed errors
/// that no longer carry the code, so it is restored here.
fn aws_answer_code(error: &AwsError) -> Option<&str> {
    match error {
        AwsError::WrongSecret { .. } => Some("SignatureDoesNotMatch"),
        AwsError::UnknownAccessKey { .. } => Some("InvalidClientTokenId"),
        AwsError::MfaCodeRejected | AwsError::MfaDeviceUnknown => Some("AccessDenied"),
        AwsError::SsoTokenRefused { .. } => Some("UnauthorizedException"),
        AwsError::ExpiredToken { code }
        | AwsError::AccessDenied { code, .. }
        | AwsError::Throttled { code, .. }
        | AwsError::Service { code, .. } => Some(code),
        _ => None,
    }
}

fn aws_message(profile: &str, action: &str, error: &AwsError) -> String {
    match error {
        AwsError::WrongSecret { access_key_id } => format!(
            "wrong secret access key: AWS knows the key {access_key_id} of profile '{profile}' but \
             the secret does not belong to it; copy the secret again from where the key was \
             created, or create a new key"
        ),
        AwsError::UnknownAccessKey { access_key_id } if access_key_id.starts_with("ASIA") => {
            format!(
                "temporary key {access_key_id} of profile '{profile}' is unknown to AWS: the \
                 session token does not match it or the session ended; get new temporary \
                 credentials"
            )
        }
        AwsError::UnknownAccessKey { access_key_id } => format!(
            "key deleted or unknown to AWS: {access_key_id} of profile '{profile}' (deleted, \
             mistyped, or from another partition such as China or GovCloud); put a working key \
             in the profile or create a new one"
        ),
        AwsError::ExpiredToken { .. } => {
            format!("the temporary credentials of profile '{profile}' have expired; get new ones")
        }
        AwsError::AccessDenied { message, .. } => format!(
            "access denied: the credentials of profile '{profile}' may not call {action} \
             ({message}); ask an administrator for the permission"
        ),
        AwsError::MfaCodeRejected | AwsError::MfaDeviceUnknown => {
            format!("profile '{profile}': {error}")
        }
        other => format!("{action} for profile '{profile}' failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(error: AwsError) -> IdentityError {
        IdentityError::Aws {
            profile: "dev".into(),
            action: "GetCallerIdentity".into(),
            error,
        }
    }

    #[test]
    fn aws_failures_get_keyrack_codes_and_keep_the_code_aws_answered() {
        let wrong = aws(AwsError::WrongSecret {
            access_key_id: "AKIAEXAMPLE".into(),
        });
        assert_eq!(wrong.code(), "wrong_secret");
        assert_eq!(wrong.aws_code(), Some("SignatureDoesNotMatch"));
        assert!(
            wrong.to_string().starts_with("wrong secret access key"),
            "{wrong}"
        );
        let unknown = aws(AwsError::UnknownAccessKey {
            access_key_id: "AKIAEXAMPLE".into(),
        });
        assert_eq!(unknown.code(), "unknown_access_key");
        assert_eq!(unknown.aws_code(), Some("InvalidClientTokenId"));
        assert!(
            unknown.to_string().contains("deleted or unknown"),
            "{unknown}"
        );
        let denied = aws(AwsError::AccessDenied {
            code: "AccessDenied".into(),
            message: "no".into(),
        });
        assert_eq!(denied.code(), "access_denied");
        assert_eq!(denied.aws_code(), Some("AccessDenied"));
        let expired = aws(AwsError::ExpiredToken {
            code: "ExpiredToken".into(),
        });
        assert_eq!(expired.code(), "expired_token");
        assert_eq!(expired.aws_code(), Some("ExpiredToken"));
    }

    #[test]
    fn network_and_clock_failures_get_keyrack_codes() {
        let down = aws(AwsError::Unreachable {
            endpoint: "http://127.0.0.1:1".into(),
            detail: "Connection refused".into(),
        });
        assert_eq!(down.code(), "unreachable");
        assert_eq!(down.aws_code(), None);
        let slow = aws(AwsError::Timeout {
            endpoint: "x".into(),
        });
        assert_eq!(slow.code(), "timeout");
        let skew = aws(AwsError::ClockSkew {
            code: "RequestTimeTooSkewed".into(),
            message: String::new(),
        });
        assert_eq!(skew.code(), "clock_skew");
        assert!(skew.to_string().contains("clock"), "{skew}");
    }

    #[test]
    fn a_loop_names_every_profile_in_it() {
        let err = IdentityError::SourceProfileLoop {
            profiles: vec!["a".into(), "b".into(), "a".into()],
        };
        assert_eq!(err.code(), "source_profile_loop");
        assert!(err.to_string().contains("a -> b -> a"), "{err}");
    }
}
