//! The broker security probe: does the broker refuse an anonymous client and a wrong password?
//!
//! This is the real version of the original system's `verify_broker_security()`, which always
//! answered "secure". Each attempt uses a throwaway client id, so it never disturbs the real
//! session, and is audited like any other attempt.

use std::fmt;

use secrecy::SecretString;

use crate::{
    codes::Class,
    connect::{Identity, connect, create_client, throwaway_client_id},
    credentials::Credentials,
    failure::ConnectError,
    settings::BrokerSettings,
};

/// The outcome of one probe attempt.
#[derive(Debug, Clone)]
pub enum ProbeOutcome {
    /// The broker refused the attempt as unauthenticated or unauthorised: what we want.
    Refused(ConnectError),
    /// The broker accepted the attempt: a security problem.
    Accepted,
    /// The attempt failed for another reason (network, TLS): nothing can be concluded.
    Inconclusive(ConnectError),
}

impl ProbeOutcome {
    fn from_result(result: Result<(), ConnectError>) -> Self {
        match result {
            Ok(()) => ProbeOutcome::Accepted,
            Err(err) if err.class() == Class::AuthRejected => ProbeOutcome::Refused(err),
            Err(err) => ProbeOutcome::Inconclusive(err),
        }
    }

    /// True when the broker refused.
    pub fn is_refused(&self) -> bool {
        matches!(self, ProbeOutcome::Refused(_))
    }
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeOutcome::Refused(err) => write!(f, "refused ({err})"),
            ProbeOutcome::Accepted => f.write_str("ACCEPTED"),
            ProbeOutcome::Inconclusive(err) => write!(f, "inconclusive ({err})"),
        }
    }
}

/// What the probe found.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    /// An attempt without username and password.
    pub anonymous: ProbeOutcome,
    /// An attempt with the configured username and a random wrong password.
    pub wrong_password: ProbeOutcome,
}

/// The verdict of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Both attempts were refused.
    Secure,
    /// At least one attempt was accepted.
    Insecure,
    /// Neither accepted, but not both refused either.
    Inconclusive,
}

impl ProbeReport {
    /// Secure only when both attempts were refused.
    pub fn verdict(&self) -> Verdict {
        let outcomes = [&self.anonymous, &self.wrong_password];
        if outcomes.iter().any(|o| matches!(o, ProbeOutcome::Accepted)) {
            Verdict::Insecure
        } else if outcomes.iter().all(|o| o.is_refused()) {
            Verdict::Secure
        } else {
            Verdict::Inconclusive
        }
    }
}

/// Tries an anonymous connection and one with a wrong password against the broker in `settings`.
pub fn probe(settings: &BrokerSettings) -> ProbeReport {
    let anonymous = attempt(settings, Identity::Anonymous, "anon");
    let wrong = wrong_password(settings);
    let wrong_password = attempt(&wrong, Identity::Configured, "badpw");
    ProbeReport {
        anonymous,
        wrong_password,
    }
}

fn wrong_password(settings: &BrokerSettings) -> BrokerSettings {
    let random: [u8; 24] = rand::random();
    let password: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let credentials = Credentials::new(
        settings.credentials().username().clone(),
        SecretString::from(password),
    )
    .expect("48 hex digits is a valid password");
    settings.clone().with_credentials(credentials)
}

fn attempt(settings: &BrokerSettings, identity: Identity, purpose: &str) -> ProbeOutcome {
    let settings = settings
        .clone()
        .with_client_id(throwaway_client_id(settings.client_id(), purpose));
    let result = create_client(&settings).and_then(|client| {
        let result = connect(&client, &settings, identity, None).map(|_| ());
        if result.is_ok() {
            let _ = client.disconnect();
        }
        result
    });
    ProbeOutcome::from_result(result)
}
