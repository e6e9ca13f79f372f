//! keyrack: read and edit the AWS shared config and credentials files exactly as the AWS tools
//! read them, without ever losing a byte; and talk to AWS STS and IAM about the keys in them.

pub mod files;
pub mod aws;
pub mod identity;
pub mod access_keys;
pub mod profiles;
pub mod changes;
pub mod keychain;
pub mod vault;
pub mod rotation;
pub mod crash_dumps;
pub mod huge_pages;
pub mod state;
