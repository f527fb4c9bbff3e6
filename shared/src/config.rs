//! Settings from the environment. A missing or invalid setting stops start-up with a
//! message naming the variable.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {var} {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StoreSetting {
    /// The embedded SQLite file `roster.db` in the data folder.
    Sqlite,
    DynamoDb {
        table: String,
    },
}

/// What an acknowledged write to the embedded store survives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// A power loss: the write-ahead log is synced at every commit (the default).
    #[default]
    Full,
    /// A crash of the process, not of the machine: faster, for throwaway data.
    Normal,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SmsSetting {
    Outbox,
    Sns { sender_id: Option<String> },
}

/// Where email codes go: the local outbox, or SES v2 from a verified sender.
#[derive(Clone, Debug, PartialEq)]
pub enum EmailSetting {
    Outbox,
    Ses {
        from: String,
        configuration_set: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum UploadSetting {
    Local,
    S3 { bucket: String },
}

/// Who checks the captcha `send_code` asks for past the per-network threshold.
#[derive(Clone, Debug, PartialEq)]
pub enum CaptchaSetting {
    /// The built-in image from `/user/get_sms_img_code` only.
    Builtin,
    /// A hosted challenge (Turnstile or hCaptcha) too: the client sends the widget's
    /// token as `captchaToken`, verified at `verify_url`.
    Hosted { verify_url: String, secret: String },
}

/// Which country calling codes may receive SMS.
#[derive(Clone, Debug, PartialEq)]
pub enum RegionAllowList {
    All,
    Only(BTreeSet<u16>),
}

impl RegionAllowList {
    pub fn allows(&self, code: u16) -> bool {
        match self {
            RegionAllowList::All => true,
            RegionAllowList::Only(set) => set.contains(&code),
        }
    }
}

/// Security limits; DESIGN.md's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub code_ttl_secs: i64,
    pub code_max_tries: i64,
    pub verification_token_ttl_secs: i64,
    pub sms_gap_secs: i64,
    pub sms_per_phone_hour: i64,
    pub sms_per_phone_day: i64,
    pub sms_per_ip_hour: i64,
    pub sms_captcha_after_per_ip_hour: i64,
    pub sms_global_day: i64,
    pub captcha_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub im_token_ttl_secs: i64,
    /// Idle lifetime of a session (cookie or refresh token).
    pub session_ttl_secs: i64,
    pub login_failures_before_backoff: i64,
    pub login_backoff_max_secs: i64,
    /// Failed password checks one client network (IPv4 address or IPv6 /64) may make in
    /// an hour, across all accounts: far above what a household behind one NAT mistypes.
    pub password_failures_per_ip_hour: i64,
    /// Directory look-ups (find by phone or SealTalk id) per user and per network an hour.
    pub lookups_per_user_hour: i64,
    pub lookups_per_ip_hour: i64,
    /// `verify_account` checks per network an hour: past the first, a captcha; past the
    /// second, none at all.
    pub account_checks_captcha_after_per_ip_hour: i64,
    pub account_checks_per_ip_hour: i64,
    /// The level a new user starts at, and the level a viewer needs to read others'
    /// profiles by id.
    pub default_level: i64,
    /// Phone number changes an account may make in any 30 days.
    pub phone_changes_per_30_days: i64,
    /// Members of one group.
    pub max_group_members: i64,
    /// Groups one user is a member of.
    pub max_groups: i64,
    pub min_viewer_level: i64,
    /// The largest avatar an upload token admits, in bytes.
    pub avatar_max_bytes: i64,
    /// The largest avatar `upload_avatar` accepts in its own body, in bytes.
    pub avatar_direct_max_bytes: i64,
    /// Friends per user, friend requests waiting for one user's answer, users one blocks.
    pub max_friends: i64,
    pub max_pending_requests: i64,
    pub max_blocked: i64,
    /// Follows per user, and follow groups per user (`default` and `special` included).
    pub max_follows: i64,
    pub max_follow_groups: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            code_ttl_secs: 600,
            code_max_tries: 5,
            verification_token_ttl_secs: 1800,
            sms_gap_secs: 60,
            sms_per_phone_hour: 5,
            sms_per_phone_day: 10,
            sms_per_ip_hour: 20,
            sms_captcha_after_per_ip_hour: 10,
            sms_global_day: 10_000,
            captcha_ttl_secs: 300,
            access_token_ttl_secs: 900,
            im_token_ttl_secs: 900,
            session_ttl_secs: 30 * 86_400,
            login_failures_before_backoff: 5,
            login_backoff_max_secs: 900,
            password_failures_per_ip_hour: 100,
            lookups_per_user_hour: 100,
            lookups_per_ip_hour: 300,
            account_checks_captcha_after_per_ip_hour: 20,
            account_checks_per_ip_hour: 100,
            default_level: 0,
            phone_changes_per_30_days: 3,
            max_group_members: 500,
            max_groups: 500,
            min_viewer_level: 0,
            avatar_max_bytes: 5 * 1024 * 1024,
            avatar_direct_max_bytes: 1024 * 1024,
            max_friends: 3000,
            max_pending_requests: 100,
            max_blocked: 1000,
            max_follows: 5000,
            max_follow_groups: 32,
        }
    }
}

