//! Test harness shared by the black-box suites: builds the app on either store with a
//! controllable clock and random source (through `Services::assemble`, as the servers
//! do), drives its router in process, and reads back the SMS it sent (local outbox, or
//! moto's SNS on the DynamoDB run). `users` has the people every suite needs, `stores`
//! the store wrappers (counting, failing) a test puts around the store in one line.
//!
//! Built without the `dynamodb` feature (the SQLite-only inner loop, `cargo test -p
//! roster --no-default-features --test api`), it needs no AWS SDK.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use roster::adapters::local_outbox::LocalOutbox;
use roster::adapters::sqlite_store::SqliteStore;
use roster::config::Config;
use roster::ports::{Clock, ManualClock, MessageSender, OsRandom, Random, Store};
use roster::state::{Adapters, AppState, LocalAdapters, Secrets, Services};
use serde_json::Value;
use tower::ServiceExt;

/// 2027-01-15T00:00:10Z: a day boundary plus a little, so tests control windows.
pub const T0: i64 = 1_800_000_000 - 1_800_000_000 % 86_400 + 10;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StoreKind {
    Sqlite,
    Dynamodb,
}

fn env_or_fail(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: the DynamoDB/moto suites run under scripts/test.sh, which starts the emulators")
    })
}

#[cfg(feature = "dynamodb")]
pub fn aws_credentials() -> aws_sdk_dynamodb::config::Credentials {
    aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "roster-tests")
}

#[cfg(feature = "dynamodb")]
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .http_client(roster::adapters::aws_http::client())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_credentials())
        .endpoint_url(env_or_fail("ROSTER_TEST_DYNAMODB_URL"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

pub fn moto_url() -> String {
    env_or_fail("ROSTER_TEST_MOTO_URL")
}

#[cfg(feature = "sns")]
pub fn sns_client() -> aws_sdk_sns::Client {
    let conf = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .http_client(roster::adapters::aws_http::client())
        .region(aws_sdk_sns::config::Region::new("us-east-1"))
        .credentials_provider(aws_credentials())
        .endpoint_url(moto_url())
        .build();
    aws_sdk_sns::Client::from_conf(conf)
}

#[cfg(feature = "ses")]
pub fn ses_client() -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::Config::builder()
        .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
        .http_client(roster::adapters::aws_http::client())
        .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
        .credentials_provider(aws_credentials())
        .endpoint_url(moto_url())
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

/// The sender of test email, from a domain verified in moto's SES once per process (SES
/// refuses a sender that is not a verified identity, and so does moto).
pub const TEST_EMAIL_FROM: &str = "codes@roster.test";

#[cfg(feature = "ses")]
pub async fn verified_sender() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        ses_client()
            .create_email_identity()
            .email_identity("roster.test")
            .send()
            .await
            .expect("create the sender identity in moto");
    })
    .await;
}

#[cfg(feature = "s3")]
pub fn s3_client() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .http_client(roster::adapters::aws_http::client())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_credentials())
        .endpoint_url(moto_url())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A fresh store of the given kind: a new SQLite file, or a new DynamoDB Local table.
pub async fn fresh_store(kind: StoreKind, clock: Arc<dyn Clock>, dir: &std::path::Path) -> Arc<dyn Store> {
    match kind {
        StoreKind::Sqlite => Arc::new(SqliteStore::open(&dir.join("roster.db"), clock).expect("open sqlite")),
        #[cfg(not(feature = "dynamodb"))]
        StoreKind::Dynamodb => panic!("built without the dynamodb feature"),
        #[cfg(feature = "dynamodb")]
        StoreKind::Dynamodb => {
            use roster::adapters::dynamodb_store::DynamoStore;
            let client = dynamodb_client();
            let table = format!(
                "roster-test-{}",
                (&OsRandom as &dyn Random).token(9).replace(['-', '_'], "x")
            );
            DynamoStore::create_table(&client, &table)
                .await
                .expect("create table on DynamoDB Local");
            Arc::new(DynamoStore::new(client, table, clock))
        }
    }
}

/// The OS CSPRNG, except for bytes a test queued up front (to know a captcha answer).
#[derive(Default)]
pub struct ScriptedRandom {
    queued: Mutex<VecDeque<u8>>,
}

impl ScriptedRandom {
    pub fn queue_zeros(&self, n: usize) {
        self.queued.lock().unwrap().extend(std::iter::repeat_n(0u8, n));
    }
}

