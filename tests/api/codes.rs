//! The `codes` group: region list, phone availability, send and verify codes, captcha.

use std::collections::HashSet;

use axum::http::StatusCode;
use base64::Engine;
use roster::domain::{CodePurpose, LoginId, PhoneNumber, Recipient, UserId};
use roster::error::Error;
use roster::verification::{VerificationToken, Verified};
use serde_json::json;

use crate::on_every_store;
use crate::support::{concurrently, json_post, new_phone, phone_body, TestApp};

async fn read_token(app: &TestApp, token: &str) -> Result<Verified, Error> {
    let token = VerificationToken::parse(token).expect("a token of Roster's shape");
    roster::verification::read_token(&app.state, &token, &[CodePurpose::Verify]).await
}

async fn send(app: &TestApp, national: &str) -> i64 {
    app.post("/user/send_code", phone_body(national)).await.code()
}

async fn verify(app: &TestApp, national: &str, code: &str) -> crate::support::TestResponse {
    app.post(
        "/user/verify_code",
        json!({"region": "86", "phone": national, "code": code}),
    )
    .await
}

async fn the_region_list_is_complete_by_get_and_post(app: TestApp) {
    for res in [
        app.get("/user/regionlist").await,
        app.post("/user/regionlist", json!({})).await,
    ] {
        assert_eq!((res.status, res.code()), (StatusCode::OK, 200));
        let list = res.body["result"].as_array().unwrap();
        assert!(list.len() >= 240, "{}", list.len());
        let china = list.iter().find(|r| r["locale"]["en"] == "China").unwrap();
        assert_eq!(
            (china["region"].as_str(), china["locale"]["zh"].as_str()),
            (Some("86"), Some("中国"))
        );
        assert!(list.iter().any(|r| r["region"] == "1" && r["locale"]["en"] == "Canada"));
    }
}

async fn a_phone_is_available_until_someone_owns_it(app: TestApp) {
    let (national, _) = new_phone();
    let res = app.post("/user/check_phone_available", phone_body(&national)).await;
    assert_eq!(res.body, json!({"code": 200, "result": true}));
    let phone = PhoneNumber::parse("86", &national).unwrap();
    let owner = UserId::parse("id", "someone1").unwrap();
    let claim = roster::store::markers::claim(&LoginId::Phone(phone), &owner);
    app.state.store.transact_write(vec![claim]).await.unwrap();
    let res = app
        .post(
            "/user/check_phone_available",
            json!({"region": "86", "phone": national}),
        )
        .await;
    assert_eq!(res.body, json!({"code": 200, "result": false}));
}

/// Numbers that pass a prefix match of China's patterns but are not mobile numbers.
const NOT_MOBILE: [&str; 5] = ["20012341234", "23412341234", "99999999999", "10000000000", "1065529988"];

async fn numbers_that_are_not_mobile_numbers_are_400_everywhere_and_get_no_sms(app: TestApp) {
    for national in NOT_MOBILE {
        let body = json!({"region": 86, "phone": national});
        for path in ["/user/send_code", "/user/check_phone_available"] {
            let res = app.post(path, body.clone()).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path} {national}: {}", res.body);
            assert_eq!(res.body["field"], "phone", "{path} {national}");
        }
        let login = json!({"region": 86, "phone": national, "password": "P@ssw0rd"});
        let res = app.post("/user/login", login).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "login {national}: {}", res.body);
        assert_eq!(res.body["field"], "phone");
        assert!(
            app.sms_to(&format!("+86{national}")).await.is_empty(),
            "an SMS went to {national}"
        );
    }
}

async fn impossible_numbers_are_400_naming_the_field(app: TestApp) {
    for (body, field) in [
        (json!({"region": 86, "phone": 1391234567u64}), "phone"),
        (json!({"region": 86, "phone": "12012345678"}), "phone"),
        (json!({"region": 999, "phone": "13912345678"}), "region"),
        (json!({"region": 86}), "phone"),
        (json!({"phone": "13912345678"}), "region"),
        (json!({"region": 86, "phone": true}), "phone"),
    ] {
        let res = app.post("/user/send_code", body.clone()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(res.body["field"], field, "{body}");
    }
}

async fn current_chinese_mobile_prefixes_can_receive_codes(app: TestApp) {
    for prefix in ["166", "191", "199"] {
        let (national, _) = new_phone();
        let national = format!("{prefix}{}", &national[3..]);
        assert_eq!(send(&app, &national).await, 200, "{prefix}");
    }
}

async fn a_form_body_with_string_fields_works_like_json(app: TestApp) {
    let (national, e164) = new_phone();
    let req = axum::http::Request::post("/user/send_code")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("region=86&phone={national}")))
        .unwrap();
    assert_eq!(app.send(req, crate::support::DEFAULT_IP).await.code(), 200);
    assert_eq!(app.sms_to(&e164).await.len(), 1);
}

