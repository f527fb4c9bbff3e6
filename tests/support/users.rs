//! The people every suite needs: a verified phone, a registered user (signed in by
//! registering, as SealTalk's server does), a logged-in client, and requests made as a
//! user: `app.as_user(&user).post(path, body)`.

use axum::http::Method;
use serde_json::{json, Value};

use super::{new_phone, phone_body, TestApp, TestResponse};

pub const PASSWORD: &str = "P@ssw0rd";

pub struct User {
    pub national: String,
    pub e164: String,
    pub id: String,
    /// The `name=value` session cookie a browser would send back.
    pub cookie: String,
}

/// The `Set-Cookie` header of a response.
pub fn set_cookie(res: &TestResponse) -> String {
    res.headers
        .get("set-cookie")
        .expect("set-cookie")
        .to_str()
        .unwrap()
        .to_string()
}

/// The `name=value` pair a browser would send back.
pub fn cookie_pair(res: &TestResponse) -> String {
    set_cookie(res).split(';').next().unwrap().to_string()
}

impl TestApp {
    /// A verification token for a fresh phone, through the SealTalk flow (and `purpose`).
    pub async fn verified_phone(&self, purpose: Option<&str>) -> (String, String, String) {
        let (national, e164) = new_phone();
        let mut body = phone_body(&national);
        if let Some(p) = purpose {
            body["purpose"] = json!(p);
        }
        assert_eq!(self.post("/user/send_code", body.clone()).await.code(), 200);
        body["code"] = json!(self.last_code(&e164).await);
        let res = self.post("/user/verify_code", body).await;
        let token = res.body["result"]["verification_token"].as_str().unwrap().to_string();
        (national, e164, token)
    }

    /// Sends a code for `purpose` to the phone (a minute after any earlier one); the code.
    pub async fn code_for(&self, national: &str, e164: &str, purpose: &str) -> String {
        self.clock.advance_secs(61);
        let body = json!({"region": 86, "phone": national, "purpose": purpose});
        assert_eq!(self.post("/user/send_code", body).await.code(), 200);
        self.last_code(e164).await
    }

    /// A verification token for `purpose` on the phone.
    pub async fn token_for(&self, national: &str, e164: &str, purpose: &str) -> String {
        let code = self.code_for(national, e164, purpose).await;
        let body = json!({"region": 86, "phone": national, "purpose": purpose, "code": code});
        let res = self.post("/user/verify_code", body).await;
        res.body["result"]["verification_token"].as_str().unwrap().to_string()
    }

    /// Sends a code for `purpose` to the email address (a minute after any earlier one):
    /// the code, read back from the outbox or moto's SES by its canonical address.
    pub async fn email_code_for(&self, email: &str, purpose: &str) -> String {
        self.clock.advance_secs(61);
        let body = json!({"email": email, "purpose": purpose});
        let res = self.post("/user/send_email_code", body).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        self.last_code(&email.to_lowercase()).await
    }

    /// A verification token for `purpose` on the email address.
    pub async fn email_token_for(&self, email: &str, purpose: &str) -> String {
        let code = self.email_code_for(email, purpose).await;
        let body = json!({"email": email, "purpose": purpose, "code": code});
        let res = self.post("/user/verify_email_code", body).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        res.body["result"]["verification_token"].as_str().unwrap().to_string()
    }

    /// A new user signed up with an email code (no phone): the user and the address as
    /// given (mixed case).
    pub async fn registered_by_email(&self, nickname: &str) -> (User, String) {
        let (email, _) = super::new_email();
        let token = self.email_token_for(&email, "register").await;
        let res = self
            .post(
                "/user/register",
                json!({"nickname": nickname, "password": PASSWORD, "verification_token": token}),
            )
            .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        let user = User {
            national: String::new(),
            e164: String::new(),
            id: res.body["result"]["id"].as_str().unwrap().to_string(),
            cookie: cookie_pair(&res),
        };
        (user, email)
    }

