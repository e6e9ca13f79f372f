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

/// A sign-in to IAM Identity Center: an `[sso-session]`'s, or a legacy profile's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSignIn {
    pub start_url: String,
    /// The region Identity Center runs in (`sso_region`), whose portal and OIDC are asked.
    pub region: String,
    /// The `[sso-session NAME]`; `None` for a legacy profile's sign-in.
    pub session: Option<String>,
    /// `sso_registration_scopes` of the session (comma-separated in the file), trimmed.
    pub scopes: Vec<String>,
}

impl SsoSignIn {
    /// The sign-in in words: `sso-session 'corp'` or `start URL https://…`.
    pub fn describe(&self) -> String {
        match &self.session {
            Some(name) => format!("sso-session '{name}'"),
            None => format!("start URL {}", self.start_url),
        }
    }

    /// The keyrack command that signs in for `profile` (one of the profiles using it).
    pub fn login_command(&self, profile: &str) -> String {
        match &self.session {
            Some(name) => format!("keyrack sso login {name}"),
            None => format!("keyrack sso login --profile {profile}"),
        }
    }

    /// The lock one keyrack at a time holds to sign in to this sign-in (`Sign in` can take
    /// minutes while the person approves).
    pub fn sign_in_lock(&self) -> String {
        format!("sso-{}", self.lock_digest())
    }

    /// The lock one keyrack at a time holds to refresh (or sign out of) this sign-in: seconds.
    pub fn refresh_lock(&self) -> String {
        refresh_lock_of(&self.lock_digest())
    }

    /// The first 16 hex digits of the token file's name.
    fn lock_digest(&self) -> String {
        let digest = Sha1::digest(self.cache_name().as_bytes());
        crate::hex::hex(&digest[..8])
    }

    /// What the AWS CLI names the token file after: the session's name, else the start URL.
    fn cache_name(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }
}

/// The refresh lock of the sign-in whose token file name starts with `digest` (16 hex digits).
pub(crate) fn refresh_lock_of(digest: &str) -> String {
    format!("sso-refresh-{digest}")
}

/// What signing in as a profile's SSO role takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSettings {
    pub sign_in: SsoSignIn,
    pub account_id: String,
    pub role_name: String,
}

/// `url`, if it can be an IAM Identity Center start URL (the AWS access portal's, as the
/// console's Settings page shows it); else what is wrong with it, in words.
pub fn check_start_url(url: &str) -> Result<(), String> {
    let example = "they look like https://NAME.awsapps.com/start; copy it from IAM Identity \
                   Center's Settings page (AWS access portal URL)";
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(format!(
            "the start URL {url} is not an https:// address, and a sign-in is never sent over \
             anything else; {example}"
        ));
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("the start URL {url} names no host; {example}"));
    }
    // The AWS CLI's list of the hosts AWS owns (awscli/customizations/sso/resolve.py).
    let owned_suffixes = [
        ".app.aws",
        ".portal.amazonaws.com",
        ".portal.amazonaws.com.cn",
        ".app.amazonwebservices.com.cn",
        ".portal.amazonaws.eu",
        ".api.amazonwebservices.eu",
        ".awsapps.com",
        ".awsapps.cn",
    ];
    let owned_hosts = [
        "identitycenter.amazonaws.com",
        "identitycenter.amazonaws.com.cn",
        "identitycenter.amazonaws.eu",
        "identitycenter.us-gov.amazonaws.com",
    ];
    let owned = owned_hosts.contains(&host)
        || owned_suffixes
            .iter()
            .any(|suffix| host.ends_with(suffix) && host.len() > suffix.len());
    if !owned {
        return Err(format!(
            "the start URL {url} is not an IAM Identity Center start URL ({host} is not an AWS \
             access portal; a company's own address that forwards to one is not followed); \
             {example}"
        ));
    }
    Ok(())
}

