//! `roster-local`: the whole API on 127.0.0.1 with the embedded store (see README).

use roster::config::Config;
use roster::state::AppState;

#[tokio::main]
async fn main() {
    roster::http::observe::init_logging();
    let port = match std::env::var("ROSTER_PORT").ok().map(|p| p.parse::<u16>()) {
        None => 7700,
        Some(Ok(p)) => p,
        Some(Err(_)) => exit("configuration: ROSTER_PORT must be a port number"),
    };
    let mut timeouts = roster::local::Timeouts::default();
    for (var, slot) in [
        ("ROSTER_HEADER_TIMEOUT_SECS", &mut timeouts.header_read),
        ("ROSTER_REQUEST_TIMEOUT_SECS", &mut timeouts.request),
    ] {
        if let Ok(raw) = std::env::var(var) {
            match raw.trim().parse::<u64>() {
                Ok(secs) if secs > 0 => *slot = std::time::Duration::from_secs(secs),
                _ => exit(&format!("configuration: {var} must be a positive number of seconds")),
            }
        }
    }
    let mut config = Config::from_env().unwrap_or_else(|e| exit(&e.to_string()));
    if std::env::var("ROSTER_PUBLIC_URL").is_err() {
        config.public_url = format!("http://127.0.0.1:{port}");
    }
    println!("Data folder: {}", config.data_dir.display());
    let state = AppState::from_config(config)
        .await
        .unwrap_or_else(|e| exit(&e.to_string()));
    roster::local::sweep_every_5_minutes(state.clone());
    if let Err(e) = roster::local::serve_local(state, port, timeouts).await {
        exit(&e.to_string());
    }
}

fn exit(message: &str) -> ! {
    eprintln!("roster-local: {message}");
    std::process::exit(1)
}
