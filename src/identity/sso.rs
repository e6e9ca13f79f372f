//! Profiles that sign in through IAM Identity Center (SSO): their settings resolved as botocore
//! resolves them (an `[sso-session]` section, or the legacy `sso_start_url` on the profile), and
//! the sign-in token the AWS CLI keeps in `~/.aws/sso/cache/<SHA-1 of the session name, or of the
//! start URL>.json`, read as the AWS tools read it and refreshed before it ends.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;

use super::IdentityError;
use crate::files::Reading;
use crate::secret::Secret;

/// What signing in as a profile's SSO role takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSettings {
    pub start_url: String,
    /// The region Identity Center runs in (`sso_region`), whose portal is asked.
    pub region: String,
    pub account_id: String,
    pub role_name: String,
    /// The `[sso-session NAME]` the profile names; `None` for a legacy profile.
    pub session: Option<String>,
}

impl SsoSettings {
    /// The sign-in this profile uses, in words: `sso-session 'corp'` or `start URL https://…`.
    pub fn sign_in(&self) -> String {
        match &self.session {
            Some(name) => format!("sso-session '{name}'"),
            None => format!("start URL {}", self.start_url),
        }
    }

    /// The AWS CLI command that signs in for it.
    pub fn login_command(&self, profile: &str) -> String {
        match &self.session {
            Some(name) => format!("aws sso login --sso-session {name}"),
            None => format!("aws sso login --profile {profile}"),
        }
    }
}

/// `profile`'s SSO settings, merged from its `[sso-session]` section as botocore merges them:
/// the section must exist, a key set in both must agree, and every key the sign-in needs must be
/// set in one of them.
pub fn sso_settings(reading: &Reading, profile: &str) -> Result<SsoSettings, IdentityError> {
    let invalid = |detail: String| IdentityError::InvalidConfig {
        profile: profile.to_owned(),
        detail,
    };
    let settings = reading
        .profiles
        .get(profile)
        .ok_or_else(|| IdentityError::NoSuchProfile {
            profile: profile.to_owned(),
        })?;
    let text = |settings: &crate::files::Settings, key: &str| {
        settings
            .get(key)
            .and_then(|s| s.value.as_text())
            .map(str::to_owned)
    };
    let session = text(settings, "sso_session");
    let mut merged: Vec<(String, String)> = settings
        .iter()
        .filter_map(|(k, s)| Some((k.clone(), s.value.as_text()?.to_owned())))
        .collect();
    if let Some(name) = &session {
        let section = reading.sso_sessions.get(name).ok_or_else(|| {
            invalid(format!(
                "it names sso_session = {name}, but there is no [sso-session {name}] section (the \
                 AWS CLI says \"The specified sso-session does not exist\"); add the section or fix \
                 the name"
            ))
        })?;
        for (key, setting) in section.iter() {
            let Some(value) = setting.value.as_text() else {
                continue;
            };
            match merged.iter().find(|(k, _)| k == key) {
                Some((_, own)) if own != value => {
                    return Err(invalid(format!(
                        "its {key} ({own}) differs from the one of [sso-session {name}] ({value}), \
                         which botocore refuses (\"The value for {key} is inconsistent between \
                         profile and sso-session\"); remove {key} from the profile or make them \
                         the same"
                    )))
                }
                Some(_) => {}
                None => merged.push((key.clone(), value.to_owned())),
            }
        }
    }
    let get = |key: &str| {
        merged
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let needed = [
        "sso_start_url",
        "sso_region",
        "sso_role_name",
        "sso_account_id",
    ];
    let missing: Vec<&str> = needed.into_iter().filter(|k| get(k).is_none()).collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "it signs in through IAM Identity Center but has no {} (set in the profile{}); the AWS \
             CLI refuses it as \"missing required configuration\"",
            missing.join(", "),
            if session.is_some() {
                " or its sso-session section"
            } else {
                ", or better in an [sso-session] section it names"
            }
        )));
    }
    let value = |key: &str| get(key).expect("checked above");
    Ok(SsoSettings {
        start_url: value("sso_start_url"),
        region: value("sso_region"),
        account_id: value("sso_account_id"),
        role_name: value("sso_role_name"),
        session,
    })
}

