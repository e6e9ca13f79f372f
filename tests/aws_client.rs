//! The AWS client against a real moto server that checks every signature, as AWS does.
//!
//! Each test starts its own `moto_server` from the venv that `tests/tools/setup.sh` builds
//! (`$KEYRACK_VENV`, default `~/.cache/keyrack/venv`), creates users and keys while moto still
//! lets requests through unchecked, then turns checking on.

use keyrack_test_support as support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use support::moto::{free_port, MotoServer, ACCOUNT};

use keyrack::aws::{
    iam, resolve_endpoint, sts, AccessKeyStatus, AwsClient, AwsError, ClientSettings, Credentials,
    Endpoint, EndpointEnv, ProfileEndpointSettings, RetryPolicy, RoleRequest, Service,
};
use keyrack::secret::Secret;

fn client() -> AwsClient {
    let retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    AwsClient::new(ClientSettings {
        retry,
        ..ClientSettings::default()
    })
    .unwrap()
}

/// A moto server with user `alice` (one access key, IAM and sts:AssumeRole allowed), user `bob`
/// (one key, no permissions) and role `deployer` that trusts alice; checking is on.
struct World {
    moto: MotoServer,
    client: AwsClient,
    iam: Endpoint,
    sts: Endpoint,
    alice: Credentials,
    bob: Credentials,
}

const ALICE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["iam:*","sts:AssumeRole"],"Resource":"*"}]}"#;

fn role_trust_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/alice"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

const DEPLOYER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;

impl World {
    async fn new() -> World {
        let moto = MotoServer::start();
        let client = client();
        let iam = moto.endpoint(Service::Iam);
        let sts = moto.endpoint(Service::Sts);
        for user in ["alice", "bob"] {
            moto.set_up("CreateUser", &[("UserName", user)]).await;
        }
        let params = [
            ("UserName", "alice"),
            ("PolicyName", "keys"),
            ("PolicyDocument", ALICE_POLICY),
        ];
        moto.set_up("PutUserPolicy", &params).await;
        let trust = role_trust_policy();
        let params = [
            ("RoleName", "deployer"),
            ("AssumeRolePolicyDocument", trust.as_str()),
        ];
        moto.set_up("CreateRole", &params).await;
        let params = [
            ("RoleName", "deployer"),
            ("PolicyName", "list"),
            ("PolicyDocument", DEPLOYER_POLICY),
        ];
        moto.set_up("PutRolePolicy", &params).await;
        let alice = moto.set_up_key("alice").await;
        let bob = moto.set_up_key("bob").await;
        moto.enable_auth().await;
        World {
            alice,
            bob,
            moto,
            client,
            iam,
            sts,
        }
    }
}

/// The error's Display and Debug hold none of the given secrets.
fn assert_no_secret(error: &AwsError, credentials: &[&Credentials]) {
    let secrets: Vec<&str> = credentials
        .iter()
        .flat_map(|c| std::iter::once(&c.secret_access_key).chain(c.session_token.as_ref()))
        .map(|s| s.expose())
        .collect();
    support::assert_no_secret_in(&format!("{error} {error:?}"), &secrets);
}

#[tokio::test]
async fn caller_identity_names_the_user_and_account() {
    let w = World::new().await;
    let identity = sts::get_caller_identity(&w.client, &w.sts, &w.alice)
        .await
        .unwrap();
    assert_eq!(identity.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(identity.account, ACCOUNT);
    assert!(!identity.user_id.is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_reported_as_wrong_secret_without_showing_it() {
    let w = World::new().await;
    let wrong = Credentials::new(w.alice.access_key_id.clone(), "x".repeat(40), None);
    let err = sts::get_caller_identity(&w.client, &w.sts, &wrong)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AwsError::WrongSecret {
            access_key_id: w.alice.access_key_id.clone()
        }
    );
    assert_no_secret(&err, &[&wrong, &w.alice]);
}

#[tokio::test]
async fn an_unknown_key_id_is_reported_as_unknown_key() {
    let w = World::new().await;
    let unknown = Credentials::new(
        "AKIAUNKNOWNUNKNOWN00",
        w.alice.secret_access_key.clone(),
        None,
    );
    let err = sts::get_caller_identity(&w.client, &w.sts, &unknown)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AwsError::UnknownAccessKey {
            access_key_id: "AKIAUNKNOWNUNKNOWN00".into()
        }
    );
    assert_no_secret(&err, &[&unknown]);
}

#[tokio::test]
async fn a_user_without_permission_is_denied_in_plain_words() {
    let w = World::new().await;
    let err = iam::list_access_keys(&w.client, &w.iam, &w.bob, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::AccessDenied { .. }), "{err:?}");
    assert_no_secret(&err, &[&w.bob]);
}

