//! The `profile` group: settings, SealTalk ids, privacy and poke, with the change each
//! synced write records.

use axum::http::StatusCode;
use roster::domain::UserId;
use roster::store::profile::{self, Profile};
use serde_json::json;

use crate::on_every_store;
use crate::support::stores::Counting;
use crate::support::users::User;
use crate::support::{concurrently, TestApp};

async fn stored(app: &TestApp, user: &User) -> Profile {
    let id = UserId::parse("id", &user.id).unwrap();
    let item = app.state.store.get(&profile::key(&id)).await.unwrap().unwrap();
    Profile::from_item(&item).unwrap()
}

fn user_change(user: &User) -> (String, String, String) {
    ("user".into(), user.id.clone(), "upsert".into())
}

async fn a_user_sets_nickname_portrait_and_gender(app: TestApp) {
    let user = app.registered().await;
    let me = app.as_user(&user);
    assert_eq!(
        me.post("/user/set_nickname", json!({"nickname": "Tommy"})).await.code(),
        200
    );
    let portrait = "https://cdn.example.com/avatars/tommy.png";
    assert_eq!(
        me.post("/user/set_portrait_uri", json!({"portraitUri": portrait}))
            .await
            .code(),
        200
    );
    assert_eq!(
        me.post("/user/set_gender", json!({"gender": "female"})).await.code(),
        200
    );
    let p = stored(&app, &user).await;
    assert_eq!(
        (p.nickname.as_str(), p.portrait_uri.as_str(), p.gender.as_str()),
        ("Tommy", portrait, "female")
    );
}

async fn what_friends_see_records_a_user_change_and_nothing_else_does(app: TestApp) {
    let user = app.registered().await;
    let me = app.as_user(&user);
    assert!(app.feed(&user).await.is_empty());
    me.post("/user/set_nickname", json!({"nickname": "Tommy"})).await;
    me.post("/user/set_gender", json!({"gender": "male"})).await;
    me.post("/user/set_privacy", json!({"phoneVerify": 0})).await;
    me.post("/user/set_poke", json!({"pokeStatus": 0})).await;
    me.post("/user/set_st_account", json!({"stAccount": "tommy_1"})).await;
    me.post(
        "/user/set_portrait_uri",
        json!({"portraitUri": "https://cdn.example.com/t.png"}),
    )
    .await;
    assert_eq!(app.feed(&user).await, vec![user_change(&user), user_change(&user)]);
    // The profile points at the record of its last change friends see.
    assert_eq!(stored(&app, &user).await.pseq, 2);
}

async fn simultaneous_nickname_changes_number_their_records_without_a_gap(app: TestApp) {
    let user = app.registered().await;
    let bodies = concurrently(&app.router, 10, |i| {
        crate::support::json_post_as(
            "/user/set_nickname",
            &user.cookie,
            &json!({"nickname": format!("Name{i}")}),
        )
    })
    .await;
    let ok = bodies.iter().filter(|b| b["code"] == 200).count();
    assert!(
        bodies.iter().all(|b| b["code"] == 200 || b["code"] == 503),
        "{bodies:?}"
    );
    // `feed` checks 1..=seq without a gap; every change that answered 200 has its record.
    assert_eq!(app.feed(&user).await.len(), ok);
    assert!(ok >= 1);
}

