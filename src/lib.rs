//! keyrack: read and edit the AWS shared config and credentials files exactly as the AWS tools
//! read them, without ever losing a byte; and talk to AWS STS and IAM about the keys in them.

pub mod aws;
pub mod browser;
pub mod changes;
pub mod files;
pub mod hardening;
pub mod hex;
pub mod identity;
pub mod key_file;
pub mod keychain;
pub mod profiles;
pub mod rack;
pub mod rotation;
pub mod secret;
pub mod settings;
pub mod sso_profiles;
pub mod state;
pub mod vocabulary;

pub use rack::{Error, Rack};