async fn the_sms_names_the_product_and_the_code_and_nothing_else(app: TestApp) {
    let (national, e164) = new_phone();
    assert_eq!(send(&app, &national).await, 200);
    let texts = app.sms_to(&e164).await;
    assert_eq!(texts.len(), 1);
    let code = crate::support::code_in(&texts[0]);
    assert_eq!(texts[0], format!("Your Roster verification code is {code}"));
}

async fn a_correct_code_yields_a_verification_token_bound_to_the_phone(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    let res = verify(&app, &national, &code).await;
    assert_eq!(res.code(), 200, "{}", res.body);
    let token = res.body["result"]["verification_token"].as_str().unwrap().to_string();
    assert!(token.len() >= 40 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let proved = read_token(&app, &token).await.unwrap();
    assert_eq!(proved.to.address(), e164);
    assert_eq!(proved.purpose, CodePurpose::Verify);
}

async fn a_code_cannot_be_used_twice(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    assert_eq!(verify(&app, &national, &code).await.code(), 200);
    assert_eq!(verify(&app, &national, &code).await.code(), 2000);
}

async fn a_wrong_code_is_1000_and_five_wrong_tries_burn_the_code(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(verify(&app, &national, wrong).await.code(), 1000);
    }
    assert_eq!(verify(&app, &national, &code).await.code(), 2000);
}

async fn concurrent_wrong_guesses_cannot_exceed_the_try_limit(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    let start: u32 = code.parse().unwrap();
    let bodies = concurrently(&app.router, 20, |i| {
        let guess = format!("{:06}", (start + 1 + i as u32) % 1_000_000);
        json_post(
            "/user/verify_code",
            &json!({"region": 86, "phone": national, "code": guess}),
        )
    })
    .await;
    let wrong = bodies.iter().filter(|b| b["code"] == 1000).count();
    assert_eq!(wrong, 5, "only five guesses may be compared");
    assert_eq!(verify(&app, &national, &code).await.code(), 2000);
}

async fn a_code_expires_after_ten_minutes(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    app.clock.advance_secs(600);
    assert_eq!(verify(&app, &national, &code).await.code(), 2000);
}

async fn a_code_works_only_for_its_phone_and_purpose(app: TestApp) {
    let (national, e164) = new_phone();
    let (other, _) = new_phone();
    let res = app
        .post(
            "/user/send_code",
            json!({"region": 86, "phone": national, "purpose": "login"}),
        )
        .await;
    assert_eq!(res.code(), 200);
    let code = app.last_code(&e164).await;
    assert_eq!(verify(&app, &other, &code).await.code(), 2000);
    assert_eq!(
        verify(&app, &national, &code).await.code(),
        2000,
        "purpose-less verify must not take a login code"
    );
    for purpose in ["register", "reset", "delete"] {
        let res = app
            .post(
                "/user/verify_code",
                json!({"region": 86, "phone": national, "code": code, "purpose": purpose}),
            )
            .await;
        assert_eq!(res.code(), 2000, "{purpose}");
    }
    let res = app
        .post(
            "/user/verify_code",
            json!({"region": 86, "phone": national, "code": code, "purpose": "login"}),
        )
        .await;
    assert_eq!(res.code(), 200);
    let res = app
        .post(
            "/user/send_code",
            json!({"region": 86, "phone": national, "purpose": "shopping"}),
        )
        .await;
    assert_eq!(
        (res.status, res.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("purpose"))
    );
}

async fn codes_are_stored_only_as_a_keyed_hash(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    let phone = PhoneNumber::parse("86", &national).unwrap();
    let item = app
        .state
        .store
        .get(&roster::store::codes::key(
            &Recipient::Phone(phone),
            CodePurpose::Verify,
        ))
        .await
        .unwrap()
        .unwrap();
    let dump = format!("{:?}", item.attrs);
    assert!(!dump.contains(&code), "{dump}");
    assert_eq!(roster::store::codes::tag(&item).unwrap().len(), 64);
}

