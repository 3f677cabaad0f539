//! The MQTT session as a pure state machine, in rumqttc's `MqttState` shape: the driver
//! (`session.rs`) turns paho's callbacks, the control loop's hand-overs and the clock into
//! [`Event`]s, and executes the [`Action`]s that [`SessionState::handle`] returns. Nothing here
//! touches a socket, a channel, a file or a clock; time is the `now` of each call (the session's
//! monotonic time since it started), randomness (the retry jitter) a seeded generator.
//!
//! What it decides:
//! - when to connect (mqtt-auth's [`RetrySchedule`]), to probe the broker's port, and to look
//!   at the password file while refused;
//! - what a connection announces (`online`, subscriptions, discovery, the latest state), and
//!   again when Home Assistant comes online;
//! - which inbound messages become commands for the loop, and which are answered as refused
//!   here (unknown topic, retained, rate-limited, unparsable);
//! - the link state for the status display, the typed [`LinkEvent`]s and the people's log lines;
//! - that a connection the broker closed for another client with the same id is named as such.

use std::time::{Duration, SystemTime};

use heat_core::Status;
use heat_state::{Answer, LinkEvent, LinkInfo, StateJson};
use log::{debug, error, info, warn};
use mqtt_auth::{Class, QoS, RetryPolicy, RetrySchedule, ReturnCode, connect::Publish, reach};
use rand::{SeedableRng, rngs::StdRng};

use super::{InboundCommand, LinkState};
use crate::{
    command::{CommandRejection, RateDecision, RateLimit, RateLimiter, parse_for, render_payload},
    discovery::{Device, discovery_messages},
    reload::{FILE_CHECK_INTERVAL, Trigger},
    topics::{CommandTopic, OFFLINE, ONLINE, Topics},
};

/// QoS of availability, state, discovery, subscriptions and the discovered entities.
pub(crate) const QOS: QoS = QoS::AtLeastOnce;
/// QoS of command answers: a lost answer is harmless, the state shows the outcome.
pub(crate) const ANSWER_QOS: QoS = QoS::AtMostOnce;
/// A connection the broker drops sooner than this after it was made, while the broker keeps
/// accepting new connections, counts towards a suspected takeover (when the broker gives no
/// reason: always over MQTT 3.1.1, and over MQTT 5 with Mosquitto before 2.0.12).
pub const TAKEOVER_WINDOW: Duration = Duration::from_secs(60);
/// Drops in a row that make an MQTT 3.1.1 takeover certain enough to name.
const TAKEOVER_DROPS: u32 = 2;
/// The reason code of MQTT 5's DISCONNECT "session taken over".
const SESSION_TAKEN_OVER: u8 = 0x8E;
/// The fix for a takeover, in the log and the link state.
pub const TAKEOVER_FIX: &str = "two processes use one MQTT client id, and the broker keeps only \
     the newest connection: stop the other process (another heat-controller, or a copy of this \
     configuration), or give one of them its own MQTT_CLIENT_ID";

/// What the machine knows about the broker and the client, for its events and log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The broker, `host:port`.
    pub broker: String,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The client id the session connects with.
    pub client_id: String,
}

/// What the pure session needs of the configuration.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// The topics.
    pub topics: Topics,
    /// The device the discovery describes.
    pub device: Device,
    /// Whether Home Assistant discovery is published.
    pub discovery: bool,
    /// The reconnect policy.
    pub retry: RetryPolicy,
    /// The per-topic command rate limit.
    pub rate_limit: RateLimit,
    /// Whether a password file is watched while refused ([`Action::CheckPasswordFile`]).
    pub watch_password_file: bool,
}

/// A message that arrived on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// Delivered from the broker's retained store.
    pub retained: bool,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// The connection dropped without a reason (paho's connection lost).
    Dropped,
    /// The broker sent an MQTT 5 DISCONNECT with this reason.
    Disconnected(ReturnCode),
    /// A publish or subscribe on it failed.
    Failed(String),
}

/// Why the driver could not hand a command to the control loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undelivered {
    /// The loop's input channel is full.
    Busy,
    /// Nobody takes commands any more.
    Closed,
}

/// A failed connection attempt, as mqtt-auth classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The class, which picks the schedule.
    pub class: Class,
    /// What failed.
    pub reason: String,
    /// What to do about it.
    pub fix: String,
}