/// Calling codes served by default: mainland China, Hong Kong, Macau, Taiwan, North
/// America, the UK, Germany, France, Japan, South Korea, Singapore, Australia.
pub const DEFAULT_SMS_REGIONS: &str = "86,852,853,886,1,44,49,33,81,82,65,61";

#[derive(Clone, Debug)]
pub struct Config {
    pub store: StoreSetting,
    pub sms: SmsSetting,
    pub email: EmailSetting,
    pub uploads: UploadSetting,
    pub data_dir: PathBuf,
    /// None: local mode generates one and keeps it in the data folder.
    pub code_secret: Option<Vec<u8>>,
    /// Ed25519 seed signing access and IM tokens. None: local mode mints one.
    pub signing_key: Option<[u8; 32]>,
    /// The key before the last rotation: still verifies, and is still published.
    pub signing_key_previous: Option<[u8; 32]>,
    /// Numbers with fixed codes and no SMS (app-store review, automated tests).
    pub test_numbers: std::collections::HashMap<String, String>,
    pub production: bool,
    pub product_name: String,
    pub sms_regions: RegionAllowList,
    pub captcha: CaptchaSetting,
    /// Web origins (scheme://host[:port]) whose pages may call the API with credentials.
    pub cors_origins: Vec<String>,
    /// What an acknowledged write to the embedded store survives.
    pub sqlite_durability: Durability,
    /// Base URL of the local server, for local upload URLs.
    pub public_url: String,
    /// Public base URL avatars are served from (the CloudFront domain on AWS); locally the
    /// local upload routes.
    pub avatar_base_url: Option<String>,
    pub limits: Limits,
}