async fn a_second_code_within_a_minute_is_throttled_and_replaces_nothing(app: TestApp) {
    let (national, e164) = new_phone();
    assert_eq!(send(&app, &national).await, 200);
    let first = app.last_code(&e164).await;
    app.clock.advance_secs(59);
    assert_eq!(send(&app, &national).await, 5000);
    assert_eq!(app.sms_to(&e164).await.len(), 1);
    app.clock.advance_secs(1);
    assert_eq!(send(&app, &national).await, 200);
    let second = app.last_code(&e164).await;
    if first != second {
        assert_eq!(
            verify(&app, &national, &first).await.code(),
            1000,
            "a new code replaces the old one"
        );
    }
    assert_eq!(verify(&app, &national, &second).await.code(), 200);
}

async fn a_phone_gets_five_codes_an_hour_and_ten_a_day(app: TestApp) {
    let (national, e164) = new_phone();
    for _ in 0..5 {
        assert_eq!(send(&app, &national).await, 200);
        app.clock.advance_secs(61);
    }
    assert_eq!(send(&app, &national).await, 5000);
    app.clock.advance_secs(3600);
    for _ in 0..5 {
        assert_eq!(send(&app, &national).await, 200);
        app.clock.advance_secs(61);
    }
    app.clock.advance_secs(3600);
    assert_eq!(send(&app, &national).await, 5000, "ten a day");
    assert_eq!(app.sms_to(&e164).await.len(), 10);
    app.clock.advance_secs(86_400);
    assert_eq!(send(&app, &national).await, 200);
}

async fn a_network_needs_a_captcha_after_ten_codes_an_hour_and_stops_at_twenty(app: TestApp) {
    let ip = [203, 0, 113, 9];
    for _ in 0..10 {
        let (national, _) = new_phone();
        assert_eq!(
            app.post_from(ip, "/user/send_code", phone_body(&national)).await.code(),
            200
        );
    }
    let (national, e164) = new_phone();
    assert_eq!(
        app.post_from(ip, "/user/send_code", phone_body(&national)).await.code(),
        5001
    );
    assert!(app.sms_to(&e164).await.is_empty());
    // Another network is unaffected.
    assert_eq!(
        app.post_from([203, 0, 113, 10], "/user/send_code", phone_body(&national))
            .await
            .code(),
        200
    );

    for _ in 0..10 {
        let (national, _) = new_phone();
        let (id, answer) = solved_captcha(&app).await;
        let mut body = phone_body(&national);
        body["verifyId"] = json!(id);
        body["verifyCode"] = json!(answer.to_lowercase());
        assert_eq!(app.post_from(ip, "/user/send_code", body).await.code(), 200);
    }
    let (national, _) = new_phone();
    let (id, answer) = solved_captcha(&app).await;
    let mut body = phone_body(&national);
    body["verifyId"] = json!(id);
    body["verifyCode"] = json!(answer);
    assert_eq!(
        app.post_from(ip, "/user/send_code", body).await.code(),
        5000,
        "twenty an hour, captcha or not"
    );
}

/// A captcha whose answer the test knows: the harness feeds zero bytes to the answer.
async fn solved_captcha(app: &TestApp) -> (String, String) {
    app.random.queue_zeros(5 * 4);
    let res = app.get("/user/get_sms_img_code").await;
    (
        res.body["result"]["verifyId"].as_str().unwrap().to_string(),
        "AAAAA".to_string(),
    )
}

async fn a_captcha_is_an_image_and_gets_exactly_one_guess(app: TestApp) {
    let res = app.post("/user/get_sms_img_code", json!({})).await;
    let url = res.body["result"]["url"].as_str().unwrap();
    let image = base64::engine::general_purpose::STANDARD
        .decode(
            url.strip_prefix("data:image/png;base64,")
                .expect("an <img>-ready data URL"),
        )
        .unwrap();
    // A raster image: nothing in the bytes but a compressed bitmap.
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(!image.windows(4).any(|w| w == b"<svg" || w == b"poly"));

    let (id, answer) = solved_captcha(&app).await;
    let (national, _) = new_phone();
    let mut body = phone_body(&national);
    body["verifyId"] = json!(id);
    body["verifyCode"] = json!("BBBBB");
    assert_eq!(app.post("/user/send_code", body.clone()).await.code(), 5002);
    body["verifyCode"] = json!(answer);
    assert_eq!(
        app.post("/user/send_code", body).await.code(),
        5002,
        "a wrong guess burns the captcha"
    );

    let (id, answer) = solved_captcha(&app).await;
    app.clock.advance_secs(300);
    let mut body = phone_body(&national);
    body["verifyId"] = json!(id);
    body["verifyCode"] = json!(answer);
    assert_eq!(app.post("/user/send_code", body).await.code(), 5002, "captchas expire");
}

