//! Identities beyond the phone (issue 10): email codes, email sign-up and login, phone
//! and email changes, deletion by either address, the email on the homepage, and the
//! name directory.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::on_every_store;
use crate::support::users::{cookie_pair, User, PASSWORD};
use crate::support::{concurrently, json_post, new_email, new_phone, phone_body, TestApp};

/// An app whose one test network may send as many codes as a scenario needs.
async fn roomy(app: TestApp) -> TestApp {
    TestApp::spawn_with(app.kind, |c| {
        c.limits.sms_per_ip_hour = 10_000;
        c.limits.sms_captcha_after_per_ip_hour = 10_000;
        c.limits.lookups_per_user_hour = 10_000;
        c.limits.lookups_per_ip_hour = 10_000;
    })
    .await
}

async fn own_info(app: &TestApp, user: &User) -> Value {
    app.as_user(user).get("/user/own_info").await.body["result"].clone()
}

async fn an_email_code_follows_the_rules_of_sms_codes(app: TestApp) {
    let (given, canonical) = new_email();
    let send = |purpose: &str| {
        let body = json!({"email": given, "purpose": purpose});
        let app = &app;
        async move { app.post("/user/send_email_code", body).await }
    };
    assert_eq!(send("register").await.code(), 200);
    let texts = app.sms_to(&canonical).await;
    assert_eq!(texts.len(), 1, "one message, to the address in its canonical form");
    let code = crate::support::code_in(&texts[0]);
    assert_eq!(texts[0], format!("Your Roster verification code is {code}"));
    assert_eq!(send("register").await.code(), 5000, "one per minute per address");

    let verify = |email: &str, code: &str, purpose: &str| {
        let body = json!({"email": email, "code": code, "purpose": purpose});
        let app = &app;
        async move { app.post("/user/verify_email_code", body).await }
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(verify(&given, wrong, "register").await.code(), 1000);
    assert_eq!(
        verify(&given, &code, "login").await.code(),
        2000,
        "a code works for its own purpose only"
    );
    let res = verify(&canonical.to_uppercase(), &code, "register").await;
    assert_eq!(res.code(), 200, "{}", res.body);
    assert_eq!(
        res.body["result"]["verification_token"].as_str().map(str::len),
        Some(43)
    );
    assert_eq!(verify(&given, &code, "register").await.code(), 2000, "single use");

    // Five wrong tries spend a code, as for SMS.
    app.clock.advance_secs(61);
    assert_eq!(send("reset").await.code(), 200);
    let code = app.last_code(&canonical).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(verify(&given, wrong, "reset").await.code(), 1000);
    }
    assert_eq!(verify(&given, &code, "reset").await.code(), 2000);

    // Five per hour per address.
    for _ in 0..3 {
        app.clock.advance_secs(61);
        assert_eq!(send("login").await.code(), 200);
    }
    app.clock.advance_secs(61);
    let res = send("login").await;
    assert_eq!(res.code(), 5000, "{}", res.body);

    let bad = app
        .post(
            "/user/send_email_code",
            json!({"email": "not-an-address", "purpose": "login"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("email"))
    );
}

async fn emails_go_out_from_the_sender_with_the_products_subject(app: TestApp) {
    let (given, canonical) = new_email();
    let res = app
        .post("/user/send_email_code", json!({"email": given, "purpose": "login"}))
        .await;
    assert_eq!(res.code(), 200);
    match app.kind {
        crate::support::StoreKind::Dynamodb => {
            // Read back from moto's SES v2: the real SendEmail call was made.
            let mails = crate::support::moto_emails_to(&canonical).await;
            assert_eq!(mails.len(), 1);
            assert_eq!(mails[0].from, crate::support::TEST_EMAIL_FROM);
            assert_eq!(mails[0].subject, "Your Roster verification code");
            assert!(mails[0].body.ends_with(&crate::support::code_in(&mails[0].body)));
        }
        crate::support::StoreKind::Sqlite => {
            let outbox = app.state.local.as_ref().expect("local adapters").outbox.list().unwrap();
            let mine: Vec<_> = outbox.iter().filter(|m| m.to == canonical).collect();
            assert_eq!(mine.len(), 1);
            assert_eq!(mine[0].channel, "email");
        }
    }
}

async fn an_email_sign_up_logs_in_by_any_case_of_the_address_and_holds_it_alone(app: TestApp) {
    let (user, given) = app.registered_by_email("Ann").await;
    let info = own_info(&app, &user).await;
    assert_eq!(info["email"], given.to_lowercase());
    assert_eq!((info["phone"].as_str(), info["region"].as_str()), (Some(""), Some("")));
    let login = |email: String, password: &'static str| {
        let app = &app;
        async move {
            app.post("/user/login", json!({"email": email, "password": password}))
                .await
        }
    };
    let res = login(given.to_uppercase(), PASSWORD).await;
    assert_eq!(res.code(), 200, "{}", res.body);
    assert_eq!(res.body["result"]["id"], user.id.as_str());

    let token = app.email_token_for(&given.to_lowercase(), "register").await;
    let again = app
        .post(
            "/user/register",
            json!({"nickname": "Eve", "password": PASSWORD, "verification_token": token}),
        )
        .await;
    assert_eq!(again.code(), 3003, "{}", again.body);

    // Unknown and wrong answer alike, and both back off after five failures.
    let (stranger, _) = new_email();
    let unknown = login(stranger.clone(), PASSWORD).await;
    let wrong = login(given.clone(), "Wr0ngPass").await;
    assert_eq!(
        (unknown.code(), &unknown.body["message"]),
        (1000, &wrong.body["message"])
    );
    for email in [given.clone(), stranger] {
        for _ in 0..5 {
            login(email.clone(), "Wr0ngPass").await;
        }
        let res = login(email, PASSWORD).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    }
}

