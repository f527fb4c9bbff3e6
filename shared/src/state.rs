//! The application state: every adapter the configuration names, built once per
//! process. It imports no endpoint group; the groups and the servers import it.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;

use crate::adapters::by_channel::ByChannel;
use crate::adapters::local_outbox::LocalOutbox;
use crate::adapters::local_uploads::LocalUploads;
use crate::config::{CaptchaSetting, Config, ConfigError, EmailSetting, SmsSetting, StoreSetting, UploadSetting};
use crate::crypto::HmacKey;
use crate::ports::{ChallengeVerifier, Clock, MessageSender, OsRandom, Random, Store, SystemClock, UploadSigner};

/// The adapters only local mode has, for its `/_local` routes.
#[derive(Clone)]
pub struct LocalAdapters {
    pub outbox: Arc<LocalOutbox>,
    pub uploads: Arc<LocalUploads>,
}

pub struct Services {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub messages: Arc<dyn MessageSender>,
    pub uploads: Arc<dyn UploadSigner>,
    /// The hosted captcha's verifier, when one is configured.
    pub challenge: Option<Arc<dyn ChallengeVerifier>>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    /// Keys code, captcha and local-upload HMACs.
    pub code_key: HmacKey,
    /// Signs and verifies access and IM tokens.
    pub tokens: Arc<crate::auth::TokenKeys>,
    pub local: Option<LocalAdapters>,
}

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the store: {0}")]
    Store(#[from] crate::ports::StoreError),
    #[error("data folder {path}: {message}")]
    DataDir { path: String, message: String },
}

fn data_dir_error(path: &Path, e: impl std::fmt::Display) -> StartError {
    StartError::DataDir {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A local-mode secret, created once and shared by every process using the data folder.
fn local_secret(dir: &Path, name: &str) -> Result<Vec<u8>, StartError> {
    let path = dir.join(format!("{name}.b64"));
    let decode = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .filter(|b| b.len() >= 32)
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode(&text)
            .ok_or_else(|| data_dir_error(&path, "is not a valid secret; delete it to mint a new one"));
    }
    let mut bytes = [0u8; 32];
    OsRandom.fill(&mut bytes);
    let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, base64::engine::general_purpose::STANDARD.encode(bytes))
        .map_err(|e| data_dir_error(&tmp, e))?;
    // Linking never replaces an existing file: of two racing processes, one secret wins.
    let _ = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    let text = std::fs::read_to_string(&path).map_err(|e| data_dir_error(&path, e))?;
    decode(&text).ok_or_else(|| data_dir_error(&path, "is not a valid secret"))
}

/// The embedded store in the data folder. Lambda functions are built without it (the
/// `sqlite` feature): a deployed function only ever talks to DynamoDB.
#[cfg(feature = "sqlite")]
fn embedded_store(config: &Config, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, StartError> {
    Ok(Arc::new(crate::adapters::sqlite_store::SqliteStore::open_with(
        &config.data_dir.join("roster.db"),
        clock,
        config.sqlite_durability,
    )?))
}

#[cfg(not(feature = "sqlite"))]
fn embedded_store(_config: &Config, _clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, StartError> {
    Err(StartError::Config(crate::config::ConfigError {
        var: "ROSTER_STORE",
        message: "is sqlite, but this binary is built without the embedded store (the sqlite feature)".into(),
    }))
}

impl AppState {
    /// Builds every adapter the configuration names. No network I/O happens here: AWS
    /// clients resolve credentials on their first call.
    pub async fn from_config(config: Config) -> Result<AppState, StartError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // A deployed function (every adapter on AWS, secrets given) never touches the disk.
        let needs_dir = config.store == StoreSetting::Sqlite
            || config.sms == SmsSetting::Outbox
            || config.email == EmailSetting::Outbox
            || config.uploads == UploadSetting::Local
            || config.code_secret.is_none()
            || config.signing_key.is_none();
        if needs_dir {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| data_dir_error(&config.data_dir, e))?;
        }
        let secret = match &config.code_secret {
            Some(s) => s.clone(),
            None => local_secret(&config.data_dir, "local-secret")?,
        };
        let signing_seed: [u8; 32] = match &config.signing_key {
            Some(seed) => *seed,
            None => local_secret(&config.data_dir, "local-signing-key")?
                .get(..32)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| data_dir_error(&config.data_dir, "local-signing-key.b64 is too short"))?,
        };
        let store: Arc<dyn Store> = match &config.store {
            StoreSetting::Sqlite => embedded_store(&config, clock.clone())?,
            StoreSetting::DynamoDb { table } => aws::dynamodb(table, clock.clone()).await?,
        };
        let secrets = Secrets {
            code_secret: &secret,
            signing_seed: &signing_seed,
        };
        let local = LocalAdapters::in_folder(&config.data_dir, &config.public_url, &secrets, clock.clone())?;
        let sms: Arc<dyn MessageSender> = match &config.sms {
            SmsSetting::Outbox => local.outbox.clone(),
            SmsSetting::Sns { sender_id } => aws::sns(sender_id.clone()).await,
        };
        let email: Arc<dyn MessageSender> = match &config.email {
            EmailSetting::Outbox => local.outbox.clone(),
            EmailSetting::Ses {
                from,
                configuration_set,
            } => aws::ses(from, configuration_set.clone(), &config.product_name).await,
        };
        let messages: Arc<dyn MessageSender> = Arc::new(ByChannel { sms, email });
        let uploads: Arc<dyn UploadSigner> = match &config.uploads {
            UploadSetting::Local => local.uploads.clone(),
            UploadSetting::S3 { bucket } => aws::s3(bucket).await,
        };
        let local = (!config.production).then_some(local);
        let challenge = match &config.captcha {
            CaptchaSetting::Builtin => None,
            CaptchaSetting::Hosted { verify_url, secret } => Some(aws::site_verify(verify_url, secret)?),
        };
        let adapters = Adapters {
            store,
            messages,
            uploads,
            challenge,
            clock,
            random: Arc::new(OsRandom),
            local,
        };
        Ok(AppState::new(Services::assemble(config, adapters, &secrets)?))
    }
}