    /// `n` users written straight to the store (profile, credential, a session), for
    /// scenarios that need hundreds of members: registering each would spend minutes on
    /// password hashing that the scenario does not exercise.
    pub async fn quick_users(&self, n: usize) -> Vec<User> {
        use roster::auth::sessions::{new_session, set_cookie, SessionKind};
        use roster::domain::{Device, Nickname, UserId};
        use roster::store::{credential, profile};
        let device = Device::parse(None, None).unwrap();
        let mut users = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(30) {
            let mut ops = vec![];
            for &i in chunk {
                let id = UserId::from_minted(self.state.random.token(UserId::BYTES));
                let nickname = Nickname::parse(&format!("Quick{i}")).unwrap();
                let session = new_session(&self.state, &id, SessionKind::Cookie, &device);
                ops.push(profile::create(
                    &id,
                    profile::Contact::default(),
                    &nickname,
                    0,
                    self.state.clock.now_millis(),
                ));
                ops.push(credential::create(&id, None));
                ops.push(session.create.clone());
                let cookie = set_cookie(&session.bearer_secret, 3600);
                users.push(User {
                    national: String::new(),
                    e164: String::new(),
                    id: id.to_string(),
                    cookie: cookie.split(';').next().unwrap().to_string(),
                });
            }
            self.state.store.transact_write(ops).await.unwrap();
        }
        users
    }

    /// `user` posts `body` to `path`, which must succeed; the answer's body.
    pub async fn posted(&self, user: &User, path: &str, body: serde_json::Value) -> serde_json::Value {
        let res = self.as_user(user).post(path, body).await;
        assert_eq!(res.code(), 200, "{path}: {}", res.body);
        res.body
    }

    /// `a` invites `b`, who agrees: friends both ways.
    pub async fn befriend(&self, a: &User, b: &User) {
        self.posted(a, "/friendship/invite", serde_json::json!({"friendId": b.id}))
            .await;
        self.posted(b, "/friendship/agree", serde_json::json!({"friendId": a.id}))
            .await;
    }

    /// A group `creator` creates with `members`; its id.
    pub async fn create_group(&self, creator: &User, name: &str, members: &[&User]) -> String {
        let ids: Vec<&str> = members.iter().map(|u| u.id.as_str()).collect();
        let body = self
            .posted(
                creator,
                "/group/create",
                serde_json::json!({"name": name, "memberIds": ids}),
            )
            .await;
        body["result"]["id"].as_str().unwrap().to_string()
    }

    /// Makes `user` friends (status 20 both ways) with each of `others`, straight in the
    /// store: for scenarios that need hundreds of friends and exercise reading them.
    pub async fn make_friends(&self, user: &User, others: &[User]) {
        use roster::domain::UserId;
        use roster::store::relations::{set_status, Status};
        let me = UserId::parse("id", &user.id).unwrap();
        let now = self.state.clock.now_millis();
        for chunk in others.chunks(40) {
            let mut ops = vec![];
            for o in chunk {
                let o = UserId::parse("id", &o.id).unwrap();
                ops.push(set_status(&me, &o, None, Status::Agreed, None, now));
                ops.push(set_status(&o, &me, None, Status::Agreed, None, now));
            }
            self.state.store.transact_write(ops).await.unwrap();
        }
    }

    /// Asserts that the counters on `user`'s feed head equal the edges they count.
    pub async fn assert_counters_agree(&self, user: &User) {
        use roster::ports::{IndexName, Query};
        let store = &self.state.store;
        let pk = format!("USER#{}", user.id);
        let head = store.get(&roster::ports::Key::new(pk.clone(), "FEED")).await.unwrap();
        let counter = |name: &str| head.as_ref().and_then(|h| h.n(name)).unwrap_or(0);
        let all = |q: Query| async move { store.query(q.limit(1000)).await.unwrap().items };
        let friends = all(Query::partition(pk.clone()).begins_with("FRIEND#")).await;
        let with = |s: i64| friends.iter().filter(|i| i.n("status") == Some(s)).count() as i64;
        let blocks = all(Query::partition(pk.clone()).begins_with("BLOCK#")).await.len() as i64;
        let follows = all(Query::partition(pk.clone()).begins_with("FOLLOW#")).await.len() as i64;
        let fans = all(Query::partition(pk.clone()).on(IndexName::Inverted).begins_with("FAN#"))
            .await
            .len() as i64;
        let groups = all(Query::partition(pk.clone()).begins_with("GROUP#")).await.len() as i64;
        assert_eq!(
            [
                counter("friendCount"),
                counter("pendingCount"),
                counter("blockedCount"),
                counter("followCount"),
                counter("fanCount"),
                counter("groupCount")
            ],
            [with(20), with(11), blocks, follows, fans, groups],
            "counters of {} against its edges",
            user.id
        );
    }

