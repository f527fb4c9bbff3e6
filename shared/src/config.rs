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

#[derive(Clone, Debug, PartialEq)]
pub enum SmsSetting {
    Outbox,
    Sns { sender_id: Option<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum UploadSetting {
    Local,
    S3 { bucket: String },
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
    pub uploads: UploadSetting,
    pub data_dir: PathBuf,
    /// None: local mode generates one and keeps it in the data folder.
    pub code_secret: Option<Vec<u8>>,
    pub production: bool,
    pub product_name: String,
    pub sms_regions: RegionAllowList,
    /// Base URL of the local server, for local upload URLs.
    pub public_url: String,
    pub limits: Limits,
}

impl Config {
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
            Some(other) => {
                return Err(err(
                    "ROSTER_SMS",
                    format!("must be outbox or sns, not {other:?}"),
                ))
            }
        };
        let uploads = match get("ROSTER_UPLOADS").as_deref() {
            None | Some("local") => UploadSetting::Local,
            Some("s3") => UploadSetting::S3 {
                bucket: get("ROSTER_BUCKET")
                    .ok_or_else(|| err("ROSTER_BUCKET", "is required when ROSTER_UPLOADS=s3"))?,
            },
            Some(other) => {
                return Err(err(
                    "ROSTER_UPLOADS",
                    format!("must be local or s3, not {other:?}"),
                ))
            }
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
        if production
            && (store == StoreSetting::Sqlite
                || sms == SmsSetting::Outbox
                || uploads == UploadSetting::Local)
        {
            return Err(err("ROSTER_PRODUCTION", "is true, so ROSTER_STORE=dynamodb, ROSTER_SMS=sns and ROSTER_UPLOADS=s3 are required"));
        }
        let sms_regions = parse_regions(
            get("ROSTER_SMS_REGIONS")
                .as_deref()
                .unwrap_or(DEFAULT_SMS_REGIONS),
        )?;
        let d = Limits::default();
        let limits = Limits {
            code_ttl_secs: parse_num(&get, "ROSTER_CODE_TTL_SECS", d.code_ttl_secs)?,
            code_max_tries: parse_num(&get, "ROSTER_CODE_MAX_TRIES", d.code_max_tries)?,
            verification_token_ttl_secs: parse_num(
                &get,
                "ROSTER_VERIFICATION_TOKEN_TTL_SECS",
                d.verification_token_ttl_secs,
            )?,
            sms_gap_secs: parse_num(&get, "ROSTER_SMS_GAP_SECS", d.sms_gap_secs)?,
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
        };
        Ok(Config {
            store,
            sms,
            uploads,
            data_dir: PathBuf::from(
                get("ROSTER_DATA_DIR").unwrap_or_else(|| ".roster-data".into()),
            ),
            code_secret,
            production,
            product_name: get("ROSTER_PRODUCT_NAME").unwrap_or_else(|| "Roster".into()),
            sms_regions,
            public_url: get("ROSTER_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:7700".into()),
            limits,
        })
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<bool>, ConfigError> {
    match get(var).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(err(var, format!("must be true or false, not {other:?}"))),
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: i64,
) -> Result<i64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| err(var, format!("must be a positive integer, not {v:?}"))),
    }
}

fn parse_regions(raw: &str) -> Result<RegionAllowList, ConfigError> {
    if raw.trim() == "*" {
        return Ok(RegionAllowList::All);
    }
    let mut set = BTreeSet::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let code = crate::domain::CallingCode::parse("ROSTER_SMS_REGIONS", part).map_err(|e| {
            err(
                "ROSTER_SMS_REGIONS",
                format!("holds {part:?}: {}", e.message),
            )
        })?;
        set.insert(code.value());
    }
    Ok(RegionAllowList::Only(set))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn local_mode_needs_no_settings() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.store, StoreSetting::Sqlite);
        assert!(c.code_secret.is_none());
    }

    #[test]
    fn a_deployed_store_without_a_secret_refuses_to_start() {
        let e = cfg(&[("ROSTER_STORE", "dynamodb"), ("ROSTER_TABLE", "t")]).unwrap_err();
        assert_eq!(e.var, "ROSTER_CODE_SECRET");
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            cfg(&[("ROSTER_STORE", "mysql")]).unwrap_err().var,
            "ROSTER_STORE"
        );
        assert_eq!(
            cfg(&[("ROSTER_STORE", "dynamodb")]).unwrap_err().var,
            "ROSTER_TABLE"
        );
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
    fn production_refuses_local_adapters() {
        let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let e = cfg(&[
            ("ROSTER_PRODUCTION", "true"),
            ("ROSTER_CODE_SECRET", &secret),
        ])
        .unwrap_err();
        assert_eq!(e.var, "ROSTER_PRODUCTION");
    }
}
