//! IAM Identity Center for one file set: the profiles of every account and role an sso-session
//! reaches, previewed (`keyrack sso populate SESSION`) and written (`--yes`, `--prune`).

use super::{Error, Rack};
use crate::aws::{
    resolve_endpoint, sso, AwsClient, ClientSettings, ProfileEndpointSettings, Service,
};
use crate::changes::{self, Applied, Operation};
use crate::files::Dialect;
use crate::identity::sso::{cached_token, SsoSettings};
use crate::sso_profiles::{self, Assignment, PopulatePlan};

impl Rack {
    /// What populating `session`'s profiles would do, from the accounts and roles the portal says
    /// its sign-in reaches (every page); `template` names new profiles, `region` is theirs (the
    /// session's `sso_region` when `None`). Changes nothing.
    pub async fn sso_populate_plan(
        &self,
        session: &str,
        template: Option<&str>,
        region: Option<&str>,
    ) -> Result<PopulatePlan, Error> {
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        let section = reading.sso_sessions.get(session).ok_or_else(|| {
            Error::new(
                "no_such_sso_session",
                format!("there is no [sso-session {session}] section in the config file; add one with sso_start_url and sso_region"),
            )
        })?;
        let text = |key: &str| {
            section
                .get(key)
                .and_then(|s| s.value.as_text())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (Some(start_url), Some(sso_region)) = (text("sso_start_url"), text("sso_region"))
        else {
            return Err(Error::new(
                "invalid_config",
                format!("[sso-session {session}] needs sso_start_url and sso_region"),
            ));
        };
        let settings = SsoSettings {
            start_url,
            region: sso_region.clone(),
            account_id: String::new(),
            role_name: String::new(),
            session: Some(session.to_owned()),
        };
        let now = time::OffsetDateTime::now_utc();
        let token = self
            .sso_cache
            .as_deref()
            .and_then(|dir| cached_token(dir, &settings))
            .filter(|token| token.expires_at > now)
            .ok_or_else(|| {
                Error::new(
                    "needs_sso_login",
                    format!(
                        "no sign-in of sso-session '{session}' is kept, or it ended: run `aws sso \
                         login --sso-session {session}`, then try again"
                    ),
                )
            })?;
        let endpoint_settings = ProfileEndpointSettings {
            region: Some(sso_region.clone()),
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
            region.unwrap_or(&sso_region),
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
