//! Groups (issue 12): create, members, roles, invitations, certification, hand-over,
//! dismissal, favourites, the member bound under a race, blocks, and the sync records
//! every write leaves.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::on_every_store;
use crate::support::users::User;
use crate::support::{concurrently, TestApp};

fn rec(kind: &str, subject: &str, op: &str) -> (String, String, String) {
    (kind.into(), subject.into(), op.into())
}

/// Creates a group named `name` with `members`; its id.
async fn create(app: &TestApp, creator: &User, name: &str, members: &[&User]) -> String {
    let ids: Vec<&str> = members.iter().map(|u| u.id.as_str()).collect();
    let res = app
        .as_user(creator)
        .post("/group/create", json!({"name": name, "memberIds": ids}))
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    res.body["result"]["id"].as_str().unwrap().to_string()
}

async fn my_groups(app: &TestApp, user: &User) -> Vec<String> {
    let res = app.as_user(user).get("/user/groups").await;
    assert_eq!(res.code(), 200, "{}", res.body);
    res.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect()
}

async fn info(app: &TestApp, user: &User, g: &str) -> (StatusCode, Value) {
    let res = app.as_user(user).get(&format!("/group/{g}")).await;
    (res.status, res.body)
}

async fn roles(app: &TestApp, user: &User, g: &str) -> Vec<(String, i64)> {
    let res = app.as_user(user).get(&format!("/group/{g}/members")).await;
    assert_eq!(res.code(), 200, "{}", res.body);
    res.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap().to_string(),
                m["role"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn a_group_is_created_with_its_members_and_recorded_for_sync(app: TestApp) {
    let users = app.many_registered(4).await;
    let (c, rest) = users.split_first().unwrap();
    let members: Vec<&User> = rest.iter().collect();
    let res = app
        .as_user(c)
        .post(
            "/group/create",
            json!({"name": "Team", "memberIds": [c.id, rest[0].id, rest[1].id, rest[2].id]}),
        )
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let g = res.body["result"]["id"].as_str().unwrap().to_string();
    let statuses = res.body["result"]["userStatus"].as_array().unwrap();
    assert_eq!(statuses.len(), 4, "the creator once, each member once: {statuses:?}");
    assert!(statuses.iter().all(|s| s["status"] == 1));

    let (status, body) = info(&app, members[2], &g).await;
    assert_eq!(status, StatusCode::OK);
    let r = &body["result"];
    assert_eq!(
        (r["name"].as_str(), r["memberCount"].as_i64(), r["creatorId"].as_str()),
        (Some("Team"), Some(4), Some(c.id.as_str()))
    );
    assert_eq!(
        (r["maxMemberCount"].as_i64(), r["certiStatus"].as_i64()),
        (Some(500), Some(0))
    );
    let listed = roles(&app, members[0], &g).await;
    assert_eq!(listed[0], (c.id.clone(), 0), "the creator first, role 0");
    assert_eq!(listed.len(), 4);
    assert!(listed[1..].iter().all(|(_, r)| *r == 1));
    for u in &users {
        let mine = app.as_user(u).get("/user/groups").await.body["result"][0].clone();
        assert_eq!(
            (
                mine["id"].as_str(),
                mine["memberCount"].as_i64(),
                mine["isMute"].as_i64()
            ),
            (Some(g.as_str()), Some(4), Some(0))
        );
        assert_eq!(app.feed(u).await, vec![rec("group", &g, "upsert")]);
    }
    let mut expected = vec![rec("group", &g, "upsert")];
    expected.extend(users.iter().map(|u| rec("group_member", &u.id, "upsert")));
    assert_eq!(app.group_feed(&g).await, expected);

    // A page of members in the relations' paged shape.
    let page = app.as_user(c).get(&format!("/group/{g}/members?page=2&size=3")).await;
    assert_eq!(page.body["result"]["list"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["result"]["pageInfo"]["totalCount"], 4);
}

async fn roles_decide_who_kicks_renames_transfers_and_sets_managers(app: TestApp) {
    let users = app.many_registered(5).await;
    let [c, m, a, b, outsider] = [&users[0], &users[1], &users[2], &users[3], &users[4]];
    let g = create(&app, c, "Team", &[m, a, b]).await;
    let other = create(&app, outsider, "Elsewhere", &[]).await;
    let post = |u: &User, path: &str, body: Value| {
        let app = &app;
        let cookie = u.cookie.clone();
        let path = path.to_string();
        async move { app.with_cookie(&cookie).post(&path, body).await }
    };
    assert_eq!(
        post(m, "/group/set_manager", json!({"groupId": g, "memberIds": [a.id]}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "only the creator sets managers"
    );
    assert_eq!(
        post(c, "/group/set_manager", json!({"groupId": g, "memberIds": [m.id]}))
            .await
            .code(),
        200
    );
    assert_eq!(
        post(a, "/group/rename", json!({"groupId": g, "name": "Mine"}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a plain member does not rename"
    );
    assert_eq!(
        post(outsider, "/group/rename", json!({"groupId": g, "name": "Mine"}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "nor does a non-member"
    );
    assert_eq!(
        post(m, "/group/rename", json!({"groupId": other, "name": "Mine"}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a manager of one group has no role in another"
    );
    let res = post(c, "/group/kick", json!({"groupId": g, "memberIds": [outsider.id]})).await;
    assert_eq!(
        (res.status, res.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("memberIds")),
        "another group's member is not this group's to kick"
    );
    assert_eq!(
        post(m, "/group/rename", json!({"groupId": g, "name": "Renamed"}))
            .await
            .code(),
        200
    );
    assert_eq!(
        post(m, "/group/kick", json!({"groupId": g, "memberIds": [c.id]}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "nobody kicks the creator"
    );
    assert_eq!(
        post(a, "/group/kick", json!({"groupId": g, "memberIds": [b.id]}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let before = app.group_feed(&g).await.len();
    assert_eq!(
        post(m, "/group/kick", json!({"groupId": g, "memberIds": [a.id]}))
            .await
            .code(),
        200
    );
    assert!(my_groups(&app, a).await.is_empty(), "a kicked member sees the group go");
    assert_eq!(app.feed(a).await.last().unwrap(), &rec("group", &g, "delete"));
    assert_eq!(
        app.group_feed(&g).await[before..],
        [rec("group_member", &a.id, "delete")]
    );
    let res = app.as_user(a).get(&format!("/group/{g}/members")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "a former member cannot list members");

    assert_eq!(
        post(c, "/group/set_manager", json!({"groupId": g, "memberIds": [b.id]}))
            .await
            .code(),
        200
    );
    assert_eq!(
        post(m, "/group/kick", json!({"groupId": g, "memberIds": [b.id]}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a manager does not kick a manager"
    );
    assert_eq!(
        post(c, "/group/remove_manager", json!({"groupId": g, "memberIds": [b.id]}))
            .await
            .code(),
        200
    );
    assert_eq!(
        post(m, "/group/transfer", json!({"groupId": g, "userId": b.id}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(c, "/group/transfer", json!({"groupId": g, "userId": m.id}))
            .await
            .code(),
        200
    );
    let (_, body) = info(&app, c, &g).await;
    assert_eq!(
        (body["result"]["creatorId"].as_str(), body["result"]["name"].as_str()),
        (Some(m.id.as_str()), Some("Renamed"))
    );
    let listed = roles(&app, c, &g).await;
    assert!(listed.contains(&(m.id.clone(), 0)) && listed.contains(&(c.id.clone(), 1)));
    assert_eq!(
        post(c, "/group/dismiss", json!({"groupId": g})).await.status,
        StatusCode::FORBIDDEN,
        "the former creator no longer dismisses"
    );
}

async fn settings_are_one_group_record_and_show_to_members(app: TestApp) {
    let users = app.many_registered(3).await;
    let [c, a, outsider] = [&users[0], &users[1], &users[2]];
    let g = create(&app, c, "Team", &[a]).await;
    let me = app.as_user(c);
    let before = app.group_feed(&g).await.len();
    for (path, body) in [
        (
            "/group/set_portrait_uri",
            json!({"groupId": g, "portraitUri": "https://example.com/g.png"}),
        ),
        ("/group/set_bulletin", json!({"groupId": g, "content": "Meeting at 4"})),
        ("/group/mute_all", json!({"groupId": g, "muteStatus": 1})),
        ("/group/set_certification", json!({"groupId": g, "certiStatus": 1})),
    ] {
        let res = me.post(path, body).await;
        assert_eq!(res.code(), 200, "{path}: {}", res.body);
    }
    let records = app.group_feed(&g).await;
    assert_eq!(
        records[before..],
        vec![rec("group", &g, "upsert"); 4],
        "one record each"
    );
    let bulletin = app.as_user(a).get(&format!("/group/get_bulletin?groupId={g}")).await;
    assert_eq!(bulletin.body["result"]["content"], "Meeting at 4");
    assert_eq!(
        app.as_user(outsider)
            .get(&format!("/group/get_bulletin?groupId={g}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let (_, body) = info(&app, a, &g).await;
    let r = &body["result"];
    assert_eq!(
        (
            r["isMute"].as_i64(),
            r["certiStatus"].as_i64(),
            r["portraitUri"].as_str()
        ),
        (Some(1), Some(1), Some("https://example.com/g.png"))
    );
    assert!(r["bulletinTime"].as_i64().unwrap() > 0);
    let res = app
        .as_user(a)
        .post("/group/set_display_name", json!({"groupId": g, "displayName": "Al"}))
        .await;
    assert_eq!(res.code(), 200);
    assert_eq!(
        app.group_feed(&g).await.last().unwrap(),
        &rec("group_member", &a.id, "upsert")
    );
    let list = app.as_user(c).get(&format!("/group/{g}/members")).await.body["result"].clone();
    let al = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == a.id.as_str())
        .unwrap();
    assert_eq!(al["groupNickname"], "Al");
}

async fn group_verify_zero_makes_an_add_an_invitation(app: TestApp) {
    let users = app.many_registered(4).await;
    let [c, b, d, a] = [&users[0], &users[1], &users[2], &users[3]];
    for u in [b, d] {
        let res = app
            .as_user(u)
            .post("/user/set_privacy", json!({"groupVerify": 0}))
            .await;
        assert_eq!(res.code(), 200);
    }
    let res = app
        .as_user(c)
        .post("/group/create", json!({"name": "Team", "memberIds": [b.id, a.id]}))
        .await;
    let g = res.body["result"]["id"].as_str().unwrap().to_string();
    let status = |id: &str| {
        res.body["result"]["userStatus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["status"]
            .as_i64()
    };
    assert_eq!((status(&b.id), status(&a.id)), (Some(3), Some(1)));
    assert!(my_groups(&app, b).await.is_empty(), "not added directly");
    let res = app
        .as_user(c)
        .post("/group/add", json!({"groupId": g, "memberIds": [d.id]}))
        .await;
    assert_eq!(res.body["result"][0]["status"], 3);

    let notices = app.as_user(b).get("/group/notice_info").await.body["result"].clone();
    assert_eq!(notices.as_array().unwrap().len(), 1, "{notices}");
    assert_eq!(
        (
            notices[0]["type"].as_i64(),
            notices[0]["group"]["id"].as_str(),
            notices[0]["requester"]["id"].as_str()
        ),
        (Some(1), Some(g.as_str()), Some(c.id.as_str()))
    );
    let agree = |u: &User, receiver: &User, status: &str| {
        let body = json!({"groupId": g, "receiverId": receiver.id, "status": status});
        let app = &app;
        let cookie = u.cookie.clone();
        async move { app.with_cookie(&cookie).post("/group/agree", body).await }
    };
    assert_eq!(
        agree(c, b, "1").await.status,
        StatusCode::FORBIDDEN,
        "only the invitee answers"
    );
    assert_eq!(agree(b, b, "1").await.code(), 200);
    assert_eq!(my_groups(&app, b).await, vec![g.clone()]);
    assert_eq!(app.feed(b).await, vec![rec("group", &g, "upsert")]);
    assert_eq!(
        agree(b, b, "1").await.status,
        StatusCode::NOT_FOUND,
        "the invitation is spent"
    );
    assert_eq!(agree(d, d, "0").await.code(), 200);
    assert!(my_groups(&app, d).await.is_empty());
    assert!(app.as_user(d).get("/group/notice_info").await.body["result"]
        .as_array()
        .unwrap()
        .is_empty());
}

async fn certification_turns_a_join_into_a_request_a_manager_approves(app: TestApp) {
    let users = app.many_registered(4).await;
    let [c, a, o, p] = [&users[0], &users[1], &users[2], &users[3]];
    let g = create(&app, c, "Team", &[a]).await;
    let join = |u: &User| {
        let app = &app;
        let cookie = u.cookie.clone();
        let body = json!({"groupId": g});
        async move { app.with_cookie(&cookie).post("/group/join", body).await }
    };
    let res = join(p).await;
    assert_eq!(
        (res.code(), res.body["result"]["status"].as_i64()),
        (200, Some(1)),
        "open group"
    );
    assert!(my_groups(&app, p).await.contains(&g));

    app.as_user(c)
        .post("/group/set_certification", json!({"groupId": g, "certiStatus": 1}))
        .await;
    let res = join(o).await;
    assert_eq!(res.body["result"]["status"], 2, "a request: {}", res.body);
    assert!(my_groups(&app, o).await.is_empty());
    let notices = app.as_user(c).get("/group/notice_info").await.body["result"].clone();
    assert_eq!(notices[0]["type"], 2, "{notices}");
    assert_eq!(notices[0]["receiver"]["id"], o.id.as_str());
    let body = json!({"groupId": g, "receiverId": o.id, "status": 1});
    assert_eq!(
        app.as_user(a).post("/group/agree", body.clone()).await.status,
        StatusCode::FORBIDDEN,
        "a plain member does not approve"
    );
    assert_eq!(app.as_user(c).post("/group/agree", body).await.code(), 200);
    assert!(my_groups(&app, o).await.contains(&g));
}

async fn a_creator_who_quits_hands_over_and_the_last_member_dismisses(app: TestApp) {
    let users = app.many_registered(3).await;
    let [c, a, b] = [&users[0], &users[1], &users[2]];
    let g = create(&app, c, "Team", &[a, b]).await;
    app.as_user(c)
        .post("/group/set_manager", json!({"groupId": g, "memberIds": [b.id]}))
        .await;
    let quit = |u: &User| {
        let app = &app;
        let cookie = u.cookie.clone();
        let body = json!({"groupId": g});
        async move { app.with_cookie(&cookie).post("/group/quit", body).await }
    };
    assert_eq!(quit(c).await.code(), 200);
    let (_, body) = info(&app, a, &g).await;
    assert_eq!(
        body["result"]["creatorId"],
        b.id.as_str(),
        "the manager before the older member"
    );
    assert_eq!(body["result"]["memberCount"], 2);
    assert_eq!(quit(b).await.code(), 200);
    let (_, body) = info(&app, a, &g).await;
    assert_eq!(
        body["result"]["creatorId"],
        a.id.as_str(),
        "then the longest-standing member"
    );
    assert_eq!(quit(a).await.code(), 200);
    assert_eq!(
        info(&app, a, &g).await.0,
        StatusCode::NOT_FOUND,
        "the last one out dismisses"
    );
    assert_eq!(app.group_feed(&g).await.last().unwrap(), &rec("group", &g, "delete"));
}

async fn a_dismissed_group_reads_as_gone_and_leaves_a_tombstone(app: TestApp) {
    let users = app.many_registered(3).await;
    let [c, a, b] = [&users[0], &users[1], &users[2]];
    let g = create(&app, c, "Team", &[a, b]).await;
    assert_eq!(
        app.as_user(a)
            .post("/group/dismiss", json!({"groupId": g}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.as_user(c)
            .post("/group/dismiss", json!({"groupId": g}))
            .await
            .code(),
        200
    );
    assert_eq!(info(&app, a, &g).await.0, StatusCode::NOT_FOUND);
    for u in [c, a, b] {
        assert!(my_groups(&app, u).await.is_empty());
    }
    assert_eq!(app.group_feed(&g).await.last().unwrap(), &rec("group", &g, "delete"));
    let res = app.as_user(a).post("/group/join", json!({"groupId": g})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // The members are cleared; the meta stays (dismissed) for syncs to see the deletion.
    let left = app
        .state
        .store
        .query(roster::ports::Query::partition(format!("GROUP#{g}")).begins_with("MEMBER#"))
        .await
        .unwrap();
    assert!(left.items.is_empty());
}

async fn favourites_need_membership_and_page_by_offset(app: TestApp) {
    let users = app.many_registered(2).await;
    let [c, o] = [&users[0], &users[1]];
    let mut ids = vec![];
    for i in 0..5 {
        let g = create(&app, c, &format!("G{i}"), &[]).await;
        assert_eq!(
            app.as_user(c).post("/group/fav", json!({"groupId": g})).await.code(),
            200
        );
        ids.push(g);
    }
    let all = app.as_user(c).get("/user/favgroups").await.body["result"].clone();
    assert_eq!(
        (all["total"].as_i64(), all["list"].as_array().unwrap().len()),
        (Some(5), 5)
    );
    assert_eq!(all["list"][0]["maxMemberCount"], 500);
    let page = app.as_user(c).get("/user/favgroups?offset=1&limit=2").await.body["result"].clone();
    assert_eq!(
        (
            page["list"].as_array().unwrap().len(),
            page["offset"].as_i64(),
            page["limit"].as_i64()
        ),
        (2, Some(1), Some(2))
    );
    assert_eq!(page["list"][0]["id"], all["list"][1]["id"]);
    let res = app
        .request_with(
            axum::http::Method::DELETE,
            "/group/fav",
            Some(json!({"groupId": ids[0]})),
            &[("cookie", &c.cookie)],
        )
        .await;
    assert_eq!(res.code(), 200);
    assert_eq!(app.as_user(c).get("/user/favgroups").await.body["result"]["total"], 4);
    let res = app.as_user(o).post("/group/fav", json!({"groupId": ids[1]})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "a non-member cannot save a group");
    let bad = app.as_user(c).get("/user/favgroups?limit=x").await;
    assert_eq!(bad.body["field"], "limit");
}

async fn a_group_of_499_takes_exactly_one_of_twenty_simultaneous_joins(app: TestApp) {
    let users = app.quick_users(519).await;
    let (creator, rest) = users.split_first().unwrap();
    let (members, joiners) = rest.split_at(498);
    let g = create(&app, creator, "Big", &[]).await;
    for chunk in members.chunks(100) {
        let ids: Vec<&str> = chunk.iter().map(|u| u.id.as_str()).collect();
        let res = app
            .as_user(creator)
            .post("/group/add", json!({"groupId": g, "memberIds": ids}))
            .await;
        assert_eq!(res.code(), 200, "{}", res.body);
    }
    assert_eq!(info(&app, creator, &g).await.1["result"]["memberCount"], 499);
    let bodies = concurrently(&app.router, 20, |i| {
        crate::support::json_post_as("/group/join", &joiners[i].cookie, &json!({"groupId": g}))
    })
    .await;
    assert_eq!(bodies.iter().filter(|b| b["code"] == 200).count(), 1, "{bodies:?}");
    assert_eq!(bodies.iter().filter(|b| b["code"] == 3300).count(), 19, "{bodies:?}");
    assert_eq!(info(&app, creator, &g).await.1["result"]["memberCount"], 500);
    assert_eq!(
        roles(&app, creator, &g).await.len(),
        500,
        "the list agrees with the count"
    );
    let page = app
        .as_user(creator)
        .get(&format!("/group/{g}/members?page=5&size=100"))
        .await;
    assert_eq!(page.body["result"]["list"].as_array().unwrap().len(), 100);
}

async fn a_user_cannot_add_someone_who_blocked_them_and_limits_hold(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.max_groups = 2).await;
    let users = app.many_registered(3).await;
    let [c, b, a] = [&users[0], &users[1], &users[2]];
    let res = app
        .as_user(b)
        .post("/user/add_to_blacklist", json!({"friendId": c.id}))
        .await;
    assert_eq!(res.code(), 200);
    let res = app
        .as_user(c)
        .post("/group/create", json!({"name": "Team", "memberIds": [b.id]}))
        .await;
    assert_eq!(res.code(), 3301, "{}", res.body);
    assert!(my_groups(&app, c).await.is_empty(), "nothing was created");
    let g = create(&app, c, "Team", &[a]).await;
    let res = app
        .as_user(c)
        .post("/group/add", json!({"groupId": g, "memberIds": [b.id]}))
        .await;
    assert_eq!(res.code(), 3301);
    assert!(my_groups(&app, b).await.is_empty());
    // At most two groups per user here (ROSTER_MAX_GROUPS).
    create(&app, c, "Second", &[]).await;
    let res = app
        .as_user(c)
        .post("/group/create", json!({"name": "Third", "memberIds": []}))
        .await;
    assert_eq!(res.code(), 3300, "{}", res.body);
}

async fn bad_group_input_is_400_naming_the_field_and_unknown_groups_404(app: TestApp) {
    let c = app.registered().await;
    let me = app.as_user(&c);
    for (path, body, field) in [
        ("/group/create", json!({"name": "x".repeat(33)}), "name"),
        ("/group/create", json!({"name": "T", "memberIds": 5}), "memberIds"),
        (
            "/group/create",
            json!({"name": "T", "memberIds": ["bad id"]}),
            "memberIds",
        ),
        ("/group/rename", json!({"groupId": "no", "name": "T"}), "groupId"),
        (
            "/group/mute_all",
            json!({"groupId": "abcdefgh1234", "muteStatus": 3}),
            "muteStatus",
        ),
        (
            "/group/set_bulletin",
            json!({"groupId": "abcdefgh1234", "content": "b".repeat(1025)}),
            "content",
        ),
        (
            "/group/agree",
            json!({"groupId": "abcdefgh1234", "receiverId": c.id, "status": "2"}),
            "status",
        ),
    ] {
        let res = me.post(path, body).await;
        assert_eq!(
            (res.status, res.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{path}: {}",
            res.body
        );
    }
    let res = me.get("/group/abcdefgh1234").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = me.post("/group/join", json!({"groupId": "abcdefgh1234"})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/user/groups").await.status, StatusCode::FORBIDDEN);
}

on_every_store!(
    a_group_is_created_with_its_members_and_recorded_for_sync,
    roles_decide_who_kicks_renames_transfers_and_sets_managers,
    settings_are_one_group_record_and_show_to_members,
    group_verify_zero_makes_an_add_an_invitation,
    certification_turns_a_join_into_a_request_a_manager_approves,
    a_creator_who_quits_hands_over_and_the_last_member_dismisses,
    a_dismissed_group_reads_as_gone_and_leaves_a_tombstone,
    favourites_need_membership_and_page_by_offset,
    a_group_of_499_takes_exactly_one_of_twenty_simultaneous_joins,
    a_user_cannot_add_someone_who_blocked_them_and_limits_hold,
    bad_group_input_is_400_naming_the_field_and_unknown_groups_404,
);
