//! The IAM console's access-key file for one file set: each key proven with AWS STS, then saved
//! as a profile (`keyrack import --csv FILE`, or the file dropped on the window), and the file
//! deleted afterwards on request, once every key of it is in the files.

use std::path::Path;

use super::{Error, Rack};
use crate::aws::{resolve_endpoint, sts, AwsClient, ClientSettings, Credentials};
use crate::aws::{ProfileEndpointSettings, Service};
use crate::changes::{Operation, SettingChange};
use crate::files::Dialect;
use crate::key_file::{self, KeyFileError};
use crate::secret::Secret;

/// What an import saved.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportReport {
    pub file: String,
    pub imported: Vec<ImportedKey>,
}

/// One key saved as a profile, and who AWS said it is (unless it was not asked).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportedKey {
    pub profile: String,
    pub access_key_id: String,
    pub arn: Option<String>,
}

impl From<KeyFileError> for Error {
    fn from(e: KeyFileError) -> Self {
        Error::new("bad_key_file", e.to_string())
    }
}

impl Rack {
    /// Save the keys of the console's key file at `path` as profiles: named `profile` (a file of
    /// one key), else after the IAM user the file names; with `region`. Each key is first
    /// proven with STS (unless `check` is false); a key AWS refuses, a name already taken, or a
    /// file of several keys without user names saves nothing.
    pub async fn import_key_file(
        &self,
        path: &Path,
        profile: Option<&str>,
        region: Option<&str>,
        check: bool,
    ) -> Result<ImportReport, Error> {
        let keys = key_file::read(path)?;
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        let mut named = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let name = match (profile, &key.user_name) {
                (Some(name), _) if keys.len() == 1 => name.to_owned(),
                (Some(name), _) => format!("{name}-{}", index + 1),
                (None, Some(user)) => user.clone(),
                (None, None) => {
                    return Err(Error::new(
                        "bad_key_file",
                        format!(
                            "{} does not name the IAM user the key belongs to (a new key's file \
                             has only the key): give the profile a name (--profile NAME); nothing \
                             was saved",
                            path.display()
                        ),
                    ))
                }
            };
            if named.contains(&name) {
                return Err(Error::new(
                    "bad_key_file",
                    format!(
                        "{} holds two keys for '{name}'; import them one at a time with a \
                         profile name each; nothing was saved",
                        path.display()
                    ),
                ));
            }
            crate::changes::check_input("profile", &name)
                .filter(|advice| advice.level == "error")
                .map_or(Ok(()), |advice| {
                    Err(Error::new(
                        "refused",
                        format!(
                            "cannot name a profile '{name}': {}; nothing was saved",
                            advice.message
                        ),
                    ))
                })?;
            if reading.profiles.contains_key(&name) {
                return Err(Error::new(
                    "refused",
                    format!(
                        "there is a profile '{name}' already; pick another name (--profile NAME), \
                         or rotate that profile's key instead; nothing was saved"
                    ),
                ));
            }
            named.push(name);
        }
        let mut arns = vec![None; keys.len()];
        if check {
            let settings = ProfileEndpointSettings {
                region: region.map(str::to_owned),
                ..ProfileEndpointSettings::default()
            };
            let endpoint = resolve_endpoint(Service::Sts, &settings, &self.env)
                .map_err(|e| Error::new("invalid_endpoint", e.to_string()))?;
            let client = AwsClient::new(ClientSettings {
                ca_bundle: crate::aws::resolve_ca_bundle(&settings, &self.env),
                ..ClientSettings::default()
            })
            .map_err(|e| Error::new("request_failed", e.to_string()))?;
            for (index, key) in keys.iter().enumerate() {
                let credentials = Credentials::new(
                    key.access_key_id.clone(),
                    key.secret_access_key.expose().to_owned(),
                    None,
                );
                let identity = sts::get_caller_identity(&client, &endpoint, &credentials)
                    .await
                    .map_err(|error| {
                        let transient = error.is_transient();
                        Error::new(
                            if transient {
                                "unreachable"
                            } else {
                                "key_does_not_work"
                            },
                            format!(
                                "the key {} of {} does not work: {error}{}; nothing was saved",
                                key.access_key_id,
                                path.display(),
                                if transient {
                                    " (add --no-check to save it without asking AWS)"
                                } else {
                                    ""
                                }
                            ),
                        )
                    })?;
                arns[index] = Some(identity.arn);
            }
        }
        let mut imported = Vec::new();
        for ((key, name), arn) in keys.iter().zip(&named).zip(arns) {
            let mut changes = vec![
                SettingChange::Set {
                    key: "aws_access_key_id".into(),
                    value: Secret::new(key.access_key_id.clone()),
                },
                SettingChange::Set {
                    key: "aws_secret_access_key".into(),
                    value: key.secret_access_key.clone(),
                },
            ];
            if let Some(region) = region {
                changes.push(SettingChange::Set {
                    key: "region".into(),
                    value: Secret::new(region.to_owned()),
                });
            }
            self.edit_now(&Operation::Add {
                profile: name.clone(),
                changes,
                sso_session: false,
            })?;
            imported.push(ImportedKey {
                profile: name.clone(),
                access_key_id: key.access_key_id.clone(),
                arn,
            });
        }
        Ok(ImportReport {
            file: path.display().to_string(),
            imported,
        })
    }

    /// The one access key of the console's key file at `path`, to replace a profile's key with.
    pub fn key_of_file(&self, path: &Path) -> Result<Credentials, Error> {
        let mut keys = key_file::read(path)?;
        match keys.len() {
            1 => {
                let key = keys.remove(0);
                Ok(Credentials::new(
                    key.access_key_id,
                    key.secret_access_key,
                    None,
                ))
            }
            n => Err(Error::new(
                "bad_key_file",
                format!(
                    "{} holds {n} access keys; a profile's key is replaced by one: download the \
                     new key's own .csv (Create access key, then Download .csv file); nothing was \
                     written",
                    path.display()
                ),
            )),
        }
    }

    /// Delete the key file at `path` (it holds secrets in plaintext), only when every key of it
    /// is in these files with the same secret: deleting it never loses a key.
    pub fn delete_key_file(&self, path: &Path) -> Result<(), Error> {
        let keys = key_file::read(path)?;
        if let Some(user) = keys.iter().find(|k| k.has_password) {
            return Err(Error::new(
                "key_not_saved",
                format!(
                    "{} was kept: it also holds the console password of {}, which keyrack does not \
                     keep; delete the file yourself once the password is somewhere safe",
                    path.display(),
                    user.user_name.as_deref().unwrap_or("the user")
                ),
            ));
        }
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        let saved = |id: &str, secret: &Secret| {
            let in_files = reading.profiles.values().any(|settings| {
                let text = |k: &str| settings.get(k).and_then(|s| s.value.as_text());
                text("aws_access_key_id").map(str::trim) == Some(id)
                    && text("aws_secret_access_key").map(str::trim) == Some(secret.expose())
            });
            // A key that replaced one in the keychain is kept there.
            in_files
                || crate::rotation::holders::keychain_credentials(&files, &self.keychain, id)
                    .is_some_and(|key| key.secret_access_key.expose() == secret.expose())
        };
        if let Some(missing) = keys
            .iter()
            .find(|k| !saved(&k.access_key_id, &k.secret_access_key))
        {
            return Err(Error::new(
                "key_not_saved",
                format!(
                    "{} was kept: its key {} is not in these files with that secret, and the file \
                     may be its only copy",
                    path.display(),
                    missing.access_key_id
                ),
            ));
        }
        std::fs::remove_file(path).map_err(|e| {
            Error::new(
                "delete_failed",
                format!(
                    "could not delete {}: {e}; delete it by hand",
                    path.display()
                ),
            )
        })
    }
}
