//! Adapters: the ports implemented for AWS (DynamoDB, SNS, SES, S3) and for a laptop
//! (SQLite file, local outbox, local upload folder).
#[cfg(feature = "aws")]
pub mod aws_http;
pub mod by_channel;
#[cfg(feature = "dynamodb")]
pub mod dynamodb_store;
pub mod local_outbox;
pub mod local_uploads;
#[cfg(feature = "s3")]
pub mod s3_uploads;
#[cfg(feature = "ses")]
pub mod ses_sender;
#[cfg(feature = "hosted-captcha")]
pub mod site_verify;
#[cfg(feature = "sns")]
pub mod sns_sender;
#[cfg(feature = "sqlite")]
pub mod sqlite_store;
pub mod unavailable;
