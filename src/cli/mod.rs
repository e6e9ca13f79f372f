//! The command line's subcommands that talk to AWS or the keychain: each module parses nothing
//! itself (clap does, in main.rs) and turns an engine result into text or JSON.
pub mod arguments;
pub mod credential_process;
pub mod keys;
pub mod rotate;
pub mod secret_input;
pub mod vault;
pub mod whoami;
