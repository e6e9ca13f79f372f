//! IAM Identity Center for one file set: signing in (`keyrack sso login`) and out, serving an SSO
//! profile's role credentials to other tools, and the profiles of every account and role an
//! sso-session reaches, previewed (`keyrack sso populate SESSION`) and written (`--yes`,
//! `--prune`).

use super::{Error, Rack};
use crate::aws::{
    resolve_endpoint, sso, AwsClient, ClientSettings, ProfileEndpointSettings, Service,
};
use crate::changes::{self, Applied, Operation};
use crate::files::Dialect;
use crate::identity::sso::{cached_token, profile_sign_in, session_sign_in, SsoSignIn};
use crate::identity::sso_login::{
    self, Flow, ShowPrompt, SignInOptions, SignInPlace, SignedIn, SignedOut, APPROVAL_WAIT,
};
use crate::identity::IdentityError;
use crate::rack::ProcessCredentials;
use crate::sso_profiles::{self, Assignment, PopulatePlan};

/// What to sign in to: an sso-session by name, or a profile's sign-in (its sso-session's, or a
/// legacy profile's own start URL).
#[derive(Clone, Debug)]
pub enum SsoTarget {
    Session(String),
    Profile(String),
}

impl Rack {
    /// The sign-in `target` names, checked as botocore checks it.
    fn sign_in_of(
        &self,
        target: &SsoTarget,
    ) -> Result<(SsoSignIn, ProfileEndpointSettings), Error> {
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        Ok(match target {
            SsoTarget::Session(name) => (
                session_sign_in(&reading, name)?,
                ProfileEndpointSettings::default(),
            ),
            SsoTarget::Profile(profile) => {
                let sign_in = profile_sign_in(&reading, profile)?;
                let settings = reading
                    .profiles
                    .get(profile)
                    .expect("profile_sign_in found it");
                (
                    sign_in,
                    crate::identity::endpoint_settings(&reading, settings),
                )
            }
        })
    }

    /// The HTTPS client for IAM Identity Center, trusting the CA bundle the environment or the
    /// profile names (`AWS_CA_BUNDLE`, `ca_bundle`), as the AWS CLI does behind a TLS proxy.
    fn sso_client(&self, endpoint: &ProfileEndpointSettings) -> Result<AwsClient, Error> {
        AwsClient::new(ClientSettings {
            ca_bundle: crate::aws::resolve_ca_bundle(endpoint, &self.env),
            ..ClientSettings::default()
        })
        .map_err(|e| Error::new("request_failed", e.to_string()))
    }

    fn sign_in_place<'a>(&'a self, client: &'a AwsClient) -> Result<SignInPlace<'a>, Error> {
        let token_dir = self.sso_cache.as_deref().ok_or_else(|| {
            Error::new(
                "no_home",
                "keyrack cannot find the home folder, where the AWS tools keep sign-ins \
                 (~/.aws/sso/cache); set HOME",
            )
        })?;
        Ok(SignInPlace {
            token_dir,
            state_dir: Some(&self.state_dir),
            env: &self.env,
            client,
        })
    }

    /// Sign in to `target` in the browser (or with a device code), keeping the sign-in where the
    /// AWS CLI keeps it, so every AWS tool and every profile of the sign-in uses it.
    pub async fn sso_login(
        &self,
        target: &SsoTarget,
        flow: Flow,
        open_browser: bool,
        show: &ShowPrompt,
    ) -> Result<SignedIn, Error> {
        let (sign_in, endpoint) = self.sign_in_of(target)?;
        let client = self.sso_client(&endpoint)?;
        let place = self.sign_in_place(&client)?;
        let options = SignInOptions {
            flow,
            open_browser,
            wait: APPROVAL_WAIT,
            for_a_tool: None,
            endpoint,
            show,
        };
        Ok(sso_login::sign_in(&place, &sign_in, &options).await?)
    }

