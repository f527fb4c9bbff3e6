//! Faults: a store call that fails or times out, a message provider or a file store that
//! is down. For every kind of write route, each store call of the request fails in turn:
//! the client gets a clean 503 with a request id, nothing of the request reached the
//! store (its transaction happened or not, never half), and the same request sent again
//! succeeds, once.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use crate::on_every_store;
use crate::support::stores::{Fault, Faulty};
use crate::support::users::PASSWORD;
use crate::support::{TestApp, TestResponse};

/// Routes the app's requests through a store whose calls can be made to fail.
fn with_faults(app: &mut TestApp) -> Arc<Faulty> {
    let faults = Faulty::new();
    app.router = app.router_with_store(faults.wrap(app.state.store.clone()));
    faults
}

const FAULTS: [Fault; 2] = [Fault::Outage, Fault::Timeout];

/// Sends the request with its store call 1, 2, … failing in turn (`fault`), until a run
/// where the request makes fewer calls than the armed one: that clean run's answer is
/// returned (the retry). Every faulted answer is a 503 with a request id that names
/// nothing internal, and no write of the faulted request reached the store but a code's
/// counted try.
async fn every_call_failing(
    faults: &Faulty,
    fault: Fault,
    mut send: impl AsyncFnMut() -> TestResponse,
) -> TestResponse {
    for n in 1.. {
        faults.arm(n, fault);
        let res = send().await;
        if !faults.hit() {
            faults.disarm();
            assert!(n > 1, "the request made no store call");
            return res;
        }
        let what = format!("store call {n} failing ({fault:?})");
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {}", res.body);
        assert_eq!(res.code(), 503, "{what}: {}", res.body);
        assert!(
            res.body["requestId"].as_str().is_some_and(|id| !id.is_empty()),
            "{what}: no request id in {}",
            res.body
        );
        assert!(res.headers.get("retry-after").is_some(), "{what}: no Retry-After");
        let text = res.body.to_string();
        assert!(
            !text.contains("dispatch") && !text.contains("attempt exceeded"),
            "{what}: the detail leaked: {text}"
        );
        nothing_but_counted_tries(faults, &what);
    }
    unreachable!()
}

/// No write of a failed request reached the store, but a code's counted try: that one
/// commits before the comparison by design (concurrent guesses cannot outrun the limit),
/// and leaves the code unspent.
fn nothing_but_counted_tries(faults: &Faulty, what: &str) {
    let writes = faults.writes();
    assert!(
        writes.iter().all(|w| w.starts_with("update ") && w.contains("/CODE#")),
        "{what}: a write of the failed request reached the store: {writes:?}"
    );
}

async fn sending_a_code(mut app: TestApp) {
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        let (national, e164) = crate::support::new_phone();
        let body = json!({"region": 86, "phone": national});
        let res = every_call_failing(&faults, fault, async || app.post("/user/send_code", body.clone()).await).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        // The failed requests sent nothing and spent nothing of the number's allowance.
        assert_eq!(app.sms_to(&e164).await.len(), 1);
    }
}

