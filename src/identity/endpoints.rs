//! What a profile's settings say about reaching AWS (region, endpoint URLs, its `services`
//! section, CA bundle), gathered for [`crate::aws::resolve_endpoint`].

use crate::aws::ProfileEndpointSettings;
use crate::files::{Reading, Settings, Value};

/// The endpoint settings of a profile. The `[services NAME]` section it names gives the nested
/// `endpoint_url` of `sts` and `iam`.
pub fn endpoint_settings(reading: &Reading, settings: &Settings) -> ProfileEndpointSettings {
    let text = |key: &str| -> Option<String> {
        settings
            .get(key)
            .and_then(|s| s.value.as_text())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let services = text("services").and_then(|name| reading.services.get(&name));
    let service_endpoint_urls = services
        .into_iter()
        .flatten()
        .filter_map(|(service, setting)| match &setting.value {
            Value::Nested(nested) => nested
                .get("endpoint_url")
                .map(|url| (service.clone(), url.clone())),
            Value::Text(_) | Value::Secret(_) => None,
        })
        .collect();
    ProfileEndpointSettings {
        region: text("region"),
        endpoint_url: text("endpoint_url"),
        service_endpoint_urls,
        ca_bundle: text("ca_bundle").map(Into::into),
        ignore_configured_endpoint_urls: text("ignore_configured_endpoint_urls")
            .map(|v| v.eq_ignore_ascii_case("true")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{AwsFiles, Dialect};

    #[test]
    fn reads_region_urls_services_section_and_ca_bundle() {
        let config = "[profile dev]\nregion = eu-west-1\nendpoint_url = http://all:1\n\
                      services = local\nca_bundle = /etc/ca.pem\n\
                      ignore_configured_endpoint_urls = True\n\
                      [services local]\nsts =\n  endpoint_url = http://sts:2\n\
                      iam =\n  endpoint_url = http://iam:3\n";
        let files = AwsFiles::from_bytes(config.as_bytes(), b"");
        let reading = files.read(Dialect::Cli);
        let settings = endpoint_settings(&reading, &reading.profiles["dev"]);
        assert_eq!(settings.region.as_deref(), Some("eu-west-1"));
        assert_eq!(settings.endpoint_url.as_deref(), Some("http://all:1"));
        assert_eq!(settings.service_endpoint_urls["sts"], "http://sts:2");
        assert_eq!(settings.service_endpoint_urls["iam"], "http://iam:3");
        assert_eq!(settings.ca_bundle, Some("/etc/ca.pem".into()));
        assert_eq!(settings.ignore_configured_endpoint_urls, Some(true));
    }

    #[test]
    fn a_profile_without_settings_has_none() {
        let files = AwsFiles::from_bytes(b"[profile bare]\noutput = json\n", b"");
        let reading = files.read(Dialect::Cli);
        let settings = endpoint_settings(&reading, &reading.profiles["bare"]);
        assert_eq!(settings, ProfileEndpointSettings::default());
    }
}
