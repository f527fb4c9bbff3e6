//! The single-table key design, in one place. Every item's partition key (`pk`) names
//! the entity it belongs to; the sort key (`sk`) names the item within it.
//!
//! | item                  | pk                  | sk                      | expiry          |
//! |-----------------------|---------------------|-------------------------|-----------------|
//! | login marker (owner)  | `PHONE#<e164>`, `EMAIL#<address>`, `UNAME#<lower>` | `OWNER` | — |
//! | login failures + lock | `PHONE#<e164>`      | `LOGINFAIL`             | a day           |
//! | verification code     | `PHONE#<e164>` or `EMAIL#<address>` | `CODE#<purpose>` | code TTL |
//! | send gap lock         | `PHONE#<e164>`      | `SEND#GAP`              | gap             |
//! | sends per window      | `PHONE#<e164>`      | `SEND#H#<hour>` / `SEND#D#<day>` | window end |
//! | sends per network     | `IP#<ip or /64>`    | `SEND#H#<hour>`         | window end      |
//! | password failures per network | `IP#<ip or /64>` | `PWFAIL#H#<hour>` | window end |
//! | global sends          | `GLOBAL`            | `SEND#D#<day>`          | window end      |
//! | verification token    | `VTOKEN#<sha256>`   | `VTOKEN`                | token TTL       |
//! | captcha               | `CAPTCHA#<sha256>`  | `CAPTCHA`               | captcha TTL     |
//! | user profile          | `USER#<id>`         | `PROFILE`               | —               |
//! | credential (password) | `USER#<id>`         | `CREDENTIAL`            | —               |
//! | session               | `USER#<id>`         | `SESSION#<sid>`         | idle lifetime   |
//! | change feed head      | `USER#<id>`         | `FEED`                  | —               |
//! | change record         | `USER#<id>`         | `CHG#<seq, 20 digits>`  | 35 days         |
//! | SealTalk id marker    | `STACCOUNT#<lower>` | `OWNER`                 | —               |
//! | friendship (one side) | `USER#<id>`         | `FRIEND#<other>`        | —               |
//! | block                 | `USER#<id>`         | `BLOCK#<other>` (index: `USER#<other>`/`BLOCKER#<id>`) | — |
//! | follow                | `USER#<id>`         | `FOLLOW#<other>` (index: `USER#<other>`/`FAN#<id>`) | — |
//! | follow group          | `USER#<id>`         | `FGROUP#<name>`         | —               |
//! | name directory entry  | `USER#<id>`         | `NAME#nickname` / `NAME#username` (index: `NAMES#<kind>#<first char>`/`<folded name>#<id>`, `names.rs`) | — |
//!
//! A login marker holds only its owner's id; it is written with `attribute_not_exists`
//! in the same transaction as the owner, which makes the identifier unique. The password
//! hash lives in the owner's private credential item, which no read path returns. Login
//! identifiers (phone now; email and username next) and code recipients each have a
//! partition of their own, named by their kind. The sparse `inverted` index
//! (`ipk`/`isk`) holds reverse relations (fans, who blocked me) and the name directory.
//!
//! Windows are counted in fixed buckets (hour or day number since the epoch), so a new
//! window is a new item and expired counters never need resetting.

use std::net::IpAddr;

use crate::domain::{CodePurpose, LoginId, Recipient, StAccount, UserId};
use crate::ports::Key;

fn login_pk(id: &LoginId) -> String {
    match id {
        LoginId::Phone(p) => format!("PHONE#{}", p.e164()),
        LoginId::Email(e) => format!("EMAIL#{}", e.as_str()),
        LoginId::Username(u) => format!("UNAME#{}", u.unique_form()),
    }
}

fn recipient_pk(to: &Recipient) -> String {
    match to {
        Recipient::Phone(p) => format!("PHONE#{}", p.e164()),
        Recipient::Email(e) => format!("EMAIL#{}", e.as_str()),
    }
}

/// The uniqueness marker of a SealTalk id (lower-cased): holds the owner's id.
pub fn st_account_marker(account: &StAccount) -> Key {
    Key::new(format!("STACCOUNT#{}", account.unique_form()), "OWNER")
}

/// The head of a user's change feed (`docs/sync.md`): its last record's number.
pub fn user_feed(user: &UserId) -> Key {
    Key::new(user_pk(user), "FEED")
}

pub const CHANGE_PREFIX: &str = "CHG#";
pub const FRIEND_PREFIX: &str = "FRIEND#";
pub const BLOCK_PREFIX: &str = "BLOCK#";
pub const FOLLOW_PREFIX: &str = "FOLLOW#";
pub const FAN_PREFIX: &str = "FAN#";
pub const FOLLOW_GROUP_PREFIX: &str = "FGROUP#";
/// Index entries of the users who block a user (`USER#<blocked>` / `BLOCKER#<blocker>`).
pub const BLOCKER_PREFIX: &str = "BLOCKER#";