async fn verifying_a_code_does_not_spend_it_when_it_fails(mut app: TestApp) {
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        let (national, e164) = crate::support::new_phone();
        let code = app.code_for(&national, &e164, "register").await;
        let body = json!({"region": 86, "phone": national, "code": code, "purpose": "register"});
        let res = every_call_failing(&faults, fault, async || {
            app.post("/user/verify_code", body.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        assert!(res.body["result"]["verification_token"].is_string());
        // Spent by the clean run, and only by it.
        assert_eq!(app.post("/user/verify_code", body).await.code(), 2000);
    }
}

async fn signing_up(mut app: TestApp) {
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        let (national, _, token) = app.verified_phone(Some("register")).await;
        let body = json!({"nickname": "Faulted", "password": PASSWORD, "verification_token": token});
        let res = every_call_failing(&faults, fault, async || app.post("/user/register", body.clone()).await).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let login = json!({"region": 86, "phone": national, "password": PASSWORD});
        assert_eq!(app.post("/user/login", login).await.code(), 200);
    }
}

async fn logging_in(mut app: TestApp) {
    let user = app.registered().await;
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        let res = every_call_failing(&faults, fault, async || app.login(&user, PASSWORD).await).await;
        assert_eq!(res.code(), 200, "{}", res.body);
    }
    // The registration's session and the two clean logins: failed logins left none.
    let sessions = app.as_user(&user).get("/user/sessions").await;
    let list = sessions.body["result"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{}", sessions.body);
}

async fn changing_a_profile(mut app: TestApp) {
    let user = app.registered().await;
    let before = app.feed(&user).await.len();
    let faults = with_faults(&mut app);
    for (fault, name) in FAULTS.into_iter().zip(["Renamed", "Again"]) {
        let body = json!({"nickname": name});
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(&user).post("/user/set_nickname", body.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let info = app.as_user(&user).get("/user/own_info").await;
        assert_eq!(info.body["result"]["nickname"], name, "{}", info.body);
    }
    // Two clean runs, two records of the change in the user's feed, no more.
    assert_eq!(app.feed(&user).await.len(), before + 2);
}

async fn inviting_and_agreeing(mut app: TestApp) {
    let users = app.quick_users(3).await;
    let faults = with_faults(&mut app);
    let a = &users[0];
    for (fault, b) in FAULTS.into_iter().zip(&users[1..]) {
        let invite = json!({"friendId": b.id, "message": "hi"});
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(a).post("/friendship/invite", invite.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let agree = json!({"friendId": a.id});
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(b).post("/friendship/agree", agree.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        app.assert_counters_agree(b).await;
    }
    app.assert_counters_agree(a).await;
    let all = app.as_user(a).get("/friendship/all").await;
    let friends = all.body["result"].as_array().unwrap();
    assert_eq!(friends.len(), 2, "{}", all.body);
    assert!(friends.iter().all(|f| f["status"] == 20), "{}", all.body);
}

async fn blocking(mut app: TestApp) {
    let users = app.quick_users(3).await;
    let faults = with_faults(&mut app);
    let a = &users[0];
    for (fault, b) in FAULTS.into_iter().zip(&users[1..]) {
        let body = json!({"friendId": b.id});
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(a).post("/user/add_to_blacklist", body.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
    }
    app.assert_counters_agree(a).await;
    let list = app.as_user(a).get("/user/blacklist").await;
    assert_eq!(list.body["result"].as_array().map(Vec::len), Some(2), "{}", list.body);
}

async fn creating_a_group_and_adding_members(mut app: TestApp) {
    let users = app.quick_users(3).await;
    let (owner, others) = (&users[0], &users[1..]);
    for other in others {
        app.befriend(owner, other).await;
    }
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        let create = json!({"name": "Faulted", "memberIds": [others[0].id]});
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(owner).post("/group/create", create.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let group = res.body["result"]["id"].as_str().unwrap().to_string();
        let add = json!({"groupId": group, "memberIds": [others[1].id]});
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(owner).post("/group/add", add.clone()).await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let info = app.as_user(owner).get(&format!("/group/{group}")).await;
        let members = app.as_user(owner).get(&format!("/group/{group}/members")).await;
        let listed = members.body["result"].as_array().unwrap().len();
        assert_eq!(listed, 3, "{}", members.body);
        assert_eq!(info.body["result"]["memberCount"], listed, "{}", info.body);
    }
    // Exactly the clean runs made groups.
    let listed = app.as_user(owner).get("/user/groups").await;
    assert_eq!(
        listed.body["result"].as_array().map(Vec::len),
        Some(2),
        "{}",
        listed.body
    );
}

async fn syncing(mut app: TestApp) {
    let users = app.quick_users(2).await;
    app.befriend(&users[0], &users[1]).await;
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        let res = every_call_failing(&faults, fault, async || {
            app.as_user(&users[0]).get("/user/sync/0").await
        })
        .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let result = &res.body["result"];
        assert_eq!(result["full"], true);
        assert_eq!(result["friends"].as_array().map(Vec::len), Some(1), "{}", res.body);
        // The version the clean run answered is a live point: the next sync is no rebuild.
        let version = result["version"].as_i64().unwrap();
        let next = app.as_user(&users[0]).get(&format!("/user/sync/{version}")).await;
        assert_eq!(next.body["result"]["full"], false, "{}", next.body);
    }
}

async fn deleting_an_account(mut app: TestApp) {
    let faults = with_faults(&mut app);
    for fault in FAULTS {
        faults.disarm();
        let user = app.registered().await;
        let friend = app.registered().await;
        app.befriend(&user, &friend).await;
        let code = app.code_for(&user.national, &user.e164, "delete").await;
        let body = json!({"code": code});
        // Up to the account's transaction every failure is a clean 503. After it, the
        // request's clean-up pages may fail: the account is gone (200) and the sweep
        // finishes the clean-up.
        let mut answered = None;
        for n in 1.. {
            faults.arm(n, fault);
            let res = app.as_user(&user).post("/user/delete_account", body.clone()).await;
            if res.code() == 200 {
                answered = Some((n, faults.hit()));
                break;
            }
            assert_eq!(
                res.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "call {n} ({fault:?}): {}",
                res.body
            );
            assert!(res.body["requestId"].is_string(), "{}", res.body);
            nothing_but_counted_tries(&faults, &format!("call {n} ({fault:?})"));
        }
        faults.disarm();
        let (n, hit) = answered.unwrap();
        assert!(n > 2 && hit, "the clean-up's own calls were faulted too (call {n})");
        let gone = app.as_user(&user).get("/user/own_info").await;
        assert_eq!(gone.status, StatusCode::FORBIDDEN);
        roster::jobs::sweep(
            &app.state,
            tokio::time::Instant::now() + std::time::Duration::from_secs(20),
        )
        .await
        .unwrap();
        app.assert_counters_agree(&friend).await;
        let friends = app.as_user(&friend).get("/friendship/all").await;
        assert_eq!(
            friends.body["result"].as_array().map(Vec::len),
            Some(0),
            "{}",
            friends.body
        );
    }
}

/// A failing file store: the upload is a 503, the portrait stays, a retry succeeds.
async fn uploading_an_avatar_while_the_file_store_is_down(app: TestApp) {
    let user = app.registered().await;
    let down = app.router_with_uploads(Arc::new(DownUploads));
    let png: &[u8] = b"\x89PNG\r\n\x1a\n-a-tiny-png-";
    let parts: &[(&str, Option<(&str, &str)>, &[u8])] = &[("avatar", Some(("me.png", "image/png")), png)];
    let mut failing = TestApp { router: down, ..app };
    let res = crate::profile::upload_avatar(&failing, &user, parts).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
    assert!(res.body["requestId"].is_string(), "{}", res.body);
    assert!(!res.body.to_string().contains("bucket-internal"), "{}", res.body);
    let info = failing.as_user(&user).get("/user/own_info").await;
    assert_eq!(info.body["result"]["portraitUri"], "", "{}", info.body);
    let presign = failing.as_user(&user).get("/user/get_image_token").await;
    assert_eq!(presign.status, StatusCode::SERVICE_UNAVAILABLE, "{}", presign.body);
    failing.router = roster::local::router(failing.state.clone());
    let res = crate::profile::upload_avatar(&failing, &user, parts).await;
    assert_eq!(res.code(), 200, "{}", res.body);
}

/// A failing SMS or email provider: a 503 that spent nothing, and the retry is sent.
async fn sending_a_code_while_the_provider_is_down(app: TestApp) {
    let (national, e164) = crate::support::new_phone();
    let (email, _) = crate::support::new_email();
    app.messages.set_failing(true);
    let sms = app
        .post("/user/send_code", json!({"region": 86, "phone": national}))
        .await;
    let mail = app
        .post("/user/send_email_code", json!({"email": email, "purpose": "register"}))
        .await;
    for res in [&sms, &mail] {
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
        assert!(res.body["requestId"].is_string(), "{}", res.body);
    }
    app.messages.set_failing(false);
    // No minute to wait: the failed send did not count against the address.
    let sms = app
        .post("/user/send_code", json!({"region": 86, "phone": national}))
        .await;
    let mail = app
        .post("/user/send_email_code", json!({"email": email, "purpose": "register"}))
        .await;
    assert_eq!((sms.code(), mail.code()), (200, 200), "{} {}", sms.body, mail.body);
    assert_eq!(app.sms_to(&e164).await.len(), 1);
    assert_eq!(app.sms_to(&email.to_lowercase()).await.len(), 1);
}

struct DownUploads;

#[async_trait::async_trait]
impl roster::ports::UploadSigner for DownUploads {
    async fn presign_put(
        &self,
        _key: &str,
        _content_type: &str,
        _content_length: Option<u64>,
        _ttl_secs: u64,
    ) -> Result<roster::ports::PresignedUpload, roster::ports::UploadError> {
        Err(roster::ports::UploadError::Signing(
            "no credentials for bucket-internal".into(),
        ))
    }
    async fn put(&self, _key: &str, _ct: &str, _bytes: Vec<u8>) -> Result<(), roster::ports::UploadError> {
        Err(roster::ports::UploadError::Storing(
            "PutObject to bucket-internal timed out".into(),
        ))
    }
    async fn delete_prefix(&self, _prefix: &str) -> Result<usize, roster::ports::UploadError> {
        Err(roster::ports::UploadError::Storing(
            "bucket-internal unreachable".into(),
        ))
    }
}

on_every_store!(
    sending_a_code,
    verifying_a_code_does_not_spend_it_when_it_fails,
    signing_up,
    logging_in,
    changing_a_profile,
    inviting_and_agreeing,
    blocking,
    creating_a_group_and_adding_members,
    syncing,
    deleting_an_account,
    uploading_an_avatar_while_the_file_store_is_down,
    sending_a_code_while_the_provider_is_down,
);