async fn login_email_signs_up_on_first_use_and_then_signs_in(app: TestApp) {
    let (given, canonical) = new_email();
    let code = app.email_code_for(&given, "login").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = app
        .post("/user/login_email", json!({"email": given, "code": wrong}))
        .await;
    assert_eq!(res.code(), 1000);
    let first = app
        .post("/user/login_email", json!({"email": given, "code": code}))
        .await;
    assert_eq!(first.code(), 200, "{}", first.body);
    assert_eq!(first.body["result"]["isFirstLogin"], true);
    let user = User {
        national: String::new(),
        e164: String::new(),
        id: first.body["result"]["id"].as_str().unwrap().to_string(),
        cookie: cookie_pair(&first),
    };
    assert_eq!(own_info(&app, &user).await["email"], canonical.as_str());
    let code = app.email_code_for(&canonical, "login").await;
    let second = app
        .post("/user/login_email", json!({"email": canonical, "code": code}))
        .await;
    assert_eq!(
        (
            second.body["result"]["isFirstLogin"].as_bool(),
            second.body["result"]["id"].as_str()
        ),
        (Some(false), Some(user.id.as_str()))
    );
    let reset = app.email_code_for(&canonical, "reset").await;
    let res = app
        .post("/user/login_email", json!({"email": canonical, "code": reset}))
        .await;
    assert_eq!(res.code(), 2000, "a reset code does not log in");
}

async fn twenty_simultaneous_sign_ups_with_one_email_leave_one_holder(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| {
        c.limits.sms_per_phone_hour = 100;
        c.limits.sms_per_phone_day = 100;
        c.limits.sms_per_ip_hour = 10_000;
        c.limits.sms_captcha_after_per_ip_hour = 10_000;
    })
    .await;
    let (given, _) = new_email();
    let mut tokens = vec![];
    for _ in 0..20 {
        tokens.push(app.email_token_for(&given, "register").await);
    }
    let bodies = concurrently(&app.router, 20, |i| {
        json_post(
            "/user/register",
            &json!({"nickname": format!("U{i}"), "password": PASSWORD, "verification_token": tokens[i]}),
        )
    })
    .await;
    assert_eq!(bodies.iter().filter(|b| b["code"] == 200).count(), 1, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| b["code"] == 200 || b["code"] == 3003),
        "{bodies:?}"
    );
    let res = app
        .post("/user/login", json!({"email": given, "password": PASSWORD}))
        .await;
    let winner = bodies.iter().find(|b| b["code"] == 200).unwrap();
    assert_eq!(res.body["result"]["id"], winner["result"]["id"]);
}

