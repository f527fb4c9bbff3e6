//! The README's run command, black-box: the `roster-local` binary on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path, port: u16) -> Result<Server, String> {
    start_with(data_dir, port, &[])
}

fn start_with(data_dir: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Result<Server, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster-local"))
        .env("ROSTER_DATA_DIR", data_dir)
        .env("ROSTER_PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn roster-local");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(url) = line.strip_prefix("Roster is listening on ") {
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return Ok(Server {
                child,
                url: url.trim().to_string(),
            });
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    Err(format!("{status}: {err}"))
}

async fn post(url: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_local_server_serves_every_group_keeps_its_data_and_refuses_a_busy_port() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 0).expect("server starts");
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
    let regions: Value = reqwest::get(format!("{}/user/regionlist", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(regions["result"].as_array().unwrap().len() >= 240);

    let phone = json!({"region": 1, "phone": "2015550142"});
    assert_eq!(
        post(&format!("{}/user/send_code", server.url), phone.clone()).await["code"],
        200
    );
    let outbox: Value = reqwest::get(format!("{}/_local/outbox", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = outbox["result"][0]["text"].as_str().unwrap().to_string();
    let code: String = text.chars().filter(|c| c.is_ascii_digit()).collect();

    // A second server on the same port fails with a clear message, not a panic.
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let err = start(dir.path(), port).err().expect("second server must not start");
    assert!(err.contains("already in use"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // The data folder survives a restart: the code sent before still verifies.
    drop(server);
    let server = start(dir.path(), 0).expect("server restarts");
    let mut body = phone.clone();
    body["code"] = json!(code);
    let res = post(&format!("{}/user/verify_code", server.url), body).await;
    assert_eq!(res["code"], 200, "{res}");
}

#[test]
fn a_bad_setting_stops_start_up_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_roster-local"))
        .env("ROSTER_STORE", "postgres")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ROSTER_STORE"), "{err}");
}

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection; what it sent, and whether it closed
/// within `limit`.
fn read_to_close(stream: &mut std::net::TcpStream, limit: std::time::Duration) -> (String, bool) {
    use std::io::Read;
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = vec![];
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&got).into_owned(), true)
            }
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), 0, &[("ROSTER_HEADER_TIMEOUT_SECS", "1")]).expect("server starts");
    let mut slow = std::net::TcpStream::connect(address(&server)).unwrap();
    slow.write_all(b"GET /user/regionlist HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let (_, closed) = read_to_close(&mut slow, std::time::Duration::from_secs(15));
    assert!(closed, "the connection stayed open");
}

#[test]
fn a_body_that_never_arrives_is_answered_with_json_in_time() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), 0, &[("ROSTER_REQUEST_TIMEOUT_SECS", "1")]).expect("server starts");
    let mut slow = std::net::TcpStream::connect(address(&server)).unwrap();
    slow.write_all(
        b"POST /user/send_code HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"region\":",
    )
    .unwrap();
    let (answer, closed) = read_to_close(&mut slow, std::time::Duration::from_secs(15));
    assert!(closed, "no answer: {answer}");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let json: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {answer}"));
    assert_eq!(json["code"], 503);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_the_server_exits() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), 0).expect("server starts");
    let mut client = std::net::TcpStream::connect(address(&server)).unwrap();
    let body = br#"{"region": 1, "phone": "2015550143"}"#;
    let head = format!(
        "POST /user/check_phone_available HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The request is in flight (headers and half the body sent) when SIGTERM arrives.
    client.write_all(head.as_bytes()).unwrap();
    client.write_all(&body[..10]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    client.write_all(&body[10..]).unwrap();
    let (answer, _) = read_to_close(&mut client, std::time::Duration::from_secs(15));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""result":true"#), "{answer}");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
    // A new connection is refused: the server is gone.
    assert!(std::net::TcpStream::connect(address(&server)).is_err());
}

#[test]
fn requests_the_http_library_cannot_parse_are_answered_in_json_too() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 0).expect("server starts");
    let huge = format!(
        "GET /user/regionlist HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(600_000)
    );
    for (raw, status) in [
        (
            "GET /user/regionlist HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n".to_string(),
            "400",
        ),
        ("BR0KEN\x01 / HTTP/1.1\r\n\r\n".to_string(), "400"),
        (huge, "431"),
    ] {
        let mut client = std::net::TcpStream::connect(address(&server)).unwrap();
        let _ = client.write_all(raw.as_bytes());
        let (answer, _) = read_to_close(&mut client, std::time::Duration::from_secs(10));
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        let json: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {answer:?}"));
        assert_eq!(json["code"].to_string(), status);
    }
}

#[tokio::test]
async fn roster_admin_sets_a_level_in_the_same_data_folder_as_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 0).expect("server starts");
    let phone = json!({"region": 1, "phone": "2015550144"});
    assert_eq!(
        post(&format!("{}/user/send_code", server.url), phone.clone()).await["code"],
        200
    );
    let outbox: Value = reqwest::get(format!("{}/_local/outbox", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = outbox["result"][0]["text"].as_str().unwrap().to_string();
    let mut body = phone.clone();
    body["code"] = json!(text.chars().filter(|c| c.is_ascii_digit()).collect::<String>());
    let token = post(&format!("{}/user/verify_code", server.url), body).await["result"]["verification_token"].clone();
    let registered = post(
        &format!("{}/user/register", server.url),
        json!({"nickname": "Op", "password": "P@ssw0rd", "verification_token": token}),
    )
    .await;
    let id = registered["result"]["id"].as_str().unwrap().to_string();
    let admin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roster-admin"))
            .env("ROSTER_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .args(args)
            .output()
            .unwrap()
    };
    let out = admin(&["set-level", &id, "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("level 3"));
    let unknown = admin(&["set-level", "AAAAAAAAAAAAAAAA", "3"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user"));
    let usage = admin(&["set-level", &id]);
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage"));
    // The server sees the new level.
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/user/login", server.url))
        .json(&json!({"region": 1, "phone": "2015550144", "password": "P@ssw0rd"}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let own: Value = client
        .get(format!("{}/user/own_info", server.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["result"]["level"], 3, "{own}");
}
