//! Which URL and signing region a call to STS or IAM uses, chosen the way the AWS SDKs choose.

use std::collections::HashMap;
use std::path::PathBuf;

/// The AWS services keyrack talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Sts,
    Iam,
    /// IAM Identity Center's portal (`portal.sso`): role credentials for a signed-in user.
    Sso,
    /// IAM Identity Center's OIDC service (`oidc`): sign-in tokens, and their refresh.
    SsoOidc,
}

impl Service {
    /// The service id used in config keys (`[services]` sections, signing scope): `sts`, `iam`.
    pub fn id(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Iam => "iam",
            Service::Sso => "sso",
            Service::SsoOidc => "sso_oidc",
        }
    }

    /// The Query API version sent as `Version=`.
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Sts => "2011-06-15",
            Service::Iam => "2010-05-08",
            Service::Sso | Service::SsoOidc => "2019-06-10",
        }
    }

    /// The service-specific endpoint variable, `AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL_IAM`.
    fn endpoint_env_var(self) -> &'static str {
        match self {
            Service::Sts => "AWS_ENDPOINT_URL_STS",
            Service::Iam => "AWS_ENDPOINT_URL_IAM",
            Service::Sso => "AWS_ENDPOINT_URL_SSO",
            Service::SsoOidc => "AWS_ENDPOINT_URL_SSO_OIDC",
        }
    }
}

/// What a profile in the shared config file says about reaching AWS. The caller reads the files;
/// this module only applies the precedence rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileEndpointSettings {
    /// `region =`
    pub region: Option<String>,
    /// `endpoint_url =` (applies to every service)
    pub endpoint_url: Option<String>,
    /// From the `[services NAME]` section the profile names: service id (`sts`, `iam`) to its
    /// nested `endpoint_url`.
    pub service_endpoint_urls: HashMap<String, String>,
    /// `ca_bundle =`
    pub ca_bundle: Option<PathBuf>,
    /// `ignore_configured_endpoint_urls =`
    pub ignore_configured_endpoint_urls: Option<bool>,
}

/// The environment variables that take part in endpoint, region and CA bundle choice. Built from
/// the process environment, or from pairs in tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointEnv {
    vars: HashMap<String, String>,
}

/// Every variable [`EndpointEnv::from_process`] reads.
const ENV_VARS: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CA_BUNDLE",
];

impl EndpointEnv {
    /// Reads the relevant variables from this process's environment.
    pub fn from_process() -> Self {
        let vars = ENV_VARS
            .iter()
            .filter_map(|name| {
                std::env::var(name)
                    .ok()
                    .map(|value| (name.to_string(), value))
            })
            .collect();
        EndpointEnv { vars }
    }

    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        EndpointEnv { vars }
    }

    /// The same variables without `name`.
    pub fn without(&self, name: &str) -> EndpointEnv {
        let mut vars = self.vars.clone();
        vars.remove(name);
        EndpointEnv { vars }
    }

    /// The variable's value; an empty or blank value counts as unset, as in the SDKs.
    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Where the chosen URL came from, so a user can be told why keyrack calls a given host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointSource {
    /// The standard AWS endpoint for the service and region.
    Default,
    /// `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL_IAM`.
    ServiceEnvVar,
    /// `AWS_ENDPOINT_URL`.
    GlobalEnvVar,
    /// The profile's `[services]` section.
    ProfileServicesSection,
    /// The profile's `endpoint_url`.
    ProfileEndpointUrl,
}

/// A resolved endpoint: where to send a service's requests and which region to sign them for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub service: Service,
    pub url: String,
    pub signing_region: String,
    pub source: EndpointSource,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("the endpoint URL {url:?} (from {source_name}) is not a valid http or https URL")]
    InvalidUrl {
        url: String,
        source_name: &'static str,
    },
}

/// The AWS partition a region belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::AwsCn
        } else if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }

    fn dns_suffix(self) -> &'static str {
        match self {
            Partition::AwsCn => "amazonaws.com.cn",
            Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
        }
    }

    /// IAM is global per partition: one URL, one signing region.
    fn iam_endpoint(self) -> (&'static str, &'static str) {
        match self {
            Partition::Aws => ("https://iam.amazonaws.com", "us-east-1"),
            Partition::AwsCn => ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            Partition::AwsUsGov => ("https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
        }
    }
}

/// The region calls are made in: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's
/// `region`. `None` when none is set.
pub fn resolve_region(profile: &ProfileEndpointSettings, env: &EndpointEnv) -> Option<String> {
    resolve_region_source(profile, env).map(|(region, _)| region)
}