async fn a_phone_change_needs_both_codes_moves_the_number_and_is_limited(app: TestApp) {
    let app = roomy(app).await;
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    let me = app.as_user(&ann);
    let (national, e164) = new_phone();
    let change = |national: String, code: String, original: Option<String>| {
        let mut body = json!({"region": 86, "phone": national, "code": code});
        if let Some(o) = original {
            body["originalCode"] = json!(o);
        }
        let me = &me;
        async move { me.post("/user/change_phone", body).await }
    };

    let code = app.code_for(&national, &e164, "change_phone").await;
    let res = change(national.clone(), code.clone(), None).await;
    assert_eq!(res.body["field"], "originalCode", "{}", res.body);
    let owner_wrong = app.code_for(&ann.national, &ann.e164, "verify_owner").await;
    let wrong = if owner_wrong == "000000" { "111111" } else { "000000" };
    assert_eq!(
        change(national.clone(), code.clone(), Some(wrong.into())).await.code(),
        1000
    );

    // Bob's number is taken: nothing changes and the codes stay unspent.
    let taken = app.code_for(&bob.national, &bob.e164, "change_phone").await;
    let res = change(bob.national.clone(), taken, Some(owner_wrong.clone())).await;
    assert_eq!(res.code(), 3001, "{}", res.body);
    assert_eq!(own_info(&app, &ann).await["phone"], ann.national.as_str());

    let res = change(national.clone(), code, Some(owner_wrong)).await;
    assert_eq!(res.code(), 200, "{}", res.body);
    assert_eq!(own_info(&app, &ann).await["phone"], national.as_str());
    let login = |phone: &str| {
        let body = json!({"region": 86, "phone": phone, "password": PASSWORD});
        let app = &app;
        async move { app.post("/user/login", body).await }
    };
    assert_eq!(
        login(&ann.national).await.code(),
        1000,
        "the old number no longer logs in"
    );
    assert_eq!(login(&national).await.body["result"]["id"], ann.id.as_str());
    let free = app.post("/user/check_phone_available", phone_body(&ann.national)).await;
    assert_eq!(free.body["result"], true, "the old number is free");

    // Two more changes in the window are allowed, a fourth is not.
    let mut current = (national, e164);
    for n in 2..=4 {
        let next = new_phone();
        let code = app.code_for(&next.0, &next.1, "change_phone").await;
        let owner = app.code_for(&current.0, &current.1, "verify_owner").await;
        let res = change(next.0.clone(), code, Some(owner)).await;
        if n < 4 {
            assert_eq!(res.code(), 200, "{}", res.body);
            current = next;
        } else {
            assert_eq!(res.code(), 3004, "{}", res.body);
        }
    }
    app.clock.advance_secs(30 * 86_400);
    // The session has idled out meanwhile: a fresh login with the current number.
    let cookie = cookie_pair(&login(&current.0).await);
    let next = new_phone();
    let code = app.code_for(&next.0, &next.1, "change_phone").await;
    let owner = app.code_for(&current.0, &current.1, "verify_owner").await;
    let body = json!({"region": 86, "phone": next.0, "code": code, "originalCode": owner});
    let res = app.with_cookie(&cookie).post("/user/change_phone", body).await;
    assert_eq!(res.code(), 200, "30 days later: {}", res.body);
}

async fn an_email_change_needs_the_owner_code_once_an_email_is_set(app: TestApp) {
    let app = roomy(app).await;
    let ann = app.registered_as("Ann").await;
    let me = app.as_user(&ann);
    let (first, first_canonical) = new_email();
    let code = app.email_code_for(&first, "change_email").await;
    let res = me
        .post("/user/change_email", json!({"email": first, "code": code}))
        .await;
    assert_eq!(res.code(), 200, "no current email, so no owner code: {}", res.body);
    assert_eq!(own_info(&app, &ann).await["email"], first_canonical.as_str());

    let (second, second_canonical) = new_email();
    let code = app.email_code_for(&second, "change_email").await;
    let res = me
        .post("/user/change_email", json!({"email": second, "code": code}))
        .await;
    assert_eq!(res.body["field"], "originalCode");
    let owner = app.email_code_for(&first, "verify_owner").await;
    let res = me
        .post(
            "/user/change_email",
            json!({"email": second, "code": code, "originalCode": owner}),
        )
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    assert_eq!(own_info(&app, &ann).await["email"], second_canonical.as_str());
    let login = app
        .post("/user/login", json!({"email": second, "password": PASSWORD}))
        .await;
    assert_eq!(login.body["result"]["id"], ann.id.as_str());
    let old = app
        .post("/user/login", json!({"email": first, "password": PASSWORD}))
        .await;
    assert_eq!(old.code(), 1000, "the old address is no longer Ann's");

    // Another user cannot take Ann's address.
    let (bob, bob_email) = app.registered_by_email("Bob").await;
    let code = app.email_code_for(&second, "change_email").await;
    let owner = app.email_code_for(&bob_email, "verify_owner").await;
    let res = app
        .as_user(&bob)
        .post(
            "/user/change_email",
            json!({"email": second, "code": code, "originalCode": owner}),
        )
        .await;
    assert_eq!(res.code(), 3003, "{}", res.body);
    assert_eq!(own_info(&app, &bob).await["email"], bob_email.to_lowercase());
}