/// The AWS CLI's sign-in tokens: `~/.aws/sso/cache` (the home folder as botocore finds it).
pub fn token_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    super::cli_cache::aws_dir(env).map(|aws| aws.join("sso").join("cache"))
}

/// The file the AWS CLI keeps `settings`' sign-in token in, under `dir`.
pub fn token_file(dir: &Path, settings: &SsoSettings) -> PathBuf {
    let name = settings.session.as_deref().unwrap_or(&settings.start_url);
    let digest = Sha1::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.json"))
}

/// A sign-in token: the access token the portal takes, when it ends, and what refreshing it
/// takes (sso-session sign-ins only).
pub struct SsoToken {
    pub access_token: Secret,
    pub expires_at: OffsetDateTime,
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub refresh: Option<Refresh>,
}

/// The refresh token of a sign-in and the client registration it was issued to.
pub struct Refresh {
    pub refresh_token: Secret,
    pub client_id: String,
    pub client_secret: Secret,
    pub registration_expires_at: OffsetDateTime,
}

/// How long before its end a sign-in is refreshed (botocore's 15 minutes).
pub const REFRESH_WINDOW: time::Duration = time::Duration::minutes(15);

/// The sign-in token kept for `settings` in `dir`, if there is one that can be read (ended or
/// not: see `expires_at`).
pub fn cached_token(dir: &Path, settings: &SsoSettings) -> Option<SsoToken> {
    // No `Debug`: it holds the token.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Cached {
        access_token: Secret,
        expires_at: String,
        start_url: Option<String>,
        region: Option<String>,
        refresh_token: Option<Secret>,
        client_id: Option<String>,
        client_secret: Option<Secret>,
        registration_expires_at: Option<String>,
    }
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(token_file(dir, settings)).ok()?);
    let cached: Cached = serde_json::from_str(&text).ok()?;
    let expires_at = parse_time(&cached.expires_at)?;
    let refresh = match (
        cached.refresh_token,
        cached.client_id,
        cached.client_secret,
        cached
            .registration_expires_at
            .as_deref()
            .and_then(parse_time),
    ) {
        (Some(refresh_token), Some(client_id), Some(client_secret), Some(registered)) => {
            Some(Refresh {
                refresh_token,
                client_id,
                client_secret,
                registration_expires_at: registered,
            })
        }
        _ => None,
    };
    Some(SsoToken {
        access_token: cached.access_token,
        expires_at,
        start_url: cached.start_url,
        region: cached.region,
        refresh,
    })
}

/// Keep `token` for `settings` in `dir` as the AWS CLI keeps a refreshed sign-in (the same
/// fields, its time format): 0600, written whole or not at all.
pub fn store_token(dir: &Path, settings: &SsoSettings, token: &SsoToken) -> std::io::Result<()> {
    let format = time::format_description::parse_borrowed::<1>(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z",
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    let time = |at: OffsetDateTime| {
        at.to_offset(time::UtcOffset::UTC)
            .format(&format)
            .map_err(|e| std::io::Error::other(e.to_string()))
    };
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Kept<'a> {
        start_url: &'a str,
        region: &'a str,
        access_token: &'a str,
        expires_at: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_secret: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        registration_expires_at: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        refresh_token: Option<&'a str>,
    }
    let refresh = token.refresh.as_ref();
    let kept = Kept {
        start_url: token.start_url.as_deref().unwrap_or(&settings.start_url),
        region: token.region.as_deref().unwrap_or(&settings.region),
        access_token: token.access_token.expose(),
        expires_at: time(token.expires_at)?,
        client_id: refresh.map(|r| r.client_id.as_str()),
        client_secret: refresh.map(|r| r.client_secret.expose()),
        registration_expires_at: refresh
            .map(|r| time(r.registration_expires_at))
            .transpose()?,
        refresh_token: refresh.map(|r| r.refresh_token.expose()),
    };
    let body = zeroize::Zeroizing::new(
        serde_json::to_vec(&kept).map_err(|e| std::io::Error::other(e.to_string()))?,
    );
    let file = token_file(dir, settings);
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("token.json")
        .to_owned();
    crate::files::private::create_dir_all(dir)?;
    crate::files::private::write_atomically(&file, &dir.join(format!(".{name}.keyrack.tmp")), &body)
}

