//! A strict stand-in for STS's checking of MFA codes, which moto does not do: a loopback proxy
//! in front of moto that answers an AssumeRole or GetSessionToken carrying an MFA device or code
//! exactly as STS does when the device is unknown, one of serial and code is missing, or the code
//! is wrong or was used before (each code works once), and forwards every other request to moto
//! unchanged (its signature stays valid). The messages are STS's own (see the AWS CLI and SDK
//! issue threads quoted in `../shared/notes/mfa-sso.md`).

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock_proxy::read_head;

#[derive(Default)]
struct Device {
    /// The code the device shows now.
    current: String,
    /// Codes STS accepted once: never again.
    used: HashSet<String>,
    accepted: usize,
}

/// The proxy; it stops when dropped.
pub struct MfaSts {
    /// `http://127.0.0.1:PORT`, to use as the endpoint URL.
    pub url: String,
    devices: Arc<Mutex<HashMap<String, Device>>>,
    stop: Arc<AtomicBool>,
}

impl MfaSts {
    /// In front of the server at `target` (`http://HOST:PORT`).
    pub fn start(target: &str) -> MfaSts {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the MFA stand-in");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let devices: Arc<Mutex<HashMap<String, Device>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (devices.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (target, devices) = (target.clone(), seen.clone());
                        std::thread::spawn(move || relay(client, &target, &devices));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        MfaSts { url, devices, stop }
    }

    /// A device `serial` that shows `code` now.
    pub fn show(&self, serial: &str, code: &str) {
        let mut devices = self.devices.lock().unwrap();
        devices.entry(serial.to_owned()).or_default().current = code.to_owned();
    }

    /// How many codes of `serial` STS accepted.
    pub fn accepted(&self, serial: &str) -> usize {
        self.devices
            .lock()
            .unwrap()
            .get(serial)
            .map_or(0, |d| d.accepted)
    }
}

impl Drop for MfaSts {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// STS's refusal of an MFA check, or `None` to let the request through.
fn refusal(
    body: &[u8],
    devices: &Mutex<HashMap<String, Device>>,
) -> Option<(u16, &'static str, String)> {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let action = form.get("Action").map(String::as_str);
    if !matches!(action, Some("AssumeRole" | "GetSessionToken")) {
        return None;
    }
    let (serial, code) = (form.get("SerialNumber"), form.get("TokenCode"));
    let denied = |message: &str| Some((403, "AccessDenied", message.to_owned()));
    match (serial, code) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => denied(
            "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.",
        ),
        (Some(serial), Some(code)) => {
            let broken = if code.len() > 6 {
                Some("Member must have length less than or equal to 6")
            } else if code.len() < 6 {
                Some("Member must have length greater than or equal to 6")
            } else if !code.bytes().all(|b| b.is_ascii_digit()) {
                Some("Member must satisfy regular expression pattern: [\\d]*")
            } else {
                None
            };
            if let Some(constraint) = broken {
                let message = format!(
                    "1 validation error detected: Value '{code}' at 'tokenCode' failed to satisfy constraint: {constraint}"
                );
                return Some((400, "ValidationError", message));
            }
            let mut devices = devices.lock().unwrap();
            let Some(device) = devices.get_mut(serial) else {
                return denied(
                    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.",
                );
            };
            if *code != device.current || device.used.contains(code) {
                return denied("MultiFactorAuthentication failed with invalid MFA one time pass code. ");
            }
            device.used.insert(code.clone());
            device.accepted += 1;
            None
        }
    }
}

fn relay(client: TcpStream, target: &str, devices: &Mutex<HashMap<String, Device>>) {
    client.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let (head, length) = read_head(&mut reader, None);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let mut client = client;
    if let Some((status, code, message)) = refusal(&body, devices) {
        let reason = if status == 403 {
            "Forbidden"
        } else {
            "Bad Request"
        };
        let xml = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        );
        let answer = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
            xml.len()
        );
        let _ = client.write_all(answer.as_bytes());
        return;
    }
    let mut upstream =
        TcpStream::connect(target).expect("connect to the server behind the stand-in");
    upstream.write_all(&head).unwrap();
    upstream.write_all(&body).unwrap();
    let mut answer = BufReader::new(upstream);
    let (head, _) = read_head(&mut answer, None);
    let mut rest = Vec::new();
    answer.read_to_end(&mut rest).unwrap();
    client.write_all(&head).unwrap();
    client.write_all(&rest).unwrap();
    let _ = client.flush();
}