async fn an_email_reset_and_an_email_delete_code_work_like_phone_ones(app: TestApp) {
    let app = roomy(app).await;
    let (user, email) = app.registered_by_email("Ann").await;
    let me = app.as_user(&user);
    assert_eq!(
        me.post("/user/set_username", json!({"username": "ann.mail"}))
            .await
            .code(),
        200
    );
    assert_eq!(
        me.post("/user/set_st_account", json!({"stAccount": "annmail"}))
            .await
            .code(),
        200
    );

    let token = app.email_token_for(&email, "reset").await;
    let res = app
        .post(
            "/user/reset_password",
            json!({"password": "N3wPassw0rd", "verification_token": token}),
        )
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let login = app
        .post(
            "/user/login",
            json!({"username": "ann.mail", "password": "N3wPassw0rd"}),
        )
        .await;
    assert_eq!(login.code(), 200);
    let cookie = cookie_pair(&login);

    let code = app.email_code_for(&email, "delete").await;
    let res = app
        .with_cookie(&cookie)
        .post("/user/delete_account", json!({"code": code}))
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
    // Every identifier is free again.
    let (bob, _) = app.registered_by_email("Bob").await;
    let bob_me = app.as_user(&bob);
    assert_eq!(
        bob_me
            .post("/user/set_username", json!({"username": "ann.mail"}))
            .await
            .code(),
        200
    );
    assert_eq!(
        bob_me
            .post("/user/set_st_account", json!({"stAccount": "annmail"}))
            .await
            .code(),
        200
    );
    let token = app.email_token_for(&email, "register").await;
    let res = app
        .post(
            "/user/register",
            json!({"nickname": "Ann2", "password": PASSWORD, "verification_token": token}),
        )
        .await;
    assert_eq!(res.code(), 200, "{}", res.body);
}

async fn the_email_shows_to_others_only_when_display_email_is_on(app: TestApp) {
    let (ann, email) = app.registered_by_email("Ann").await;
    let bob = app.registered_as("Bob").await;
    let privacy = app.as_user(&ann).get("/user/get_privacy").await.body["result"].clone();
    assert_eq!(
        [
            &privacy["displayPhone"],
            &privacy["displayEmail"],
            &privacy["displayBirthday"],
            &privacy["displayFollows"]
        ],
        [&json!(0), &json!(0), &json!(0), &json!(1)]
    );
    let path = format!("/user/{}", ann.id);
    assert_eq!(app.as_user(&bob).get(&path).await.body["result"]["email"], "");
    assert_eq!(
        app.as_user(&ann).get(&path).await.body["result"]["email"],
        email.to_lowercase(),
        "one always sees one's own"
    );
    let res = app
        .as_user(&ann)
        .post("/user/set_privacy", json!({"displayEmail": 1}))
        .await;
    assert_eq!(res.code(), 200);
    assert_eq!(
        app.as_user(&bob).get(&path).await.body["result"]["email"],
        email.to_lowercase()
    );
    let bad = app
        .as_user(&ann)
        .post("/user/set_privacy", json!({"displayEmail": 2}))
        .await;
    assert_eq!(bad.body["field"], "displayEmail");
}

