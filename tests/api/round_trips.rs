//! Round trips to the store for every route, measured with a counting store on a
//! successful request of each: printed as a table (`scripts/bench/round_trips.sh`) and
//! pinned, since they are deterministic. Authenticated reads are one round trip (the
//! session check travels with the data), writes one transaction; lists and sync as their
//! issues say.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::Method;
use serde_json::{json, Value};

use crate::support::stores::Counting;
use crate::support::users::{User, PASSWORD};
use crate::support::{new_email, new_phone, TestApp, TestResponse};

/// (route, store calls, of which transactions) as measured.
struct Table {
    counting: Arc<Counting>,
    rows: Vec<(String, usize, usize)>,
}

impl Table {
    /// Measures one request, which must succeed.
    async fn row(
        &mut self,
        method: Method,
        template: &str,
        send: impl std::future::Future<Output = TestResponse>,
    ) -> TestResponse {
        let (calls, txs) = (self.counting.calls(), self.counting.transactions());
        let res = send.await;
        let label = format!("{method} {template}");
        let ok = res.code() == 200
            || (template == "/oauth/token" && res.status == 200)
            || template == "/.well-known/jwks.json";
        assert!(ok, "{label}: {}", res.body);
        self.rows
            .push((label, self.counting.calls() - calls, self.counting.transactions() - txs));
        res
    }
}

fn result(res: &TestResponse) -> &Value {
    &res.body["result"]
}