async fn bad_settings_are_400_naming_the_field_and_change_nothing(app: TestApp) {
    let user = app.registered().await;
    let me = app.as_user(&user);
    for (path, body, field) in [
        ("/user/set_nickname", json!({"nickname": "x".repeat(33)}), "nickname"),
        ("/user/set_nickname", json!({}), "nickname"),
        (
            "/user/set_portrait_uri",
            json!({"portraitUri": "ftp://example.com/a.png"}),
            "portraitUri",
        ),
        (
            "/user/set_portrait_uri",
            json!({"portraitUri": "http://a.b"}),
            "portraitUri",
        ),
        ("/user/set_gender", json!({"gender": "robot"}), "gender"),
        ("/user/set_st_account", json!({"stAccount": "1abcdef"}), "stAccount"),
        ("/user/set_st_account", json!({"stAccount": "abc"}), "stAccount"),
        ("/user/set_privacy", json!({"phoneVerify": 2}), "phoneVerify"),
        ("/user/set_privacy", json!({"friVerify": "yes"}), "friVerify"),
        ("/user/set_poke", json!({"pokeStatus": -1}), "pokeStatus"),
        ("/user/set_poke", json!({}), "pokeStatus"),
    ] {
        let res = me.post(path, body.clone()).await;
        assert_eq!(
            (res.status, res.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{path} {body}"
        );
    }
    let p = stored(&app, &user).await;
    assert_eq!((p.nickname.as_str(), p.st_account.as_str(), p.poke), ("Tom", "", true));
    assert!(app.feed(&user).await.is_empty());
}

async fn without_a_session_every_profile_route_is_403(app: TestApp) {
    for path in [
        "/user/set_nickname",
        "/user/set_portrait_uri",
        "/user/set_gender",
        "/user/set_st_account",
        "/user/set_privacy",
        "/user/get_privacy",
        "/user/set_poke",
        "/user/get_poke",
        "/user/get_image_token",
        "/user/batch?id=AAAAAAAAAAAAAAAA",
        "/user/find/86/13912345678",
        "/user/find_user?st_account=tom_001",
        "/user/AAAAAAAAAAAAAAAA",
    ] {
        let res = app.post(path, json!({})).await;
        assert_eq!((res.status, res.code()), (StatusCode::FORBIDDEN, 403), "{path}");
    }
    // A logged-out session is no better.
    let user = app.registered().await;
    app.as_user(&user).post("/user/logout", json!({})).await;
    let res = app
        .as_user(&user)
        .post("/user/set_nickname", json!({"nickname": "X"}))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

async fn a_st_account_has_one_holder_and_changing_it_frees_the_old_one(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    let set = |user: &User, account: &str| {
        let body = json!({"stAccount": account});
        let app = &app;
        let cookie = user.cookie.clone();
        async move { app.with_cookie(&cookie).post("/user/set_st_account", body).await.code() }
    };
    assert_eq!(set(&ann, "ann_001").await, 200);
    assert_eq!(set(&ann, "ann_001").await, 200, "setting one's own id again is fine");
    assert_eq!(set(&bob, "ann_001").await, 1000);
    assert_eq!(set(&bob, "ANN_001").await, 1000, "ids are unique whatever their case");
    assert_eq!(set(&ann, "Ann_001").await, 200, "a new spelling of one's own id");
    assert_eq!(stored(&app, &ann).await.st_account, "Ann_001");
    assert_eq!(set(&ann, "ann_002").await, 200);
    assert_eq!(set(&bob, "ann_001").await, 200, "the old id is free again");
    assert_eq!(stored(&app, &bob).await.st_account, "ann_001");
}

async fn twenty_simultaneous_claims_of_one_st_account_leave_one_holder_and_no_orphan(app: TestApp) {
    let users = app.many_registered(20).await;
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as(
            "/user/set_st_account",
            &users[i].cookie,
            &json!({"stAccount": "popular"}),
        )
    })
    .await;
    let winners: Vec<usize> = (0..20).filter(|&i| bodies[i]["code"] == 200).collect();
    assert_eq!(winners.len(), 1, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| b["code"] == 200 || b["code"] == 1000),
        "{bodies:?}"
    );
    let winner = &users[winners[0]];
    for (i, user) in users.iter().enumerate() {
        let expected = if i == winners[0] { "popular" } else { "" };
        assert_eq!(stored(&app, user).await.st_account, expected);
    }
    let marker = roster::store::keys::st_account_marker(&roster::domain::StAccount::parse("popular").unwrap());
    let item = app.state.store.get(&marker).await.unwrap().expect("the marker");
    assert_eq!(roster::store::markers::owner(&item).unwrap().as_str(), winner.id);
}

