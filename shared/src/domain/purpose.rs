use super::ValidationError;

/// What a verification code may be used for. A code works only for its own purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// SealTalk's purpose-less `send_code`: its verification token serves register or reset.
    Verify,
    Register,
    Login,
    Reset,
    Delete,
    /// Sent to the new number of a phone change.
    ChangePhone,
    /// Sent to the new address of an email change.
    ChangeEmail,
    /// Sent to the current phone or email: proves the owner asks for the change.
    VerifyOwner,
}

impl CodePurpose {
    pub fn parse(raw: Option<&str>) -> Result<Self, ValidationError> {
        Ok(match raw.map(str::trim) {
            None | Some("" | "verify") => CodePurpose::Verify,
            Some("register") => CodePurpose::Register,
            Some("login") => CodePurpose::Login,
            Some("reset") => CodePurpose::Reset,
            Some("delete") => CodePurpose::Delete,
            Some("change_phone") => CodePurpose::ChangePhone,
            Some("change_email") => CodePurpose::ChangeEmail,
            Some("verify_owner") => CodePurpose::VerifyOwner,
            Some(_) => {
                return Err(ValidationError::new(
                    "purpose",
                    "must be one of verify, register, login, reset, delete, change_phone, change_email, verify_owner",
                ))
            }
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Verify => "verify",
            CodePurpose::Register => "register",
            CodePurpose::Login => "login",
            CodePurpose::Reset => "reset",
            CodePurpose::Delete => "delete",
            CodePurpose::ChangePhone => "change_phone",
            CodePurpose::ChangeEmail => "change_email",
            CodePurpose::VerifyOwner => "verify_owner",
        }
    }
}