/// What happens to the session.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Time passed (a [`Action::WakeAt`] came due, or the driver started).
    Tick,
    /// The [`Action::Connect`] attempt succeeded.
    Connected {
        /// The broker kept a session (never, with the clean sessions mqtt-auth asks for; the
        /// subscriptions are made again either way).
        session_present: bool,
    },
    /// The [`Action::Connect`] attempt failed.
    ConnectFailed(Refusal),
    /// The connection ended.
    Lost(Loss),
    /// A message arrived.
    Message(Inbound),
    /// The control loop handed over a status to publish (its throttle decided it is due), with
    /// the wall-clock time it was taken.
    NewStatus(Box<Status>, SystemTime),
    /// The control loop's verdict on a delivered command.
    Answer(Answer),
    /// The [`Action::Probe`] result: whether the broker's port accepts TCP.
    Reachable(bool),
    /// An [`Action::Deliver`] could not be handed over.
    Undelivered {
        /// The command's topic.
        topic: String,
        /// Why.
        why: Undelivered,
    },
    /// The credentials were read again (the driver holds them), for `trigger`.
    CredentialsReloaded(Trigger),
    /// Reading the credentials again failed, with this line; the old ones stay.
    CredentialsReloadFailed(Trigger, String),
    /// The session ends.
    Stop,
}

/// What the driver does, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Make one connection attempt (with the last will `offline`), drop whatever the inbox still
    /// holds of the previous connection first, and report [`Event::Connected`] or
    /// [`Event::ConnectFailed`].
    Connect,
    /// Publish this message.
    Publish(Publish),
    /// Subscribe to these filters, at [`QOS`].
    Subscribe(Vec<String>),
    /// Hand this command to the control loop.
    Deliver(InboundCommand),
    /// Publish this answer on the result topic.
    Answer(Answer),
    /// The link state for the status display.
    SetLink(LinkState),
    /// Send [`Event::Tick`] at this session time, unless another event comes first.
    WakeAt(Duration),
    /// Try a TCP connect to the broker's port and report [`Event::Reachable`].
    Probe,
    /// Look at the password file (a `stat`); when it changed, reload the credentials and report.
    CheckPasswordFile,
    /// Close the connection (when paho still has one).
    Disconnect,
    /// Log this event on heat-state's link target.
    Report(LinkEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not connected; `connecting` while an [`Action::Connect`] is out.
    Down {
        connecting: bool,
    },
    /// Connected since this session time.
    Up {
        since: Duration,
    },
    Stopped,
}

#[derive(Debug, Clone)]
struct Snapshot {
    status: Status,
    time: SystemTime,
}

/// The MQTT 3.1.1 takeover detector: a drop soon after connecting is checked with a probe;
/// `TAKEOVER_DROPS` in a row while the broker kept accepting name a takeover.
#[derive(Debug, Clone, Copy, Default)]
struct Takeover {
    /// A drop of a connection that lived under [`TAKEOVER_WINDOW`] waits for its probe.
    checking: bool,
    /// Such drops in a row with the broker accepting.
    drops: u32,
}

/// The session's state. See the module documentation.
#[derive(Debug)]
pub struct SessionState {
    config: MachineConfig,
    peer: Peer,
    phase: Phase,
    schedule: RetrySchedule,
    limiter: RateLimiter,
    link_info: LinkInfo,
    /// The latest status handed over, published at each connect.
    latest: Option<Snapshot>,
    /// The reason of the last rejection since the last connection, to log only the first of a
    /// row at error.
    last_rejection: Option<String>,
    /// When the last probe was asked for, and whether its answer is still out.
    probe_last: Option<Duration>,
    probe_out: bool,
    /// No look at the password file before this.
    next_file_check: Duration,
    takeover: Takeover,
    rng: StdRng,
}