async fn privacy_defaults_to_on_and_an_omitted_flag_is_unchanged(app: TestApp) {
    let user = app.registered().await;
    let me = app.as_user(&user);
    let all_on = json!({"phoneVerify": 1, "stSearchVerify": 1, "friVerify": 1, "groupVerify": 1, "displayFollows": 1, "displayPhone": 0, "displayBirthday": 0, "displayEmail": 0});
    assert_eq!(me.get("/user/get_privacy").await.body["result"], all_on);
    assert_eq!(
        me.post("/user/set_privacy", json!({"phoneVerify": 0, "groupVerify": 0}))
            .await
            .code(),
        200
    );
    assert_eq!(
        me.post("/user/set_privacy", json!({"groupVerify": "1"})).await.code(),
        200
    );
    let expected = json!({"phoneVerify": 0, "stSearchVerify": 1, "friVerify": 1, "groupVerify": 1, "displayFollows": 1, "displayPhone": 0, "displayBirthday": 0, "displayEmail": 0});
    assert_eq!(me.post("/user/get_privacy", json!({})).await.body["result"], expected);
    assert_eq!(
        me.post("/user/set_privacy", json!({})).await.code(),
        200,
        "nothing to change"
    );
    assert_eq!(me.get("/user/get_privacy").await.body["result"], expected);
}

async fn poke_defaults_to_on_and_can_be_turned_off(app: TestApp) {
    let user = app.registered().await;
    let me = app.as_user(&user);
    assert_eq!(me.get("/user/get_poke").await.body["result"], json!({"pokeStatus": 1}));
    assert_eq!(me.post("/user/set_poke", json!({"pokeStatus": 0})).await.code(), 200);
    assert_eq!(
        me.post("/user/get_poke", json!({})).await.body["result"],
        json!({"pokeStatus": 0})
    );
}

async fn setters_cost_one_transaction_and_synced_ones_a_read_too(app: TestApp) {
    let user = app.registered().await;
    let counting = Counting::new();
    let router = app.router_with_store(counting.wrap(app.state.store.clone()));
    let call = |path: &'static str, body: serde_json::Value| {
        let router = router.clone();
        let cookie = user.cookie.clone();
        async move {
            let req = axum::http::Request::post(path)
                .header("content-type", "application/json")
                .header("cookie", cookie)
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            crate::support::call(router, req).await
        }
    };
    for (path, body, round_trips) in [
        ("/user/set_gender", json!({"gender": "male"}), 1),
        ("/user/set_privacy", json!({"friVerify": 0}), 1),
        ("/user/set_poke", json!({"pokeStatus": 0}), 1),
        ("/user/set_nickname", json!({"nickname": "Tim"}), 2),
        ("/user/set_st_account", json!({"stAccount": "tim_123"}), 2),
        ("/user/get_privacy", json!({}), 1),
    ] {
        let (before, tx_before) = (counting.calls(), counting.transactions());
        assert_eq!(call(path, body).await["code"], 200, "{path}");
        assert_eq!(counting.calls() - before, round_trips, "{path}");
        let writes = usize::from(!path.starts_with("/user/get_"));
        assert_eq!(counting.transactions() - tx_before, writes, "{path}");
    }
}