/// `2026-01-01T12:00:00Z` (the AWS CLI's `%Y-%m-%dT%H:%M:%SZ`) or any RFC 3339 time.
fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()
}

impl super::Session {
    /// `token`, refreshed first when it ends within [`REFRESH_WINDOW`] and can be (an
    /// sso-session sign-in with a refresh token and a registration that has not ended): one
    /// keyrack at a time per session refreshes (a lock), the others read what it kept. The new
    /// token is kept as the AWS CLI keeps it, with the old refresh token when the answer has
    /// none. A refresh that fails leaves the token as it was.
    async fn fresh_token(
        &self,
        sso: &SsoSettings,
        token: SsoToken,
        now: OffsetDateTime,
    ) -> SsoToken {
        let refreshable = |t: &SsoToken| {
            t.expires_at - now <= REFRESH_WINDOW
                && t.refresh
                    .as_ref()
                    .is_some_and(|r| r.registration_expires_at > now)
        };
        let (Some(session), Some(dir)) = (&sso.session, self.inner.options.sso_cache.clone())
        else {
            return token;
        };
        if !refreshable(&token) {
            return token;
        }
        let digest = Sha1::digest(session.as_bytes());
        let lock_name = format!(
            "sso-{}",
            digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let _refreshing = self.inner.options.state_dir.clone().and_then(|state| {
            crate::files::lock::lock_named(
                &state,
                &lock_name,
                "keyrack refreshing an IAM Identity Center sign-in",
                std::time::Duration::from_secs(60),
            )
            .ok()
            .flatten()
        });
        // Another keyrack may have refreshed it meanwhile.
        let token = match cached_token(&dir, sso) {
            Some(latest) if !refreshable(&latest) => return latest,
            Some(latest) => latest,
            None => token,
        };
        let Some(refresh) = &token.refresh else {
            return token;
        };
        let endpoint = crate::aws::ProfileEndpointSettings {
            region: Some(sso.region.clone()),
            ..crate::aws::ProfileEndpointSettings::default()
        };
        let Ok(oidc) =
            crate::aws::resolve_endpoint(crate::aws::Service::SsoOidc, &endpoint, &self.inner.env)
        else {
            return token;
        };
        let Ok(client) = crate::aws::AwsClient::new(self.inner.options.client.clone()) else {
            return token;
        };
        let answer = crate::aws::sso::refresh_token(
            &client,
            &oidc,
            (&refresh.client_id, &refresh.client_secret),
            &refresh.refresh_token,
        )
        .await;
        let Ok(answer) = answer else {
            return token;
        };
        let refreshed = SsoToken {
            access_token: answer.access_token,
            expires_at: OffsetDateTime::now_utc()
                + time::Duration::seconds(answer.expires_in_seconds),
            start_url: token.start_url.clone(),
            region: token.region.clone(),
            refresh: Some(Refresh {
                // botocore drops the old refresh token when the answer has none; it still works.
                refresh_token: answer
                    .refresh_token
                    .unwrap_or_else(|| refresh.refresh_token.clone()),
                client_id: refresh.client_id.clone(),
                client_secret: refresh.client_secret.clone(),
                registration_expires_at: refresh.registration_expires_at,
            }),
        };
        // Not keeping it only means refreshing again next time.
        let _ = store_token(&dir, sso, &refreshed);
        refreshed
    }

    /// The credentials of SSO profile `profile`: the ones the AWS CLI (or keyrack) cached for its
    /// role while they last, else GetRoleCredentials with the sign-in token kept for its
    /// sso-session (cached then where the AWS CLI caches its own).
    pub(super) async fn sso_role(
        &self,
        profile: &str,
    ) -> Result<crate::aws::Credentials, IdentityError> {
        let sso = sso_settings(&self.inner.reading, profile)?;
        let key = super::cli_cache::sso_cache_key(
            &sso.account_id,
            &sso.role_name,
            sso.session.as_deref().ok_or(sso.start_url.as_str()),
        );
        let now = OffsetDateTime::now_utc();
        let cache = self.inner.options.cli_cache.as_deref();
        if let Some((credentials, expires)) =
            cache.and_then(|dir| super::cli_cache::cached_by_key(dir, &key, now))
        {
            self.record_expiry(profile, expires);
            return Ok(credentials);
        }
        let needs_login = |why: String| IdentityError::NeedsSsoLogin {
            profile: profile.to_owned(),
            sign_in: sso.sign_in(),
            why,
            login: sso.login_command(profile),
        };
        let token = self
            .inner
            .options
            .sso_cache
            .as_deref()
            .and_then(|dir| cached_token(dir, &sso))
            .ok_or_else(|| needs_login("no sign-in is kept for it".into()))?;
        let token = self.fresh_token(&sso, token, now).await;
        if token.expires_at <= now {
            let ended = token
                .expires_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            return Err(needs_login(format!("its sign-in ended at {ended}")));
        }
        let settings = self.settings(profile)?;
        let mut endpoint = super::endpoint_settings(&self.inner.reading, settings);
        endpoint.region = Some(sso.region.clone());
        let portal =
            crate::aws::resolve_endpoint(crate::aws::Service::Sso, &endpoint, &self.inner.env)
                .map_err(|e| IdentityError::Endpoint {
                    profile: profile.to_owned(),
                    detail: e.to_string(),
                })?;
        let client = self.client(profile)?;
        let issued = crate::aws::sso::get_role_credentials(
            &client,
            &portal,
            &token.access_token,
            &sso.account_id,
            &sso.role_name,
        )
        .await
        .map_err(|error| match error {
            crate::aws::AwsError::SsoTokenRefused { .. } => needs_login(
                "IAM Identity Center no longer takes its sign-in (it expired or was signed out)"
                    .into(),
            ),
            crate::aws::AwsError::AccessDenied { message, .. } => {
                IdentityError::SsoRoleNotAssigned {
                    profile: profile.to_owned(),
                    role: sso.role_name.clone(),
                    account: sso.account_id.clone(),
                    message,
                }
            }
            error => IdentityError::Aws {
                profile: profile.to_owned(),
                action: format!("GetRoleCredentials {} in {}", sso.role_name, sso.account_id),
                error,
            },
        })?;
        // Not keeping them only means asking the portal again.
        if let Some(dir) = cache {
            let _ = super::cli_cache::store_sso(
                dir,
                &key,
                &issued.credentials,
                issued.expiration,
                &sso.account_id,
            );
        }
        self.record_expiry(profile, issued.expiration);
        Ok(issued.credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{AwsFiles, Dialect};

    fn settings_of(config: &str) -> Result<SsoSettings, String> {
        let files = AwsFiles::from_bytes(config.as_bytes(), b"");
        sso_settings(&files.read(Dialect::Cli), "dev").map_err(|e| e.to_string())
    }

    const SESSION: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n";

    #[test]
    fn a_profile_takes_its_sign_in_from_its_sso_session_as_botocore_merges_them() {
        let config = format!(
            "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n{SESSION}"
        );
        let sso = settings_of(&config).unwrap();
        assert_eq!(sso.start_url, "https://corp.awsapps.com/start");
        assert_eq!(sso.region, "eu-west-1");
        assert_eq!(sso.session.as_deref(), Some("corp"));
        assert_eq!(sso.login_command("dev"), "aws sso login --sso-session corp");
        // The token file is named after the session, as the AWS CLI names it.
        let file = token_file(Path::new("/c"), &sso);
        let sha1_of_corp = "ee0bfd2552fbd840c02cc48b6e823320543c450f";
        assert_eq!(file, Path::new("/c").join(format!("{sha1_of_corp}.json")));
    }

    #[test]
    fn what_botocore_refuses_about_sso_settings_is_said_with_the_fix() {
        let missing = settings_of(
            "[profile dev]\nsso_session = gone\nsso_role_name = R\nsso_account_id = 1\n",
        );
        assert!(missing
            .unwrap_err()
            .contains("no [sso-session gone] section"));
        let clash = format!(
            "[profile dev]\nsso_session = corp\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n{SESSION}"
        );
        let said = settings_of(&clash).unwrap_err();
        assert!(
            said.contains("sso_region (us-east-1) differs") && said.contains("eu-west-1"),
            "{said}"
        );
        let legacy = settings_of("[profile dev]\nsso_start_url = https://x.awsapps.com/start\nsso_role_name = R\nsso_account_id = 1\n");
        assert!(legacy.unwrap_err().contains("no sso_region"));
    }
}
