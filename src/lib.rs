//! keyrack: read and edit the AWS shared config and credentials files exactly as the AWS tools
//! read them, without ever losing a byte; and talk to AWS STS and IAM about the keys in them.

pub mod access_keys;
pub mod aws;
pub mod changes;
pub mod crash_dumps;
pub mod files;
pub mod huge_pages;
pub mod identity;
pub mod keychain;
pub mod profiles;
pub mod rotation;
pub mod secret;
pub mod state;
pub mod vault;
