//! "Is this identifier registered?" (the account document's verify account). It tells
//! by design, so it is counted per client network: past a threshold a solved captcha is
//! required, past a limit nothing is answered until the hour ends.

use std::net::IpAddr;

use crate::domain::LoginId;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{codes, keys, markers, Tx, TxError};

#[derive(Clone, Copy, Debug)]
enum Step {
    Count,
}

pub async fn registered(state: &AppState, id: &LoginId, ip: IpAddr, captcha_solved: bool) -> Result<bool, Error> {
    let limits = &state.config.limits;
    let hour = state.clock.now_secs().div_euclid(3600);
    let gated = limits.account_checks_captcha_after_per_ip_hour < limits.account_checks_per_ip_hour;
    let max = if captcha_solved {
        limits.account_checks_per_ip_hour
    } else {
        limits
            .account_checks_per_ip_hour
            .min(limits.account_checks_captcha_after_per_ip_hour)
    };
    let count = codes::bounded_increment(keys::account_checks_per_network_hour(&ip, hour), max, (hour + 1) * 3600);
    match Tx::new().step(Step::Count, count).commit(state.store.as_ref()).await {
        Ok(()) => {}
        Err(TxError::Failed(Step::Count)) if !captcha_solved && gated => return Err(Error::CaptchaRequired),
        Err(TxError::Failed(Step::Count)) => {
            return Err(Error::Throttled("too many account checks from this network this hour"))
        }
        Err(TxError::Conflict) => return Err(Error::Contended),
        Err(TxError::Store(e)) => return Err(e.into()),
    }
    Ok(state.store.get(&markers::key(id)).await?.is_some())
}
