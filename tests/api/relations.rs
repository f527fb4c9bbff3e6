//! The `relations` group: SealTalk's blacklist and friendships, their state table, the
//! block rules, limits under concurrency, and the change each write records.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::on_every_store;
use crate::support::stores::Counting;
use crate::support::users::User;
use crate::support::{concurrently, TestApp};

async fn act(app: &TestApp, user: &User, path: &str, other: &User) -> Value {
    app.as_user(user).post(path, json!({"friendId": other.id})).await.body
}

async fn invite(app: &TestApp, from: &User, to: &User) -> Value {
    act(app, from, "/friendship/invite", to).await
}

/// `user`'s status toward `other` in `/friendship/all`, if any.
async fn status(app: &TestApp, user: &User, other: &User) -> Option<i64> {
    let all = app.as_user(user).get("/friendship/all").await.body;
    all["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user"]["id"] == other.id.as_str())
        .map(|e| e["status"].as_i64().unwrap())
}

async fn statuses(app: &TestApp, a: &User, b: &User) -> (Option<i64>, Option<i64>) {
    (status(app, a, b).await, status(app, b, a).await)
}

fn change(kind: &str, subject: &User) -> (String, String, String) {
    (kind.into(), subject.id.clone(), "upsert".into())
}

async fn the_friendship_state_table_from_invite_to_delete(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    let sent = app
        .as_user(&a)
        .post(
            "/friendship/invite",
            json!({"friendId": b.id, "message": "Hi, Ann here"}),
        )
        .await;
    assert_eq!(sent.body["result"]["action"], "Sent", "{}", sent.body);
    assert_eq!(statuses(&app, &a, &b).await, (Some(10), Some(11)));
    let b_view = app.as_user(&b).get("/friendship/all").await.body;
    assert_eq!(b_view["result"][0]["message"], "Hi, Ann here");
    assert_eq!(
        b_view["result"][0]["user"]["phone"], "",
        "no phone before they are friends"
    );
    assert_eq!(
        act(&app, &b, "/friendship/agree", &a).await["result"]["action"],
        "Added"
    );
    assert_eq!(statuses(&app, &a, &b).await, (Some(20), Some(20)));
    let friends = app.as_user(&b).get("/friendship/all").await.body;
    assert_eq!(
        friends["result"][0]["user"]["phone"],
        a.national.as_str(),
        "friends see the phone"
    );
    assert_eq!(friends["result"][0]["user"]["region"], "86");
    // Already friends: 400.
    let again = app
        .as_user(&a)
        .post("/friendship/invite", json!({"friendId": b.id}))
        .await;
    assert_eq!(
        (again.status, again.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("friendId"))
    );
    // A deletes: A 30, B still 20; only B can still open the friend profile.
    assert_eq!(act(&app, &a, "/friendship/delete", &b).await["code"], 200);
    assert_eq!(statuses(&app, &a, &b).await, (Some(30), Some(20)));
    assert_eq!(
        app.as_user(&a)
            .get(&format!("/friendship/{}/profile", b.id))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let profile = app.as_user(&b).get(&format!("/friendship/{}/profile", a.id)).await;
    assert_eq!(profile.body["result"]["user"]["id"], a.id.as_str(), "{}", profile.body);
    assert_eq!(
        profile.body["result"]["user"]["phone"], "",
        "A no longer counts B as a friend"
    );
    // A invites again: B still counts A, so they are friends at once.
    assert_eq!(invite(&app, &a, &b).await["result"]["action"], "Added");
    assert_eq!(statuses(&app, &a, &b).await, (Some(20), Some(20)));
    // Deleting a non-friend, or agreeing to no request, is 404.
    let c = app.registered_as("Cid").await;
    assert_eq!(
        app.as_user(&a)
            .post("/friendship/delete", json!({"friendId": c.id}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.as_user(&c)
            .post("/friendship/agree", json!({"friendId": a.id}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn an_ignored_request_can_still_be_agreed_and_display_names_are_per_side(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    invite(&app, &a, &b).await;
    assert_eq!(act(&app, &b, "/friendship/ignore", &a).await["code"], 200);
    assert_eq!(statuses(&app, &a, &b).await, (Some(10), Some(21)));
    assert_eq!(
        app.as_user(&b)
            .post("/friendship/ignore", json!({"friendId": a.id}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&app, &b, "/friendship/agree", &a).await["result"]["action"],
        "Added"
    );
    let set = app
        .as_user(&a)
        .post(
            "/friendship/set_display_name",
            json!({"friendId": b.id, "displayName": "Bobby"}),
        )
        .await;
    assert_eq!(set.code(), 200, "{}", set.body);
    let too_long = app
        .as_user(&a)
        .post(
            "/friendship/set_display_name",
            json!({"friendId": b.id, "displayName": "x".repeat(33)}),
        )
        .await;
    assert_eq!(too_long.body["field"], "displayName");
    let mine = app.as_user(&a).get(&format!("/friendship/{}/profile", b.id)).await.body;
    assert_eq!(mine["result"]["displayName"], "Bobby");
    let theirs = app.as_user(&b).get(&format!("/friendship/{}/profile", a.id)).await.body;
    assert_eq!(theirs["result"]["displayName"], "");
}

async fn fri_verify_zero_adds_directly(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    app.as_user(&b).post("/user/set_privacy", json!({"friVerify": 0})).await;
    assert_eq!(invite(&app, &a, &b).await["result"]["action"], "AddDirectly");
    assert_eq!(statuses(&app, &a, &b).await, (Some(20), Some(20)));
}

async fn blocking_ends_the_friendship_and_a_blocked_user_cannot_invite(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    invite(&app, &a, &b).await;
    act(&app, &b, "/friendship/agree", &a).await;
    assert_eq!(act(&app, &a, "/user/add_to_blacklist", &b).await["code"], 200);
    assert_eq!(statuses(&app, &a, &b).await, (Some(30), Some(30)));
    let list = app.as_user(&a).get("/user/blacklist").await.body;
    assert_eq!(list["result"][0]["user"]["id"], b.id.as_str());
    assert_eq!(list["result"][0]["user"]["phone"], "", "no longer a friend: no phone");
    // B's invite answers None and changes nothing; A's invite is refused until A unblocks.
    assert_eq!(invite(&app, &b, &a).await["result"]["action"], "None");
    assert_eq!(statuses(&app, &a, &b).await, (Some(30), Some(30)));
    assert_eq!(invite(&app, &a, &b).await["field"], "friendId");
    // Adding twice and removing twice change nothing more.
    let before = app.feed(&a).await.len();
    act(&app, &a, "/user/add_to_blacklist", &b).await;
    assert_eq!(app.feed(&a).await.len(), before);
    assert_eq!(act(&app, &a, "/user/remove_from_blacklist", &b).await["code"], 200);
    assert_eq!(act(&app, &a, "/user/remove_from_blacklist", &b).await["code"], 200);
    assert!(app.as_user(&a).get("/user/blacklist").await.body["result"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(invite(&app, &b, &a).await["result"]["action"], "Sent");
}

async fn a_pending_request_is_dropped_by_a_block(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    invite(&app, &a, &b).await;
    act(&app, &b, "/user/add_to_blacklist", &a).await;
    assert_eq!(statuses(&app, &a, &b).await, (Some(30), Some(30)));
    assert_eq!(
        app.as_user(&b)
            .post("/friendship/agree", json!({"friendId": a.id}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn relation_input_names_the_field_and_unknown_users_are_404(app: TestApp) {
    let a = app.registered_as("Ann").await;
    for path in ["/friendship/invite", "/user/add_to_blacklist", "/friendship/agree"] {
        let own = app.as_user(&a).post(path, json!({"friendId": a.id})).await;
        assert_eq!(
            (own.status, own.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("friendId")),
            "{path}"
        );
        let bad = app.as_user(&a).post(path, json!({"friendId": "../x"})).await;
        assert_eq!(bad.body["field"], "friendId", "{path}");
        let unknown = app
            .as_user(&a)
            .post(path, json!({"friendId": "AAAAAAAAAAAAAAAA"}))
            .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            app.post(path, json!({"friendId": a.id})).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for path in [
        "/user/blacklist",
        "/friendship/all",
        "/friendship/AAAAAAAAAAAAAAAA/profile",
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn each_write_records_its_changes_in_the_feeds_it_touches(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    invite(&app, &a, &b).await;
    assert_eq!(app.feed(&a).await, vec![change("friend", &b)]);
    assert_eq!(app.feed(&b).await, vec![change("friend", &a)]);
    act(&app, &b, "/friendship/ignore", &a).await;
    assert_eq!(app.feed(&a).await.len(), 1, "ignoring changes only B's side");
    assert_eq!(app.feed(&b).await.len(), 2);
    act(&app, &a, "/user/add_to_blacklist", &b).await;
    assert_eq!(
        &app.feed(&a).await[1..],
        &[change("blacklist", &b), change("friend", &b)]
    );
    assert_eq!(app.feed(&b).await[2], change("friend", &a));
    act(&app, &a, "/user/remove_from_blacklist", &b).await;
    assert_eq!(
        app.feed(&a).await[3],
        ("blacklist".into(), b.id.clone(), "delete".into())
    );
}

async fn at_the_pending_limit_twenty_simultaneous_invites_let_in_exactly_as_many_as_fit(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.max_pending_requests = 5).await;
    let users = app.many_registered(21).await;
    let target = &users[20];
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as("/friendship/invite", &users[i].cookie, &json!({"friendId": target.id}))
    })
    .await;
    let sent = bodies.iter().filter(|b| b["result"]["action"] == "Sent").count();
    let refused = bodies.iter().filter(|b| b["code"] == 3100).count();
    assert_eq!((sent, refused), (5, 15), "{bodies:?}");
    let incoming = app.as_user(target).get("/friendship/all").await.body["result"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(incoming, 5);
}

async fn at_the_friend_limit_twenty_simultaneous_adds_let_in_exactly_as_many_as_fit(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.max_friends = 3).await;
    let users = app.many_registered(21).await;
    let target = &users[20];
    app.as_user(target)
        .post("/user/set_privacy", json!({"friVerify": 0}))
        .await;
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as("/friendship/invite", &users[i].cookie, &json!({"friendId": target.id}))
    })
    .await;
    let added = bodies.iter().filter(|b| b["result"]["action"] == "AddDirectly").count();
    assert_eq!(added, 3, "{bodies:?}");
    assert!(
        bodies
            .iter()
            .all(|b| b["result"]["action"] == "AddDirectly" || b["code"] == 3100),
        "{bodies:?}"
    );
}

async fn the_blacklist_pages_each_entry_exactly_once(app: TestApp) {
    let users = app.many_registered(6).await;
    let me = &users[0];
    for other in &users[1..] {
        app.clock.advance_secs(1);
        act(&app, me, "/user/add_to_blacklist", other).await;
    }
    let mut seen = vec![];
    for page in 1..=3 {
        let res = app
            .as_user(me)
            .get(&format!("/user/blacklist?page={page}&size=2"))
            .await
            .body;
        let info = &res["result"]["pageInfo"];
        assert_eq!(
            (
                info["page"].as_u64(),
                info["size"].as_u64(),
                info["totalPage"].as_u64(),
                info["totalCount"].as_u64()
            ),
            (Some(page), Some(2), Some(3), Some(5))
        );
        for e in res["result"]["list"].as_array().unwrap() {
            seen.push(e["user"]["id"].as_str().unwrap().to_string());
        }
    }
    let expected: Vec<String> = users[1..].iter().map(|u| u.id.clone()).collect();
    assert_eq!(seen, expected, "oldest first, each once");
    let bad = app.as_user(me).get("/user/blacklist?page=1&size=101").await;
    assert_eq!(bad.body["field"], "size");
}

async fn a_relation_write_is_one_read_and_one_transaction(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    let counting = Counting::new();
    let router = app.router_with_store(counting.wrap(app.state.store.clone()));
    for path in ["/friendship/invite", "/friendship/delete", "/user/add_to_blacklist"] {
        let (calls, txs) = (counting.calls(), counting.transactions());
        let req = axum::http::Request::post(path)
            .header("content-type", "application/json")
            .header("cookie", &a.cookie)
            .body(axum::body::Body::from(json!({"friendId": b.id}).to_string()))
            .unwrap();
        let body = crate::support::call(router.clone(), req).await;
        if path == "/friendship/delete" {
            assert_eq!(body["code"], 404, "not friends yet");
            assert_eq!(
                (counting.calls() - calls, counting.transactions() - txs),
                (1, 0),
                "{path}"
            );
        } else {
            assert_eq!(body["code"], 200, "{path}: {body}");
            assert_eq!(
                (counting.calls() - calls, counting.transactions() - txs),
                (2, 1),
                "{path}"
            );
        }
    }
}

async fn someone_who_blocked_you_shows_only_a_card_and_is_not_found(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    app.as_user(&b)
        .post("/user/set_st_account", json!({"stAccount": "bob_the_1"}))
        .await;
    let before = app.as_user(&a).get(&format!("/user/{}", b.id)).await.body;
    assert!(before["result"]["gender"].is_string());
    act(&app, &b, "/user/add_to_blacklist", &a).await;
    let after = app.as_user(&a).get(&format!("/user/{}", b.id)).await.body;
    assert_eq!(
        after["result"],
        json!({"id": b.id, "nickname": "Bob", "portraitUri": ""}),
        "only the card"
    );
    assert_eq!(
        app.as_user(&a)
            .get(&format!("/user/find/86/{}", b.national))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.as_user(&a).get("/user/find_user?st_account=bob_the_1").await.status,
        StatusCode::NOT_FOUND
    );
    // The IM token refuses a conversation that includes someone who blocked you.
    let token = app
        .as_user(&a)
        .post("/user/get_token", json!({"members": [b.id]}))
        .await;
    assert_eq!(
        (token.status, token.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("members"))
    );
    // Others still find and read B in full.
    let c = app.registered_as("Cid").await;
    assert_eq!(
        app.as_user(&c)
            .get(&format!("/user/find/86/{}", b.national))
            .await
            .code(),
        200
    );
    assert!(app.as_user(&c).get(&format!("/user/{}", b.id)).await.body["result"]["gender"].is_string());
    assert_eq!(
        app.as_user(&c)
            .post("/user/get_token", json!({"members": [b.id]}))
            .await
            .code(),
        200
    );
}

async fn friends_see_each_others_phone_when_reading_by_id(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    assert_eq!(
        app.as_user(&a).get(&format!("/user/{}", b.id)).await.body["result"]["phone"],
        ""
    );
    invite(&app, &a, &b).await;
    act(&app, &b, "/friendship/agree", &a).await;
    assert_eq!(
        app.as_user(&a).get(&format!("/user/{}", b.id)).await.body["result"]["phone"],
        b.national.as_str()
    );
    act(&app, &b, "/friendship/delete", &a).await;
    assert_eq!(
        app.as_user(&a).get(&format!("/user/{}", b.id)).await.body["result"]["phone"],
        "",
        "only while friends both ways"
    );
}

async fn follow(app: &TestApp, user: &User, other: &User, group: Option<&str>) -> Value {
    let mut body = json!({"userId": other.id});
    if let Some(g) = group {
        body["groupName"] = json!(g);
    }
    app.as_user(user).post("/user/follow", body).await.body
}

fn ids(list: &Value) -> Vec<String> {
    list["result"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["userId"].as_str().unwrap().to_string())
        .collect()
}

async fn follows_move_between_groups_and_fans_come_from_the_index(app: TestApp) {
    let users = app.many_registered(3).await;
    let (a, b, c) = (&users[0], &users[1], &users[2]);
    assert_eq!(follow(&app, a, b, None).await["code"], 200);
    assert_eq!(
        app.as_user(a)
            .post("/user/add_follow_group", json!({"groupName": "work"}))
            .await
            .code(),
        200
    );
    app.clock.advance_secs(1);
    assert_eq!(follow(&app, a, c, Some("work")).await["code"], 200);
    let groups = app.as_user(a).get("/user/follow_groups").await.body["result"].clone();
    assert_eq!(
        groups,
        json!([{"groupName": "default", "count": 1}, {"groupName": "special", "count": 0}, {"groupName": "work", "count": 1}])
    );
    // Following again in another group moves the follow.
    follow(&app, a, b, Some("work")).await;
    let groups = app.as_user(a).get("/user/follow_groups").await.body["result"].clone();
    assert_eq!(groups[0]["count"], 0);
    assert_eq!(groups[2]["count"], 2);
    let list = app.as_user(a).get("/user/follows").await.body;
    assert_eq!(ids(&list), vec![b.id.clone(), c.id.clone()]);
    assert_eq!(list["result"]["list"][0]["groupName"], "work");
    assert_eq!(list["result"]["list"][0]["nickname"], "User1");
    let fans = app.as_user(b).get("/user/fans").await.body;
    assert_eq!(ids(&fans), vec![a.id.clone()]);
    assert_eq!(
        app.as_user(a)
            .post("/user/unfollow", json!({"userId": b.id}))
            .await
            .code(),
        200
    );
    assert_eq!(
        app.as_user(a)
            .post("/user/unfollow", json!({"userId": b.id}))
            .await
            .code(),
        200,
        "twice is fine"
    );
    assert!(ids(&app.as_user(b).get("/user/fans").await.body).is_empty());
    // Groups: unknown, duplicate, built-in.
    assert_eq!(follow(&app, a, b, Some("nope")).await["field"], "groupName");
    assert_eq!(
        app.as_user(a)
            .post("/user/add_follow_group", json!({"groupName": "work"}))
            .await
            .body["field"],
        "groupName"
    );
    assert_eq!(
        app.as_user(a)
            .post("/user/delete_follow_group", json!({"groupName": "default"}))
            .await
            .code(),
        3102
    );
    assert_eq!(
        app.as_user(a).post("/user/follow", json!({"userId": a.id})).await.body["field"],
        "userId"
    );
}

async fn deleting_a_follow_group_deletes_its_follows(app: TestApp) {
    let users = app.many_registered(3).await;
    let (a, b, c) = (&users[0], &users[1], &users[2]);
    app.as_user(a)
        .post("/user/add_follow_group", json!({"groupName": "work"}))
        .await;
    follow(&app, a, b, Some("work")).await;
    follow(&app, a, c, None).await;
    assert_eq!(
        app.as_user(a)
            .post("/user/delete_follow_group", json!({"groupName": "work"}))
            .await
            .code(),
        200
    );
    assert_eq!(ids(&app.as_user(a).get("/user/follows").await.body), vec![c.id.clone()]);
    assert!(ids(&app.as_user(b).get("/user/fans").await.body).is_empty());
    let names: Vec<Value> = app.as_user(a).get("/user/follow_groups").await.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["groupName"].clone())
        .collect();
    assert_eq!(names, vec![json!("default"), json!("special")]);
}

async fn follow_groups_count_toward_their_limit(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.max_follow_groups = 3).await;
    let a = app.registered().await;
    assert_eq!(
        app.as_user(&a)
            .post("/user/add_follow_group", json!({"groupName": "one"}))
            .await
            .code(),
        200
    );
    assert_eq!(
        app.as_user(&a)
            .post("/user/add_follow_group", json!({"groupName": "two"}))
            .await
            .code(),
        3100
    );
}

async fn a_block_cancels_follows_and_a_follow_cancels_the_block(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    follow(&app, &a, &b, None).await;
    follow(&app, &b, &a, None).await;
    act(&app, &a, "/user/add_to_blacklist", &b).await;
    assert!(ids(&app.as_user(&a).get("/user/follows").await.body).is_empty());
    assert!(ids(&app.as_user(&b).get("/user/follows").await.body).is_empty());
    // B, blocked, cannot follow A; A following B lifts A's block.
    assert_eq!(follow(&app, &b, &a, None).await["code"], 3101);
    assert_eq!(follow(&app, &a, &b, None).await["code"], 200);
    assert!(app.as_user(&a).get("/user/blacklist").await.body["result"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        app.feed(&a).await.last().unwrap(),
        &("blacklist".to_string(), b.id.clone(), "delete".to_string())
    );
}

async fn follow_and_fan_pages_list_each_user_exactly_once(app: TestApp) {
    let users = app.many_registered(6).await;
    let me = &users[0];
    for other in &users[1..] {
        app.clock.advance_secs(1);
        follow(&app, me, other, None).await;
        follow(&app, other, me, None).await;
    }
    for path in ["/user/follows", "/user/fans"] {
        let mut seen = vec![];
        for page in 1..=3 {
            let res = app.as_user(me).get(&format!("{path}?page={page}&size=2")).await.body;
            assert_eq!(res["result"]["pageInfo"]["totalCount"], 5, "{path}");
            assert_eq!(res["result"]["pageInfo"]["totalPage"], 3, "{path}");
            seen.extend(ids(&res));
        }
        let expected: Vec<String> = users[1..].iter().map(|u| u.id.clone()).collect();
        assert_eq!(seen, expected, "{path}");
    }
}

async fn at_the_follow_limit_twenty_simultaneous_follows_let_in_exactly_as_many_as_fit(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.max_follows = 5).await;
    let users = app.many_registered(21).await;
    let me = &users[0];
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as("/user/follow", &me.cookie, &json!({"userId": users[i + 1].id}))
    })
    .await;
    let ok = bodies.iter().filter(|b| b["code"] == 200).count();
    assert_eq!(ok, 5, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| b["code"] == 200 || b["code"] == 3100),
        "{bodies:?}"
    );
    assert_eq!(
        app.as_user(me).get("/user/follows").await.body["result"]["pageInfo"]["totalCount"],
        5
    );
}

async fn own_info_and_user_pages_show_counts_and_follows_as_display_follows_allows(app: TestApp) {
    let users = app.many_registered(3).await;
    let (a, b, c) = (&users[0], &users[1], &users[2]);
    follow(&app, a, b, None).await;
    follow(&app, c, a, None).await;
    invite(&app, a, b).await;
    act(&app, b, "/friendship/agree", a).await;
    let own = app.as_user(a).get("/user/own_info").await.body;
    let r = &own["result"];
    assert_eq!(
        (
            r["friendCount"].as_i64(),
            r["followCount"].as_i64(),
            r["fanCount"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{own}"
    );
    assert_eq!(r["follows"], json!([{"groupName": "default", "userIds": [b.id]}]));
    assert_eq!(r["fanIds"], json!([c.id]));
    assert_eq!(r["phone"], a.national.as_str());
    // Another user sees the counts, and the lists while displayFollows is 1.
    let page = app.as_user(c).get(&format!("/user/{}", a.id)).await.body;
    assert_eq!(page["result"]["followCount"], 1);
    assert_eq!(page["result"]["fanIds"], json!([c.id]));
    app.as_user(a)
        .post("/user/set_privacy", json!({"displayFollows": 0}))
        .await;
    let page = app.as_user(c).get(&format!("/user/{}", a.id)).await.body;
    assert_eq!(page["result"]["fanCount"], 1, "counts stay");
    assert!(
        page["result"].get("follows").is_none() && page["result"].get("fanIds").is_none(),
        "{page}"
    );
    let own_page = app.as_user(a).get(&format!("/user/{}", a.id)).await.body;
    assert!(
        own_page["result"]["follows"].is_array(),
        "the user always sees their own"
    );
    assert_eq!(
        app.as_user(a).get("/user/get_privacy").await.body["result"]["displayFollows"],
        0
    );
}

async fn at_the_blacklist_limit_twenty_simultaneous_blocks_let_in_exactly_as_many_as_fit(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.max_blocked = 5).await;
    let users = app.many_registered(21).await;
    let me = &users[0];
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as(
            "/user/add_to_blacklist",
            &me.cookie,
            &json!({"friendId": users[i + 1].id}),
        )
    })
    .await;
    assert_eq!(bodies.iter().filter(|b| b["code"] == 200).count(), 5, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| b["code"] == 200 || b["code"] == 3100),
        "{bodies:?}"
    );
    assert_eq!(
        app.as_user(me).get("/user/blacklist").await.body["result"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

async fn either_side_can_end_a_friendship(app: TestApp) {
    let a = app.registered_as("Ann").await;
    let b = app.registered_as("Bob").await;
    invite(&app, &a, &b).await;
    act(&app, &b, "/friendship/agree", &a).await;
    act(&app, &b, "/friendship/delete", &a).await;
    assert_eq!(statuses(&app, &a, &b).await, (Some(20), Some(30)));
    act(&app, &a, "/friendship/delete", &b).await;
    assert_eq!(statuses(&app, &a, &b).await, (Some(30), Some(30)));
    // From 30/30 an invite is a new request.
    assert_eq!(invite(&app, &b, &a).await["result"]["action"], "Sent");
    assert_eq!(statuses(&app, &a, &b).await, (Some(11), Some(10)));
    // Another user's request cannot be answered by a third.
    let c = app.registered_as("Cid").await;
    assert_eq!(
        app.as_user(&c)
            .post("/friendship/ignore", json!({"friendId": b.id}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.as_user(&c)
            .post(
                "/friendship/set_display_name",
                json!({"friendId": a.id, "displayName": "x"})
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

on_every_store!(
    at_the_blacklist_limit_twenty_simultaneous_blocks_let_in_exactly_as_many_as_fit,
    either_side_can_end_a_friendship,
    own_info_and_user_pages_show_counts_and_follows_as_display_follows_allows,
    follows_move_between_groups_and_fans_come_from_the_index,
    deleting_a_follow_group_deletes_its_follows,
    follow_groups_count_toward_their_limit,
    a_block_cancels_follows_and_a_follow_cancels_the_block,
    follow_and_fan_pages_list_each_user_exactly_once,
    at_the_follow_limit_twenty_simultaneous_follows_let_in_exactly_as_many_as_fit,
    someone_who_blocked_you_shows_only_a_card_and_is_not_found,
    friends_see_each_others_phone_when_reading_by_id,
    the_friendship_state_table_from_invite_to_delete,
    an_ignored_request_can_still_be_agreed_and_display_names_are_per_side,
    fri_verify_zero_adds_directly,
    blocking_ends_the_friendship_and_a_blocked_user_cannot_invite,
    a_pending_request_is_dropped_by_a_block,
    relation_input_names_the_field_and_unknown_users_are_404,
    each_write_records_its_changes_in_the_feeds_it_touches,
    at_the_pending_limit_twenty_simultaneous_invites_let_in_exactly_as_many_as_fit,
    at_the_friend_limit_twenty_simultaneous_adds_let_in_exactly_as_many_as_fit,
    the_blacklist_pages_each_entry_exactly_once,
    a_relation_write_is_one_read_and_one_transaction,
);
