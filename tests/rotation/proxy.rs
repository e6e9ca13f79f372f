//! A loopback HTTP proxy between keyrack and moto that injects faults: it drops the k-th request
//! before or after moto handled it, or holds it (moto acted, no answer comes) so that the test
//! can kill the rotation there; and it refuses requests signed with a new key for a while after
//! CreateAccessKey, as IAM does while a new key spreads. One request per connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// What happens to the k-th request (counted from 1, every request through the proxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// The connection is closed before the request reaches moto.
    DropBefore(usize),
    /// moto handles the request; the connection is closed before the answer is sent.
    DropAfter(usize),
    /// moto handles the request; the answer never comes, and [`Proxy::held`] wakes up.
    HoldAfter(usize),
}

struct State {
    fault: Fault,
    count: usize,
    actions: Vec<String>,
    /// The access key id that signed each request, in order.
    signers: Vec<String>,
    refuse_new_keys_for: Option<Duration>,
    /// New key ids (from CreateAccessKey answers) and when they were created.
    new_keys: Vec<(String, Instant)>,
    /// The secrets of those keys, for "no secret left on disk" checks.
    new_secrets: Vec<String>,
    /// Keys refused as real AWS refuses an Inactive key (moto accepts them).
    refused_signers: Vec<String>,
    refused: usize,
}

pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    held: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: &str, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let state = Arc::new(Mutex::new(State {
            fault,
            count: 0,
            actions: Vec::new(),
            signers: Vec::new(),
            refuse_new_keys_for: None,
            new_keys: Vec::new(),
            new_secrets: Vec::new(),
            refused_signers: Vec::new(),
            refused: 0,
        }));
        let held = Arc::new(Notify::new());
        let (task_state, task_held) = (state.clone(), held.clone());
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                while connections.try_join_next().is_some() {}
                connections.spawn(serve(
                    client,
                    upstream.clone(),
                    task_state.clone(),
                    task_held.clone(),
                ));
            }
        });
        Proxy {
            url,
            state,
            held,
            task,
        }
    }

    /// From now on, a request signed with a key created through this proxy is refused
    /// (403 InvalidClientTokenId) until `delay` after its creation.
    pub fn refuse_new_keys_for(&self, delay: Duration) {
        self.state.lock().unwrap().refuse_new_keys_for = Some(delay);
    }

    /// The Action of each request seen, in order.
    pub fn actions(&self) -> Vec<String> {
        self.state.lock().unwrap().actions.clone()
    }

    /// The access key id that signed each request, in order.
    pub fn signers(&self) -> Vec<String> {
        self.state.lock().unwrap().signers.clone()
    }

    /// From now on, a request signed with `key_id` is refused (403 InvalidClientTokenId), as
    /// AWS refuses an Inactive key; moto would accept it.
    pub fn refuse_signer(&self, key_id: &str) {
        self.state
            .lock()
            .unwrap()
            .refused_signers
            .push(key_id.to_owned());
    }

    /// The secret of every key created through this proxy.
    pub fn created_secrets(&self) -> Vec<String> {
        self.state.lock().unwrap().new_secrets.clone()
    }

    /// How many requests were refused for a new key.
    pub fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    /// Waits until the request chosen by [`Fault::HoldAfter`] reached moto and is being held.
    pub async fn held(&self) {
        self.held.notified().await
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: String,
    state: Arc<Mutex<State>>,
    held: Arc<Notify>,
) {
    let Some(request) = read_request(&mut client).await else {
        return;
    };
    let text = String::from_utf8_lossy(&request).into_owned();
    let action = text
        .split("Action=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap_or("?")
        .to_owned();
    let key_id = text
        .split("Credential=")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
        .to_owned();
    let (number, fault, refuse) = {
        let mut state = state.lock().unwrap();
        state.count += 1;
        state.actions.push(action.clone());
        state.signers.push(key_id.clone());
        let refuse = state.refused_signers.contains(&key_id)
            || state.refuse_new_keys_for.is_some_and(|delay| {
                state
                    .new_keys
                    .iter()
                    .any(|(id, created)| *id == key_id && created.elapsed() < delay)
            });
        if refuse {
            state.refused += 1;
        }
        (state.count, state.fault, refuse)
    };
    if refuse {
        let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
                    <Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security \
                    token included in the request is invalid.</Message></Error>\
                    <RequestId>proxy</RequestId></ErrorResponse>";
        let answer = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = client.write_all(answer.as_bytes()).await;
        return;
    }
    if fault == Fault::DropBefore(number) {
        return;
    }
    let Some(answer) = forward(&upstream, &request).await else {
        return;
    };
    if action == "CreateAccessKey" {
        let answer_text = String::from_utf8_lossy(&answer);
        if let Some(id) = answer_text
            .split("<AccessKeyId>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
        {
            let mut state = state.lock().unwrap();
            state.new_keys.push((id.to_owned(), Instant::now()));
            if let Some(secret) = answer_text
                .split("<SecretAccessKey>")
                .nth(1)
                .and_then(|rest| rest.split('<').next())
            {
                state.new_secrets.push(secret.to_owned());
            }
        }
    }
    match fault {
        Fault::DropAfter(n) if n == number => {}
        Fault::HoldAfter(n) if n == number => {
            held.notify_one();
            std::future::pending::<()>().await;
        }
        _ => {
            let _ = client.write_all(&answer).await;
            let _ = client.shutdown().await;
        }
    }
}

/// One HTTP request: the head up to the blank line, then Content-Length bytes of body.
async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(end) = find(&data, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(data);
            }
        }
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
    }
}

/// Sends the request to moto as it is (the signed Host header included), asking moto to close
/// the connection after answering, and returns the whole answer, marked to close as well.
async fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.write_all(&closing(request)).await.ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await.ok()?;
    Some(closing(&answer))
}

/// The message with its `Connection` header replaced by `Connection: close`.
fn closing(message: &[u8]) -> Vec<u8> {
    let Some(end) = find(message, b"\r\n\r\n") else {
        return message.to_vec();
    };
    let head = String::from_utf8_lossy(&message[..end]);
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(&message[end..]);
    out
}

fn find(data: &[u8], needle: &[u8]) -> Option<usize> {
    data.windows(needle.len()).position(|w| w == needle)
}
