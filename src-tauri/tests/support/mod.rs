//! Driving the real keyrack window end to end: a private X server (Xvfb), `tauri-driver` with
//! `WebKitWebDriver`, and the app binary, all with a temporary HOME whose AWS files the test
//! writes and reads. Also the pinned Python tools of the engine's tests (botocore, the AWS CLI,
//! moto), shared with them.
#![allow(dead_code)]

pub mod desktop;

// Each test binary uses a part of these.
#[allow(unused_imports)]
pub use keyrack_test_support::{botocore_read, files_holding, keyring, moto, sts_mfa, venv_bin};

use std::path::Path;
use std::process::Command;

/// Run the pinned AWS CLI against `home`'s files and the stand-in at `endpoint`.
pub fn aws_cli(home: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new(venv_bin("aws"))
        .args(args)
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .expect("run the aws CLI")
}