/// Every page of a search, following `nextCursor`: the ids in order.
async fn search_all(app: &TestApp, user: &User, query: &str, limit: usize) -> Vec<String> {
    let mut ids = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut path = format!("/user/search?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.as_user(user).get(&path).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let list = res.body["result"]["list"].as_array().unwrap().clone();
        assert!(list.len() <= limit);
        ids.extend(list.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        match res.body["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
    panic!("the search never ended");
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn a_name_search_pages_through_every_match_exactly_once(app: TestApp) {
    let app = roomy(app).await;
    let mut zhang_latin = vec![];
    let mut zhang_han = vec![];
    for i in 0..300 {
        if i % 9 == 8 {
            app.clock.advance_secs(3600);
        }
        let name = match i % 3 {
            0 => format!("Zhang{i:03}"),
            1 => format!("张伟{i:03}"),
            _ => format!("Li{i:03}"),
        };
        let user = app.registered_as(&name).await;
        match i % 3 {
            0 => zhang_latin.push(user.id),
            1 => zhang_han.push(user.id),
            _ => {}
        }
    }
    let viewer = app.registered_as("Viewer").await;
    let found = search_all(&app, &viewer, "keyword=zh", 7).await;
    assert_eq!(found, zhang_latin, "every Zhang once, in name order, across pages");
    let found = search_all(&app, &viewer, &format!("keyword={}", encode("张")), 13).await;
    assert_eq!(found, zhang_han);
    let found = search_all(&app, &viewer, "keyword=ZHANG01", 50).await;
    assert_eq!(
        found,
        zhang_latin[4..7].to_vec(),
        "Zhang012, 015 and 018, whatever the keyword's case"
    );

    // A rename moves a user in the directory; a user who blocked the viewer is left out.
    let wang = app.registered_as("Zhang999").await;
    assert_eq!(
        search_all(&app, &viewer, "keyword=zhang999", 5).await,
        vec![wang.id.clone()]
    );
    app.as_user(&wang)
        .post("/user/set_nickname", json!({"nickname": "Wang"}))
        .await;
    assert!(search_all(&app, &viewer, "keyword=zhang999", 5).await.is_empty());
    assert_eq!(
        search_all(&app, &viewer, "keyword=wang", 5).await,
        vec![wang.id.clone()]
    );
    app.as_user(&wang)
        .post("/user/add_to_blacklist", json!({"friendId": viewer.id}))
        .await;
    assert!(search_all(&app, &viewer, "keyword=wang", 5).await.is_empty());
}

async fn a_username_search_finds_usernames_and_bad_searches_name_the_field(app: TestApp) {
    let ann = app.registered_as("Ann").await;
    let bob = app.registered_as("Bob").await;
    app.as_user(&ann)
        .post("/user/set_username", json!({"username": "Dragon.Fly"}))
        .await;
    let res = app.as_user(&bob).get("/user/search?keyword=drag&by=username").await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let hit = &res.body["result"]["list"][0];
    assert_eq!(
        (hit["id"].as_str(), hit["username"].as_str(), hit["nickname"].as_str()),
        (Some(ann.id.as_str()), Some("Dragon.Fly"), Some("Ann"))
    );
    assert!(
        app.as_user(&bob).get("/user/search?keyword=drag").await.body["result"]["list"]
            .as_array()
            .unwrap()
            .is_empty(),
        "by nickname by default"
    );
    for (query, field) in [
        ("keyword=", "keyword"),
        ("by=username", "keyword"),
        ("keyword=a&by=email", "by"),
        ("keyword=a&limit=0", "limit"),
        ("keyword=a&limit=51", "limit"),
        ("keyword=a&cursor=Zm9v", "cursor"),
    ] {
        let res = app.as_user(&bob).get(&format!("/user/search?{query}")).await;
        assert_eq!(
            (res.status, res.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{query}: {}",
            res.body
        );
    }
    let res = app.get("/user/search?keyword=a").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "a session is required");
}

on_every_store!(
    an_email_code_follows_the_rules_of_sms_codes,
    emails_go_out_from_the_sender_with_the_products_subject,
    an_email_sign_up_logs_in_by_any_case_of_the_address_and_holds_it_alone,
    login_email_signs_up_on_first_use_and_then_signs_in,
    twenty_simultaneous_sign_ups_with_one_email_leave_one_holder,
    a_phone_change_needs_both_codes_moves_the_number_and_is_limited,
    an_email_change_needs_the_owner_code_once_an_email_is_set,
    an_email_reset_and_an_email_delete_code_work_like_phone_ones,
    the_email_shows_to_others_only_when_display_email_is_on,
    a_name_search_pages_through_every_match_exactly_once,
    a_username_search_finds_usernames_and_bad_searches_name_the_field,
);
