//! Account deletion that cascades (issue 13): at 200 the account is dead and its
//! identifiers free; its relations in both directions, memberships and avatars then go in
//! pages, each other user's sync delivers the tombstones, counters stay equal to edges, and
//! a clean-up killed midway completes later without anyone acting, while no reader ever
//! returns an edge to the deleted account.

use std::time::Duration;

use serde_json::json;

use crate::on_every_store;
use crate::support::stores::DiesAfter;
use crate::support::sync::{truth, SyncClient};
use crate::support::users::User;
use crate::support::TestApp;

/// Deletes `x` with a `delete` code, through `router` (the app's, or one over a wrapped store).
async fn delete_account(app: &TestApp, router: axum::Router, x: &User) {
    let code = app.code_for(&x.national, &x.e164, "delete").await;
    let res = crate::support::call(
        router,
        crate::support::json_post_as("/user/delete_account", &x.cookie, &json!({"code": code})),
    )
    .await;
    assert_eq!(res["code"], 200, "{res}");
}

async fn sweep(app: &TestApp) -> roster::jobs::SweepReport {
    roster::jobs::sweep(&app.state, tokio::time::Instant::now() + Duration::from_secs(20))
        .await
        .unwrap()
}

/// Every list of edges a user reads (friends, blacklist, follows, fans, the members of each
/// of their groups): none may name a deleted account. (A group's `creatorId` may name it
/// until the clean-up's group phase hands the group over: a reference, not an edge.)
async fn everything_seen_by(app: &TestApp, y: &User) -> String {
    let me = app.as_user(y);
    let mut seen = String::new();
    for path in ["/friendship/all", "/user/blacklist", "/user/follows", "/user/fans"] {
        let res = me.get(path).await;
        assert_eq!(res.code(), 200, "{path}: {}", res.body);
        seen.push_str(&res.body["result"].to_string());
    }
    let groups = me.get("/user/groups").await.body["result"].clone();
    for g in groups.as_array().unwrap() {
        let res = me.get(&format!("/group/{}/members", g["id"].as_str().unwrap())).await;
        seen.push_str(&res.body["result"].to_string());
    }
    seen
}