async fn a_region_outside_the_allow_list_gets_no_sms(app: TestApp) {
    let res = app
        .post("/user/send_code", json!({"region": 7, "phone": "9123456789"}))
        .await;
    assert_eq!(res.code(), 3000);
    assert!(app.sms_to("+79123456789").await.is_empty());
}

async fn the_service_stops_at_its_global_daily_cap(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.sms_global_day = 3).await;
    for i in 0..3u8 {
        let (national, _) = new_phone();
        assert_eq!(
            app.post_from([192, 0, 2, i], "/user/send_code", phone_body(&national))
                .await
                .code(),
            200
        );
    }
    let (national, e164) = new_phone();
    assert_eq!(
        app.post_from([192, 0, 2, 99], "/user/send_code", phone_body(&national))
            .await
            .code(),
        5000
    );
    assert!(app.sms_to(&e164).await.is_empty());
}

async fn twenty_simultaneous_sends_to_one_phone_send_exactly_one_sms(app: TestApp) {
    let (national, e164) = new_phone();
    let bodies = concurrently(&app.router, 20, |_| {
        json_post("/user/send_code", &phone_body(&national))
    })
    .await;
    let codes: Vec<i64> = bodies.iter().map(|b| b["code"].as_i64().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 200 || *c == 5000), "{codes:?}");
    assert_eq!(app.sms_to(&e164).await.len(), 1);
}

async fn simultaneous_verifies_of_one_code_yield_one_token(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    // As many racers as the try limit lets compare the code.
    let body = json!({"region": 86, "phone": national, "code": code});
    let mut tokens = HashSet::new();
    for body in concurrently(&app.router, 5, |_| json_post("/user/verify_code", &body)).await {
        match body["result"]["verification_token"].as_str() {
            Some(tok) => {
                tokens.insert(tok.to_string());
            }
            None => assert_eq!(body["code"], 2000, "{body}"),
        }
    }
    assert_eq!(tokens.len(), 1);
}