    /// Sign out of every IAM Identity Center sign-in as `aws sso logout` does: each is ended at
    /// its portal and its token removed, with the SSO role credentials the AWS tools cached.
    pub async fn sso_logout(&self) -> Result<SignedOut, Error> {
        let client = self.sso_client(&ProfileEndpointSettings::default())?;
        let place = self.sign_in_place(&client)?;
        let signed_out = sso_login::sign_out(&place, self.cli_cache.as_deref())
            .await
            .map_err(|e| {
                Error::new(
                    "sso_cache_write_failed",
                    format!(
                        "could not remove a sign-in from {}: {e}; run the command again",
                        place.token_dir.display()
                    ),
                )
            })?;
        // Who the SSO profiles were is no longer true once signed out.
        if let Ok(files) = self.latest() {
            let reading = files.read(crate::files::Dialect::Cli);
            let sso: Vec<String> = reading
                .profiles
                .iter()
                .filter(|(_, s)| {
                    crate::files::model::profile_kind(s) == crate::files::model::ProfileKind::Sso
                })
                .map(|(name, _)| name.clone())
                .collect();
            super::kept_checks::mark_stale(
                &self.state_dir,
                &files,
                &sso,
                super::kept_checks::StaleCause::SignedOut,
            );
        }
        Ok(signed_out)
    }

    /// What `credential-process --sso --profile P` prints: the role credentials of SSO profile
    /// `profile` (cached, or had with its sign-in, refreshed as needed). With no sign-in that
    /// works, and `sign_in` given, one sign-in in the browser first (one keyrack at a time per
    /// sign-in; the others use it).
    pub async fn sso_credentials(
        &self,
        profile: &str,
        sign_in: Option<(bool, &ShowPrompt)>,
    ) -> Result<ProcessCredentials, Error> {
        let session = self.session(&self.latest()?, None);
        // The token kept before asking: when the answer is "sign in", that token (or none) was
        // refused or had ended. Read after the answer, it could be another keyrack's fresh
        // sign-in, which this one would then refuse and sign in again on a page nobody opens.
        let kept_before = match sign_in {
            Some(_) => self
                .sign_in_of(&SsoTarget::Profile(profile.to_owned()))
                .ok()
                .and_then(|(target, _)| {
                    self.sso_cache
                        .as_deref()
                        .and_then(|dir| cached_token(dir, &target))
                })
                .map(|token| token.access_token),
            None => None,
        };
        let served = session.sso_credentials(profile).await;
        let served = match (served, sign_in) {
            (Err(IdentityError::NeedsSsoLogin { .. }), Some((open_browser, show))) => {
                let (target, endpoint) =
                    self.sign_in_of(&SsoTarget::Profile(profile.to_owned()))?;
                // The token that was refused (or ended) is no sign-in to reuse.
                let refused = kept_before;
                let client = self.sso_client(&endpoint)?;
                let place = self.sign_in_place(&client)?;
                let options = SignInOptions {
                    flow: Flow::AuthorizationCode,
                    open_browser,
                    wait: APPROVAL_WAIT,
                    for_a_tool: Some(refused),
                    endpoint,
                    show,
                };
                // Nobody to approve it here: the one command that does, for this profile.
                sso_login::sign_in(&place, &target, &options)
                    .await
                    .map_err(|error| match error {
                        sso_login::SsoLoginError::NeedsPerson { .. } => Error::new(
                            "needs_sso_login",
                            format!(
                                "profile '{profile}' needs a sign-in to {} that a person \
                                 approves, and nobody can be asked from here (no browser \
                                 opened{}): run `{}` in a terminal, then try again",
                                target.describe(),
                                if target.session.is_none() {
                                    ", and a legacy sign-in takes a code typed on a page"
                                } else {
                                    ""
                                },
                                target.login_command(profile)
                            ),
                        ),
                        other => Error::from(other),
                    })?;
                session.sso_credentials(profile).await
            }
            (served, _) => served,
        };
        let (credentials, expires) = served?;
        Ok(match expires {
            Some(expires) => ProcessCredentials::session(credentials, expires),
            None => ProcessCredentials::from(crate::keychain::StoredKey::new(credentials)),
        })
    }

