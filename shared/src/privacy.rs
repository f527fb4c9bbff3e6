//! The privacy view: the one place that decides what a viewer sees of another user's
//! profile. Every route that returns another user's data goes through it.

use serde::Serialize;

use crate::domain::UserId;
use crate::store::profile::Profile;

/// A user as another user sees them (SealTalk's user object).
#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub nickname: String,
    pub portrait_uri: String,
    pub gender: String,
    pub st_account: String,
    pub username: String,
    /// `YYYY-MM-DD`, or "" when unset or hidden.
    pub birthday: String,
    pub level: i64,
    /// The national number, or "" when the viewer may not see it.
    pub phone: String,
    /// The email address, or "" when unset or hidden.
    pub email: String,
    pub updated_at: String,
    pub updated_time: i64,
}

/// `{id, nickname, portraitUri}`: what anyone may see of anyone.
#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub id: String,
    pub nickname: String,
    pub portrait_uri: String,
}

pub struct Viewer<'a>(pub &'a UserId);

/// How the viewer and the target are related, as read with the target's profile.
#[derive(Clone, Copy, Debug, Default)]
pub struct Relation {
    /// Friends both ways (status 20 on each side).
    pub friends: bool,
    /// The target blocked the viewer.
    pub blocked_by_target: bool,
}

/// What a viewer gets of a user: the whole view, or only the card (the target blocked
/// the viewer).
#[derive(Serialize, Debug, PartialEq)]
#[serde(untagged)]
pub enum Seen {
    Full(UserView),
    Card(Card),
}

impl Viewer<'_> {
    /// The phone is for the user and their friends (status 20 both ways), and for anyone
    /// when `displayPhone` is 1.
    fn sees_phone(&self, target: &UserId, friends: bool, p: &Profile) -> bool {
        self.0 == target || friends || p.privacy.display_phone
    }

    /// The birthday, for the user themself or when `displayBirthday` is 1.
    pub fn birthday(&self, target: &UserId, p: &Profile) -> String {
        if self.0 == target || p.privacy.display_birthday {
            p.birthday.clone()
        } else {
            String::new()
        }
    }

    /// The email address, for the user themself or when `displayEmail` is 1.
    pub fn email(&self, target: &UserId, p: &Profile) -> String {
        match &p.email {
            Some(e) if self.0 == target || p.privacy.display_email => e.as_str().to_string(),
            _ => String::new(),
        }
    }

    pub fn user(&self, target: &UserId, p: &Profile) -> UserView {
        self.user_related(target, p, false)
    }

    /// The national number and calling code, or empty ones when hidden.
    pub fn phone(&self, target: &UserId, p: &Profile, friends: bool) -> (String, String) {
        match &p.phone {
            Some(phone) if self.sees_phone(target, friends, p) => {
                (phone.region().to_string(), phone.national().to_string())
            }
            _ => (String::new(), String::new()),
        }
    }

    /// The user as seen by the viewer, who is their friend (both sides 20) or not.
    pub fn user_related(&self, target: &UserId, p: &Profile, friends: bool) -> UserView {
        let (_, phone) = self.phone(target, p, friends);
        UserView {
            id: target.to_string(),
            nickname: p.nickname.clone(),
            portrait_uri: p.portrait_uri.clone(),
            gender: p.gender.clone(),
            st_account: p.st_account.clone(),
            username: p.username.clone(),
            birthday: self.birthday(target, p),
            level: p.level,
            phone,
            email: self.email(target, p),
            updated_at: iso_millis(p.updated_at),
            updated_time: p.updated_at,
        }
    }

    /// A user read by id: the whole view, the phone only for themself and friends; only
    /// the card for someone the target blocked.
    pub fn seen(&self, target: &UserId, p: &Profile, relation: Relation) -> Seen {
        if relation.blocked_by_target && self.0 != target {
            Seen::Card(self.card(target, p))
        } else {
            Seen::Full(self.user_related(target, p, relation.friends))
        }
    }

    pub fn card(&self, target: &UserId, p: &Profile) -> Card {
        Card {
            id: target.to_string(),
            nickname: p.nickname.clone(),
            portrait_uri: p.portrait_uri.clone(),
        }
    }

    /// Whether the viewer sees whom the target follows and who follows them.
    pub fn sees_follows(&self, target: &UserId, p: &Profile) -> bool {
        self.0 == target || p.privacy.display_follows
    }

    /// Whether a search by phone number may find this user (`phoneVerify`; never someone
    /// who blocked the viewer).
    pub fn may_find_by_phone(&self, p: &Profile, relation: Relation) -> bool {
        p.privacy.phone_verify && !relation.blocked_by_target
    }

    /// Whether a search by SealTalk id may find this user (`stSearchVerify`; never
    /// someone who blocked the viewer).
    pub fn may_find_by_st_account(&self, p: &Profile, relation: Relation) -> bool {
        p.privacy.st_search_verify && !relation.blocked_by_target
    }
}

/// `2019-01-04T10:41:52.000Z` from epoch milliseconds (UTC; the proleptic Gregorian
/// calendar, by Howard Hinnant's days-to-civil algorithm: no date crate for one format).
pub fn iso_millis(ms: i64) -> String {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_sealtalk_writes_them() {
        // The pairs from SealTalk's own blacklist example.
        assert_eq!(iso_millis(1_546_598_512_000), "2019-01-04T10:41:52.000Z");
        assert_eq!(iso_millis(1_567_601_680_000), "2019-09-04T12:54:40.000Z");
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