impl Config {
    /// Where avatars are served from: the configured base URL, or the local upload routes.
    pub fn avatar_domain(&self) -> String {
        match &self.avatar_base_url {
            Some(url) => url.clone(),
            None => format!("{}/_local/uploads", self.public_url.trim_end_matches('/')),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let production = parse_bool(&get, "ROSTER_PRODUCTION")?.unwrap_or(false);
        let store = match get("ROSTER_STORE").as_deref() {
            None | Some("sqlite") => StoreSetting::Sqlite,
            Some("dynamodb") => StoreSetting::DynamoDb {
                table: get("ROSTER_TABLE")
                    .ok_or_else(|| err("ROSTER_TABLE", "is required when ROSTER_STORE=dynamodb"))?,
            },
            Some(other) => {
                return Err(err(
                    "ROSTER_STORE",
                    format!("must be sqlite or dynamodb, not {other:?}"),
                ))
            }
        };
        let sms = match get("ROSTER_SMS").as_deref() {
            None | Some("outbox") => SmsSetting::Outbox,
            Some("sns") => SmsSetting::Sns {
                sender_id: get("ROSTER_SMS_SENDER_ID"),
            },
            Some(other) => return Err(err("ROSTER_SMS", format!("must be outbox or sns, not {other:?}"))),
        };
        let email = match get("ROSTER_EMAIL").as_deref() {
            None | Some("outbox") => EmailSetting::Outbox,
            Some("ses") => {
                let from = get("ROSTER_EMAIL_FROM")
                    .ok_or_else(|| err("ROSTER_EMAIL_FROM", "is required when ROSTER_EMAIL=ses"))?;
                crate::domain::EmailAddress::parse("ROSTER_EMAIL_FROM", &from)
                    .map_err(|e| err("ROSTER_EMAIL_FROM", e.message))?;
                EmailSetting::Ses {
                    from,
                    configuration_set: get("ROSTER_EMAIL_CONFIGURATION_SET"),
                }
            }
            Some(other) => return Err(err("ROSTER_EMAIL", format!("must be outbox or ses, not {other:?}"))),
        };
        let uploads = match get("ROSTER_UPLOADS").as_deref() {
            None | Some("local") => UploadSetting::Local,
            Some("s3") => UploadSetting::S3 {
                bucket: get("ROSTER_BUCKET")
                    .ok_or_else(|| err("ROSTER_BUCKET", "is required when ROSTER_UPLOADS=s3"))?,
            },
            Some(other) => return Err(err("ROSTER_UPLOADS", format!("must be local or s3, not {other:?}"))),
        };
        let code_secret = match get("ROSTER_CODE_SECRET") {
            Some(v) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .map_err(|_| err("ROSTER_CODE_SECRET", "must be base64"))?;
                if bytes.len() < 32 {
                    return Err(err("ROSTER_CODE_SECRET", "must hold at least 32 bytes"));
                }
                Some(bytes)
            }
            // Only a laptop may mint its own secret; a deployed stack must be given one.
            None if store == StoreSetting::Sqlite && !production => None,
            None => {
                return Err(err(
                    "ROSTER_CODE_SECRET",
                    "is required outside local mode (base64, 32+ bytes)",
                ))
            }
        };
        let local_keys_allowed = store == StoreSetting::Sqlite && !production;
        let signing_key = match get("ROSTER_SIGNING_KEY") {
            Some(v) => Some(parse_seed("ROSTER_SIGNING_KEY", &v)?),
            None if local_keys_allowed => None,
            None => {
                return Err(err(
                    "ROSTER_SIGNING_KEY",
                    "is required outside local mode (base64 of a 32-byte Ed25519 seed)",
                ))
            }
        };
        let signing_key_previous = get("ROSTER_SIGNING_KEY_PREVIOUS")
            .map(|v| parse_seed("ROSTER_SIGNING_KEY_PREVIOUS", &v))
            .transpose()?;
        let test_numbers = parse_test_numbers(get("ROSTER_TEST_NUMBERS").as_deref().unwrap_or(""))?;
        if production && !test_numbers.is_empty() {
            return Err(err(
                "ROSTER_TEST_NUMBERS",
                "must be empty when ROSTER_PRODUCTION is true",
            ));
        }
        if production
            && (store == StoreSetting::Sqlite
                || sms == SmsSetting::Outbox
                || email == EmailSetting::Outbox
                || uploads == UploadSetting::Local)
        {
            return Err(err(
                "ROSTER_PRODUCTION",
                "is true, so ROSTER_STORE=dynamodb, ROSTER_SMS=sns, ROSTER_EMAIL=ses and ROSTER_UPLOADS=s3 are required",
            ));
        }
        if matches!(uploads, UploadSetting::S3 { .. })
            && get("ROSTER_AVATAR_BASE_URL").is_none_or(|u| u.trim().is_empty())
        {
            return Err(err(
                "ROSTER_AVATAR_BASE_URL",
                "is required with ROSTER_UPLOADS=s3: the public base URL avatars are served from",
            ));
        }
        let sms_regions = parse_regions(get("ROSTER_SMS_REGIONS").as_deref().unwrap_or(DEFAULT_SMS_REGIONS))?;
        let d = Limits::default();
        let limits = Limits {
            code_ttl_secs: parse_num(&get, "ROSTER_CODE_TTL_SECS", d.code_ttl_secs)?,
            code_max_tries: parse_num(&get, "ROSTER_CODE_MAX_TRIES", d.code_max_tries)?,
            verification_token_ttl_secs: parse_num(
                &get,
                "ROSTER_VERIFICATION_TOKEN_TTL_SECS",
                d.verification_token_ttl_secs,
            )?,
            // 0 (no gap) is for test setups; a deployed stack always spaces its SMS.
            sms_gap_secs: parse_num_from(&get, "ROSTER_SMS_GAP_SECS", d.sms_gap_secs, i64::from(production))?,
            sms_per_phone_hour: parse_num(&get, "ROSTER_SMS_PER_PHONE_HOUR", d.sms_per_phone_hour)?,
            sms_per_phone_day: parse_num(&get, "ROSTER_SMS_PER_PHONE_DAY", d.sms_per_phone_day)?,
            sms_per_ip_hour: parse_num(&get, "ROSTER_SMS_PER_IP_HOUR", d.sms_per_ip_hour)?,
            sms_captcha_after_per_ip_hour: parse_num(
                &get,
                "ROSTER_SMS_CAPTCHA_AFTER_PER_IP_HOUR",
                d.sms_captcha_after_per_ip_hour,
            )?,
            sms_global_day: parse_num(&get, "ROSTER_SMS_GLOBAL_DAY", d.sms_global_day)?,
            captcha_ttl_secs: parse_num(&get, "ROSTER_CAPTCHA_TTL_SECS", d.captcha_ttl_secs)?,
            access_token_ttl_secs: parse_num(&get, "ROSTER_ACCESS_TOKEN_TTL_SECS", d.access_token_ttl_secs)?,
            im_token_ttl_secs: parse_num(&get, "ROSTER_IM_TOKEN_TTL_SECS", d.im_token_ttl_secs)?,
            session_ttl_secs: parse_num(&get, "ROSTER_SESSION_TTL_SECS", d.session_ttl_secs)?,
            login_failures_before_backoff: parse_num(
                &get,
                "ROSTER_LOGIN_FAILURES_BEFORE_BACKOFF",
                d.login_failures_before_backoff,
            )?,
            login_backoff_max_secs: parse_num(&get, "ROSTER_LOGIN_BACKOFF_MAX_SECS", d.login_backoff_max_secs)?,
            password_failures_per_ip_hour: parse_num(
                &get,
                "ROSTER_PASSWORD_FAILURES_PER_IP_HOUR",
                d.password_failures_per_ip_hour,
            )?,
            lookups_per_user_hour: parse_num(&get, "ROSTER_LOOKUPS_PER_USER_HOUR", d.lookups_per_user_hour)?,
            lookups_per_ip_hour: parse_num(&get, "ROSTER_LOOKUPS_PER_IP_HOUR", d.lookups_per_ip_hour)?,
            account_checks_captcha_after_per_ip_hour: parse_num(
                &get,
                "ROSTER_ACCOUNT_CHECKS_CAPTCHA_AFTER_PER_IP_HOUR",
                d.account_checks_captcha_after_per_ip_hour,
            )?,
            account_checks_per_ip_hour: parse_num(
                &get,
                "ROSTER_ACCOUNT_CHECKS_PER_IP_HOUR",
                d.account_checks_per_ip_hour,
            )?,
            default_level: parse_num_from(&get, "ROSTER_DEFAULT_LEVEL", d.default_level, 0)?,
            phone_changes_per_30_days: parse_num(
                &get,
                "ROSTER_PHONE_CHANGES_PER_30_DAYS",
                d.phone_changes_per_30_days,
            )?,
            max_group_members: parse_num(&get, "ROSTER_MAX_GROUP_MEMBERS", d.max_group_members)?,
            max_groups: parse_num(&get, "ROSTER_MAX_GROUPS", d.max_groups)?,
            min_viewer_level: parse_num_from(&get, "ROSTER_MIN_VIEWER_LEVEL", d.min_viewer_level, 0)?,
            avatar_max_bytes: parse_num(&get, "ROSTER_AVATAR_MAX_BYTES", d.avatar_max_bytes)?,
            avatar_direct_max_bytes: parse_num(&get, "ROSTER_AVATAR_DIRECT_MAX_BYTES", d.avatar_direct_max_bytes)?,
            max_friends: parse_num(&get, "ROSTER_MAX_FRIENDS", d.max_friends)?,
            max_pending_requests: parse_num(&get, "ROSTER_MAX_PENDING_REQUESTS", d.max_pending_requests)?,
            max_blocked: parse_num(&get, "ROSTER_MAX_BLOCKED", d.max_blocked)?,
            max_follows: parse_num(&get, "ROSTER_MAX_FOLLOWS", d.max_follows)?,
            max_follow_groups: parse_num(&get, "ROSTER_MAX_FOLLOW_GROUPS", d.max_follow_groups)?,
        };
        Ok(Config {
            store,
            sms,
            email,
            uploads,
            data_dir: PathBuf::from(get("ROSTER_DATA_DIR").unwrap_or_else(|| ".roster-data".into())),
            code_secret,
            signing_key,
            signing_key_previous,
            test_numbers,
            production,
            product_name: get("ROSTER_PRODUCT_NAME").unwrap_or_else(|| "Roster".into()),
            sms_regions,
            captcha: parse_captcha(&get, production)?,
            cors_origins: parse_origins(get("ROSTER_CORS_ORIGINS").as_deref().unwrap_or(""))?,
            sqlite_durability: match get("ROSTER_SQLITE_DURABILITY").as_deref().map(str::trim) {
                None | Some("full") => Durability::Full,
                Some("normal") => Durability::Normal,
                Some(other) => {
                    return Err(err(
                        "ROSTER_SQLITE_DURABILITY",
                        format!("must be full or normal, not {other:?}"),
                    ))
                }
            },
            avatar_base_url: get("ROSTER_AVATAR_BASE_URL").map(|u| u.trim().trim_end_matches('/').to_string()),
            public_url: get("ROSTER_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:7700".into()),
            limits,
        })
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<Option<bool>, ConfigError> {
    match get(var).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(err(var, format!("must be true or false, not {other:?}"))),
    }
}

/// `ROSTER_CAPTCHA` = `builtin` (default), `turnstile` or `hcaptcha`; a hosted one needs
/// `ROSTER_CAPTCHA_SECRET`, and `ROSTER_CAPTCHA_VERIFY_URL` may point elsewhere (a local
/// stand-in; HTTPS only in production).
fn parse_captcha(get: &impl Fn(&str) -> Option<String>, production: bool) -> Result<CaptchaSetting, ConfigError> {
    let default_url = match get("ROSTER_CAPTCHA").as_deref().map(str::trim) {
        None | Some("" | "builtin") => return Ok(CaptchaSetting::Builtin),
        Some("turnstile") => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        Some("hcaptcha") => "https://api.hcaptcha.com/siteverify",
        Some(other) => {
            return Err(err(
                "ROSTER_CAPTCHA",
                format!("must be builtin, turnstile or hcaptcha, not {other:?}"),
            ))
        }
    };
    let secret = get("ROSTER_CAPTCHA_SECRET")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| err("ROSTER_CAPTCHA_SECRET", "is required with a hosted captcha"))?;
    let verify_url = get("ROSTER_CAPTCHA_VERIFY_URL").unwrap_or_else(|| default_url.to_string());
    if production && !verify_url.starts_with("https://") {
        return Err(err("ROSTER_CAPTCHA_VERIFY_URL", "must be an https URL in production"));
    }
    if !verify_url.starts_with("https://") && !verify_url.starts_with("http://") {
        return Err(err("ROSTER_CAPTCHA_VERIFY_URL", "must be an http(s) URL"));
    }
    Ok(CaptchaSetting::Hosted { verify_url, secret })
}

