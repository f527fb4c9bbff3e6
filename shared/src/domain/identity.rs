//! Who a person is to the outside world: the identifiers they log in with and the
//! addresses codes are sent to. Phone today; email and username join these enums.

use super::{EmailAddress, PhoneNumber, Username};

/// An identifier a person logs in with. Each is unique (a marker item names its owner)
/// and carries its own login backoff.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LoginId {
    Phone(PhoneNumber),
    Email(EmailAddress),
    Username(Username),
}

impl LoginId {
    /// Enough to correlate logs, never the whole identifier.
    pub fn masked(&self) -> String {
        match self {
            LoginId::Phone(p) => p.masked(),
            LoginId::Email(e) => e.masked(),
            LoginId::Username(u) => format!("{}***", u.as_str().chars().next().unwrap_or('?')),
        }
    }
}

/// Where a verification code goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Recipient {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

impl Recipient {
    /// The channel's name, as the outbox and the stored token record it.
    pub fn channel(&self) -> &'static str {
        match self {
            Recipient::Phone(_) => "sms",
            Recipient::Email(_) => "email",
        }
    }

    /// The address in its canonical form (E.164 for phones).
    pub fn address(&self) -> &str {
        match self {
            Recipient::Phone(p) => p.e164(),
            Recipient::Email(e) => e.as_str(),
        }
    }

    pub fn masked(&self) -> String {
        match self {
            Recipient::Phone(p) => p.masked(),
            Recipient::Email(e) => e.masked(),
        }
    }

    /// The login identifier this address proves, once a code sent to it is verified.
    pub fn login_id(&self) -> Option<LoginId> {
        match self {
            Recipient::Phone(p) => Some(LoginId::Phone(p.clone())),
            Recipient::Email(e) => Some(LoginId::Email(e.clone())),
        }
    }

    /// Reads back a stored (channel, address) pair.
    pub fn from_stored(channel: &str, address: &str) -> Option<Recipient> {
        match channel {
            "sms" => PhoneNumber::parse_e164("address", address).ok().map(Recipient::Phone),
            "email" => EmailAddress::parse("address", address).ok().map(Recipient::Email),
            _ => None,
        }
    }
}