/// Where the region of [`resolve_region`] was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionSource {
    /// `AWS_REGION` or `AWS_DEFAULT_REGION`.
    EnvVar(&'static str),
    /// The profile's `region` setting.
    Profile,
}

/// [`resolve_region`], with where the region was set.
pub fn resolve_region_source(
    profile: &ProfileEndpointSettings,
    env: &EndpointEnv,
) -> Option<(String, RegionSource)> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|var| {
            env.get(var)
                .map(|r| (r.to_owned(), RegionSource::EnvVar(var)))
        })
        .or_else(|| {
            profile
                .region
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| (r.to_owned(), RegionSource::Profile))
        })
}

/// The PEM file of extra trusted root certificates: `AWS_CA_BUNDLE`, then the profile's
/// `ca_bundle`.
pub fn resolve_ca_bundle(profile: &ProfileEndpointSettings, env: &EndpointEnv) -> Option<PathBuf> {
    env.get("AWS_CA_BUNDLE")
        .map(PathBuf::from)
        .or_else(|| profile.ca_bundle.clone())
}

/// Chooses the endpoint for `service`. A configured URL wins over the standard one, in the SDKs'
/// order: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the profile's `[services]` entry, the
/// profile's `endpoint_url`; none of them counts when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or
/// the profile's `ignore_configured_endpoint_urls`) is true.
///
/// The signing region does not depend on the URL: STS signs for the resolved region (us-east-1
/// when none), IAM for its partition's home region (us-east-1, cn-north-1, us-gov-west-1).
pub fn resolve_endpoint(
    service: Service,
    profile: &ProfileEndpointSettings,
    env: &EndpointEnv,
) -> Result<Endpoint, EndpointError> {
    let region = resolve_region(profile, env);
    let (default_url, signing_region) = default_endpoint(service, region.as_deref());

    let configured = if ignores_configured_urls(profile, env) {
        None
    } else {
        configured_url(service, profile, env)
    };
    let (url, source) = match configured {
        Some((url, source)) => {
            validate_url(&url, source)?;
            (url, source)
        }
        None => (default_url, EndpointSource::Default),
    };
    Ok(Endpoint {
        service,
        url,
        signing_region,
        source,
    })
}

fn ignores_configured_urls(profile: &ProfileEndpointSettings, env: &EndpointEnv) -> bool {
    match env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        Some(value) => value.eq_ignore_ascii_case("true"),
        None => profile.ignore_configured_endpoint_urls.unwrap_or(false),
    }
}