async fn a_user_is_read_by_id_with_the_phone_only_for_themself(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    app.as_user(&bob)
        .post("/user/set_gender", json!({"gender": "male"}))
        .await;
    let res = app.as_user(&ann).get(&format!("/user/{}", bob.id)).await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let r = &res.body["result"];
    assert_eq!(
        (r["id"].as_str(), r["nickname"].as_str(), r["gender"].as_str()),
        (Some(bob.id.as_str()), Some("Bob"), Some("male"))
    );
    assert_eq!(r["phone"], "", "another user's phone is hidden");
    assert!(r["updatedAt"].as_str().unwrap().ends_with('Z') && r["updatedTime"].is_i64());
    // POST too, as the reference server serves it; the user sees their own phone.
    let own = app.as_user(&bob).post(&format!("/user/{}", bob.id), json!({})).await;
    assert_eq!(own.body["result"]["phone"], bob.national.as_str());
    // Unknown and malformed ids.
    assert_eq!(
        app.as_user(&ann).get("/user/AAAAAAAAAAAAAAAA").await.status,
        StatusCode::NOT_FOUND
    );
    let bad = app.as_user(&ann).get("/user/..%2Fetc").await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
    assert_eq!(
        app.get(&format!("/user/{}", bob.id)).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn a_batch_lists_known_users_once_and_refuses_more_than_a_hundred(app: TestApp) {
    let users = app.many_registered(3).await;
    let me = app.as_user(&users[0]);
    let path = format!(
        "/user/batch?id={}&id={}&id={}&id=AAAAAAAAAAAAAAAA",
        users[1].id, users[2].id, users[1].id
    );
    let res = me.get(&path).await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let ids: Vec<&str> = res.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![users[1].id.as_str(), users[2].id.as_str()]);
    assert_eq!(res.body["result"][0]["nickname"], "User1");
    assert!(res.body["result"][0].get("phone").is_none(), "a card holds no phone");
    let many: Vec<String> = (0..101).map(|i| format!("id=AAAAAAAAAAAA{i:04}")).collect();
    let res = me.get(&format!("/user/batch?{}", many.join("&"))).await;
    assert_eq!(
        (res.status, res.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
    let hundred: Vec<String> = (0..100).map(|i| format!("id=AAAAAAAAAAAA{i:04}")).collect();
    let res = me
        .get(&format!("/user/batch?{}&id={}", hundred[..99].join("&"), users[1].id))
        .await;
    assert_eq!(
        res.body["result"].as_array().unwrap().len(),
        1,
        "a hundred ids are one read"
    );
    let res = me.post("/user/batch", json!({"id": [users[2].id]})).await;
    assert_eq!(res.body["result"][0]["id"], users[2].id.as_str());
}

async fn reading_users_is_one_round_trip_with_the_session_check(app: TestApp) {
    let users = app.many_registered(2).await;
    let counting = Counting::new();
    let router = app.router_with_store(counting.wrap(app.state.store.clone()));
    // By id: the batched read and the two list queries go out together (3 calls, one
    // round trip of latency); a batch: one call.
    for (path, calls) in [
        (format!("/user/{}", users[1].id), 3),
        (format!("/user/batch?id={}&id={}", users[0].id, users[1].id), 1),
    ] {
        let req = axum::http::Request::get(path.as_str())
            .header("cookie", &users[0].cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let before = counting.calls();
        assert_eq!(crate::support::call(router.clone(), req).await["code"], 200, "{path}");
        assert_eq!(counting.calls() - before, calls, "{path}");
    }
    // A find is at most two round trips: the count with the marker, then the profile.
    let req = axum::http::Request::get(format!("/user/find/86/{}", users[1].national))
        .header("cookie", &users[0].cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let before = counting.calls();
    assert_eq!(crate::support::call(router.clone(), req).await["code"], 200);
    assert_eq!(counting.calls() - before, 3, "two in parallel, then one");
}

async fn phone_verify_decides_whether_a_phone_finds_its_owner(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    let me = app.as_user(&ann);
    let by_path = format!("/user/find/86/{}", bob.national);
    let by_query = format!("/user/find_user?region=86&phone={}", bob.national);
    let res = me.get(&by_path).await;
    assert_eq!(
        res.body["result"],
        json!({"id": bob.id, "nickname": "Bob", "portraitUri": ""})
    );
    let res = me.post(&by_query, json!({})).await;
    assert_eq!(
        (
            res.body["result"]["id"].as_str(),
            res.body["result"]["stAccount"].as_str()
        ),
        (Some(bob.id.as_str()), Some(""))
    );
    app.as_user(&bob)
        .post("/user/set_privacy", json!({"phoneVerify": 0}))
        .await;
    let hidden = me.get(&by_path).await;
    let (unknown, _) = crate::support::new_phone();
    let absent = me.get(&format!("/user/find/86/{unknown}")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.body, absent.body,
        "a hidden user and an unknown number look the same"
    );
    assert_eq!(me.get(&by_query).await.status, StatusCode::NOT_FOUND);
    // stSearchVerify does not guard phone look-ups.
    app.as_user(&bob)
        .post("/user/set_privacy", json!({"phoneVerify": 1, "stSearchVerify": 0}))
        .await;
    assert_eq!(me.get(&by_path).await.code(), 200);
    let invalid = me.get("/user/find/86/20012341234").await;
    assert_eq!(
        (invalid.status, invalid.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("phone"))
    );
}

async fn st_search_verify_decides_whether_a_st_account_finds_its_owner(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    app.as_user(&bob)
        .post("/user/set_st_account", json!({"stAccount": "bob_the_1"}))
        .await;
    let me = app.as_user(&ann);
    let res = me.get("/user/find_user?st_account=BOB_the_1").await;
    assert_eq!(res.body["result"]["id"], bob.id.as_str(), "{}", res.body);
    assert_eq!(res.body["result"]["stAccount"], "bob_the_1");
    app.as_user(&bob)
        .post("/user/set_privacy", json!({"stSearchVerify": 0}))
        .await;
    assert_eq!(
        me.get("/user/find_user?st_account=bob_the_1").await.status,
        StatusCode::NOT_FOUND
    );
    // phoneVerify does not guard SealTalk id look-ups.
    app.as_user(&bob)
        .post("/user/set_privacy", json!({"stSearchVerify": 1, "phoneVerify": 0}))
        .await;
    assert_eq!(me.get("/user/find_user?st_account=bob_the_1").await.code(), 200);
    let neither = me.get("/user/find_user").await;
    assert_eq!(
        (neither.status, neither.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("st_account"))
    );
    assert_eq!(
        app.get("/user/find_user?st_account=bob_the_1").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn look_ups_are_rate_limited_per_user_and_per_network(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| {
        c.limits.lookups_per_user_hour = 3;
        c.limits.lookups_per_ip_hour = 5;
    })
    .await;
    let users = app.many_registered(3).await;
    let find = |user: &User, ip: [u8; 4]| {
        let req = axum::http::Request::get(format!("/user/find/86/{}", users[2].national))
            .header("cookie", &user.cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let app = &app;
        async move { app.send(req, ip).await.code() }
    };
    for _ in 0..3 {
        assert_eq!(find(&users[0], [203, 0, 113, 1]).await, 200);
    }
    assert_eq!(
        find(&users[0], [203, 0, 113, 2]).await,
        5000,
        "the user's allowance is spent"
    );
    assert_eq!(find(&users[1], [203, 0, 113, 1]).await, 200);
    assert_eq!(find(&users[1], [203, 0, 113, 1]).await, 200);
    assert_eq!(
        find(&users[1], [203, 0, 113, 1]).await,
        5000,
        "the network's allowance is spent"
    );
    app.clock.advance_secs(3600);
    assert_eq!(find(&users[0], [203, 0, 113, 1]).await, 200, "a new hour");
}

/// The avatar flow on the local server: token, PUT the bytes, set the portrait, fetch it.
async fn an_avatar_is_uploaded_with_a_presigned_put_and_becomes_the_portrait(app: TestApp) {
    let user = app.registered().await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\nnot-really-a-png";
    let res = app
        .as_user(&user)
        .get(&format!(
            "/user/get_image_token?contentType=image/png&contentLength={}",
            png.len()
        ))
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let t = &res.body["result"];
    assert_eq!(t["target"], "s3");
    assert_eq!(t["token"], t["uploadUrl"]);
    assert_eq!(t["method"], "PUT");
    let key = t["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("avatars/{}/", user.id)) && key.ends_with(".png"),
        "{key}"
    );
    assert!(
        key.len() > format!("avatars/{}/", user.id).len() + 20,
        "an unguessable name: {key}"
    );
    let public = t["publicUrl"].as_str().unwrap();
    assert_eq!(public, format!("{}/{key}", t["domain"].as_str().unwrap()));
    assert_eq!(t["headers"]["content-type"], "image/png");
    assert_eq!(t["headers"]["content-length"], png.len().to_string());
    assert_eq!(t["expiresIn"], 600);

    let upload = |body: &'static [u8]| {
        let url = t["uploadUrl"].as_str().unwrap().replace("http://127.0.0.1:7700", "");
        let req = axum::http::Request::put(url)
            .header("content-type", "image/png")
            .body(axum::body::Body::from(body))
            .unwrap();
        app.send_raw(req)
    };
    assert_eq!(
        upload(b"\x89PNG\r\n\x1a\nshort").await.status(),
        StatusCode::FORBIDDEN,
        "another length"
    );
    assert_eq!(
        upload(b"\x89PNG\r\n\x1a\nnot-really-a-png").await.status(),
        StatusCode::OK
    );
    let set = app
        .as_user(&user)
        .post("/user/set_portrait_uri", json!({"portraitUri": public}))
        .await;
    assert_eq!(set.code(), 200, "{}", set.body);
    let fetched = app
        .send_raw(
            axum::http::Request::get(public.replace("http://127.0.0.1:7700", ""))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(fetched.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(fetched.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&bytes[..], png);
    assert_eq!(stored(&app, &user).await.portrait_uri, public);
}

async fn an_image_token_refuses_other_types_and_sizes_and_needs_a_session(app: TestApp) {
    let user = app.registered().await;
    for (query, field) in [
        ("contentType=image/svg%2Bxml", "contentType"),
        ("contentType=text/html", "contentType"),
        ("contentLength=0", "contentLength"),
        ("contentLength=5242881", "contentLength"),
        ("contentLength=lots", "contentLength"),
    ] {
        let res = app.as_user(&user).get(&format!("/user/get_image_token?{query}")).await;
        assert_eq!(
            (res.status, res.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{query}"
        );
    }
    let res = app
        .as_user(&user)
        .post(
            "/user/get_image_token",
            json!({"contentType": "image/webp", "contentLength": 5242880}),
        )
        .await;
    assert_eq!(res.code(), 200, "5 MB is allowed: {}", res.body);
    assert!(res.body["result"]["key"].as_str().unwrap().ends_with(".webp"));
    assert_eq!(app.get("/user/get_image_token").await.status, StatusCode::FORBIDDEN);
}

fn multipart(parts: &[(&str, Option<(&str, &str)>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "roster-test-boundary-7d3f";
    let mut body = vec![];
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some((filename, ct)) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload_avatar(
    app: &TestApp,
    user: &User,
    parts: &[(&str, Option<(&str, &str)>, &[u8])],
) -> crate::support::TestResponse {
    let (ct, body) = multipart(parts);
    let req = axum::http::Request::post("/user/upload_avatar")
        .header("content-type", ct)
        .header("cookie", &user.cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    app.send(req, crate::support::DEFAULT_IP).await
}

async fn an_uploaded_avatar_is_typed_by_its_bytes_and_becomes_the_portrait(app: TestApp) {
    let user = app.registered().await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n-a-tiny-png-";
    // Declared a JPEG; the bytes say PNG, and PNG it is.
    let res = upload_avatar(
        &app,
        &user,
        &[
            ("avatar", Some(("me.jpg", "image/jpeg")), png),
            ("nickname", None, b"Tina"),
        ],
    )
    .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let r = &res.body["result"];
    assert_eq!(
        (r["id"].as_str(), r["nickname"].as_str()),
        (Some(user.id.as_str()), Some("Tina"))
    );
    let portrait = r["portraitUri"].as_str().unwrap();
    assert!(
        portrait.contains(&format!("/avatars/{}/", user.id)) && portrait.ends_with(".png"),
        "{portrait}"
    );
    let fetched = app
        .send_raw(
            axum::http::Request::get(portrait.replace("http://127.0.0.1:7700", ""))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(fetched.headers()["content-type"], "image/png");
    let bytes = http_body_util::BodyExt::collect(fetched.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&bytes[..], png);
    // One change friends see, recorded once.
    assert_eq!(app.feed(&user).await, vec![user_change(&user)]);
}

async fn an_upload_that_is_not_an_image_or_too_large_is_400_and_stores_nothing(app: TestApp) {
    let user = app.registered().await;
    let big = vec![0xFFu8; 1024 * 1024 + 1];
    let mut big_jpeg = vec![0xFF, 0xD8, 0xFF];
    big_jpeg.extend_from_slice(&big[3..]);
    for (parts, field) in [
        (
            vec![(
                "avatar",
                Some(("x.png", "image/png")),
                &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            )],
            "avatar",
        ),
        (vec![("avatar", Some(("x.jpg", "image/jpeg")), &big_jpeg[..])], "avatar"),
        (vec![("nickname", None, &b"Tina"[..])], "avatar"),
        (
            vec![
                ("avatar", Some(("x.png", "image/png")), &b"\x89PNG\r\n\x1a\n"[..]),
                ("nickname", None, &b"\xe2\x80\x8b"[..]),
            ],
            "nickname",
        ),
    ] {
        let res = upload_avatar(&app, &user, &parts).await;
        assert_eq!(
            (res.status, res.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{}",
            res.body
        );
    }
    let not_multipart = app
        .as_user(&user)
        .post("/user/upload_avatar", json!({"avatar": "x"}))
        .await;
    assert_eq!(not_multipart.body["field"], "avatar");
    assert_eq!(stored(&app, &user).await.portrait_uri, "");
    assert!(!app.dir.path().join("uploads/avatars").exists(), "nothing was stored");
    let anonymous = app.post("/user/upload_avatar", json!({})).await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
}

async fn a_username_has_one_holder_whatever_its_case_and_reserved_names_are_refused(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    let set = |user: &User, name: &str| {
        let body = json!({"username": name});
        let app = &app;
        let cookie = user.cookie.clone();
        async move { app.with_cookie(&cookie).post("/user/set_username", body).await }
    };
    assert_eq!(set(&ann, "ann.smith").await.code(), 200);
    assert_eq!(set(&bob, "ANN.Smith").await.code(), 3002);
    let reserved = set(&bob, "Admin").await;
    assert_eq!(
        (reserved.status, reserved.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("username"))
    );
    assert_eq!(set(&ann, "ann_2").await.code(), 200);
    assert_eq!(set(&bob, "ann.smith").await.code(), 200, "the old name is free again");
    let own = app.as_user(&ann).get("/user/own_info").await.body;
    assert_eq!(own["result"]["username"], "ann_2");
}

async fn twenty_simultaneous_claims_of_one_username_leave_one_holder(app: TestApp) {
    let users = app.many_registered(20).await;
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as(
            "/user/set_username",
            &users[i].cookie,
            &json!({"username": "popular.name"}),
        )
    })
    .await;
    assert_eq!(bodies.iter().filter(|b| b["code"] == 200).count(), 1, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| b["code"] == 200 || b["code"] == 3002),
        "{bodies:?}"
    );
    let mut holders = 0;
    for user in &users {
        if stored(&app, user).await.username == "popular.name" {
            holders += 1;
        }
    }
    assert_eq!(holders, 1);
}

async fn birthday_and_phone_show_to_others_only_as_their_flags_allow(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    let me = app.as_user(&bob);
    for bad in ["2030-01-01", "1899-12-31", "2023-02-29", "01-02-2000"] {
        let res = me.post("/user/set_birthday", json!({"birthday": bad})).await;
        assert_eq!(res.body["field"], "birthday", "{bad}");
    }
    assert_eq!(
        me.post("/user/set_birthday", json!({"birthday": "2000-02-29"}))
            .await
            .code(),
        200
    );
    let path = format!("/user/{}", bob.id);
    let r = app.as_user(&ann).get(&path).await.body["result"].clone();
    assert_eq!((r["birthday"].as_str(), r["phone"].as_str()), (Some(""), Some("")));
    me.post("/user/set_privacy", json!({"displayBirthday": 1, "displayPhone": 1}))
        .await;
    let r = app.as_user(&ann).get(&path).await.body["result"].clone();
    assert_eq!(
        (r["birthday"].as_str(), r["phone"].as_str()),
        (Some("2000-02-29"), Some(bob.national.as_str()))
    );
    assert_eq!(
        app.as_user(&bob).get("/user/own_info").await.body["result"]["birthday"],
        "2000-02-29"
    );
}

async fn a_viewer_below_the_minimum_level_cannot_read_profiles_until_raised(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.min_viewer_level = 1).await;
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    assert_eq!(app.as_user(&ann).get("/user/own_info").await.body["result"]["level"], 0);
    assert_eq!(app.as_user(&ann).get(&format!("/user/{}", bob.id)).await.code(), 3200);
    assert_eq!(
        app.as_user(&ann).get(&format!("/user/{}", ann.id)).await.code(),
        200,
        "one's own profile"
    );
    let ann_id = UserId::parse("id", &ann.id).unwrap();
    roster::admin::set_level(&app.state, &ann_id, 1).await.unwrap();
    let page = app.as_user(&ann).get(&format!("/user/{}", bob.id)).await;
    assert_eq!((page.code(), page.body["result"]["level"].as_i64()), (200, Some(0)));
    let nobody = UserId::parse("id", "AAAAAAAAAAAAAAAA").unwrap();
    assert!(
        roster::admin::set_level(&app.state, &nobody, 2).await.is_err(),
        "an unknown user is not created"
    );
    assert!(app.state.store.get(&profile::key(&nobody)).await.unwrap().is_none());
}

on_every_store!(
    a_viewer_below_the_minimum_level_cannot_read_profiles_until_raised,
    a_username_has_one_holder_whatever_its_case_and_reserved_names_are_refused,
    twenty_simultaneous_claims_of_one_username_leave_one_holder,
    birthday_and_phone_show_to_others_only_as_their_flags_allow,
    an_uploaded_avatar_is_typed_by_its_bytes_and_becomes_the_portrait,
    an_upload_that_is_not_an_image_or_too_large_is_400_and_stores_nothing,
    an_avatar_is_uploaded_with_a_presigned_put_and_becomes_the_portrait,
    an_image_token_refuses_other_types_and_sizes_and_needs_a_session,
    a_user_is_read_by_id_with_the_phone_only_for_themself,
    a_batch_lists_known_users_once_and_refuses_more_than_a_hundred,
    reading_users_is_one_round_trip_with_the_session_check,
    phone_verify_decides_whether_a_phone_finds_its_owner,
    st_search_verify_decides_whether_a_st_account_finds_its_owner,
    look_ups_are_rate_limited_per_user_and_per_network,
    a_user_sets_nickname_portrait_and_gender,
    what_friends_see_records_a_user_change_and_nothing_else_does,
    simultaneous_nickname_changes_number_their_records_without_a_gap,
    bad_settings_are_400_naming_the_field_and_change_nothing,
    without_a_session_every_profile_route_is_403,
    a_st_account_has_one_holder_and_changing_it_frees_the_old_one,
    twenty_simultaneous_claims_of_one_st_account_leave_one_holder_and_no_orphan,
    privacy_defaults_to_on_and_an_omitted_flag_is_unchanged,
    poke_defaults_to_on_and_can_be_turned_off,
    setters_cost_one_transaction_and_synced_ones_a_read_too,
);