/// The secrets the services derive their keys from.
pub struct Secrets<'a> {
    /// HMAC key material for codes, captchas and local upload URLs (32+ bytes).
    pub code_secret: &'a [u8],
    /// Ed25519 seed signing access and IM tokens.
    pub signing_seed: &'a [u8; 32],
}

/// The adapters behind the ports, as chosen by the configuration (or by a test).
pub struct Adapters {
    pub store: Arc<dyn Store>,
    pub messages: Arc<dyn MessageSender>,
    pub uploads: Arc<dyn UploadSigner>,
    pub challenge: Option<Arc<dyn ChallengeVerifier>>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub local: Option<LocalAdapters>,
}

impl LocalAdapters {
    /// The outbox and upload folder of a local data folder.
    pub fn in_folder(
        dir: &Path,
        public_url: &str,
        secrets: &Secrets<'_>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let code_key = code_key(secrets)?;
        Ok(LocalAdapters {
            outbox: Arc::new(LocalOutbox::new(dir, clock.clone())),
            uploads: Arc::new(LocalUploads::new(dir, public_url.to_string(), code_key, clock)),
        })
    }
}

fn code_key(secrets: &Secrets<'_>) -> Result<HmacKey, StartError> {
    HmacKey::new(secrets.code_secret).map_err(|m| {
        StartError::Config(ConfigError {
            var: "ROSTER_CODE_SECRET",
            message: m,
        })
    })
}

impl Services {
    /// The one place services are put together, by `from_config` and by the tests.
    pub fn assemble(config: Config, adapters: Adapters, secrets: &Secrets<'_>) -> Result<Services, StartError> {
        let tokens = crate::auth::TokenKeys::from_seeds(secrets.signing_seed, config.signing_key_previous.as_ref())
            .map_err(|m| {
                StartError::Config(ConfigError {
                    var: "ROSTER_SIGNING_KEY",
                    message: m,
                })
            })?;
        Ok(Services {
            config,
            store: adapters.store,
            messages: adapters.messages,
            uploads: adapters.uploads,
            challenge: adapters.challenge,
            clock: adapters.clock,
            random: adapters.random,
            code_key: code_key(secrets)?,
            tokens: Arc::new(tokens),
            local: adapters.local,
        })
    }
}

/// The AWS adapters, each present only when its feature is built in: a Lambda binary
/// links just the SDKs its routes use. A missing store is an error; a missing sender or
/// signer is a stand-in that the function's routes never reach.
mod aws {
    use std::sync::Arc;

    #[allow(unused_imports)]
    use super::{ConfigError, StartError};
    #[allow(unused_imports)]
    use crate::adapters::unavailable::NotInThisFunction;
    use crate::ports::{Clock, MessageSender, Store, UploadSigner};