/// `https://web.example.com,http://localhost:3000`: exact origins, no wildcard (the API
/// answers with credentials, which browsers refuse for `*`).
fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    const VAR: &str = "ROSTER_CORS_ORIGINS";
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
                .ok_or_else(|| err(VAR, format!("{o:?} is not an origin such as https://web.example.com")))?;
            if rest.is_empty() || rest.contains(['/', '*', ' ', '?', '#']) {
                return Err(err(
                    VAR,
                    format!("{o:?} is not an origin such as https://web.example.com"),
                ));
            }
            Ok(o.to_ascii_lowercase())
        })
        .collect()
}

fn parse_num(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: i64) -> Result<i64, ConfigError> {
    parse_num_from(get, var, default, 1)
}

/// An integer of at least `min`.
fn parse_num_from(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: i64,
    min: i64,
) -> Result<i64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.trim().parse::<i64>().ok().filter(|n| *n >= min).ok_or_else(|| {
            let what = if min == 0 {
                "a non-negative integer"
            } else {
                "a positive integer"
            };
            err(var, format!("must be {what}, not {v:?}"))
        }),
    }
}

fn parse_seed(var: &'static str, raw: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|_| err(var, "must be base64"))?;
    bytes
        .try_into()
        .map_err(|_| err(var, "must hold exactly 32 bytes (an Ed25519 seed)"))
}