async fn every_route_costs_what_the_table_says(mut app: TestApp) {
    let counting = Counting::new();
    app.router = app.router_with_store(counting.wrap(app.state.store.clone()));
    let mut t = Table { counting, rows: vec![] };
    let users = app.quick_users(4).await;
    let [b, c, d, f] = [&users[0], &users[1], &users[2], &users[3]];
    let a = app.registered_as("Ann").await;
    let e = app.registered_as("Eve").await;
    app.befriend(&a, b).await;
    app.befriend(&a, c).await;
    let g = app.create_group(&a, "Team", &[b]).await;
    let me = app.as_user(&a);

    // ----- codes
    t.row(Method::GET, "/user/regionlist", app.get("/user/regionlist"))
        .await;
    let (p1, p1e) = new_phone();
    let (p2, p2e) = new_phone();
    t.row(
        Method::POST,
        "/user/check_phone_available",
        app.post("/user/check_phone_available", json!({"region": 86, "phone": p1})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/send_code",
        app.post("/user/send_code", json!({"region": 86, "phone": p1})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/send_code_yp",
        app.post("/user/send_code_yp", json!({"region": 86, "phone": p2})),
    )
    .await;
    let code1 = app.last_code(&p1e).await;
    let code2 = app.last_code(&p2e).await;
    let verified = t
        .row(
            Method::POST,
            "/user/verify_code",
            app.post("/user/verify_code", json!({"region": 86, "phone": p1, "code": code1})),
        )
        .await;
    let token = result(&verified)["verification_token"].as_str().unwrap().to_string();
    t.row(
        Method::POST,
        "/user/verify_code_yp",
        app.post(
            "/user/verify_code_yp",
            json!({"region": 86, "phone": p2, "code": code2}),
        ),
    )
    .await;
    let (mail, _) = new_email();
    t.row(
        Method::POST,
        "/user/send_email_code",
        app.post("/user/send_email_code", json!({"email": mail, "purpose": "register"})),
    )
    .await;
    let mail_code = app.last_code(&mail.to_lowercase()).await;
    t.row(
        Method::POST,
        "/user/verify_email_code",
        app.post(
            "/user/verify_email_code",
            json!({"email": mail, "code": mail_code, "purpose": "register"}),
        ),
    )
    .await;
    t.row(Method::GET, "/user/get_sms_img_code", app.get("/user/get_sms_img_code"))
        .await;

    // ----- account
    t.row(
        Method::POST,
        "/user/register",
        app.post(
            "/user/register",
            json!({"nickname": "New", "password": PASSWORD, "verification_token": token}),
        ),
    )
    .await;
    t.row(Method::POST, "/user/login", app.login(&a, PASSWORD)).await;
    let login_code = app.code_for(&a.national, &a.e164, "login").await;
    t.row(
        Method::POST,
        "/user/login_sms",
        app.post(
            "/user/login_sms",
            json!({"region": 86, "phone": a.national, "code": login_code}),
        ),
    )
    .await;
    let (by_mail, address) = app.registered_by_email("Mia").await;
    let mail_login = app.email_code_for(&address, "login").await;
    t.row(
        Method::POST,
        "/user/login_email",
        app.post("/user/login_email", json!({"email": address, "code": mail_login})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/verify_account",
        app.post("/user/verify_account", json!({"region": 86, "phone": a.national})),
    )
    .await;
    let reset = app.token_for(&e.national, &e.e164, "reset").await;
    t.row(
        Method::POST,
        "/user/reset_password",
        app.post(
            "/user/reset_password",
            json!({"password": PASSWORD, "verification_token": reset}),
        ),
    )
    .await;
    let e = User {
        cookie: app.logged_in(&e).await,
        ..e
    };
    t.row(
        Method::POST,
        "/user/change_password",
        me.post(
            "/user/change_password",
            json!({"oldPassword": PASSWORD, "newPassword": PASSWORD}),
        ),
    )
    .await;
    t.row(Method::GET, "/user/get_token", me.get("/user/get_token")).await;
    t.row(Method::GET, "/user/sessions", me.get("/user/sessions")).await;
    t.row(
        Method::POST,
        "/user/sessions/revoke",
        me.post("/user/sessions/revoke", json!({"scope": "others"})),
    )
    .await;
    let (p3, p3e) = new_phone();
    let new_code = app.code_for(&p3, &p3e, "change_phone").await;
    let owner_code = app.code_for(&e.national, &e.e164, "verify_owner").await;
    let eve = app.as_user(&e);
    t.row(
        Method::POST,
        "/user/change_phone",
        eve.post(
            "/user/change_phone",
            json!({"region": 86, "phone": p3, "code": new_code, "originalCode": owner_code}),
        ),
    )
    .await;
    let (mail2, _) = new_email();
    let change_code = app.email_code_for(&mail2, "change_email").await;
    let owner_mail_code = app.email_code_for(&address, "verify_owner").await;
    let body = json!({"email": mail2, "code": change_code, "originalCode": owner_mail_code});
    t.row(
        Method::POST,
        "/user/change_email",
        app.as_user(&by_mail).post("/user/change_email", body),
    )
    .await;
    t.row(
        Method::POST,
        "/oauth/token",
        app.form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", &a.e164),
                ("password", PASSWORD),
            ],
        ),
    )
    .await;
    t.row(Method::GET, "/.well-known/jwks.json", app.get("/.well-known/jwks.json"))
        .await;

    // ----- profile
    t.row(
        Method::POST,
        "/user/set_nickname",
        me.post("/user/set_nickname", json!({"nickname": "Anna"})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/set_portrait_uri",
        me.post(
            "/user/set_portrait_uri",
            json!({"portraitUri": "https://example.com/a.png"}),
        ),
    )
    .await;
    t.row(
        Method::POST,
        "/user/set_gender",
        me.post("/user/set_gender", json!({"gender": "female"})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/set_st_account",
        me.post("/user/set_st_account", json!({"stAccount": "anna_01"})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/set_username",
        me.post("/user/set_username", json!({"username": "anna.one"})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/set_birthday",
        me.post("/user/set_birthday", json!({"birthday": "2000-02-29"})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/set_privacy",
        me.post("/user/set_privacy", json!({"displayEmail": 1})),
    )
    .await;
    t.row(Method::GET, "/user/get_privacy", me.get("/user/get_privacy"))
        .await;
    t.row(
        Method::POST,
        "/user/set_poke",
        me.post("/user/set_poke", json!({"pokeStatus": 0})),
    )
    .await;
    t.row(Method::GET, "/user/get_poke", me.get("/user/get_poke")).await;
    t.row(Method::GET, "/user/own_info", me.get("/user/own_info")).await;
    t.row(Method::GET, "/user/get_image_token", me.get("/user/get_image_token"))
        .await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n-a-tiny-png-";
    t.row(
        Method::POST,
        "/user/upload_avatar",
        crate::profile::upload_avatar(&app, &a, &[("avatar", Some(("me.png", "image/png")), png)]),
    )
    .await;
    t.row(
        Method::GET,
        "/user/batch",
        me.get(&format!("/user/batch?id={}&id={}", b.id, c.id)),
    )
    .await;
    t.row(
        Method::GET,
        "/user/find/{region}/{phone}",
        me.get(&format!("/user/find/86/{p3}")),
    )
    .await;
    t.row(
        Method::GET,
        "/user/find_user",
        me.get("/user/find_user?st_account=anna_01"),
    )
    .await;
    t.row(
        Method::GET,
        "/user/search",
        me.get("/user/search?keyword=anna.one&by=username"),
    )
    .await;
    t.row(Method::GET, "/user/{id}", me.get(&format!("/user/{}", b.id)))
        .await;

    // ----- relations
    t.row(
        Method::POST,
        "/user/add_to_blacklist",
        me.post("/user/add_to_blacklist", json!({"friendId": d.id})),
    )
    .await;
    t.row(Method::GET, "/user/blacklist", me.get("/user/blacklist")).await;
    t.row(
        Method::POST,
        "/user/remove_from_blacklist",
        me.post("/user/remove_from_blacklist", json!({"friendId": d.id})),
    )
    .await;
    t.row(
        Method::POST,
        "/friendship/invite",
        me.post("/friendship/invite", json!({"friendId": d.id, "message": "hi"})),
    )
    .await;
    t.row(
        Method::POST,
        "/friendship/agree",
        app.as_user(d).post("/friendship/agree", json!({"friendId": a.id})),
    )
    .await;
    app.posted(f, "/friendship/invite", json!({"friendId": a.id})).await;
    t.row(
        Method::POST,
        "/friendship/ignore",
        me.post("/friendship/ignore", json!({"friendId": f.id})),
    )
    .await;
    t.row(
        Method::POST,
        "/friendship/set_display_name",
        me.post(
            "/friendship/set_display_name",
            json!({"friendId": b.id, "displayName": "Bee"}),
        ),
    )
    .await;
    t.row(Method::GET, "/friendship/all", me.get("/friendship/all")).await;
    t.row(
        Method::GET,
        "/friendship/{friendId}/profile",
        me.get(&format!("/friendship/{}/profile", b.id)),
    )
    .await;
    t.row(
        Method::POST,
        "/friendship/delete",
        me.post("/friendship/delete", json!({"friendId": d.id})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/add_follow_group",
        me.post("/user/add_follow_group", json!({"groupName": "close"})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/follow",
        me.post("/user/follow", json!({"userId": f.id, "groupName": "close"})),
    )
    .await;
    t.row(Method::GET, "/user/follow_groups", me.get("/user/follow_groups"))
        .await;
    t.row(Method::GET, "/user/follows", me.get("/user/follows")).await;
    t.row(Method::GET, "/user/fans", app.as_user(f).get("/user/fans")).await;
    t.row(
        Method::POST,
        "/user/unfollow",
        me.post("/user/unfollow", json!({"userId": f.id})),
    )
    .await;
    t.row(
        Method::POST,
        "/user/delete_follow_group",
        me.post("/user/delete_follow_group", json!({"groupName": "close"})),
    )
    .await;

    // ----- groups
    let created = t
        .row(
            Method::POST,
            "/group/create",
            me.post("/group/create", json!({"name": "Crew", "memberIds": [b.id]})),
        )
        .await;
    let h = result(&created)["id"].as_str().unwrap().to_string();
    t.row(
        Method::POST,
        "/group/add",
        me.post("/group/add", json!({"groupId": h, "memberIds": [c.id]})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/join",
        app.as_user(d).post("/group/join", json!({"groupId": h})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/kick",
        me.post("/group/kick", json!({"groupId": h, "memberIds": [d.id]})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/quit",
        app.as_user(c).post("/group/quit", json!({"groupId": h})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/set_manager",
        me.post("/group/set_manager", json!({"groupId": h, "memberIds": [b.id]})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/remove_manager",
        me.post("/group/remove_manager", json!({"groupId": h, "memberIds": [b.id]})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/rename",
        me.post("/group/rename", json!({"groupId": h, "name": "Crew 2"})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/set_portrait_uri",
        me.post(
            "/group/set_portrait_uri",
            json!({"groupId": h, "portraitUri": "https://example.com/g.png"}),
        ),
    )
    .await;
    t.row(
        Method::POST,
        "/group/set_display_name",
        me.post("/group/set_display_name", json!({"groupId": h, "displayName": "Boss"})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/set_bulletin",
        me.post("/group/set_bulletin", json!({"groupId": h, "content": "Hello"})),
    )
    .await;
    t.row(
        Method::GET,
        "/group/get_bulletin",
        me.get(&format!("/group/get_bulletin?groupId={h}")),
    )
    .await;
    t.row(
        Method::POST,
        "/group/mute_all",
        me.post("/group/mute_all", json!({"groupId": h, "muteStatus": 1})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/set_certification",
        me.post("/group/set_certification", json!({"groupId": h, "certiStatus": 1})),
    )
    .await;
    app.posted(f, "/group/join", json!({"groupId": h})).await;
    t.row(Method::GET, "/group/notice_info", me.get("/group/notice_info"))
        .await;
    t.row(
        Method::POST,
        "/group/agree",
        me.post("/group/agree", json!({"groupId": h, "receiverId": f.id, "status": "1"})),
    )
    .await;
    t.row(Method::POST, "/group/fav", me.post("/group/fav", json!({"groupId": h})))
        .await;
    t.row(Method::GET, "/user/favgroups", me.get("/user/favgroups")).await;
    t.row(
        Method::DELETE,
        "/group/fav",
        app.request_with(
            Method::DELETE,
            &format!("/group/fav?groupId={h}"),
            None,
            &[("cookie", &a.cookie)],
        ),
    )
    .await;
    t.row(Method::GET, "/group/{id}", me.get(&format!("/group/{h}"))).await;
    t.row(
        Method::GET,
        "/group/{id}/members",
        me.get(&format!("/group/{h}/members")),
    )
    .await;
    t.row(Method::GET, "/user/groups", me.get("/user/groups")).await;
    t.row(
        Method::POST,
        "/group/transfer",
        me.post("/group/transfer", json!({"groupId": h, "userId": b.id})),
    )
    .await;
    t.row(
        Method::POST,
        "/group/dismiss",
        me.post("/group/dismiss", json!({"groupId": g})),
    )
    .await;

    // ----- sync
    let first = t.row(Method::GET, "/user/sync/{version}", me.get("/user/sync/0")).await;
    let version = result(&first)["version"].as_i64().unwrap();
    t.row(
        Method::GET,
        "/user/sync/{version} (nothing new)",
        me.get(&format!("/user/sync/{version}")),
    )
    .await;

    // ----- local
    t.row(Method::GET, "/_local/outbox", app.get("/_local/outbox")).await;

    // ----- last: what ends a session or an account
    t.row(Method::POST, "/user/logout", me.post("/user/logout", json!({})))
        .await;
    let delete_code = app.code_for(&p3, &p3e, "delete").await;
    t.row(
        Method::POST,
        "/user/delete_account",
        app.as_user(&e)
            .post("/user/delete_account", json!({"code": delete_code})),
    )
    .await;

    println!("\n| route | store calls | of which transactions |\n| --- | --- | --- |");
    for (label, calls, txs) in &t.rows {
        println!("| `{label}` | {calls} | {txs} |");
    }

    // Every documented path is measured (the `/_local/uploads` target is a file store, not the table).
    let measured: BTreeSet<String> = t
        .rows
        .iter()
        .map(|(l, _, _)| l.split(' ').nth(1).unwrap().to_string())
        .collect();
    let documented: BTreeSet<String> = crate::support::contract::document()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| !p.starts_with("/_local/uploads"))
        .cloned()
        .collect();
    let unmeasured: Vec<_> = documented.difference(&measured).collect();
    assert!(unmeasured.is_empty(), "routes without a measured row: {unmeasured:?}");

    let pinned: Vec<(String, usize, usize)> = EXPECTED.iter().map(|(l, c, t)| (l.to_string(), *c, *t)).collect();
    let differ: Vec<String> = t
        .rows
        .iter()
        .filter(|row| !pinned.contains(row))
        .map(|(l, c, x)| format!("{l}: {c} calls, {x} transactions"))
        .collect();
    assert!(
        differ.is_empty(),
        "round trips changed (update EXPECTED if meant):\n{}",
        differ.join("\n")
    );
}

/// The table as measured on both stores.
const EXPECTED: &[(&str, usize, usize)] = &[
    ("GET /user/regionlist", 0, 0),
    ("POST /user/check_phone_available", 1, 0),
    ("POST /user/send_code", 1, 1),
    ("POST /user/send_code_yp", 1, 1),
    ("POST /user/verify_code", 2, 1),
    ("POST /user/verify_code_yp", 2, 1),
    ("POST /user/send_email_code", 1, 1),
    ("POST /user/verify_email_code", 2, 1),
    ("GET /user/get_sms_img_code", 1, 0),
    ("POST /user/register", 2, 1),
    ("POST /user/login", 3, 1),
    ("POST /user/login_sms", 3, 1),
    ("POST /user/login_email", 3, 1),
    ("POST /user/verify_account", 2, 1),
    ("POST /user/reset_password", 5, 1),
    ("POST /user/change_password", 4, 1),
    ("GET /user/get_token", 1, 0),
    ("GET /user/sessions", 1, 0),
    ("POST /user/sessions/revoke", 2, 1),
    ("POST /user/change_phone", 4, 1),
    ("POST /user/change_email", 4, 1),
    ("POST /oauth/token", 3, 1),
    ("GET /.well-known/jwks.json", 0, 0),
    ("POST /user/set_nickname", 2, 1),
    ("POST /user/set_portrait_uri", 2, 1),
    ("POST /user/set_gender", 1, 1),
    ("POST /user/set_st_account", 2, 1),
    ("POST /user/set_username", 2, 1),
    ("POST /user/set_birthday", 1, 1),
    ("POST /user/set_privacy", 1, 1),
    ("GET /user/get_privacy", 1, 0),
    ("POST /user/set_poke", 1, 1),
    ("GET /user/get_poke", 1, 0),
    ("GET /user/own_info", 3, 0),
    ("GET /user/get_image_token", 1, 0),
    ("POST /user/upload_avatar", 4, 1),
    ("GET /user/batch", 1, 0),
    ("GET /user/find/{region}/{phone}", 3, 1),
    ("GET /user/find_user", 3, 1),
    ("GET /user/search", 3, 1),
    ("GET /user/{id}", 3, 0),
    ("POST /user/add_to_blacklist", 2, 1),
    ("GET /user/blacklist", 2, 0),
    ("POST /user/remove_from_blacklist", 2, 1),
    ("POST /friendship/invite", 2, 1),
    ("POST /friendship/agree", 2, 1),
    ("POST /friendship/ignore", 2, 1),
    ("POST /friendship/set_display_name", 2, 1),
    ("GET /friendship/all", 2, 0),
    ("GET /friendship/{friendId}/profile", 1, 0),
    ("POST /friendship/delete", 2, 1),
    ("POST /user/add_follow_group", 2, 1),
    ("POST /user/follow", 3, 1),
    ("GET /user/follow_groups", 2, 0),
    ("GET /user/follows", 2, 0),
    ("GET /user/fans", 2, 0),
    ("POST /user/unfollow", 2, 1),
    ("POST /user/delete_follow_group", 4, 1),
    ("POST /group/create", 2, 1),
    ("POST /group/add", 2, 1),
    ("POST /group/join", 2, 1),
    ("POST /group/kick", 2, 1),
    ("POST /group/quit", 2, 1),
    ("POST /group/set_manager", 2, 1),
    ("POST /group/remove_manager", 2, 1),
    ("POST /group/rename", 2, 1),
    ("POST /group/set_portrait_uri", 2, 1),
    ("POST /group/set_display_name", 2, 1),
    ("POST /group/set_bulletin", 2, 1),
    ("GET /group/get_bulletin", 1, 0),
    ("POST /group/mute_all", 2, 1),
    ("POST /group/set_certification", 2, 1),
    ("GET /group/notice_info", 6, 0),
    ("POST /group/agree", 3, 1),
    ("POST /group/fav", 1, 1),
    ("GET /user/favgroups", 3, 0),
    ("DELETE /group/fav", 1, 1),
    ("GET /group/{id}", 1, 0),
    ("GET /group/{id}/members", 3, 0),
    ("GET /user/groups", 3, 0),
    ("POST /group/transfer", 2, 1),
    ("POST /group/dismiss", 4, 2),
    ("GET /user/sync/{version}", 14, 1),
    ("GET /user/sync/{version} (nothing new)", 2, 0),
    ("GET /_local/outbox", 0, 0),
    ("POST /user/logout", 1, 0),
    ("POST /user/delete_account", 14, 1),
];

/// One network sends every code of the table: its hourly allowance would ask for a
/// captcha halfway.
fn one_network_sends_them_all(c: &mut roster::config::Config) {
    c.limits.sms_per_ip_hour = 100;
    c.limits.sms_captcha_after_per_ip_hour = 100;
}

mod sqlite {
    #[tokio::test]
    async fn every_route_costs_what_the_table_says() {
        let app =
            crate::support::TestApp::spawn_with(crate::support::StoreKind::Sqlite, super::one_network_sends_them_all)
                .await;
        super::every_route_costs_what_the_table_says(app).await
    }
}

#[cfg(feature = "dynamodb")]
mod dynamodb {
    #[tokio::test]
    async fn every_route_costs_what_the_table_says() {
        let app =
            crate::support::TestApp::spawn_with(crate::support::StoreKind::Dynamodb, super::one_network_sends_them_all)
                .await;
        super::every_route_costs_what_the_table_says(app).await
    }
}
