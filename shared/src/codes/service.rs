//! Sending verification codes under limits, and phone availability. Every limit is a
//! conditional write in one transaction: nothing is consumed when any of them fails.

use std::net::IpAddr;

use crate::domain::{CodePurpose, LoginId, PhoneNumber, Recipient};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{self, keys, Tx, TxError};
use crate::verification::{code_tag, CODE_LEN};

#[derive(Clone, Copy, Debug)]
enum Step {
    Gap,
    PerHour,
    PerDay,
    PerNetwork,
    Global,
    Code,
}

/// Sends a code by SMS or email. Both channels share the rules and the limits: per
/// address, per client network and the global daily budget (one budget for both).
pub async fn send_code(
    state: &AppState,
    to: &Recipient,
    purpose: CodePurpose,
    ip: IpAddr,
    captcha_solved: bool,
) -> Result<(), Error> {
    if let Recipient::Phone(phone) = to {
        if !state.config.sms_regions.allows(phone.region().value()) {
            return Err(Error::RegionNotServed(phone.region().value()));
        }
    }
    let limits = &state.config.limits;
    let now = state.clock.now_secs();
    let (hour, day) = (now.div_euclid(3600), now.div_euclid(86_400));
    let hour_end = (hour + 1) * 3600;
    let day_end = (day + 1) * 86_400;
    let captcha_gates = limits.sms_captcha_after_per_ip_hour < limits.sms_per_ip_hour;
    let network_max = if captcha_solved {
        limits.sms_per_ip_hour
    } else {
        limits.sms_per_ip_hour.min(limits.sms_captcha_after_per_ip_hour)
    };

    let test_code = match to {
        Recipient::Phone(phone) => state.config.test_numbers.get(phone.e164()),
        Recipient::Email(_) => None,
    };
    let code = match test_code {
        Some(fixed) => fixed.clone(),
        None => state.random.digits(CODE_LEN),
    };
    let tag = code_tag(state, to, purpose, &code);
    let tag_for_undo = tag.clone();
    let count = store::codes::bounded_increment;
    let tx = Tx::new()
        .step(Step::Gap, store::codes::take_gap(to, now + limits.sms_gap_secs))
        .step(
            Step::PerHour,
            count(keys::sends_per_hour(to, hour), limits.sms_per_phone_hour, hour_end),
        )
        .step(
            Step::PerDay,
            count(keys::sends_per_day(to, day), limits.sms_per_phone_day, day_end),
        )
        .step(
            Step::PerNetwork,
            count(keys::sends_per_network_hour(&ip, hour), network_max, hour_end),
        )
        .step(
            Step::Global,
            count(keys::global_sends_per_day(day), limits.sms_global_day, day_end),
        )
        .step(
            Step::Code,
            store::codes::create(to, purpose, tag, now + limits.code_ttl_secs),
        );
    match tx.commit(state.store.as_ref()).await {
        Ok(()) => {}
        Err(TxError::Failed(step)) => {
            return Err(match step {
                Step::Gap => Error::Throttled("a code was sent to this address less than a minute ago"),
                Step::PerHour => Error::Throttled("this address has had too many codes this hour"),
                Step::PerDay => Error::Throttled("this address has had too many codes today"),
                Step::PerNetwork if !captcha_solved && captcha_gates => Error::CaptchaRequired,
                Step::PerNetwork => Error::Throttled("too many codes from this network this hour"),
                Step::Global | Step::Code => Error::Throttled("the service has sent its daily number of codes"),
            });
        }
        // Lost a race with a concurrent send for the same phone.
        Err(TxError::Conflict) => return Err(Error::Throttled("a code is being sent to this address")),
        Err(TxError::Store(e)) => return Err(e.into()),
    }
    if test_code.is_some() {
        tracing::info!(to = %to.masked(), "test number: fixed code, no SMS");
        return Ok(());
    }
    let text = format!("Your {} verification code is {code}", state.config.product_name);
    if let Err(e) = state.messages.send(to, &text).await {
        // Nothing is spent by a send that failed: the code, the gap and one count of
        // each window go back, so the same request retried succeeds.
        let undo = vec![
            store::codes::withdraw(to, purpose, &tag_for_undo),
            store::codes::release_gap(to),
            store::codes::decrement(keys::sends_per_hour(to, hour)),
            store::codes::decrement(keys::sends_per_day(to, day)),
            store::codes::decrement(keys::sends_per_network_hour(&ip, hour)),
            store::codes::decrement(keys::global_sends_per_day(day)),
        ];
        if let Err(undo_err) = state.store.transact_write(undo).await {
            tracing::error!(error = %undo_err, "could not give back a failed send's allowance");
        }
        tracing::warn!(to = %to.masked(), error = %e, "the provider refused or failed a code");
        return Err(Error::Send(e));
    }
    tracing::info!(to = %to.masked(), channel = to.channel(), purpose = purpose.as_str(), "code sent");
    Ok(())
}

/// Whether a phone number is free for a new account.
pub async fn phone_available(state: &AppState, phone: &PhoneNumber) -> Result<bool, Error> {
    let marker = store::markers::key(&LoginId::Phone(phone.clone()));
    Ok(state.store.get(&marker).await?.is_none())
}
