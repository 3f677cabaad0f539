//! `heat-diag connect`: one audited connection (or a bounded retry loop), then the probe.
//!
//! Every connection uses a client id of its own, `<client_id>-diag-<purpose>-<random>`
//! (mqtt-auth's `throwaway_client_id`), never the configured one: the broker would close the
//! running controller's connection, and Home Assistant would see it go `offline`.

use std::{
    process::ExitCode,
    thread,
    time::{Duration, Instant},
};

use heat_config::Settings;
use mqtt_auth::{
    BrokerSettings,
    codes::ReturnCode,
    connect::{Identity, connect_with_record, create_client, throwaway_client_id},
    probe::{Verdict, probe},
    retry::{Backoff, RetryPolicy},
};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Skip the anonymous / wrong-password probe.
    #[arg(long)]
    no_probe: bool,
    /// Keep trying for this many seconds under the retry policy (transient failures back off
    /// from 1 s, auth rejections 30 s, 1, 2, then 5 min), instead of one attempt.
    #[arg(long, value_name = "SECONDS")]
    retry_for: Option<u64>,
}

pub(crate) fn run(settings: &Settings, args: &Args) -> ExitCode {
    let configured = settings.broker();
    let broker = &configured
        .clone()
        .with_client_id(throwaway_client_id(configured.client_id(), "connect"));
    let transport = if broker.tls().is_some() { "tls" } else { "tcp" };
    println!(
        "broker      {} ({transport}, MQTT {})",
        broker.broker_addr(),
        broker.protocol()
    );
    println!(
        "client id   {} (its own: {} stays the controller's)",
        broker.client_id(),
        configured.client_id()
    );
    println!("user        {}", broker.credentials().username());

    let connected = match args.retry_for {
        None => attempt(broker),
        Some(seconds) => retry(broker, Duration::from_secs(seconds)),
    };
    let mut ok = connected;
    if !args.no_probe {
        // The probe derives its own throwaway ids from the configured one.
        let report = probe(configured);
        println!("probe       anonymous: {}", report.anonymous);
        println!("            wrong password: {}", report.wrong_password);
        let verdict = report.verdict();
        match verdict {
            Verdict::Secure => println!(
                "verdict     secure: the broker refuses anonymous clients and wrong passwords"
            ),
            Verdict::Insecure => println!(
                "verdict     INSECURE: the broker accepted a client it should refuse; set \
                 `allow_anonymous false` and a password_file in mosquitto.conf"
            ),
            Verdict::Inconclusive => {
                println!("verdict     inconclusive: see the probe results above")
            }
        }
        ok &= verdict == Verdict::Secure;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One attempt; prints the CONNACK interpretation and the audit line. True on success.
fn attempt(broker: &BrokerSettings) -> bool {
    let client = match create_client(broker) {
        Ok(client) => client,
        Err(err) => {
            println!("error       {err}\nfix         {}", err.fix());
            return false;
        }
    };
    let (result, record) = connect_with_record(&client, broker, Identity::Configured, None);
    match &result {
        Ok(_) => {
            let code = ReturnCode::new(broker.protocol(), 0);
            println!("CONNACK     {code} [{}]", code.class());
        }
        Err(err) => {
            match err.code() {
                Some(code) => println!("CONNACK     {code} [{}]", code.class()),
                None => println!("CONNACK     none ({err}) [{}]", err.class()),
            }
            println!("fix         {}", err.fix());
        }
    }
    println!("audit       {record}");
    if result.is_ok() {
        let _ = client.disconnect();
    }
    result.is_ok()
}

/// Attempts under the retry policy until one succeeds or `window` has passed. Waits out the
/// window rather than exiting early, so the broker's view of the attempts covers all of it.
fn retry(broker: &BrokerSettings, window: Duration) -> bool {
    let start = Instant::now();
    let mut backoff = Backoff::new(RetryPolicy::default());
    let mut rng = rand::rng();
    loop {
        let client = create_client(broker);
        let result = client.and_then(|client| {
            let (result, record) = connect_with_record(&client, broker, Identity::Configured, None);
            println!("audit       {record}");
            if result.is_ok() {
                let _ = client.disconnect();
            }
            result
        });
        let err = match result {
            Ok(_) => {
                backoff.on_success();
                return true;
            }
            Err(err) => err,
        };
        let delay = backoff.on_failure(err.class(), &mut rng);
        println!(
            "retry       {} failure; next attempt in {:.1} s; fix: {}",
            err.class(),
            delay.as_secs_f64(),
            err.fix()
        );
        let elapsed = start.elapsed();
        if elapsed + delay > window {
            thread::sleep(window.saturating_sub(elapsed));
            println!("gave up     after {} s", window.as_secs());
            return false;
        }
        thread::sleep(delay);
    }
}
