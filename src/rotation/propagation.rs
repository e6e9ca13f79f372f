//! Waiting out IAM's propagation delay: calls signed with a new key are retried until a deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::AwsError;

use super::PropagationWait;

/// Why a call never went through before the deadline.
#[derive(Debug)]
pub(super) enum WaitFailure {
    /// AWS kept refusing the key: it does not know it (yet).
    Refused { error: AwsError, waited: Duration },
    /// AWS could not be reached, or kept failing on its side.
    Unreachable { error: AwsError, waited: Duration },
    /// A failure that waiting does not cure.
    Failed(AwsError),
}

impl WaitFailure {
    pub(super) fn into_error(self) -> AwsError {
        match self {
            WaitFailure::Refused { error, .. }
            | WaitFailure::Unreachable { error, .. }
            | WaitFailure::Failed(error) => error,
        }
    }
}

/// AWS's answers while a new key is still spreading through IAM.
pub(super) fn is_refusal(error: &AwsError) -> bool {
    matches!(
        error,
        AwsError::UnknownAccessKey { .. } | AwsError::WrongSecret { .. }
    )
}

/// Calls `call` until it succeeds, retrying refusals and transient failures with a doubling
/// pause until `wait.timeout` has passed. `on_retry(attempt, pause, error)` is told before each
/// pause.
pub(super) async fn until_accepted<T, Fut>(
    wait: &PropagationWait,
    mut call: impl FnMut() -> Fut,
    mut on_retry: impl FnMut(u32, Duration, &AwsError),
) -> Result<T, WaitFailure>
where
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let deadline = start + wait.timeout;
    let mut pause = wait.first_delay;
    let mut attempt = 1;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let refused = is_refusal(&error);
        if !refused && !error.is_transient() {
            return Err(WaitFailure::Failed(error));
        }
        let now = Instant::now();
        if now >= deadline {
            let waited = now - start;
            return Err(if refused {
                WaitFailure::Refused { error, waited }
            } else {
                WaitFailure::Unreachable { error, waited }
            });
        }
        let this_pause = pause.min(deadline - now);
        on_retry(attempt, this_pause, &error);
        tokio::time::sleep(this_pause).await;
        pause = pause.saturating_mul(2).min(wait.max_delay);
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn wait(timeout_ms: u64) -> PropagationWait {
        PropagationWait {
            timeout: Duration::from_millis(timeout_ms),
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        }
    }

    fn refused() -> AwsError {
        AwsError::UnknownAccessKey {
            access_key_id: "AKIANEW".into(),
        }
    }

    #[tokio::test]
    async fn a_refused_key_is_tried_again_until_it_is_accepted() {
        let calls = Cell::new(0);
        let mut pauses = Vec::new();
        let result = until_accepted(
            &wait(2_000),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 4 {
                        Err(refused())
                    } else {
                        Ok(n)
                    }
                }
            },
            |attempt, pause, _| pauses.push((attempt, pause.as_millis())),
        )
        .await;
        assert_eq!(result.unwrap(), 4);
        assert_eq!(pauses, [(1, 5), (2, 10), (3, 20)]);
    }

    #[tokio::test]
    async fn a_key_refused_past_the_deadline_is_reported_as_refused() {
        let result: Result<(), _> =
            until_accepted(&wait(60), || async { Err(refused()) }, |_, _, _| {}).await;
        match result {
            Err(WaitFailure::Refused { waited, .. }) => {
                assert!(waited >= Duration::from_millis(60))
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_network_failure_past_the_deadline_is_not_a_refusal() {
        let down = || async {
            Err::<(), _>(AwsError::Timeout {
                endpoint: "x".into(),
            })
        };
        let result = until_accepted(&wait(30), down, |_, _, _| {}).await;
        assert!(
            matches!(result, Err(WaitFailure::Unreachable { .. })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn other_failures_are_not_waited_for() {
        let calls = Cell::new(0);
        let denied = || {
            calls.set(calls.get() + 1);
            async {
                Err::<(), _>(AwsError::AccessDenied {
                    code: "AccessDenied".into(),
                    message: "no".into(),
                })
            }
        };
        let result = until_accepted(&wait(1_000), denied, |_, _, _| {}).await;
        assert!(matches!(result, Err(WaitFailure::Failed(_))));
        assert_eq!(calls.get(), 1);
    }
}
