//! Adapters: the ports implemented for AWS (DynamoDB, SNS, S3) and for a laptop
//! (SQLite file, local outbox, local upload folder).
pub mod dynamodb_store;
pub mod local_outbox;
pub mod local_uploads;
pub mod s3_uploads;
pub mod sns_sender;
pub mod sqlite_store;