async fn a_verification_token_lasts_thirty_minutes(app: TestApp) {
    let (national, e164) = new_phone();
    send(&app, &national).await;
    let code = app.last_code(&e164).await;
    let token = verify(&app, &national, &code).await.body["result"]["verification_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance_secs(1799);
    assert!(read_token(&app, &token).await.is_ok());
    app.clock.advance_secs(1);
    assert!(matches!(
        read_token(&app, &token).await,
        Err(Error::VerificationTokenGone)
    ));
    assert!(VerificationToken::parse("not-a-token").is_err());
}

async fn with_no_gap_configured_a_second_code_goes_out_at_once(app: TestApp) {
    let app = TestApp::spawn_with(app.kind, |c| c.limits.sms_gap_secs = 0).await;
    let (national, e164) = new_phone();
    assert_eq!(send(&app, &national).await, 200);
    assert_eq!(send(&app, &national).await, 200);
    assert_eq!(app.sms_to(&e164).await.len(), 2);
}

async fn a_failed_send_is_a_clean_503_that_spends_nothing(app: TestApp) {
    let (national, e164) = new_phone();
    app.messages.set_failing(true);
    for _ in 0..6 {
        // More failures than the hourly allowance: none of them counts.
        let res = app.post("/user/send_code", phone_body(&national)).await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
        assert_eq!(res.headers["retry-after"], "1");
        assert!(res.body["requestId"].is_string(), "{}", res.body);
    }
    assert!(app.sms_to(&e164).await.is_empty());
    let stored = app
        .state
        .store
        .query(roster::ports::Query::partition(format!("PHONE#{e164}")))
        .await
        .unwrap();
    assert!(
        stored
            .items
            .iter()
            .all(|i| !i.key.sk.starts_with("CODE#") && i.key.sk != "SEND#GAP"),
        "no code and no gap is left: {:?}",
        stored.items.iter().map(|i| &i.key.sk).collect::<Vec<_>>()
    );
    app.messages.set_failing(false);
    assert_eq!(
        send(&app, &national).await,
        200,
        "the same request retried at once succeeds"
    );
    let code = app.last_code(&e164).await;
    assert_eq!(verify(&app, &national, &code).await.code(), 200);
    for _ in 0..4 {
        app.clock.advance_secs(61);
        assert_eq!(
            send(&app, &national).await,
            200,
            "the failures took none of the five an hour"
        );
    }
}

on_every_store!(
    a_failed_send_is_a_clean_503_that_spends_nothing,
    with_no_gap_configured_a_second_code_goes_out_at_once,
    numbers_that_are_not_mobile_numbers_are_400_everywhere_and_get_no_sms,
    the_region_list_is_complete_by_get_and_post,
    a_phone_is_available_until_someone_owns_it,
    impossible_numbers_are_400_naming_the_field,
    current_chinese_mobile_prefixes_can_receive_codes,
    a_form_body_with_string_fields_works_like_json,
    the_sms_names_the_product_and_the_code_and_nothing_else,
    a_correct_code_yields_a_verification_token_bound_to_the_phone,
    a_code_cannot_be_used_twice,
    a_wrong_code_is_1000_and_five_wrong_tries_burn_the_code,
    concurrent_wrong_guesses_cannot_exceed_the_try_limit,
    a_code_expires_after_ten_minutes,
    a_code_works_only_for_its_phone_and_purpose,
    codes_are_stored_only_as_a_keyed_hash,
    a_second_code_within_a_minute_is_throttled_and_replaces_nothing,
    a_phone_gets_five_codes_an_hour_and_ten_a_day,
    a_network_needs_a_captcha_after_ten_codes_an_hour_and_stops_at_twenty,
    a_captcha_is_an_image_and_gets_exactly_one_guess,
    a_region_outside_the_allow_list_gets_no_sms,
    the_service_stops_at_its_global_daily_cap,
    twenty_simultaneous_sends_to_one_phone_send_exactly_one_sms,
    simultaneous_verifies_of_one_code_yield_one_token,
    a_verification_token_lasts_thirty_minutes,
);

/// The hosted captcha (Turnstile, hCaptcha), verified against a stand-in of the
/// provider's `siteverify` on loopback.
#[cfg(feature = "hosted-captcha")]
mod hosted {
    use std::sync::{Arc, Mutex};

    use axum::routing::post;
    use serde_json::json;

    use crate::on_every_store;
    use crate::support::{new_phone, phone_body, TestApp};

    const SECRET: &str = "stand-in-secret";
    const SOLVED: &str = "solved-token";

    /// A provider that knows one solved token; records the addresses it was asked about.
    async fn stand_in_provider() -> (String, Arc<Mutex<Vec<String>>>) {
        let asked = Arc::new(Mutex::new(vec![]));
        let seen = asked.clone();
        let app = axum::Router::new().route(
            "/siteverify",
            post(
                move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                    let seen = seen.clone();
                    async move {
                        seen.lock()
                            .unwrap()
                            .push(form.get("remoteip").cloned().unwrap_or_default());
                        let ok = form.get("secret").map(String::as_str) == Some(SECRET)
                            && form.get("response").map(String::as_str) == Some(SOLVED);
                        axum::Json(json!({ "success": ok }))
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/siteverify"), asked)
    }

    async fn a_hosted_challenge_token_lets_a_network_past_the_captcha_threshold(app: TestApp) {
        let (url, asked) = stand_in_provider().await;
        let app = TestApp::spawn_with(app.kind, |c| {
            c.captcha = roster::config::CaptchaSetting::Hosted {
                verify_url: url,
                secret: SECRET.into(),
            }
        })
        .await;
        for _ in 0..10 {
            let (national, _) = new_phone();
            assert_eq!(app.post("/user/send_code", phone_body(&national)).await.code(), 200);
        }
        let (national, e164) = new_phone();
        let mut body = phone_body(&national);
        assert_eq!(app.post("/user/send_code", body.clone()).await.code(), 5001);
        body["captchaToken"] = json!("made-up-token");
        assert_eq!(app.post("/user/send_code", body.clone()).await.code(), 5002);
        body["captchaToken"] = json!(SOLVED);
        assert_eq!(app.post("/user/send_code", body).await.code(), 200);
        assert_eq!(app.sms_to(&e164).await.len(), 1);
        assert_eq!(
            *asked.lock().unwrap(),
            vec!["198.51.100.7".to_string(), "198.51.100.7".to_string()],
            "the provider is asked about the client's address"
        );
        // SealTalk's image captcha keeps working beside it.
        let res = app.get("/user/get_sms_img_code").await;
        assert!(res.body["result"]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"));
    }

    async fn without_a_hosted_captcha_a_token_is_a_400_naming_it(app: TestApp) {
        let (national, _) = new_phone();
        let mut body = phone_body(&national);
        body["captchaToken"] = json!(SOLVED);
        let res = app.post("/user/send_code", body).await;
        assert_eq!(res.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(res.body["field"], "captchaToken");
    }

    on_every_store!(
        a_hosted_challenge_token_lets_a_network_past_the_captcha_threshold,
        without_a_hosted_captcha_a_token_is_a_400_naming_it,
    );
}