fn configured_url(
    service: Service,
    profile: &ProfileEndpointSettings,
    env: &EndpointEnv,
) -> Option<(String, EndpointSource)> {
    let non_blank = |v: &String| -> Option<String> {
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    env.get(service.endpoint_env_var())
        .map(|u| (u.to_owned(), EndpointSource::ServiceEnvVar))
        .or_else(|| {
            env.get("AWS_ENDPOINT_URL")
                .map(|u| (u.to_owned(), EndpointSource::GlobalEnvVar))
        })
        .or_else(|| {
            profile
                .service_endpoint_urls
                .get(service.id())
                .and_then(non_blank)
                .map(|u| (u, EndpointSource::ProfileServicesSection))
        })
        .or_else(|| {
            profile
                .endpoint_url
                .as_ref()
                .and_then(non_blank)
                .map(|u| (u, EndpointSource::ProfileEndpointUrl))
        })
}

fn default_endpoint(service: Service, region: Option<&str>) -> (String, String) {
    match service {
        Service::Sts => match region {
            None | Some("aws-global") => (
                "https://sts.us-east-1.amazonaws.com".to_owned(),
                "us-east-1".to_owned(),
            ),
            Some(region) => {
                let suffix = Partition::of_region(region).dns_suffix();
                (format!("https://sts.{region}.{suffix}"), region.to_owned())
            }
        },
        Service::Iam => {
            let partition = region.map_or(Partition::Aws, Partition::of_region);
            let (url, signing_region) = partition.iam_endpoint();
            (url.to_owned(), signing_region.to_owned())
        }
        // The portal and OIDC service of the region Identity Center runs in (`sso_region`,
        // given as the region).
        Service::Sso | Service::SsoOidc => {
            let region = region.unwrap_or("us-east-1");
            let suffix = Partition::of_region(region).dns_suffix();
            let host = if service == Service::Sso {
                "portal.sso"
            } else {
                "oidc"
            };
            (
                format!("https://{host}.{region}.{suffix}"),
                region.to_owned(),
            )
        }
    }
}

fn validate_url(url: &str, source: EndpointSource) -> Result<(), EndpointError> {
    let ok = reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        let source_name = match source {
            EndpointSource::ServiceEnvVar => "a service-specific AWS_ENDPOINT_URL_* variable",
            EndpointSource::GlobalEnvVar => "AWS_ENDPOINT_URL",
            EndpointSource::ProfileServicesSection => "the profile's services section",
            EndpointSource::ProfileEndpointUrl => "the profile's endpoint_url",
            EndpointSource::Default => "the built-in endpoints",
        };
        Err(EndpointError::InvalidUrl {
            url: url.to_owned(),
            source_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile_in(region: &str) -> ProfileEndpointSettings {
        ProfileEndpointSettings {
            region: Some(region.to_owned()),
            ..Default::default()
        }
    }

    fn no_env() -> EndpointEnv {
        EndpointEnv::default()
    }

    fn resolve(service: Service, profile: &ProfileEndpointSettings, env: &EndpointEnv) -> Endpoint {
        resolve_endpoint(service, profile, env).unwrap()
    }

    #[test]
    fn sts_uses_the_regional_endpoint_of_the_profile_region() {
        let e = resolve(Service::Sts, &profile_in("eu-west-3"), &no_env());
        assert_eq!(e.url, "https://sts.eu-west-3.amazonaws.com");
        assert_eq!(e.signing_region, "eu-west-3");
        assert_eq!(e.source, EndpointSource::Default);
    }

    #[test]
    fn sts_without_a_region_uses_us_east_1() {
        let e = resolve(Service::Sts, &ProfileEndpointSettings::default(), &no_env());
        assert_eq!(e.url, "https://sts.us-east-1.amazonaws.com");
        assert_eq!(e.signing_region, "us-east-1");
    }

    #[test]
    fn sts_in_china_uses_the_cn_domain() {
        let e = resolve(Service::Sts, &profile_in("cn-northwest-1"), &no_env());
        assert_eq!(e.url, "https://sts.cn-northwest-1.amazonaws.com.cn");
        assert_eq!(e.signing_region, "cn-northwest-1");
    }

    #[test]
    fn sts_in_govcloud_uses_the_regional_endpoint() {
        let e = resolve(Service::Sts, &profile_in("us-gov-east-1"), &no_env());
        assert_eq!(e.url, "https://sts.us-gov-east-1.amazonaws.com");
        assert_eq!(e.signing_region, "us-gov-east-1");
    }

    #[test]
    fn iam_uses_one_global_endpoint_per_partition() {
        let cases = [
            (None, "https://iam.amazonaws.com", "us-east-1"),
            (
                Some("eu-central-1"),
                "https://iam.amazonaws.com",
                "us-east-1",
            ),
            (
                Some("cn-north-1"),
                "https://iam.cn-north-1.amazonaws.com.cn",
                "cn-north-1",
            ),
            (
                Some("cn-northwest-1"),
                "https://iam.cn-north-1.amazonaws.com.cn",
                "cn-north-1",
            ),
            (
                Some("us-gov-east-1"),
                "https://iam.us-gov.amazonaws.com",
                "us-gov-west-1",
            ),
        ];
        for (region, url, signing_region) in cases {
            let profile = ProfileEndpointSettings {
                region: region.map(str::to_owned),
                ..Default::default()
            };
            let e = resolve(Service::Iam, &profile, &no_env());
            assert_eq!(
                (e.url.as_str(), e.signing_region.as_str()),
                (url, signing_region),
                "{region:?}"
            );
        }
    }

    #[test]
    fn env_region_wins_over_profile_region() {
        let env = EndpointEnv::from_pairs([("AWS_DEFAULT_REGION", "ap-south-1")]);
        assert_eq!(
            resolve_region(&profile_in("eu-west-1"), &env).as_deref(),
            Some("ap-south-1")
        );
        let env = EndpointEnv::from_pairs([
            ("AWS_REGION", "sa-east-1"),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
        ]);
        assert_eq!(
            resolve_region(&profile_in("eu-west-1"), &env).as_deref(),
            Some("sa-east-1")
        );
    }

    /// A profile and environment that configure every override level, each with its own URL.
    fn every_level() -> (ProfileEndpointSettings, Vec<(&'static str, &'static str)>) {
        let profile = ProfileEndpointSettings {
            region: Some("eu-west-1".to_owned()),
            endpoint_url: Some("http://profile.example:1".to_owned()),
            service_endpoint_urls: [
                ("sts".to_owned(), "http://services-sts.example:2".to_owned()),
                ("iam".to_owned(), "http://services-iam.example:3".to_owned()),
            ]
            .into(),
            ..Default::default()
        };
        let env = vec![
            ("AWS_ENDPOINT_URL", "http://env.example:4"),
            ("AWS_ENDPOINT_URL_STS", "http://env-sts.example:5"),
            ("AWS_ENDPOINT_URL_IAM", "http://env-iam.example:6"),
        ];
        (profile, env)
    }

    #[test]
    fn service_env_var_wins_over_everything() {
        let (profile, env) = every_level();
        let env = EndpointEnv::from_pairs(env);
        let sts = resolve(Service::Sts, &profile, &env);
        assert_eq!(
            (sts.url.as_str(), sts.source),
            ("http://env-sts.example:5", EndpointSource::ServiceEnvVar)
        );
        let iam = resolve(Service::Iam, &profile, &env);
        assert_eq!(iam.url, "http://env-iam.example:6");
    }

    #[test]
    fn global_env_var_comes_second() {
        let (profile, env) = every_level();
        let env =
            EndpointEnv::from_pairs(env.into_iter().filter(|(k, _)| *k == "AWS_ENDPOINT_URL"));
        let e = resolve(Service::Sts, &profile, &env);
        assert_eq!(
            (e.url.as_str(), e.source),
            ("http://env.example:4", EndpointSource::GlobalEnvVar)
        );
    }

    #[test]
    fn services_section_comes_third() {
        let (profile, _) = every_level();
        let e = resolve(Service::Iam, &profile, &no_env());
        assert_eq!(
            (e.url.as_str(), e.source),
            (
                "http://services-iam.example:3",
                EndpointSource::ProfileServicesSection
            )
        );
    }

    #[test]
    fn profile_endpoint_url_comes_last() {
        let (mut profile, _) = every_level();
        profile.service_endpoint_urls.remove("sts");
        let e = resolve(Service::Sts, &profile, &no_env());
        assert_eq!(
            (e.url.as_str(), e.source),
            (
                "http://profile.example:1",
                EndpointSource::ProfileEndpointUrl
            )
        );
    }

    #[test]
    fn ignore_configured_endpoint_urls_env_restores_the_default() {
        let (profile, mut env) = every_level();
        env.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"));
        let e = resolve(Service::Sts, &profile, &EndpointEnv::from_pairs(env));
        assert_eq!(
            (e.url.as_str(), e.source),
            (
                "https://sts.eu-west-1.amazonaws.com",
                EndpointSource::Default
            )
        );
    }

    #[test]
    fn ignore_configured_endpoint_urls_in_profile_is_overridden_by_env_false() {
        let (mut profile, _) = every_level();
        profile.ignore_configured_endpoint_urls = Some(true);
        assert_eq!(
            resolve(Service::Iam, &profile, &no_env()).source,
            EndpointSource::Default
        );
        let env = EndpointEnv::from_pairs([("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false")]);
        assert_eq!(
            resolve(Service::Iam, &profile, &env).source,
            EndpointSource::ProfileServicesSection
        );
    }

    #[test]
    fn overridden_endpoint_keeps_the_signing_region_of_the_service() {
        let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]);
        let iam = resolve(Service::Iam, &profile_in("eu-west-1"), &env);
        assert_eq!(iam.signing_region, "us-east-1");
        let sts = resolve(Service::Sts, &profile_in("eu-west-1"), &env);
        assert_eq!(sts.signing_region, "eu-west-1");
    }

    #[test]
    fn blank_env_values_count_as_unset() {
        let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", "  "), ("AWS_REGION", "")]);
        let e = resolve(Service::Sts, &profile_in("eu-north-1"), &env);
        assert_eq!(e.url, "https://sts.eu-north-1.amazonaws.com");
    }

    #[test]
    fn a_malformed_configured_url_is_an_error_naming_its_source() {
        let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL", "localhost:5000")]);
        let err =
            resolve_endpoint(Service::Sts, &ProfileEndpointSettings::default(), &env).unwrap_err();
        assert!(err.to_string().contains("AWS_ENDPOINT_URL"), "{err}");
    }

    #[test]
    fn ca_bundle_env_wins_over_profile() {
        let profile = ProfileEndpointSettings {
            ca_bundle: Some("/p.pem".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_ca_bundle(&profile, &no_env()),
            Some(PathBuf::from("/p.pem"))
        );
        let env = EndpointEnv::from_pairs([("AWS_CA_BUNDLE", "/e.pem")]);
        assert_eq!(
            resolve_ca_bundle(&profile, &env),
            Some(PathBuf::from("/e.pem"))
        );
    }
}
