//! The captcha that `send_code` asks for once a network has sent many codes, and that
//! a username-only sign-up needs: a short answer drawn as a PNG, stored only as an HMAC,
//! single use (any answer consumes it). Shared by the `codes` and `account` groups.

use base64::Engine;
use serde::Serialize;

mod image;

use crate::crypto::digest;
use crate::error::Error;
use crate::ports::{Condition, StoreError};
use crate::state::AppState;
use crate::store;
use image::{render_png, CAPTCHA_ALPHABET};

const ANSWER_LEN: usize = 5;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Captcha {
    /// A `data:` URL that a browser's `<img>` displays.
    pub url: String,
    pub verify_id: String,
}

fn answer_parts<'a>(verify_id: &'a str, answer: &'a str) -> [&'a [u8]; 3] {
    [b"captcha", verify_id.as_bytes(), answer.as_bytes()]
}

pub async fn issue(state: &AppState) -> Result<Captcha, Error> {
    let random = state.random.as_ref();
    let answer: String = (0..ANSWER_LEN)
        .map(|_| char::from(CAPTCHA_ALPHABET[random.below(CAPTCHA_ALPHABET.len() as u32) as usize]))
        .collect();
    let verify_id = random.token(18);
    let image = render_png(&answer, &mut |n| random.below(n.max(1))).map_err(Error::Internal)?;
    let now = state.clock.now_secs();
    state
        .store
        .put(
            store::captcha::item(
                &digest(&verify_id),
                state.code_key.sign_hex(&answer_parts(&verify_id, &answer)),
                now + state.config.limits.captcha_ttl_secs,
            ),
            None,
        )
        .await?;
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    );
    Ok(Captcha { url, verify_id })
}

/// Consumes the captcha and says whether the answer was right. A wrong answer burns the
/// captcha too, so each one gets exactly one guess.
pub async fn solve(state: &AppState, verify_id: &str, answer: &str) -> Result<(), Error> {
    let removed = match state
        .store
        .delete(&store::captcha::key(&digest(verify_id)), Some(Condition::Exists))
        .await
    {
        Ok(item) => item,
        Err(StoreError::ConditionFailed) => return Err(Error::CaptchaWrong),
        Err(e) => return Err(e.into()),
    };
    let Some(removed) = removed else {
        return Err(Error::CaptchaWrong);
    };
    let stored = hex::decode(store::captcha::answer_tag(&removed)?)
        .map_err(|_| store::corrupt(&removed, "answer is not hex"))?;
    let answer = answer.trim().to_ascii_uppercase();
    if state.code_key.verify(&answer_parts(verify_id, &answer), &stored) {
        Ok(())
    } else {
        Err(Error::CaptchaWrong)
    }
}

/// Checks a hosted challenge's token (Turnstile, hCaptcha) with its provider.
pub async fn verify_hosted(state: &AppState, token: &str, client: std::net::IpAddr) -> Result<(), Error> {
    let Some(verifier) = state.challenge.as_ref() else {
        return Err(crate::domain::ValidationError::new(
            "captchaToken",
            "no hosted captcha is configured; solve the image from /user/get_sms_img_code",
        )
        .into());
    };
    if token.len() > 4096 {
        return Err(crate::domain::ValidationError::new("captchaToken", "is too long").into());
    }
    if verifier.verify(token, client).await? {
        Ok(())
    } else {
        Err(Error::CaptchaWrong)
    }
}