impl Random for ScriptedRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut q = self.queued.lock().unwrap();
        for b in buf.iter_mut() {
            *b = match q.pop_front() {
                Some(v) => v,
                None => {
                    let mut one = [0u8; 1];
                    OsRandom.fill(&mut one);
                    one[0]
                }
            };
        }
    }
}

/// The hosted captcha's verifier when a test configures one (pointing at a stand-in).
fn challenge_for(config: &Config) -> Option<Arc<dyn roster::ports::ChallengeVerifier>> {
    match &config.captcha {
        roster::config::CaptchaSetting::Builtin => None,
        #[cfg(feature = "hosted-captcha")]
        roster::config::CaptchaSetting::Hosted { verify_url, secret } => Some(Arc::new(
            roster::adapters::site_verify::SiteVerify::new(verify_url, secret).expect("site verify"),
        )),
        #[cfg(not(feature = "hosted-captcha"))]
        roster::config::CaptchaSetting::Hosted { .. } => panic!("built without the hosted-captcha feature"),
    }
}

/// Local runs read SMS and email from the outbox; DynamoDB runs send SMS through moto's
/// SNS and email through moto's SES v2.
async fn messages_for(kind: StoreKind, outbox: &Arc<LocalOutbox>) -> (Arc<dyn MessageSender>, SmsProbe) {
    match kind {
        StoreKind::Sqlite => (outbox.clone(), SmsProbe::Outbox(outbox.clone())),
        #[cfg(all(feature = "sns", feature = "ses"))]
        StoreKind::Dynamodb => {
            verified_sender().await;
            let sender = roster::adapters::by_channel::ByChannel {
                sms: Arc::new(roster::adapters::sns_sender::SnsSender::new(sns_client(), None)),
                email: Arc::new(roster::adapters::ses_sender::SesSender::new(
                    ses_client(),
                    TEST_EMAIL_FROM.into(),
                    None,
                    "Your Roster verification code".into(),
                )),
            };
            (Arc::new(sender), SmsProbe::Moto)
        }
        #[cfg(not(all(feature = "sns", feature = "ses")))]
        StoreKind::Dynamodb => panic!("built without the sns and ses features"),
    }
}

pub enum SmsProbe {
    Outbox(Arc<LocalOutbox>),
    Moto,
}

/// The app's message sender, which a test can make fail (a provider outage).
pub struct FlakySender {
    inner: Arc<dyn MessageSender>,
    failing: std::sync::atomic::AtomicBool,
}

impl FlakySender {
    pub fn set_failing(&self, on: bool) {
        self.failing.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl MessageSender for FlakySender {
    async fn send(&self, to: &roster::domain::Recipient, text: &str) -> Result<(), roster::ports::SendError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(roster::ports::SendError::Provider("injected provider failure".into()));
        }
        self.inner.send(to, text).await
    }
}

pub struct TestApp {
    pub kind: StoreKind,
    pub router: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub random: Arc<ScriptedRandom>,
    pub sms: SmsProbe,
    pub messages: Arc<FlakySender>,
    pub dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The envelope's `code`.
    pub fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(-1)
    }
}

pub const DEFAULT_IP: [u8; 4] = [198, 51, 100, 7];

impl TestApp {
    pub async fn spawn(kind: StoreKind) -> TestApp {
        Self::spawn_with(kind, |_| {}).await
    }

    pub async fn spawn_with(kind: StoreKind, tune: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_full(kind, tune, |store| store).await
    }

    /// The app over a wrapped store: `TestApp::spawn_wrapped(kind, |s| counting.wrap(s))`.
    pub async fn spawn_wrapped(kind: StoreKind, wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>) -> TestApp {
        Self::spawn_full(kind, |_| {}, wrap).await
    }

