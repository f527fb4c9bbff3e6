//! Feeds every API Gateway sample event in `events/<function>/` through that function's
//! router (what `cargo lambda invoke` would do) and checks the response.

mod support;

use std::path::Path;

use http_body_util::BodyExt;
use serde_json::Value;
use support::{StoreKind, TestApp};
use tower::ServiceExt;

/// Expected (HTTP status, envelope code) per event file; every file must be listed.
fn expected(function: &str, file: &str) -> Option<(u16, i64)> {
    Some(match (function, file) {
        ("codes", "regionlist.json" | "regionlist_post.json") => (200, 200),
        ("codes", "check_phone_available.json") => (200, 200),
        ("codes", "send_code.json" | "send_code_yp.json") => (200, 200),
        // No code was sent to this phone for the event's code: "expired".
        ("codes", "verify_code.json" | "verify_code_yp.json") => (200, 2000),
        ("codes", "get_sms_img_code.json") => (200, 200),
        ("codes", "send_email_code.json") => (200, 200),
        ("codes", "verify_email_code.json") => (200, 2000),
        // A fresh store: no such token, no such user, no cookie.
        ("account", "register.json" | "reset_password.json") => (404, 404),
        ("account", "login.json") => (200, 1000),
        ("account", "verify_account.json") => (200, 200),
        ("account", "login_sms.json" | "login_email.json") => (200, 2000),
        (
            "account",
            "logout.json"
            | "change_password.json"
            | "get_token.json"
            | "sessions.json"
            | "sessions_revoke.json"
            | "delete_account.json"
            | "change_phone.json"
            | "change_email.json",
        ) => (403, 403),
        // Every profile route needs a session; the samples carry none.
        (
            "profile",
            "set_nickname.json"
            | "set_portrait_uri.json"
            | "set_gender.json"
            | "set_st_account.json"
            | "set_privacy.json"
            | "get_privacy.json"
            | "set_poke.json"
            | "get_poke.json"
            | "user.json"
            | "batch.json"
            | "find_by_phone.json"
            | "find_user.json"
            | "get_image_token.json"
            | "upload_avatar.json"
            | "own_info.json"
            | "set_username.json"
            | "set_birthday.json"
            | "search.json",
        ) => (403, 403),
        // Every relations route needs a session; the samples carry none.
        (
            "relations",
            "blacklist.json"
            | "add_to_blacklist.json"
            | "remove_from_blacklist.json"
            | "invite.json"
            | "agree.json"
            | "ignore.json"
            | "delete.json"
            | "set_display_name.json"
            | "all.json"
            | "friend_profile.json"
            | "follow.json"
            | "unfollow.json"
            | "add_follow_group.json"
            | "delete_follow_group.json"
            | "follow_groups.json"
            | "follows.json"
            | "fans.json",
        ) => (403, 403),
        // Every groups route needs a session; the samples carry none.
        (
            "groups",
            "create.json" | "add.json" | "join.json" | "quit.json" | "rename.json" | "unfav.json" | "info.json"
            | "members.json" | "get_bulletin.json" | "notice_info.json" | "user_groups.json" | "favgroups.json",
        ) => (403, 403),
        ("sync", "sync.json" | "sync_post.json") => (403, 403),
        // RFC 6749 and RFC 7517 bodies carry no envelope code.
        ("account", "oauth_token.json") => (400, -1),
        ("account", "jwks.json") => (200, -1),
        ("sync", "sweep.json") => (200, -1),
        _ => return None,
    })
}

fn routes_of(function: &str) -> roster::http::Routes {
    roster::local::all_groups()
        .into_iter()
        .find(|(name, _)| *name == function)
        .map(|(_, routes)| routes)
        .unwrap_or_else(|| panic!("events/{function} names no function"))
}

#[tokio::test]
async fn every_sample_event_gets_the_expected_answer_from_its_function() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut checked = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        let function = dir.file_name().unwrap().to_str().unwrap().to_string();
        let app = TestApp::spawn(StoreKind::Sqlite).await;
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let (status, code) =
                expected(&function, &name).unwrap_or_else(|| panic!("no expectation for {function}/{name}"));
            let text = std::fs::read_to_string(&path).unwrap();
            if name == "sweep.json" {
                // The schedule's payload: the function hands it to the jobs, not to HTTP.
                let payload: Value = serde_json::from_str(&text).unwrap();
                let report = roster::lambda::background(&app.state, &payload)
                    .await
                    .expect("a background payload")
                    .unwrap();
                assert_eq!(
                    report,
                    serde_json::json!({"found": 0, "finished": 0}),
                    "{function}/{name}"
                );
                checked += 1;
                continue;
            }
            let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{function}/{name}: {e}"));
            let (parts, body) = req.into_parts();
            let req = axum::http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
            let router = roster::http::serve(routes_of(&function), app.state.clone());
            let res = router.oneshot(req).await.unwrap();
            let got_status = res.status().as_u16();
            let body: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
            assert_eq!(
                (got_status, body["code"].as_i64().unwrap_or(-1)),
                (status, code),
                "{function}/{name}: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} events");
}