    /// What populating `session`'s profiles would do, from the accounts and roles the portal says
    /// its sign-in reaches (every page); `template` names new profiles, `region` is theirs (the
    /// session's `sso_region` when `None`). Changes nothing.
    pub async fn sso_populate_plan(
        &self,
        session: &str,
        template: Option<&str>,
        region: Option<&str>,
    ) -> Result<PopulatePlan, Error> {
        // Owned, so that nothing of the loaded files is held across the portal's answers.
        let reading = crate::files::Reading::clone(&self.latest()?.read(Dialect::Cli));
        let sign_in = session_sign_in(&reading, session)?;
        let now = time::OffsetDateTime::now_utc();
        let token = self
            .sso_cache
            .as_deref()
            .and_then(|dir| cached_token(dir, &sign_in))
            .filter(|token| token.expires_at > now)
            .ok_or_else(|| {
                Error::new(
                    "needs_sso_login",
                    format!(
                        "no sign-in of sso-session '{session}' is kept, or it ended: run \
                         `keyrack sso login {session}`, then try again"
                    ),
                )
            })?;
        let endpoint_settings = ProfileEndpointSettings {
            region: Some(sign_in.region.clone()),
            ..ProfileEndpointSettings::default()
        };
        let portal = resolve_endpoint(Service::Sso, &endpoint_settings, &self.env)
            .map_err(|e| Error::new("invalid_endpoint", e.to_string()))?;
        let client = AwsClient::new(ClientSettings::default())
            .map_err(|e| Error::new("request_failed", e.to_string()))?;
        let portal_failed = |action: &str, error: crate::aws::AwsError| {
            Error::new(
                "sso_portal_failed",
                format!("{action} for sso-session '{session}' failed: {error}"),
            )
        };
        let accounts = sso::list_accounts(&client, &portal, &token.access_token)
            .await
            .map_err(|e| portal_failed("ListAccounts", e))?;
        let mut assignments = Vec::new();
        for account in accounts {
            let roles =
                sso::list_account_roles(&client, &portal, &token.access_token, &account.account_id)
                    .await
                    .map_err(|e| portal_failed("ListAccountRoles", e))?;
            assignments.extend(roles.into_iter().map(|role_name| Assignment {
                account_id: account.account_id.clone(),
                account_name: account.account_name.clone(),
                role_name,
            }));
        }
        Ok(sso_profiles::plan(
            &reading,
            session,
            region.unwrap_or(&sign_in.region),
            template.unwrap_or(sso_profiles::DEFAULT_TEMPLATE),
            &assignments,
        ))
    }

    /// Write `plan`'s profiles (and remove the ones it prunes when `prune`), holding the files'
    /// lock throughout. Each step is checked against the files as they are right then, since
    /// another program may have changed them after the plan was shown: a name taken since is
    /// not overwritten, and a profile whose marker is gone (a person took it over) is not
    /// removed. What each step saved.
    pub fn sso_populate(&self, plan: &PopulatePlan, prune: bool) -> Result<Vec<Applied>, Error> {
        self.writing_recorded(|_| {
            let mut done = Vec::new();
            let mut last = None;
            for operation in sso_profiles::operations(plan, prune) {
                let files = crate::files::AwsFiles::load(&self.paths)?;
                let reading = files.read(Dialect::Cli);
                let still = match &operation {
                    Operation::Add { profile, .. } => !reading.profiles.contains_key(profile),
                    Operation::Delete { profile, .. } => {
                        reading
                            .profiles
                            .get(profile)
                            .and_then(|s| s.get(sso_profiles::MARKER))
                            .and_then(|s| s.value.as_text())
                            == Some(plan.sso_session.as_str())
                    }
                    _ => true,
                };
                if !still {
                    continue;
                }
                let mut applied =
                    changes::apply(&self.paths, &self.keychain, None, &operation, false)?;
                last = applied.files.take();
                done.push(applied);
            }
            Ok((done, last))
        })
    }
}
