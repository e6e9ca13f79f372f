//! keyrack: read and edit the AWS shared config and credentials files exactly as the AWS tools
//! read them, without ever losing a byte.

pub mod files;
#[cfg(feature = "aws-wip")]
pub mod aws;