/// `user` follows `other`; indexed as `USER#<other>` / `FAN#<user>` (my fans).
pub fn follow(user: &UserId, other: &UserId) -> Key {
    Key::new(user_pk(user), format!("{FOLLOW_PREFIX}{other}"))
}

pub fn fan(fan: &UserId, followed: &UserId) -> Key {
    Key::new(user_pk(followed), format!("{FAN_PREFIX}{fan}"))
}

/// One of `user`'s follow groups, with the number of follows in it.
pub fn follow_group(user: &UserId, name: &str) -> Key {
    Key::new(user_pk(user), format!("{FOLLOW_GROUP_PREFIX}{name}"))
}

/// `user`'s side of a friendship with `other` (SealTalk keeps one row per side).
pub fn friend(user: &UserId, other: &UserId) -> Key {
    Key::new(user_pk(user), format!("{FRIEND_PREFIX}{other}"))
}

/// `user` blocks `other`; indexed as `USER#<other>` / `BLOCKER#<user>` (who blocked me).
pub fn block(user: &UserId, other: &UserId) -> Key {
    Key::new(user_pk(user), format!("{BLOCK_PREFIX}{other}"))
}

pub fn blocked_by(blocker: &UserId, blocked: &UserId) -> Key {
    Key::new(user_pk(blocked), format!("{BLOCKER_PREFIX}{blocker}"))
}

/// Change record `seq` of the feed whose partition is `pk`; zero-padded so that key
/// order is numeric order.
pub fn change(pk: &str, seq: i64) -> Key {
    Key::new(pk, format!("{CHANGE_PREFIX}{seq:020}"))
}

/// The uniqueness marker of a login identifier: holds the owner's id.
pub fn marker(id: &LoginId) -> Key {
    Key::new(login_pk(id), "OWNER")
}

pub fn login_failures(id: &LoginId) -> Key {
    Key::new(login_pk(id), "LOGINFAIL")
}

pub fn code(to: &Recipient, purpose: CodePurpose) -> Key {
    Key::new(recipient_pk(to), format!("CODE#{}", purpose.as_str()))
}

pub fn send_gap(to: &Recipient) -> Key {
    Key::new(recipient_pk(to), "SEND#GAP")
}

pub fn sends_per_hour(to: &Recipient, hour: i64) -> Key {
    Key::new(recipient_pk(to), format!("SEND#H#{hour}"))
}

pub fn sends_per_day(to: &Recipient, day: i64) -> Key {
    Key::new(recipient_pk(to), format!("SEND#D#{day}"))
}

/// Sends per client network: an IPv4 address, or the /64 an IPv6 address belongs to
/// (one household or device gets a whole /64).
pub fn sends_per_network_hour(ip: &IpAddr, hour: i64) -> Key {
    Key::new(format!("IP#{}", network_of(ip)), format!("SEND#H#{hour}"))
}

pub fn network_of(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// "Is this identifier registered?" checks per client network and hour.
pub fn account_checks_per_network_hour(ip: &IpAddr, hour: i64) -> Key {
    Key::new(format!("IP#{}", network_of(ip)), format!("VERIFYACCT#H#{hour}"))
}

/// Directory look-ups (by phone or SealTalk id) per user and hour.
pub fn lookups_per_user_hour(user: &UserId, hour: i64) -> Key {
    Key::new(user_pk(user), format!("LOOKUP#H#{hour}"))
}

/// Directory look-ups per client network and hour.
pub fn lookups_per_network_hour(ip: &IpAddr, hour: i64) -> Key {
    Key::new(format!("IP#{}", network_of(ip)), format!("LOOKUP#H#{hour}"))
}

/// Failed password checks per client network and hour (password spraying).
pub fn password_failures_per_network_hour(ip: &IpAddr, hour: i64) -> Key {
    Key::new(format!("IP#{}", network_of(ip)), format!("PWFAIL#H#{hour}"))
}

pub fn global_sends_per_day(day: i64) -> Key {
    Key::new("GLOBAL", format!("SEND#D#{day}"))
}

pub fn verification_token(digest: &str) -> Key {
    Key::new(format!("VTOKEN#{digest}"), "VTOKEN")
}

pub fn captcha(digest: &str) -> Key {
    Key::new(format!("CAPTCHA#{digest}"), "CAPTCHA")
}

pub const SESSION_PREFIX: &str = "SESSION#";

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn profile(user: &UserId) -> Key {
    Key::new(user_pk(user), "PROFILE")
}

pub fn credential(user: &UserId) -> Key {
    Key::new(user_pk(user), "CREDENTIAL")
}

pub fn session(user: &UserId, session: &str) -> Key {
    Key::new(user_pk(user), format!("{SESSION_PREFIX}{session}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(&a), network_of(&b));
        assert_ne!(network_of(&a), network_of(&c));
        let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(network_of(&mapped), "198.51.100.7");
    }
}