#[tokio::test]
async fn list_access_keys_shows_the_callers_active_key() {
    let w = World::new().await;
    let keys = iam::list_access_keys(&w.client, &w.iam, &w.alice, None)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].access_key_id, w.alice.access_key_id);
    assert_eq!(keys[0].status, AccessKeyStatus::Active);
    assert_eq!(keys[0].user_name, "alice");
    let bobs = iam::list_access_keys(&w.client, &w.iam, &w.alice, Some("bob"))
        .await
        .unwrap();
    assert_eq!(
        bobs.iter()
            .map(|k| k.access_key_id.as_str())
            .collect::<Vec<_>>(),
        [w.bob.access_key_id.as_str()]
    );
}

#[tokio::test]
async fn a_created_key_works_and_is_listed() {
    let w = World::new().await;
    let (key, secret) = iam::create_access_key(&w.client, &w.iam, &w.alice, None)
        .await
        .unwrap();
    assert_eq!(
        (key.user_name.as_str(), key.status),
        ("alice", AccessKeyStatus::Active)
    );
    assert_eq!(secret.expose().len(), 40);
    let new = Credentials::new(key.access_key_id.clone(), secret, None);
    let identity = sts::get_caller_identity(&w.client, &w.sts, &new)
        .await
        .unwrap();
    assert_eq!(identity.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    let keys = iam::list_access_keys(&w.client, &w.iam, &new, None)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.access_key_id == key.access_key_id));
}

#[tokio::test]
async fn update_access_key_deactivates_and_reactivates() {
    let w = World::new().await;
    let bob_key = w.bob.access_key_id.as_str();
    iam::update_access_key(
        &w.client,
        &w.iam,
        &w.alice,
        bob_key,
        AccessKeyStatus::Inactive,
        Some("bob"),
    )
    .await
    .unwrap();
    let keys = iam::list_access_keys(&w.client, &w.iam, &w.alice, Some("bob"))
        .await
        .unwrap();
    assert_eq!(keys[0].status, AccessKeyStatus::Inactive);
    iam::update_access_key(
        &w.client,
        &w.iam,
        &w.alice,
        bob_key,
        AccessKeyStatus::Active,
        Some("bob"),
    )
    .await
    .unwrap();
    let keys = iam::list_access_keys(&w.client, &w.iam, &w.alice, Some("bob"))
        .await
        .unwrap();
    assert_eq!(keys[0].status, AccessKeyStatus::Active);
}

#[tokio::test]
async fn a_deleted_key_is_gone_and_then_unknown_to_aws() {
    let w = World::new().await;
    iam::delete_access_key(
        &w.client,
        &w.iam,
        &w.alice,
        &w.bob.access_key_id,
        Some("bob"),
    )
    .await
    .unwrap();
    let keys = iam::list_access_keys(&w.client, &w.iam, &w.alice, Some("bob"))
        .await
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
    let err = sts::get_caller_identity(&w.client, &w.sts, &w.bob)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::UnknownAccessKey { .. }), "{err:?}");
}

