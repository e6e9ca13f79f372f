//! A loopback HTTP proxy in front of a server (moto) that shifts the `Date` header of every
//! answer, as if AWS's clock and this computer's were that far apart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

/// Listens on a free loopback port until dropped; each connection carries one request.
pub struct ClockProxy {
    /// `http://127.0.0.1:PORT`, to use as the endpoint URL.
    pub url: String,
    stop: Arc<AtomicBool>,
    /// The `Action` of each request relayed, in order of arrival.
    actions: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ClockProxy {
    /// Forwards to `target` (`http://HOST:PORT`); answers get a `Date` of now + `shift_seconds`.
    pub fn start(target: &str, shift_seconds: i64) -> ClockProxy {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the clock proxy");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let actions = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = actions.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (target, seen) = (target.clone(), seen.clone());
                        std::thread::spawn(move || relay(client, &target, shift_seconds, &seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        ClockProxy { url, stop, actions }
    }

    /// How many requests asked for `action` (`ListAccessKeys`...) so far.
    pub fn count(&self, action: &str) -> usize {
        self.actions
            .lock()
            .unwrap()
            .iter()
            .filter(|a| *a == action)
            .count()
    }
}

impl Drop for ClockProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One request to `target` and its answer back, with the answer's `Date` shifted and the
/// connection closed after it.
fn relay(
    client: TcpStream,
    target: &str,
    shift_seconds: i64,
    actions: &std::sync::Mutex<Vec<String>>,
) {
    client.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let (head, length) = read_head(&mut reader, None);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let action = String::from_utf8_lossy(&body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action=").map(str::to_owned))
        .unwrap_or_default();
    actions.lock().unwrap().push(action);
    let mut upstream = TcpStream::connect(target).expect("connect to the server behind the proxy");
    upstream.write_all(&head).unwrap();
    upstream.write_all(&body).unwrap();

    // The server closes the connection after its answer (it was asked to).
    let mut answer = BufReader::new(upstream);
    let (head, _) = read_head(&mut answer, Some(&http_date(shift_seconds)));
    let mut body = Vec::new();
    answer.read_to_end(&mut body).unwrap();
    let mut client = client;
    client.write_all(&head).unwrap();
    client.write_all(&body).unwrap();
    let _ = client.flush();
}

/// The head of a request or answer, with `Connection: close` and, when given, this `Date`
/// instead of theirs; and its Content-Length.
pub(crate) fn read_head(reader: &mut impl BufRead, date: Option<&str>) -> (Vec<u8>, usize) {
    let mut head = Vec::new();
    let mut length = 0;
    let mut first = true;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if first {
            head.extend_from_slice(line.as_bytes());
            first = false;
            continue;
        }
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if name == "content-length" {
            length = line.split(':').nth(1).unwrap().trim().parse().unwrap();
        }
        if name == "connection" || (name == "date" && date.is_some()) {
            continue;
        }
        head.extend_from_slice(line.as_bytes());
    }
    if let Some(date) = date {
        head.extend_from_slice(format!("date: {date}\r\n").as_bytes());
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    (head, length)
}

/// Now + `shift_seconds` as an HTTP date (`Tue, 01 Dec 2026 08:23:24 GMT`).
fn http_date(shift_seconds: i64) -> String {
    let format = time::format_description::parse_borrowed::<1>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .unwrap();
    (OffsetDateTime::now_utc() + time::Duration::seconds(shift_seconds))
        .format(&format)
        .unwrap()
}