    pub async fn spawn_full(
        kind: StoreKind,
        tune: impl FnOnce(&mut Config),
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Arc::new(ManualClock::starting_at_secs(T0));
        let random = Arc::new(ScriptedRandom::default());
        let mut config = Config::from_lookup(|_| None).expect("default config");
        config.data_dir = dir.path().to_path_buf();
        tune(&mut config);
        let store = wrap(fresh_store(kind, clock.clone(), dir.path()).await);
        let mut code_secret = [0u8; 32];
        OsRandom.fill(&mut code_secret);
        let mut signing_seed = [0u8; 32];
        OsRandom.fill(&mut signing_seed);
        let secrets = Secrets {
            code_secret: &code_secret,
            signing_seed: &signing_seed,
        };
        let local = LocalAdapters::in_folder(dir.path(), "http://127.0.0.1:7700", &secrets, clock.clone())
            .expect("local adapters");
        let (messages, probe) = messages_for(kind, &local.outbox).await;
        let messages = Arc::new(FlakySender {
            inner: messages,
            failing: Default::default(),
        });
        let challenge = challenge_for(&config);
        let adapters = Adapters {
            store,
            messages: messages.clone(),
            uploads: local.uploads.clone(),
            challenge,
            clock: clock.clone(),
            random: random.clone(),
            local: Some(local),
        };
        let state = AppState::new(Services::assemble(config, adapters, &secrets).expect("services"));
        let router = roster::local::router(state.clone());
        TestApp {
            kind,
            router,
            state,
            clock,
            random,
            sms: probe,
            messages,
            dir,
        }
    }

    /// The same services over another store, for a test that swaps it mid-way.
    pub fn router_with_store(&self, store: Arc<dyn Store>) -> Router {
        self.router_over(store, self.state.clock.clone())
    }

    /// The same services with another file store (a failing S3, say).
    pub fn router_with_uploads(&self, uploads: Arc<dyn roster::ports::UploadSigner>) -> Router {
        self.router_from(self.state.store.clone(), self.state.clock.clone(), uploads)
    }

    fn router_over(&self, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Router {
        self.router_from(store, clock, self.state.uploads.clone())
    }

    fn router_from(
        &self,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        uploads: Arc<dyn roster::ports::UploadSigner>,
    ) -> Router {
        let s = &self.state;
        let services = Services {
            config: s.config.clone(),
            store,
            messages: s.messages.clone(),
            uploads,
            challenge: s.challenge.clone(),
            clock,
            random: s.random.clone(),
            code_key: s.code_key.clone(),
            tokens: s.tokens.clone(),
            local: s.local.clone(),
        };
        roster::local::router(AppState::new(services))
    }

    /// The same services with a clock `skew_secs` away from the app's (another process
    /// whose clock differs): it reads the time the app's clock has now, and stays there.
    pub fn router_with_skew(&self, skew_secs: i64) -> Router {
        let clock = Arc::new(ManualClock::starting_at_secs(
            self.state.clock.now_millis() / 1000 + skew_secs,
        ));
        self.router_over(self.state.store.clone(), clock)
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<Value>, ip: [u8; 4]) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        self.send(builder.body(body).unwrap(), ip).await
    }

    /// Sends a request and reads its JSON answer, which must agree with the OpenAPI
    /// document (`contract::check`).
    pub async fn send(&self, mut req: Request<Body>, ip: [u8; 4]) -> TestResponse {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((IpAddr::from(ip), 40000))));
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("response is not JSON: {}", String::from_utf8_lossy(&bytes)));
        contract::check(&method, &path, status, &body);
        TestResponse { status, headers, body }
    }

    /// The raw response (for answers that are not JSON, such as a CORS preflight).
    pub async fn send_raw(&self, mut req: Request<Body>) -> axum::response::Response {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((IpAddr::from(DEFAULT_IP), 40000))));
        self.router.clone().oneshot(req).await.expect("router is infallible")
    }

    /// A request with extra headers (cookies, bearer tokens, form bodies).
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        self.send(builder.body(body).unwrap(), DEFAULT_IP).await
    }

    pub async fn form(&self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req, DEFAULT_IP).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(body), DEFAULT_IP).await
    }

    pub async fn post_from(&self, ip: [u8; 4], path: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(body), ip).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, DEFAULT_IP).await
    }

    /// Every message this app sent to `address` (an E.164 phone or an email address),
    /// oldest first.
    pub async fn sms_to(&self, address: &str) -> Vec<String> {
        match &self.sms {
            SmsProbe::Outbox(outbox) => outbox
                .list()
                .unwrap()
                .into_iter()
                .filter(|m| m.to == address)
                .map(|m| m.text)
                .collect(),
            SmsProbe::Moto if address.starts_with('+') => moto_sms_to(address).await,
            SmsProbe::Moto => moto_emails_to(address).await.into_iter().map(|m| m.body).collect(),
        }
    }

    /// The code in the latest message to `address`.
    pub async fn last_code(&self, address: &str) -> String {
        let texts = self.sms_to(address).await;
        let last = texts.last().unwrap_or_else(|| panic!("no message to {address}"));
        code_in(last)
    }
}