    /// A new user named `nickname`, signed in by registering.
    pub async fn registered_as(&self, nickname: &str) -> User {
        let (national, e164, token) = self.verified_phone(None).await;
        let res = self
            .post(
                "/user/register",
                json!({"nickname": nickname, "password": PASSWORD, "verification_token": token}),
            )
            .await;
        assert_eq!(res.code(), 200, "{}", res.body);
        User {
            national,
            e164,
            id: res.body["result"]["id"].as_str().unwrap().to_string(),
            cookie: cookie_pair(&res),
        }
    }

    pub async fn registered(&self) -> User {
        self.registered_as("Tom").await
    }

    /// `n` new users; the clock moves an hour on every 9 so that the test's one network
    /// stays under its hourly number of codes.
    pub async fn many_registered(&self, n: usize) -> Vec<User> {
        let mut users = Vec::with_capacity(n);
        for i in 0..n {
            if i % 9 == 8 {
                self.clock.advance_secs(3600);
            }
            users.push(self.registered_as(&format!("User{i}")).await);
        }
        users
    }

    /// The change records in `user`'s feed, in order, as (kind, subject, op); checks on
    /// the way that the records are exactly 1..=seq, with no gap (`docs/sync.md` §3).
    pub async fn feed(&self, user: &User) -> Vec<(String, String, String)> {
        let id = roster::domain::UserId::parse("id", &user.id).unwrap();
        self.feed_at(roster::store::feeds::user_head(&id)).await
    }

    /// The change records of a group's feed, checked the same way.
    pub async fn group_feed(&self, group: &str) -> Vec<(String, String, String)> {
        let g = roster::domain::GroupId::parse("id", group).unwrap();
        self.feed_at(roster::store::groups::head(&g)).await
    }

    pub async fn feed_at(&self, head: roster::ports::Key) -> Vec<(String, String, String)> {
        use roster::store::feeds;
        let seq = feeds::seq(self.state.store.get(&head).await.unwrap().as_ref()).unwrap();
        let mut out = vec![];
        let mut cursor = None;
        loop {
            let page = self
                .state
                .store
                .query(feeds::records_after(&head, 0).after(cursor))
                .await
                .unwrap();
            for item in &page.items {
                assert_eq!(
                    feeds::record_seq(item).unwrap(),
                    out.len() as i64 + 1,
                    "a gap in the feed"
                );
                let c = feeds::Change::from_item(item).unwrap();
                out.push((c.kind, c.subject, c.op));
            }
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(out.len() as i64, seq, "the head says {seq} records");
        out
    }

    /// A password login of `user`'s phone.
    pub async fn login(&self, user: &User, password: &str) -> TestResponse {
        self.post(
            "/user/login",
            json!({"region": 86, "phone": user.national, "password": password}),
        )
        .await
    }

    /// A fresh session of `user`: its cookie pair.
    pub async fn logged_in(&self, user: &User) -> String {
        let res = self.login(user, PASSWORD).await;
        assert_eq!(res.code(), 200, "{}", res.body);
        cookie_pair(&res)
    }

    /// Requests carrying `user`'s session cookie.
    pub fn as_user<'a>(&'a self, user: &'a User) -> AsUser<'a> {
        AsUser {
            app: self,
            cookie: user.cookie.clone(),
        }
    }

    /// Requests carrying a given cookie pair (another session of a user).
    pub fn with_cookie(&self, cookie: &str) -> AsUser<'_> {
        AsUser {
            app: self,
            cookie: cookie.to_string(),
        }
    }
}

pub struct AsUser<'a> {
    app: &'a TestApp,
    cookie: String,
}

impl AsUser<'_> {
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.app
            .request_with(Method::POST, path, Some(body), &[("cookie", &self.cookie)])
            .await
    }
    pub async fn get(&self, path: &str) -> TestResponse {
        self.app
            .request_with(Method::GET, path, None, &[("cookie", &self.cookie)])
            .await
    }
}
