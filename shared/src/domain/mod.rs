//! Domain types: parsed once at the edge, impossible to hold invalid values.
mod account;
mod email;
pub mod group;
mod identity;
mod phone;
mod profile;
mod purpose;
pub mod regions;

pub use account::{Device, Nickname, Password, UserId};
pub use email::EmailAddress;
pub use group::{Bulletin, GroupDisplayName, GroupId, GroupName, Role};
pub use identity::{LoginId, Recipient};
pub use phone::{CallingCode, PhoneNumber};
pub use profile::{Birthday, Gender, ImageType, PortraitUri, Privacy, PrivacyChange, StAccount, Username};
pub use purpose::CodePurpose;

/// Input that does not parse into a domain value; names the field it came from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            field,
            message: message.into(),
        }
    }
}