/// The sign-in of `[sso-session name]`.
pub fn session_sign_in(reading: &Reading, name: &str) -> Result<SsoSignIn, IdentityError> {
    let section =
        reading
            .sso_sessions
            .get(name)
            .ok_or_else(|| IdentityError::NoSuchSsoSession {
                session: name.to_owned(),
            })?;
    let get = |key: &str| {
        section
            .get(key)
            .and_then(|s| s.value.as_text())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let missing: Vec<&str> = ["sso_start_url", "sso_region"]
        .into_iter()
        .filter(|k| get(k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(IdentityError::InvalidSsoSession {
            session: name.to_owned(),
            detail: format!(
                "it has no {}; the AWS CLI refuses it as \"missing required configuration\"",
                missing.join(" and ")
            ),
        });
    }
    Ok(SsoSignIn {
        start_url: get("sso_start_url").expect("checked above"),
        region: get("sso_region").expect("checked above"),
        session: Some(name.to_owned()),
        scopes: registration_scopes(get("sso_registration_scopes").as_deref()),
    })
}

/// `sso_registration_scopes` as the AWS CLI splits it: by commas, trimmed, empty ones dropped.
fn registration_scopes(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The sign-in `profile` uses: its sso-session's, or (a legacy profile) its own `sso_start_url`
/// and `sso_region`; checked as [`sso_settings`] checks them.
pub fn profile_sign_in(reading: &Reading, profile: &str) -> Result<SsoSignIn, IdentityError> {
    let (merged, session) = merged_settings(reading, profile)?;
    if let Some(name) = session {
        return session_sign_in(reading, &name);
    }
    let get = |key: &str| {
        merged
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    match (get("sso_start_url"), get("sso_region")) {
        (Some(start_url), Some(region)) => Ok(SsoSignIn {
            start_url,
            region,
            session: None,
            scopes: Vec::new(),
        }),
        (start, _) => Err(IdentityError::InvalidConfig {
            profile: profile.to_owned(),
            detail: format!(
                "it does not sign in through IAM Identity Center: it has no {} (and no \
                 sso_session)",
                if start.is_none() {
                    "sso_start_url"
                } else {
                    "sso_region"
                }
            ),
        }),
    }
}

/// `profile`'s SSO settings, merged from its `[sso-session]` section as botocore merges them:
/// the section must exist, a key set in both must agree, and every key the sign-in needs must be
/// set in one of them.
pub fn sso_settings(reading: &Reading, profile: &str) -> Result<SsoSettings, IdentityError> {
    let (merged, session) = merged_settings(reading, profile)?;
    let get = |key: &str| {
        merged
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let needed = [
        "sso_start_url",
        "sso_region",
        "sso_role_name",
        "sso_account_id",
    ];
    let missing: Vec<&str> = needed.into_iter().filter(|k| get(k).is_none()).collect();
    if !missing.is_empty() {
        return Err(IdentityError::InvalidConfig {
            profile: profile.to_owned(),
            detail: format!(
                "it signs in through IAM Identity Center but has no {} (set in the profile{}); \
                 the AWS CLI refuses it as \"missing required configuration\"",
                missing.join(", "),
                if session.is_some() {
                    " or its sso-session section"
                } else {
                    ", or better in an [sso-session] section it names"
                }
            ),
        });
    }
    let value = |key: &str| get(key).expect("checked above");
    Ok(SsoSettings {
        sign_in: SsoSignIn {
            start_url: value("sso_start_url"),
            region: value("sso_region"),
            scopes: registration_scopes(get("sso_registration_scopes").as_deref()),
            session,
        },
        account_id: value("sso_account_id"),
        role_name: value("sso_role_name"),
    })
}

/// A profile's settings with its sso-session's merged in (key, value), and the session's name.
type Merged = (Vec<(String, String)>, Option<String>);

/// `profile`'s settings with its sso-session's merged in as botocore merges them (trimmed, empty
/// ones dropped), and the session's name; a key set in both must agree.
fn merged_settings(reading: &Reading, profile: &str) -> Result<Merged, IdentityError> {
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
    let merged = merged
        .into_iter()
        .map(|(k, v)| (k, v.trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    Ok((merged, session))
}

/// The AWS CLI's sign-in tokens: `~/.aws/sso/cache` (the home folder as botocore finds it).
pub fn token_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    super::cli_cache::aws_dir(env).map(|aws| aws.join("sso").join("cache"))
}

/// The file the AWS CLI keeps `settings`' sign-in token in, under `dir`.
pub fn token_file(dir: &Path, sign_in: &SsoSignIn) -> PathBuf {
    let digest = Sha1::digest(sign_in.cache_name().as_bytes());
    let hex = crate::hex::hex(&digest);
    dir.join(format!("{hex}.json"))
}

/// A sign-in token: the access token the portal takes, when it ends, the client registration it
/// was issued to and (sso-session sign-ins) the refresh token that renews it.
pub struct SsoToken {
    pub access_token: Secret,
    pub expires_at: OffsetDateTime,
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub client: Option<ClientRegistration>,
    pub refresh_token: Option<Secret>,
}

impl SsoToken {
    /// Whether it ends within [`REFRESH_WINDOW`] and can be refreshed then: it has a refresh
    /// token, and the registration it was issued to has not ended.
    pub fn wants_refresh(&self, now: OffsetDateTime) -> bool {
        self.expires_at - now <= REFRESH_WINDOW
            && self.refresh_token.is_some()
            && self.client.as_ref().is_some_and(|c| c.expires_at > now)
    }

    /// Whether it still works for longer than [`REFRESH_WINDOW`].
    pub fn lasts(&self, now: OffsetDateTime) -> bool {
        self.expires_at - now > REFRESH_WINDOW
    }
}

/// A client registration with IAM Identity Center's OIDC service (the AWS CLI keeps one per start
/// URL, region, scopes and session in `~/.aws/sso/cache`).
#[derive(Clone)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires_at: OffsetDateTime,
}

/// How long before its end a sign-in is refreshed (botocore's 15 minutes).
pub const REFRESH_WINDOW: time::Duration = time::Duration::minutes(15);

/// The sign-in token kept for `sign_in` in `dir`, if there is one that can be read (ended or
/// not: see `expires_at`).
pub fn cached_token(dir: &Path, sign_in: &SsoSignIn) -> Option<SsoToken> {
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
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(token_file(dir, sign_in)).ok()?);
    let cached: Cached = serde_json::from_str(&text).ok()?;
    let expires_at = parse_time(&cached.expires_at)?;
    let client = match (
        cached.client_id,
        cached.client_secret,
        cached
            .registration_expires_at
            .as_deref()
            .and_then(parse_time),
    ) {
        (Some(client_id), Some(client_secret), Some(expires_at)) => Some(ClientRegistration {
            client_id,
            client_secret,
            expires_at,
        }),
        _ => None,
    };
    Some(SsoToken {
        access_token: cached.access_token,
        expires_at,
        start_url: cached.start_url,
        region: cached.region,
        client,
        refresh_token: cached.refresh_token,
    })
}

/// `at` as the AWS CLI writes times in its SSO cache (`%Y-%m-%dT%H:%M:%SZ`, UTC).
pub(crate) fn cache_time(at: OffsetDateTime) -> String {
    let (date, clock) = (
        at.to_offset(time::UtcOffset::UTC).date(),
        at.to_offset(time::UtcOffset::UTC).time(),
    );
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        clock.hour(),
        clock.minute(),
        clock.second()
    )
}

/// Keep `token` for `sign_in` in `dir` as the AWS CLI keeps a sign-in (the same fields, its
/// time format): 0600, written whole or not at all.
pub fn store_token(dir: &Path, sign_in: &SsoSignIn, token: &SsoToken) -> std::io::Result<()> {
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
    let client = token.client.as_ref();
    let kept = Kept {
        start_url: token.start_url.as_deref().unwrap_or(&sign_in.start_url),
        region: token.region.as_deref().unwrap_or(&sign_in.region),
        access_token: token.access_token.expose(),
        expires_at: cache_time(token.expires_at),
        client_id: client.map(|c| c.client_id.as_str()),
        client_secret: client.map(|c| c.client_secret.expose()),
        registration_expires_at: client.map(|c| cache_time(c.expires_at)),
        refresh_token: token.refresh_token.as_ref().map(Secret::expose),
    };
    crate::files::private::write_json(&token_file(dir, sign_in), &kept)
}

/// `2026-01-01T12:00:00Z` (the AWS CLI's `%Y-%m-%dT%H:%M:%SZ`) or any RFC 3339 time.
pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()
}

impl super::Session {
    /// `token`, refreshed first when it ends within [`REFRESH_WINDOW`] and can be (see
    /// [`refresh_sign_in`]).
    async fn fresh_token(&self, sign_in: &SsoSignIn, token: SsoToken) -> SsoToken {
        let Some(dir) = self.inner.options.sso_cache.clone() else {
            return token;
        };
        let Ok(client) = crate::aws::AwsClient::new(self.inner.options.client.clone()) else {
            return token;
        };
        let place = super::sso_login::SignInPlace {
            token_dir: &dir,
            state_dir: self.inner.options.state_dir.as_deref(),
            env: &self.inner.env,
            client: &client,
        };
        super::sso_login::refresh_sign_in(&place, sign_in, token).await
    }

    /// The name of the account SSO profile `profile` signs in to, as its sign-in's portal lists
    /// it (ListAccounts, once per sign-in in this run); `None` when it cannot be asked.
    pub async fn sso_account_name(&self, profile: &str) -> Option<String> {
        let sso = sso_settings(&self.inner.reading, profile).ok()?;
        let dir = self.inner.options.sso_cache.as_deref()?;
        let key = token_file(dir, &sso.sign_in).display().to_string();
        let mut known = self.inner.sso_accounts.lock().await;
        if !known.contains_key(&key) {
            let token = cached_token(dir, &sso.sign_in)
                .filter(|t| t.expires_at > OffsetDateTime::now_utc())?;
            let settings = self.settings(profile).ok()?;
            let mut endpoint = super::endpoint_settings(&self.inner.reading, settings);
            endpoint.region = Some(sso.sign_in.region.clone());
            let portal =
                crate::aws::resolve_endpoint(crate::aws::Service::Sso, &endpoint, &self.inner.env)
                    .ok()?;
            let client = self.client(profile).ok()?;
            // A portal that does not answer leaves the names out; the Arn is what matters.
            let accounts = crate::aws::sso::list_accounts(&client, &portal, &token.access_token)
                .await
                .unwrap_or_default();
            let names = accounts
                .into_iter()
                .map(|a| (a.account_id, a.account_name))
                .collect();
            known.insert(key.clone(), names);
        }
        known
            .get(&key)?
            .get(&sso.account_id)
            .filter(|name| !name.is_empty())
            .cloned()
    }

    /// The role credentials of SSO profile `profile` for other tools, and when they end.
    pub async fn sso_credentials(
        &self,
        profile: &str,
    ) -> Result<(crate::aws::Credentials, Option<OffsetDateTime>), IdentityError> {
        let credentials = self.sso_role(profile).await?;
        Ok((credentials, self.session_expiry(profile)))
    }

    /// The credentials of SSO profile `profile`: the ones the AWS CLI (or keyrack) cached for its
    /// role while they last, else GetRoleCredentials with the sign-in token kept for its
    /// sso-session (cached then where the AWS CLI caches its own).
    pub(super) async fn sso_role(
        &self,
        profile: &str,
    ) -> Result<crate::aws::Credentials, IdentityError> {
        let sso = sso_settings(&self.inner.reading, profile)?;
        let sign_in = &sso.sign_in;
        let key = super::cli_cache::sso_cache_key(
            &sso.account_id,
            &sso.role_name,
            sign_in.session.as_deref().ok_or(sign_in.start_url.as_str()),
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
            sign_in: sign_in.describe(),
            why,
            login: sign_in.login_command(profile),
        };
        let token = self
            .inner
            .options
            .sso_cache
            .as_deref()
            .and_then(|dir| cached_token(dir, sign_in))
            .ok_or_else(|| needs_login("no sign-in is kept for it".into()))?;
        let token = self.fresh_token(sign_in, token).await;
        if token.expires_at <= now {
            let ended = token
                .expires_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            return Err(needs_login(format!("its sign-in ended at {ended}")));
        }
        let settings = self.settings(profile)?;
        let mut endpoint = super::endpoint_settings(&self.inner.reading, settings);
        endpoint.region = Some(sign_in.region.clone());
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
        let sso = settings_of(&config).unwrap().sign_in;
        assert_eq!(sso.start_url, "https://corp.awsapps.com/start");
        assert_eq!(sso.region, "eu-west-1");
        assert_eq!(sso.session.as_deref(), Some("corp"));
        assert_eq!(sso.login_command("dev"), "keyrack sso login corp");
        // The token file is named after the session, as the AWS CLI names it.
        let file = token_file(Path::new("/c"), &sso);
        let sha1_of_corp = "ee0bfd2552fbd840c02cc48b6e823320543c450f";
        assert_eq!(file, Path::new("/c").join(format!("{sha1_of_corp}.json")));
    }

    #[test]
    fn start_urls_are_identity_centers_own_https_addresses() {
        for good in [
            "https://d-9067abcdef.awsapps.com/start",
            "https://corp.awsapps.com/start/#/",
            "https://identitycenter.amazonaws.com/ssoins-1234567890abcdef",
            "https://start.us-gov-home.awsapps.com/directory/corp",
            "https://corp.awsapps.cn/start",
        ] {
            assert_eq!(check_start_url(good), Ok(()), "{good}");
        }
        for bad in [
            "http://corp.awsapps.com/start",
            "https://awsapps.com/start",
            "https://corp.awsapps.com.evil.example/start",
            "https://sso.example.com/start",
            "corp.awsapps.com/start",
            "https:///start",
        ] {
            assert!(check_start_url(bad).is_err(), "{bad}");
        }
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