pub fn code_in(text: &str) -> String {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    assert_eq!(digits.len(), 6, "expected one 6-digit code in {text:?}");
    digits
}

/// The SMS moto recorded for a phone number (moto keeps every Publish to a number).
pub async fn moto_sms_to(e164: &str) -> Vec<String> {
    let url = format!("{}/moto-api/data.json", moto_url());
    let data: Value = reqwest::get(&url)
        .await
        .expect("moto data.json")
        .json()
        .await
        .expect("moto json");
    let mut out = vec![];
    collect_sms(&data, e164, &mut out);
    out
}

/// The email moto's SES recorded for an address.
pub async fn moto_emails_to(address: &str) -> Vec<moto::Email> {
    let url = format!("{}/moto-api/data.json", moto_url());
    let data: Value = reqwest::get(&url)
        .await
        .expect("moto data.json")
        .json()
        .await
        .expect("moto json");
    moto::emails_to(&data, address)
}

fn collect_sms(v: &Value, e164: &str, out: &mut Vec<String>) {
    moto::collect_sms(v, e164, out)
}

pub mod contract;
pub mod moto;
pub mod stores;
pub mod sync;
pub mod users;

/// Sends `n` requests at once (the i-th built by `make(i)`); their JSON bodies, in order.
pub async fn concurrently(router: &Router, n: usize, make: impl Fn(usize) -> Request<Body>) -> Vec<Value> {
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(router.clone(), make(i)))).collect();
    let mut bodies = Vec::with_capacity(n);
    for t in tasks {
        bodies.push(t.await.expect("request task"));
    }
    bodies
}

pub fn json_post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A JSON POST carrying a session cookie (for concurrent requests of logged-in users).
pub fn json_post_as(path: &str, cookie: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("cookie", cookie)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// One request through a router (for concurrent tasks): the JSON body of the answer.
pub async fn call(router: Router, mut req: Request<Body>) -> Value {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((IpAddr::from(DEFAULT_IP), 40000))));
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let res = router.oneshot(req).await.expect("router is infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).expect("JSON body");
    contract::check(&method, &path, status, &body);
    body
}

/// (group, METHOD, path template) for every method each group's router answers on each
/// of its routes, asked of the routers themselves.
pub async fn served_routes(
    groups: Vec<(&'static str, roster::http::Routes)>,
) -> std::collections::BTreeSet<(String, String, String)> {
    const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    let app = TestApp::spawn(StoreKind::Sqlite).await;
    let mut routes = std::collections::BTreeSet::new();
    for (group, group_routes) in groups {
        let paths: Vec<&str> = group_routes.iter().map(|(p, _)| *p).collect();
        let router = roster::http::serve(group_routes, app.state.clone());
        for path in paths {
            let concrete = path.replace(['{', '}', '*'], "");
            for method in METHODS {
                let req = Request::builder()
                    .method(method.clone())
                    .uri(&concrete)
                    .body(Body::empty())
                    .unwrap();
                let res = router.clone().oneshot(req).await.unwrap();
                let status = res.status();
                let body = res.into_body().collect().await.unwrap().to_bytes();
                let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                    || (status == StatusCode::NOT_FOUND && String::from_utf8_lossy(&body).contains("no route for"));
                if !unrouted {
                    routes.insert((group.to_string(), method.to_string(), path.to_string()));
                }
            }
        }
    }
    routes
}

static PHONE_SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A valid mainland China mobile number no other test uses (moto is shared by all tests).
pub fn new_phone() -> (String, String) {
    let mut b = [0u8; 4];
    OsRandom.fill(&mut b);
    let seq = PHONE_SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let n = (u32::from_le_bytes(b) % 100_000) * 1000 + seq % 1000;
    let national = format!("139{n:08}");
    let e164 = format!("+86{national}");
    (national, e164)
}

/// An email address no other test uses, with upper-case letters in it (an address is
/// one identity whatever its case; this one's canonical form is its lower case).
pub fn new_email() -> (String, String) {
    let mut b = [0u8; 8];
    OsRandom.fill(&mut b);
    let seq = PHONE_SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let local = format!("Ann.{}{seq}", hex::encode(b));
    let given = format!("{local}@Example.COM");
    let canonical = given.to_lowercase();
    (given, canonical)
}

pub fn phone_body(national: &str) -> Value {
    serde_json::json!({ "region": 86, "phone": national.parse::<u64>().unwrap() })
}
