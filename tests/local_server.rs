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
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster-local"))
        .env("ROSTER_DATA_DIR", data_dir)
        .env("ROSTER_PORT", port.to_string())
        .env("RUST_LOG", "warn")
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