/// `+12015550100=123456,+12015550101=654321`
fn parse_test_numbers(raw: &str) -> Result<std::collections::HashMap<String, String>, ConfigError> {
    const VAR: &str = "ROSTER_TEST_NUMBERS";
    let mut map = std::collections::HashMap::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (phone, code) = entry
            .split_once('=')
            .ok_or_else(|| err(VAR, format!("entry {entry:?} must be <E.164 phone>=<6 digits>")))?;
        let phone = crate::domain::PhoneNumber::parse_e164(VAR, phone)
            .map_err(|e| err(VAR, format!("entry {entry:?}: {}", e.message)))?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(VAR, format!("entry {entry:?}: the code must be 6 digits")));
        }
        map.insert(phone.e164().to_string(), code.to_string());
    }
    Ok(map)
}

fn parse_regions(raw: &str) -> Result<RegionAllowList, ConfigError> {
    if raw.trim() == "*" {
        return Ok(RegionAllowList::All);
    }
    let mut set = BTreeSet::new();
    // Checked against the compiled-in region table, not the phone-number metadata: loading
    // that costs tens of milliseconds that a cold start should not pay before a request.
    let known: BTreeSet<&str> = crate::domain::regions::all()
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let digits = part.trim_start_matches('+');
        let code: u16 = digits.parse().ok().filter(|_| known.contains(digits)).ok_or_else(|| {
            err(
                "ROSTER_SMS_REGIONS",
                format!("holds {part:?}, which is not a country calling code"),
            )
        })?;
        set.insert(code);
    }
    Ok(RegionAllowList::Only(set))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    /// A complete production configuration, plus `extra`.
    fn production_cfg(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let mut vars = vec![
            ("ROSTER_PRODUCTION", "true"),
            ("ROSTER_STORE", "dynamodb"),
            ("ROSTER_TABLE", "t"),
            ("ROSTER_SMS", "sns"),
            ("ROSTER_EMAIL", "ses"),
            ("ROSTER_EMAIL_FROM", "no-reply@example.com"),
            ("ROSTER_UPLOADS", "s3"),
            ("ROSTER_BUCKET", "b"),
            ("ROSTER_AVATAR_BASE_URL", "https://d111111abcdef8.cloudfront.net"),
            ("ROSTER_AVATAR_BASE_URL", "https://d111111abcdef8.cloudfront.net"),
            ("ROSTER_CODE_SECRET", key.as_str()),
            ("ROSTER_SIGNING_KEY", key.as_str()),
        ];
        vars.extend_from_slice(extra);
        cfg(&vars)
    }

    #[test]
    fn local_mode_needs_no_settings() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.store, StoreSetting::Sqlite);
        assert!(c.code_secret.is_none());
        assert_eq!(c.sqlite_durability, Durability::Full);
        let normal = cfg(&[("ROSTER_SQLITE_DURABILITY", "normal")]).unwrap();
        assert_eq!(normal.sqlite_durability, Durability::Normal);
        assert_eq!(
            cfg(&[("ROSTER_SQLITE_DURABILITY", "fast")]).unwrap_err().var,
            "ROSTER_SQLITE_DURABILITY"
        );
    }

    #[test]
    fn a_deployed_store_without_a_secret_refuses_to_start() {
        let e = cfg(&[("ROSTER_STORE", "dynamodb"), ("ROSTER_TABLE", "t")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_CODE_SECRET");
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(cfg(&[("ROSTER_STORE", "mysql")]).unwrap_err().var, "ROSTER_STORE");
        assert_eq!(cfg(&[("ROSTER_STORE", "dynamodb")]).unwrap_err().var, "ROSTER_TABLE");
        assert_eq!(
            cfg(&[("ROSTER_SMS_PER_IP_HOUR", "-3")]).unwrap_err().var,
            "ROSTER_SMS_PER_IP_HOUR"
        );
        assert_eq!(
            cfg(&[("ROSTER_SMS_REGIONS", "86,999")]).unwrap_err().var,
            "ROSTER_SMS_REGIONS"
        );
        assert_eq!(
            cfg(&[("ROSTER_CODE_SECRET", "c2hvcnQ=")]).unwrap_err().var,
            "ROSTER_CODE_SECRET"
        );
        assert_eq!(
            cfg(&[("ROSTER_PRODUCTION", "yes")]).unwrap_err().var,
            "ROSTER_PRODUCTION"
        );
    }

    #[test]
    fn a_deployed_store_without_a_signing_key_refuses_to_start() {
        let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let e = cfg(&[
            ("ROSTER_STORE", "dynamodb"),
            ("ROSTER_TABLE", "t"),
            ("ROSTER_CODE_SECRET", &secret),
        ])
        .unwrap_err();
        assert_eq!(e.var, "ROSTER_SIGNING_KEY");
    }

    #[test]
    fn test_numbers_are_parsed_and_refused_in_production() {
        let c = cfg(&[("ROSTER_TEST_NUMBERS", "+12015550100=123456")]).unwrap();
        assert_eq!(c.test_numbers.get("+12015550100").map(String::as_str), Some("123456"));
        assert!(cfg(&[]).unwrap().test_numbers.is_empty(), "off by default");
        assert_eq!(
            cfg(&[("ROSTER_TEST_NUMBERS", "+12015550100=12")]).unwrap_err().var,
            "ROSTER_TEST_NUMBERS"
        );
        let e = production_cfg(&[("ROSTER_TEST_NUMBERS", "+12015550100=123456")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_TEST_NUMBERS");
    }

    #[test]
    fn no_sms_gap_is_accepted_outside_production_only() {
        assert_eq!(cfg(&[("ROSTER_SMS_GAP_SECS", "0")]).unwrap().limits.sms_gap_secs, 0);
        assert_eq!(
            cfg(&[("ROSTER_SMS_GAP_SECS", "-1")]).unwrap_err().var,
            "ROSTER_SMS_GAP_SECS"
        );
        let e = production_cfg(&[("ROSTER_SMS_GAP_SECS", "0")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_SMS_GAP_SECS");
    }

    #[test]
    fn a_hosted_captcha_needs_its_secret() {
        assert_eq!(cfg(&[]).unwrap().captcha, CaptchaSetting::Builtin);
        assert_eq!(
            cfg(&[("ROSTER_CAPTCHA", "turnstile")]).unwrap_err().var,
            "ROSTER_CAPTCHA_SECRET"
        );
        let c = cfg(&[("ROSTER_CAPTCHA", "hcaptcha"), ("ROSTER_CAPTCHA_SECRET", "s3cret")]).unwrap();
        assert_eq!(
            c.captcha,
            CaptchaSetting::Hosted {
                verify_url: "https://api.hcaptcha.com/siteverify".into(),
                secret: "s3cret".into()
            }
        );
        assert_eq!(
            cfg(&[("ROSTER_CAPTCHA", "recaptcha")]).unwrap_err().var,
            "ROSTER_CAPTCHA"
        );
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        let c = cfg(&[("ROSTER_CORS_ORIGINS", "https://web.example.com, http://localhost:3000")]).unwrap();
        assert_eq!(c.cors_origins, vec!["https://web.example.com", "http://localhost:3000"]);
        assert!(cfg(&[]).unwrap().cors_origins.is_empty());
        for bad in [
            "*",
            "web.example.com",
            "https://web.example.com/app",
            "https://*.example.com",
        ] {
            assert_eq!(
                cfg(&[("ROSTER_CORS_ORIGINS", bad)]).unwrap_err().var,
                "ROSTER_CORS_ORIGINS",
                "{bad}"
            );
        }
    }

    #[test]
    fn production_refuses_local_adapters() {
        let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let e = cfg(&[
            ("ROSTER_PRODUCTION", "true"),
            ("ROSTER_CODE_SECRET", &secret),
            ("ROSTER_SIGNING_KEY", &secret),
        ])
        .unwrap_err();
        assert_eq!(e.var, "ROSTER_PRODUCTION");
    }

    #[test]
    fn email_by_ses_needs_a_valid_sender() {
        let e = cfg(&[("ROSTER_EMAIL", "ses")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_EMAIL_FROM");
        let e = cfg(&[("ROSTER_EMAIL", "ses"), ("ROSTER_EMAIL_FROM", "not an address")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_EMAIL_FROM");
        let c = cfg(&[
            ("ROSTER_EMAIL", "ses"),
            ("ROSTER_EMAIL_FROM", "no-reply@example.com"),
            ("ROSTER_EMAIL_CONFIGURATION_SET", "roster"),
        ])
        .unwrap();
        assert_eq!(
            c.email,
            EmailSetting::Ses {
                from: "no-reply@example.com".into(),
                configuration_set: Some("roster".into())
            }
        );
    }

    #[test]
    fn production_refuses_the_email_outbox() {
        let e = production_cfg(&[("ROSTER_EMAIL", "outbox")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_PRODUCTION");
        assert!(production_cfg(&[]).is_ok());
    }
}