    /// One SDK configuration per process, built on first need (no network I/O). A
    /// function's credentials and region are in its environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), so it reads them there
    /// instead of `aws_config::defaults`, whose provider chain (profiles, SSO, STS web
    /// identity, IMDS, ECS) a Lambda never uses and whose code was a tenth of each zip.
    /// `AWS_ENDPOINT_URL` still points every client elsewhere (DynamoDB Local, say).
    #[cfg(any(feature = "dynamodb", feature = "sns", feature = "ses", feature = "s3"))]
    async fn sdk() -> &'static aws_config::SdkConfig {
        static SDK: std::sync::OnceLock<aws_config::SdkConfig> = std::sync::OnceLock::new();
        SDK.get_or_init(|| {
            // A hung call answers 503 long before the function's 10 s timeout kills it.
            let timeouts = aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_secs(2))
                .operation_timeout(std::time::Duration::from_secs(5))
                .build();
            let region = std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|_| "us-east-1".into());
            let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
            let mut config = aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region))
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
                    credentials,
                ))
                .http_client(crate::adapters::aws_http::client())
                .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
                .time_source(aws_smithy_async::time::SystemTimeSource::new())
                .timeout_config(timeouts);
            if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
                config = config.endpoint_url(url);
            }
            config.build()
        })
    }

    #[cfg(feature = "dynamodb")]
    pub async fn dynamodb(table: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, StartError> {
        let client = aws_sdk_dynamodb::Client::new(sdk().await);
        Ok(Arc::new(crate::adapters::dynamodb_store::DynamoStore::new(
            client, table, clock,
        )))
    }

    #[cfg(not(feature = "dynamodb"))]
    pub async fn dynamodb(_table: &str, _clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, StartError> {
        Err(StartError::Config(ConfigError {
            var: "ROSTER_STORE",
            message: "is dynamodb, but this binary is built without the dynamodb feature".into(),
        }))
    }

    #[cfg(feature = "sns")]
    pub async fn sns(sender_id: Option<String>) -> Arc<dyn MessageSender> {
        Arc::new(crate::adapters::sns_sender::SnsSender::new(
            aws_sdk_sns::Client::new(sdk().await),
            sender_id,
        ))
    }

    #[cfg(not(feature = "sns"))]
    pub async fn sns(_sender_id: Option<String>) -> Arc<dyn MessageSender> {
        Arc::new(NotInThisFunction)
    }

    #[cfg(feature = "ses")]
    pub async fn ses(from: &str, configuration_set: Option<String>, product: &str) -> Arc<dyn MessageSender> {
        Arc::new(crate::adapters::ses_sender::SesSender::new(
            aws_sdk_sesv2::Client::new(sdk().await),
            from.to_string(),
            configuration_set,
            format!("Your {product} verification code"),
        ))
    }

    #[cfg(not(feature = "ses"))]
    pub async fn ses(_from: &str, _configuration_set: Option<String>, _product: &str) -> Arc<dyn MessageSender> {
        Arc::new(NotInThisFunction)
    }

    #[cfg(feature = "s3")]
    pub async fn s3(bucket: &str) -> Arc<dyn UploadSigner> {
        let conf = aws_sdk_s3::config::Builder::from(sdk().await)
            // Emulators (moto) serve buckets by path, not by host name.
            .force_path_style(std::env::var("ROSTER_S3_PATH_STYLE").is_ok_and(|v| v == "true"))
            .build();
        Arc::new(crate::adapters::s3_uploads::S3Uploads::new(
            aws_sdk_s3::Client::from_conf(conf),
            bucket,
        ))
    }

    #[cfg(not(feature = "s3"))]
    pub async fn s3(_bucket: &str) -> Arc<dyn UploadSigner> {
        Arc::new(NotInThisFunction)
    }

    #[cfg(feature = "hosted-captcha")]
    pub fn site_verify(url: &str, secret: &str) -> Result<Arc<dyn crate::ports::ChallengeVerifier>, StartError> {
        crate::adapters::site_verify::SiteVerify::new(url, secret)
            .map(|v| Arc::new(v) as Arc<dyn crate::ports::ChallengeVerifier>)
            .map_err(|message| {
                StartError::Config(ConfigError {
                    var: "ROSTER_CAPTCHA_VERIFY_URL",
                    message,
                })
            })
    }

    #[cfg(not(feature = "hosted-captcha"))]
    pub fn site_verify(_url: &str, _secret: &str) -> Result<Arc<dyn crate::ports::ChallengeVerifier>, StartError> {
        Err(StartError::Config(ConfigError {
            var: "ROSTER_CAPTCHA",
            message: "names a hosted captcha, but this binary is built without the hosted-captcha feature".into(),
        }))
    }
}