async fn deleting_an_account_removes_every_relation_both_ways(app: TestApp) {
    let x = app.registered_as("Leaving").await;
    let ys: Vec<User> = {
        let mut v = vec![];
        for i in 0..8 {
            v.push(app.registered_as(&format!("Y{i}")).await);
        }
        v
    };
    app.befriend(&x, &ys[0]).await;
    app.posted(&x, "/friendship/invite", json!({"friendId": ys[1].id}))
        .await;
    app.posted(&ys[2], "/friendship/invite", json!({"friendId": x.id}))
        .await;
    app.posted(&x, "/user/add_to_blacklist", json!({"friendId": ys[3].id}))
        .await;
    app.posted(&ys[4], "/user/add_to_blacklist", json!({"friendId": x.id}))
        .await;
    app.posted(&x, "/user/follow", json!({"userId": ys[5].id})).await;
    app.posted(&ys[6], "/user/add_follow_group", json!({"groupName": "close"}))
        .await;
    app.posted(&ys[6], "/user/follow", json!({"userId": x.id, "groupName": "close"}))
        .await;
    app.posted(&x, "/user/add_follow_group", json!({"groupName": "mine"}))
        .await;
    let joined = app.create_group(&ys[0], "Joined", &[&x, &ys[7]]).await;
    let handed = app.create_group(&x, "Handed", &[&ys[1], &ys[2]]).await;
    app.posted(
        &x,
        "/group/set_manager",
        json!({"groupId": handed, "memberIds": [ys[2].id]}),
    )
    .await;
    let alone = app.create_group(&x, "Alone", &[]).await;
    app.posted(&x, "/group/fav", json!({"groupId": joined})).await;
    let avatar = format!("avatars/{}/a.png", x.id);
    app.state
        .uploads
        .put(&avatar, "image/png", b"png".to_vec())
        .await
        .unwrap();
    let local = app.state.local.as_ref().unwrap().uploads.clone();
    assert!(local.path_of(&avatar).exists());

    // Everyone's client is current before the deletion.
    let mut clients = vec![];
    for y in &ys {
        let mut c = SyncClient::new();
        c.drain(&app, y).await;
        clients.push(c);
    }
    delete_account(&app, app.router.clone(), &x).await;

    // At once: nobody's lists name x, and x's own profile is gone.
    for y in &ys {
        let seen = everything_seen_by(&app, y).await;
        assert!(!seen.contains(&x.id), "{} sees {}: {seen}", y.id, x.id);
    }
    let res = app.as_user(&ys[0]).get(&format!("/user/{}", x.id)).await;
    assert_eq!(res.status, 404, "{}", res.body);
    // A friend's sync says so at once (x's profile moved); a blocker's once the clean-up ran.
    let r = clients[0].once(&app, &ys[0]).await;
    assert!(
        r["friends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["friendId"] == x.id.as_str() && f["status"] == 30),
        "{r}"
    );
    // No new edge can point at x.
    let res = app
        .as_user(&ys[5])
        .post("/friendship/invite", json!({"friendId": x.id}))
        .await;
    assert_ne!(res.code(), 200, "{}", res.body);

    app.clock.advance_secs(6 * 60);
    let report = sweep(&app).await;
    assert_eq!((report.found, report.finished), (1, 1), "{report:?}");
    assert_eq!(sweep(&app).await.found, 0, "the job is gone once finished");

    // Every counterpart's rows about x are gone, with their counters, and each client's
    // tables built from syncs equal the state (the tombstones arrived).
    for (y, c) in ys.iter().zip(clients.iter_mut()) {
        app.assert_counters_agree(y).await;
        c.drain(&app, y).await;
        assert_eq!(c.tables, truth(&app, y).await, "{}", y.id);
        assert!(!format!("{:?}", c.tables).contains(&x.id));
    }
    let store = &app.state.store;
    for (pk, prefix) in [
        (format!("USER#{}", ys[4].id), "BLOCK#"),
        (format!("USER#{}", ys[6].id), "FOLLOW#"),
        (format!("USER#{}", x.id), ""),
    ] {
        let query = match prefix {
            "" => roster::ports::Query::partition(pk),
            prefix => roster::ports::Query::partition(pk).begins_with(prefix),
        };
        let page = store.query(query).await.unwrap();
        let left: Vec<&str> = page
            .items
            .iter()
            .map(|i| i.key.sk.as_str())
            .filter(|sk| !sk.starts_with("CHG#") && *sk != "FEED")
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    let groups = app.as_user(&ys[6]).get("/user/follow_groups").await;
    let close = groups.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["groupName"] == "close")
        .cloned()
        .unwrap_or_else(|| panic!("{}", groups.body));
    assert_eq!(close["count"], 0, "the fan's follow group counts one fewer: {close}");
    // Groups: x left the one it joined; the one it created passed to its manager; the one
    // it was alone in is dismissed.
    let info = app.as_user(&ys[1]).get(&format!("/group/{handed}")).await;
    assert_eq!(info.body["result"]["creatorId"], ys[2].id.as_str(), "{}", info.body);
    assert_eq!(info.body["result"]["memberCount"], 2);
    let info = app.as_user(&ys[0]).get(&format!("/group/{joined}")).await;
    assert_eq!(info.body["result"]["memberCount"], 2, "{}", info.body);
    let info = app.as_user(&ys[0]).get(&format!("/group/{alone}")).await;
    assert_eq!(info.status, 404, "{}", info.body);
    assert!(!local.path_of(&avatar).exists(), "the avatar is deleted");
}

async fn a_cleanup_killed_midway_completes_later_and_no_reader_sees_a_dangling_edge(app: TestApp) {
    let x = app.registered_as("Leaving").await;
    let ys = app.quick_users(30).await;
    for y in &ys[..24] {
        app.befriend(&x, y).await;
    }
    for y in &ys[20..30] {
        app.posted(y, "/user/follow", json!({"userId": x.id})).await;
        app.posted(y, "/user/add_to_blacklist", json!({"friendId": x.id})).await;
    }
    let mut clients = vec![];
    for y in &ys {
        let mut c = SyncClient::new();
        c.drain(&app, y).await;
        clients.push(c);
    }

    // The deleting request commits the account's transaction and one page, then dies.
    let dying = app.router_with_store(DiesAfter::wrap(app.state.store.clone(), 2));
    delete_account(&app, dying, &x).await;
    let job = app
        .state
        .store
        .get(&roster::ports::Key::new(format!("USER#{}", x.id), "DELETION"))
        .await
        .unwrap()
        .expect("the job waits for the sweep");
    assert_ne!(
        job.s("cursor"),
        Some("friends|"),
        "one page was committed before the kill"
    );
    let remaining = app
        .state
        .store
        .query(roster::ports::Query::partition(format!("USER#{}", x.id)).begins_with("FRIEND#"))
        .await
        .unwrap()
        .items
        .len();
    assert!(remaining > 0 && remaining < 24, "{remaining} friendships left");

    // Meanwhile no reader returns an edge to x, and friends' syncs already drop it.
    for (y, c) in ys.iter().zip(clients.iter_mut()) {
        assert!(
            !everything_seen_by(&app, y).await.contains(&x.id),
            "{} sees {}",
            y.id,
            x.id
        );
        c.drain(&app, y).await;
        assert!(!c.tables.friends.contains_key(&x.id), "{}", y.id);
    }

    // Nobody acts; the sweep (every 5 minutes) completes the job.
    app.clock.advance_secs(6 * 60);
    let report = sweep(&app).await;
    assert_eq!((report.found, report.finished), (1, 1), "{report:?}");
    for (y, c) in ys.iter().zip(clients.iter_mut()) {
        app.assert_counters_agree(y).await;
        c.drain(&app, y).await;
        assert_eq!(c.tables, truth(&app, y).await, "{}", y.id);
        assert!(!c.tables.blacklist.contains(&x.id));
    }
    // Running it again finds nothing: the clean-up is idempotent.
    assert_eq!(sweep(&app).await.found, 0);
}

on_every_store!(
    deleting_an_account_removes_every_relation_both_ways,
    a_cleanup_killed_midway_completes_later_and_no_reader_sees_a_dangling_edge,
);