impl SessionState {
    /// A session that has not connected yet; its first [`Event::Tick`] connects. `seed` seeds
    /// the retry jitter.
    pub fn new(config: MachineConfig, peer: Peer, seed: u64) -> Self {
        Self {
            limiter: RateLimiter::new(config.rate_limit),
            schedule: RetrySchedule::new(config.retry),
            config,
            peer,
            phase: Phase::Down { connecting: false },
            link_info: LinkInfo::default(),
            latest: None,
            last_rejection: None,
            probe_last: None,
            probe_out: false,
            next_file_check: Duration::ZERO,
            takeover: Takeover::default(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The link's counters, as the state JSON carries them.
    pub fn link_info(&self) -> LinkInfo {
        self.link_info
    }

    /// True while connected.
    pub fn is_up(&self) -> bool {
        matches!(self.phase, Phase::Up { .. })
    }

    /// Handles one event at session time `now`; the actions to take, in order.
    pub fn handle(&mut self, now: Duration, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if self.phase == Phase::Stopped {
            return out;
        }
        match event {
            Event::Tick => {}
            Event::Connected { session_present } => {
                self.on_connected(now, session_present, &mut out)
            }
            Event::ConnectFailed(refusal) => self.on_connect_failed(now, refusal, &mut out),
            Event::Lost(loss) => self.on_lost(now, loss, &mut out),
            Event::Message(message) => self.on_message(now, message, &mut out),
            Event::NewStatus(status, time) => {
                self.latest = Some(Snapshot {
                    status: *status,
                    time,
                });
                if self.is_up() {
                    self.push_state(&mut out);
                }
            }
            Event::Answer(answer) => {
                if self.is_up() {
                    out.push(Action::Answer(answer));
                } else {
                    // Not retained, and the state shows the outcome after the reconnect.
                    debug!(
                        "MQTT: answer to {} dropped while disconnected",
                        answer.topic
                    );
                }
            }
            Event::Reachable(accepts) => self.on_reachable(now, accepts, &mut out),
            Event::Undelivered { topic, why } => {
                let reason = match why {
                    Undelivered::Busy => {
                        warn!("MQTT command on {topic} dropped: the controller's queue is full");
                        "controller busy: too many pending commands"
                    }
                    Undelivered::Closed => {
                        warn!("MQTT command on {topic} dropped: nobody takes commands");
                        "the controller does not take commands"
                    }
                };
                self.refuse(&topic, reason, &mut out);
            }
            Event::CredentialsReloaded(trigger) => {
                // A refusal with the new credentials is a new row: at error, with its fix.
                self.last_rejection = None;
                if self.is_up() {
                    info!(
                        "MQTT credentials reloaded ({}); used from the next connection",
                        trigger.as_str()
                    );
                } else {
                    self.schedule.retry_now(now);
                    info!(
                        "MQTT credentials reloaded ({}); connecting now",
                        trigger.as_str()
                    );
                }
                out.push(Action::Report(LinkEvent::CredentialsReloaded {
                    trigger: trigger.as_str().to_owned(),
                }));
            }
            Event::CredentialsReloadFailed(trigger, line) => {
                error!(
                    "MQTT credentials not reloaded ({}): {line}; the credentials in use stay",
                    trigger.as_str()
                );
                out.push(Action::Report(LinkEvent::CredentialsReloadFailed {
                    trigger: trigger.as_str().to_owned(),
                }));
            }
            Event::Stop => {
                if self.is_up() {
                    out.push(Action::Publish(self.availability(OFFLINE)));
                    out.push(Action::Disconnect);
                }
                self.phase = Phase::Stopped;
                out.push(Action::SetLink(LinkState::Stopped));
                info!("MQTT session stopped");
                return out;
            }
        }
        self.while_down(now, &mut out);
        out
    }

    /// While down and not connecting: connect when due, else probe or look at the password
    /// file when those are due, and say when to wake.
    fn while_down(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.phase != (Phase::Down { connecting: false }) {
            return;
        }
        if self.refused() && self.config.watch_password_file && now >= self.next_file_check {
            self.next_file_check = now + FILE_CHECK_INTERVAL;
            out.push(Action::CheckPasswordFile);
        }
        if self.schedule.is_due(now) {
            self.phase = Phase::Down { connecting: true };
            out.push(Action::SetLink(LinkState::Connecting));
            out.push(Action::Connect);
            return;
        }
        let mut wake = self.schedule.next_due();
        if self.schedule.probe_may_end_wait(now) && !self.probe_out {
            let next_probe = self.next_probe();
            if now >= next_probe {
                self.ask_probe(now, out);
            } else {
                wake = wake.min(next_probe);
            }
        }
        if self.refused() && self.config.watch_password_file {
            wake = wake.min(self.next_file_check);
        }
        if !self.probe_out {
            out.push(Action::WakeAt(wake));
        }
    }

    /// At most one probe per [`reach::PROBE_EVERY`].
    fn next_probe(&self) -> Duration {
        self.probe_last.map_or(Duration::ZERO, |last| {
            last.saturating_add(reach::PROBE_EVERY)
        })
    }

    fn ask_probe(&mut self, now: Duration, out: &mut Vec<Action>) {
        self.probe_last = Some(now);
        self.probe_out = true;
        out.push(Action::Probe);
    }

    /// True while the last attempt was refused (credentials, ACL, settings).
    fn refused(&self) -> bool {
        matches!(
            self.schedule.last_class(),
            Some(Class::AuthRejected | Class::Configuration)
        )
    }

    fn availability(&self, payload: &str) -> Publish {
        Publish::new(self.config.topics.availability(), payload, QOS, true)
    }

    fn on_connected(&mut self, now: Duration, _session_present: bool, out: &mut Vec<Action>) {
        if self.phase != (Phase::Down { connecting: true }) {
            debug!("MQTT: a connect result nobody asked for, ignored");
            return;
        }
        self.phase = Phase::Up { since: now };
        self.link_info.connects += 1;
        self.schedule.on_success(now);
        self.probe_last = None;
        self.last_rejection = None;
        let topics = &self.config.topics;
        out.push(Action::Publish(self.availability(ONLINE)));
        // One filter for every command topic, so that an unknown one is answered too. A clean
        // session forgets subscriptions: made again on every connect.
        out.push(Action::Subscribe(vec![
            topics.command_filter(),
            topics.ha_status(),
        ]));
        self.push_discovery(out);
        self.push_state(out);
        out.push(Action::SetLink(LinkState::Connected));
        info!(
            "MQTT session connected to {} (connection #{})",
            self.peer.broker, self.link_info.connects
        );
        out.push(Action::Report(LinkEvent::Connected {
            broker: self.peer.broker.clone(),
            tls: self.peer.tls,
            connects: self.link_info.connects,
        }));
    }

    fn on_connect_failed(&mut self, now: Duration, refusal: Refusal, out: &mut Vec<Action>) {
        if self.phase != (Phase::Down { connecting: true }) {
            debug!("MQTT: a connect result nobody asked for, ignored");
            return;
        }
        self.phase = Phase::Down { connecting: false };
        let Refusal { class, reason, fix } = refusal;
        let note = FailureNote::classify(class, self.last_rejection.as_deref(), &reason);
        let state = match note {
            FailureNote::FirstRejection | FailureNote::RepeatedRejection => LinkState::Rejected {
                reason: reason.clone(),
                fix: fix.clone(),
            },
            FailureNote::Failure => LinkState::Down {
                reason: reason.clone(),
            },
        };
        let wait = self.failed(now, class);
        out.push(Action::SetLink(state));
        out.push(Action::Report(LinkEvent::ConnectFailed {
            class: class.as_str().to_owned(),
            retry_in_s: wait.as_secs_f64(),
        }));
        let line = note.line(
            &self.peer.broker,
            &reason,
            &fix,
            self.schedule.backoff().rejections(),
            wait,
        );
        log::log!(note.level(), "{line}");
        if note != FailureNote::Failure {
            self.last_rejection = Some(reason);
        }
    }

    /// Records a failure at `now`; the wait until the next attempt.
    fn failed(&mut self, now: Duration, class: Class) -> Duration {
        let due = self.schedule.on_failure(now, class, &mut self.rng);
        due.saturating_sub(now)
    }

    fn on_lost(&mut self, now: Duration, loss: Loss, out: &mut Vec<Action>) {
        let Phase::Up { since } = self.phase else {
            // A marker left from a connection already given up.
            return;
        };
        self.phase = Phase::Down { connecting: false };
        let lived = now.saturating_sub(since);
        let wait = self.failed(now, Class::Transient);
        let reason = match &loss {
            Loss::Disconnected(code) if code.byte() == SESSION_TAKEN_OVER => {
                self.taken_over("disconnect_0x8e", out);
                "session taken over by another client with the same client id".to_owned()
            }
            Loss::Disconnected(code) => {
                format!(
                    "the broker disconnected with reason {} ({})",
                    code.name(),
                    code.number()
                )
            }
            Loss::Dropped => "connection lost".to_owned(),
            Loss::Failed(why) => {
                out.push(Action::Disconnect);
                why.clone()
            }
        };
        if matches!(loss, Loss::Dropped | Loss::Failed(_)) {
            if lived < TAKEOVER_WINDOW {
                // Was it the broker going away, or the broker closing only this connection?
                // A probe now tells: a restarting broker refuses, a takeover leaves it open.
                self.takeover.checking = true;
                if !self.probe_out {
                    self.ask_probe(now, out);
                }
            } else {
                self.takeover.drops = 0;
            }
        }
        out.push(Action::SetLink(LinkState::Down {
            reason: reason.clone(),
        }));
        warn!("MQTT connection lost ({reason}); reconnecting in {wait:.1?}");
        out.push(Action::Report(LinkEvent::Lost { reason }));
    }

    fn taken_over(&mut self, evidence: &str, out: &mut Vec<Action>) {
        warn!(
            "MQTT: the broker closed this connection because another client connected with \
             the same client id \"{}\"; fix: {TAKEOVER_FIX}",
            self.peer.client_id
        );
        out.push(Action::Report(LinkEvent::TakenOver {
            client_id: self.peer.client_id.clone(),
            evidence: evidence.to_owned(),
        }));
    }

    fn on_reachable(&mut self, now: Duration, accepts: bool, out: &mut Vec<Action>) {
        self.probe_out = false;
        if std::mem::take(&mut self.takeover.checking) {
            if accepts {
                self.takeover.drops += 1;
                // Over MQTT 5 too: Mosquitto before 2.0.12 (Debian 12 ships 2.0.11) closes
                // a taken-over connection without the DISCONNECT 0x8E.
                if self.takeover.drops >= TAKEOVER_DROPS {
                    self.takeover.drops = 0;
                    self.taken_over("dropped_while_broker_accepts", out);
                }
            } else {
                self.takeover.drops = 0;
            }
        }
        if accepts
            && self.phase == (Phase::Down { connecting: false })
            && self.schedule.on_reachable(now)
        {
            debug!(
                "MQTT: {} accepts TCP again: connecting now",
                self.peer.broker
            );
        }
    }

    fn push_discovery(&self, out: &mut Vec<Action>) {
        if !self.config.discovery {
            return;
        }
        for m in discovery_messages(&self.config.topics, &self.config.device) {
            out.push(Action::Publish(Publish::new(m.topic, m.payload, QOS, true)));
        }
    }

    /// The latest state, if the loop handed one over yet.
    fn push_state(&self, out: &mut Vec<Action>) {
        let Some(snapshot) = &self.latest else {
            return;
        };
        let topic = self.config.topics.state();
        match StateJson::new(&snapshot.status, self.link_info, snapshot.time).to_json() {
            Ok(json) => out.push(Action::Publish(Publish::new(topic, json, QOS, true))),
            // Not a link failure: reconnecting would not help. The retained state stays the last
            // good one, and the next change or heartbeat tries again.
            Err(e) => {
                error!("MQTT: the state for {topic} cannot be serialised, not published: {e}")
            }
        }
    }

    fn on_message(&mut self, now: Duration, message: Inbound, out: &mut Vec<Action>) {
        if !self.is_up() {
            return;
        }
        let topic = message.topic.as_str();
        if topic == self.config.topics.ha_status() {
            if message.payload == ONLINE.as_bytes() {
                info!("Home Assistant is online: publishing discovery and state again");
                self.push_discovery(out);
                self.push_state(out);
            }
            return;
        }
        match self.validate(now, &message) {
            Ok(command) => {
                debug!("MQTT command on {topic}: {command:?}");
                out.push(Action::Deliver(InboundCommand {
                    topic: message.topic,
                    command,
                }));
            }
            Err(Some(rejection)) => {
                warn!(
                    "MQTT command on {} refused: {rejection} (payload {})",
                    render_payload(topic.as_bytes()),
                    render_payload(&message.payload)
                );
                self.refuse(topic, &rejection.to_string(), out);
            }
            // A flood: counted, answered once per flood.
            Err(None) => self.link_info.commands_rejected += 1,
        }
    }

    /// `Err(None)`: refused by the rate limiter after the first refusal of a flood.
    fn validate(
        &mut self,
        now: Duration,
        message: &Inbound,
    ) -> Result<heat_core::Command, Option<RejectReason>> {
        let Some(which) = CommandTopic::from_topic(self.config.topics.prefix(), &message.topic)
        else {
            return Err(Some(RejectReason::Rejection(
                CommandRejection::UnknownTopic,
            )));
        };
        if message.retained {
            return Err(Some(RejectReason::Retained {
                topic: self.config.topics.command(which),
            }));
        }
        match self.limiter.check(which, now) {
            RateDecision::Allow => {}
            RateDecision::Refuse { first: true, .. } => {
                let limit = self.limiter.limit();
                return Err(Some(RejectReason::Rejection(
                    CommandRejection::RateLimited {
                        burst: limit.burst,
                        every: limit.every,
                    },
                )));
            }
            RateDecision::Refuse { first: false, .. } => return Err(None),
        }
        parse_for(which, &message.payload).map_err(|r| Some(RejectReason::Rejection(r)))
    }

    fn refuse(&mut self, topic: &str, reason: &str, out: &mut Vec<Action>) {
        self.link_info.commands_rejected += 1;
        if self.is_up() {
            out.push(Action::Answer(Answer::new(topic, false, reason)));
        }
    }

    /// The message that carries `answer` on the result topic.
    pub fn answer_message(&self, answer: &Answer) -> Option<Publish> {
        let topic = self.config.topics.result();
        match answer.to_json() {
            Ok(json) => Some(Publish::new(topic, json, ANSWER_QOS, false)),
            Err(e) => {
                error!(
                    "MQTT: the answer to {} cannot be serialised, not published on {topic}: {e}",
                    answer.topic
                );
                None
            }
        }
    }
}

/// How the session logs a failed connection attempt: decided by [`FailureNote::classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureNote {
    /// The first authentication or configuration rejection since the last connection, or one
    /// with a new reason: logged at error, with the fix.
    FirstRejection,
    /// The same rejection again: logged at warn, since the error and its fix are already in the
    /// log and the link state.
    RepeatedRejection,
    /// A network or unknown failure: logged at warn.
    Failure,
}

impl FailureNote {
    /// `last_rejection` is the reason of the previous rejection since the last successful
    /// connection (None when there was none); `reason` is this failure's.
    pub(crate) fn classify(class: Class, last_rejection: Option<&str>, reason: &str) -> Self {
        if !matches!(class, Class::AuthRejected | Class::Configuration) {
            // Transient, unknown, and any class mqtt-auth adds later.
            FailureNote::Failure
        } else if last_rejection == Some(reason) {
            FailureNote::RepeatedRejection
        } else {
            FailureNote::FirstRejection
        }
    }

    /// The level the session logs it at.
    pub(crate) fn level(self) -> log::Level {
        match self {
            FailureNote::FirstRejection => log::Level::Error,
            FailureNote::RepeatedRejection | FailureNote::Failure => log::Level::Warn,
        }
    }

    /// The log line for a failed attempt to `addr`: `rejections` is the count of rejections in
    /// a row including this one, `wait` the time until the next attempt.
    pub(crate) fn line(
        self,
        addr: &str,
        reason: &str,
        fix: &str,
        rejections: u32,
        wait: Duration,
    ) -> String {
        match self {
            FailureNote::FirstRejection => format!(
                "MQTT connection to {addr} refused: {reason}; fix: {fix}. The plant keeps being \
                 controlled without MQTT; next attempt in {wait:.1?}"
            ),
            FailureNote::RepeatedRejection => format!(
                "MQTT connection to {addr} still refused ({rejections} in a row): {reason}; \
                 next attempt in {wait:.1?}; fix: {fix}"
            ),
            FailureNote::Failure => {
                format!("MQTT connection to {addr} failed: {reason}; next attempt in {wait:.1?}")
            }
        }
    }
}

/// Why the session refused a command itself.
#[derive(Debug)]
pub(crate) enum RejectReason {
    Rejection(CommandRejection),
    /// A retained command: stale by the time it is delivered, and delivered again on every
    /// reconnect until someone clears it.
    Retained {
        /// The command topic it is retained on.
        topic: String,
    },
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::Rejection(r) => r.fmt(f),
            RejectReason::Retained { topic } => write!(
                f,
                "retained commands are ignored; publish without the retain flag, and clear this \
                 one with: mosquitto_pub -r -n -t {} (plus your broker options)",
                shell_quoted(topic)
            ),
        }
    }
}

/// `text` in single quotes for a POSIX shell. A command topic only holds letters, digits, `_`,
/// `-` and `/` (the prefix is validated), but the quoting does not rely on it.
pub(crate) fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests;
