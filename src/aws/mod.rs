//! Calls to AWS (STS and IAM signed; IAM Identity Center's portal and OIDC unsigned): endpoints,
//! the HTTP client, typed calls and their errors.

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod iam;
pub mod key_id;
pub mod region;
pub mod sso;
pub mod sso_oidc;
pub mod sts;
mod xml;

pub use client::{AwsClient, ClientSettings, RetryPolicy};
pub use credentials::Credentials;
pub use endpoint::{
    resolve_ca_bundle, resolve_endpoint, resolve_region, resolve_region_source, Endpoint,
    EndpointEnv, EndpointError, EndpointSource, Partition, ProfileEndpointSettings, RegionSource,
    Service,
};
pub use error::AwsError;
pub use iam::{AccessKeyLastUsed, AccessKeyMetadata, AccessKeyStatus};
pub use region::{is_valid_region_name, region_name_fix};
pub use sts::{AssumedRole, CallerIdentity, RoleRequest};
