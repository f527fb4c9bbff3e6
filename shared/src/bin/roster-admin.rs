//! `roster-admin`: operator commands against the configured store.
//!
//!     roster-admin set-level USER_ID LEVEL

use roster::config::Config;
use roster::domain::UserId;
use roster::state::AppState;

const USAGE: &str = "usage: roster-admin set-level USER_ID LEVEL";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, user, level] = args.as_slice() else {
        exit(USAGE)
    };
    if command != "set-level" {
        exit(USAGE);
    }
    let user = UserId::parse("USER_ID", user).unwrap_or_else(|e| exit(&e.to_string()));
    let level: i64 = level.parse().unwrap_or_else(|_| exit("LEVEL must be a whole number"));
    let config = Config::from_env().unwrap_or_else(|e| exit(&e.to_string()));
    let state = AppState::from_config(config)
        .await
        .unwrap_or_else(|e| exit(&e.to_string()));
    match roster::admin::set_level(&state, &user, level).await {
        Ok(()) => println!("{user} is now at level {level}"),
        Err(e) => exit(&e.to_string()),
    }
}

fn exit(message: &str) -> ! {
    eprintln!("roster-admin: {message}");
    std::process::exit(1)
}