#[tokio::test]
async fn deleting_an_unknown_key_is_a_no_such_entity_service_error() {
    let w = World::new().await;
    let err = iam::delete_access_key(&w.client, &w.iam, &w.alice, "AKIAUNKNOWNUNKNOWN00", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Service { code, status: 404, .. } if code == "NoSuchEntity"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_third_key_exceeds_the_limit_of_two() {
    let w = World::new().await;
    iam::create_access_key(&w.client, &w.iam, &w.alice, None)
        .await
        .unwrap();
    let err = iam::create_access_key(&w.client, &w.iam, &w.alice, None)
        .await
        .unwrap_err();
    match &err {
        AwsError::Service {
            code,
            message,
            status,
        } => {
            assert_eq!((code.as_str(), *status), ("LimitExceeded", 409));
            assert!(message.contains("AccessKeysPerUser"), "{message}");
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    assert_no_secret(&err, &[&w.alice]);
}

#[tokio::test]
async fn last_used_names_the_owner_of_a_key() {
    let w = World::new().await;
    let used = iam::get_access_key_last_used(&w.client, &w.iam, &w.alice, &w.bob.access_key_id)
        .await
        .unwrap();
    assert_eq!(used.user_name, "bob");
}

#[tokio::test]
async fn assume_role_gives_temporary_credentials_that_work() {
    let w = World::new().await;
    let request = RoleRequest {
        role_arn: &format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
        session_name: "keyrack-test",
        external_id: Some("ext-1"),
        duration_seconds: Some(900),
        mfa: None,
    };
    let role = sts::assume_role(&w.client, &w.sts, &w.alice, &request)
        .await
        .unwrap();
    assert_eq!(
        role.assumed_role_arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/keyrack-test")
    );
    assert!(role.credentials.session_token.is_some());
    assert!(role.expiration > time::OffsetDateTime::now_utc());
    let identity = sts::get_caller_identity(&w.client, &w.sts, &role.credentials)
        .await
        .unwrap();
    assert_eq!(identity.arn, role.assumed_role_arn);
    // The session's own permissions are the role's, checked with its session token.
    let err = iam::list_access_keys(&w.client, &w.iam, &role.credentials, Some("alice"))
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::AccessDenied { .. }), "{err:?}");
    let debug = format!("{role:?}");
    assert!(!debug.contains(role.credentials.secret_access_key.expose()));
}

#[tokio::test]
async fn a_session_token_that_does_not_match_is_rejected() {
    let w = World::new().await;
    let request = RoleRequest {
        role_arn: &format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
        session_name: "s",
        ..RoleRequest::default()
    };
    let role = sts::assume_role(&w.client, &w.sts, &w.alice, &request)
        .await
        .unwrap();
    let mut forged = role.credentials.clone();
    forged.session_token = Some(Secret::new("forged-token"));
    let err = sts::get_caller_identity(&w.client, &w.sts, &forged)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::UnknownAccessKey { .. }), "{err:?}");
    assert_no_secret(&err, &[&role.credentials, &forged]);
}

#[tokio::test]
async fn a_non_xml_server_error_is_a_typed_unexpected_answer() {
    let w = World::new().await;
    // moto answers an unknown action with an HTML 500 page.
    let err = w
        .client
        .call(&w.iam, "NoSuchAction", &[], &w.alice)
        .await
        .unwrap_err();
    match &err {
        AwsError::UnexpectedAnswer {
            status: 500,
            endpoint,
            ..
        } => assert_eq!(endpoint, &w.moto.url),
        other => panic!("expected UnexpectedAnswer, got {other:?}"),
    }
    assert_no_secret(&err, &[&w.alice]);
}

fn endpoint_at(url: String) -> Endpoint {
    let env = EndpointEnv::from_pairs([("AWS_ENDPOINT_URL_STS", url)]);
    resolve_endpoint(Service::Sts, &ProfileEndpointSettings::default(), &env).unwrap()
}

fn some_credentials() -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
    )
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let endpoint = endpoint_at(format!("http://127.0.0.1:{}", free_port()));
    let creds = some_credentials();
    let err = sts::get_caller_identity(&client(), &endpoint, &creds)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Unreachable { .. }), "{err:?}");
    assert_no_secret(&err, &[&creds]);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = endpoint_at(format!("http://{}", listener.local_addr().unwrap()));
    let settings = ClientSettings {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientSettings::default()
    };
    let started = Instant::now();
    let err = sts::get_caller_identity(
        &AwsClient::new(settings).unwrap(),
        &endpoint,
        &some_credentials(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AwsError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(listener);
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    let moto = MotoServer::start();
    let endpoint = endpoint_at(moto.url.replace("http://", "https://"));
    let err = sts::get_caller_identity(&client(), &endpoint, &some_credentials())
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Tls { .. }), "{err:?}");
}
