//! The MQTT session thread: one paho client with the stable client id, connected through
//! `mqtt_auth`, reconnected by `mqtt_auth`'s [`RetrySchedule`] (paho's automatic reconnect stays
//! off), never waited on by the control loop.
//!
//! The control loop holds a [`SessionHandle`]: [`SessionHandle::publish_state`] puts the latest
//! [`Status`] into a one-value slot (older snapshots are overwritten, never queued),
//! [`SessionHandle::report`] answers a command once the controller has applied or refused it, and
//! [`SessionHandle::link`] tells the status display how the link is. Validated commands go into
//! a bounded channel of the caller's choosing ([`Session::spawn_into`] lets them share the
//! control loop's own input channel); when it is full the command is refused as "controller
//! busy".
//!
//! The thread never polls: it sleeps in one `select` over paho's inbox, the answers and a wake-up
//! channel the handle signals on every new state, with a timeout only for the next heartbeat or
//! reconnect attempt, and, while the broker refuses the session and a [`Reloader`] names a
//! password file, at most [`FILE_CHECK_INTERVAL`] to `stat` that file. A changed file, or a
//! [`ReloadTrigger::request`] (SIGHUP), reads the credentials again and makes the next attempt due
//! at once ([`RetrySchedule::retry_now`]); a failed reload keeps the credentials in use.
//!
//! A command crosses paho's callback thread, this thread and the control loop, and its new state
//! goes out as soon as the loop has applied it.
//!
//! On every (re)connect the session publishes `online` (retained, QoS 1), subscribes again to the
//! command filter `<prefix>/+/set` and `<discovery_prefix>/status` (a clean session forgets
//! subscriptions), and publishes discovery and the latest state. Home Assistant announcing
//! `online` triggers discovery and state again. Otherwise it publishes every state the loop
//! hands over, once: the one throttle (changed, or the heartbeat) is the loop's (heat-loop).

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
        mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError},
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant, SystemTime},
};

use crossbeam_channel::{self as channel, select};
use heat_core::{Command, CommandError, CommandOutcome, Pending, Status};
use heat_state::{Answer, LinkEvent, LinkInfo, StateJson, log::LINK_TARGET};
use log::{debug, error, info, warn};
use mqtt_auth::{
    BrokerSettings, Class, QoS, RetryPolicy, RetrySchedule,
    connect::{Identity, LastWill, MqttClient, connect, create_client},
    reach,
};
use paho_mqtt as paho;

use crate::{
    command::{CommandRejection, RateDecision, RateLimit, RateLimiter, parse_for, render_payload},
    discovery::{Device, discovery_messages},
    reload::{FILE_CHECK_INTERVAL, FileStamp, ReloadTrigger, Reloader, Trigger},
    topics::{CommandTopic, OFFLINE, ONLINE, Topics},
};

/// Default capacity of the command channel.
pub const DEFAULT_COMMAND_CAPACITY: usize = 64;
/// Default interval at which an unchanged state is published again.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(60);
/// Shortest sleep while waiting to look at the password file again.
const MIN_FILE_WAIT: Duration = Duration::from_millis(10);
/// Capacity of the queue of answers from [`SessionHandle::report`].
const ANSWER_CAPACITY: usize = 64;
/// QoS of availability, state, discovery, subscriptions and the discovered entities.
pub(crate) const QOS: QoS = QoS::AtLeastOnce;
/// QoS of command answers: a lost answer is harmless, the state shows the outcome.
const ANSWER_QOS: QoS = QoS::AtMostOnce;

/// How the session behaves. Built with [`SessionConfig::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    topics: Topics,
    device: Device,
    discovery: bool,
    heartbeat: Duration,
    retry: RetryPolicy,
    rate_limit: RateLimit,
    command_capacity: usize,
    reloader: Option<Reloader>,
}

impl SessionConfig {
    /// Defaults: discovery on, heartbeat 60 s, mqtt-auth's default retry policy (1 s → 60 s after
    /// transient failures; 30 s, 1, 2, 5 min, then every 5 min after rejections), 5 commands at
    /// once then one per second per topic, a command channel of 64.
    pub fn new(topics: Topics, device: Device) -> Self {
        Self {
            topics,
            device,
            discovery: true,
            heartbeat: DEFAULT_HEARTBEAT,
            retry: RetryPolicy::default(),
            rate_limit: RateLimit::default(),
            command_capacity: DEFAULT_COMMAND_CAPACITY,
            reloader: None,
        }
    }

    /// Where credentials are read again on [`ReloadTrigger::request`] (SIGHUP) and when its
    /// password file changes. Without one, a reload request only warns.
    pub fn with_reloader(mut self, reloader: Reloader) -> Self {
        self.reloader = Some(reloader);
        self
    }

    /// Publishes Home Assistant discovery (default) or not.
    pub fn with_discovery(mut self, on: bool) -> Self {
        self.discovery = on;
        self
    }

    /// The longest the session thread sleeps without a wake-up (at least a second). It no
    /// longer republishes on its own: the control loop's throttle hands the state over when it
    /// changed or its heartbeat is due, and the session publishes each one handed over.
    pub fn with_heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat.max(Duration::from_secs(1));
        self
    }

    /// The reconnect policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The per-topic command rate limit.
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Capacity of the command channel (at least 1).
    pub fn with_command_capacity(mut self, capacity: usize) -> Self {
        self.command_capacity = capacity.max(1);
        self
    }

    /// The topics.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }
}

/// How the link to the broker is, for the status display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// A connection attempt is under way (or about to be).
    Connecting,
    /// Connected, subscribed, announced.
    Connected,
    /// The broker or the local configuration refused the connection (bad credentials, ACL,
    /// certificate, settings). Retried on the long backoff; the plant keeps being controlled.
    Rejected {
        /// What failed.
        reason: String,
        /// What to do about it.
        fix: String,
    },
    /// Unreachable or lost; retried on the short backoff.
    Down {
        /// What failed.
        reason: String,
    },
    /// The session has ended.
    Stopped,
}

/// A validated command from MQTT, for the control loop.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundCommand {
    /// The topic it came on.
    pub topic: String,
    /// The command, already within heat-core's limits.
    pub command: Command,
}

/// Errors of the session's own lifecycle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session thread could not be started.
    #[error("cannot start the MQTT session thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The session did not finish within the shutdown timeout (typically stuck in a connect
    /// attempt); its thread is left to end on its own.
    #[error("the MQTT session did not stop within {0:?}")]
    ShutdownTimeout(Duration),
    /// The session thread panicked.
    #[error("the MQTT session thread panicked")]
    Panicked,
}

#[derive(Debug, Clone)]
struct Snapshot {
    status: Status,
    time: SystemTime,
    // Not yet published: the loop's throttle already decided it is due.
    fresh: bool,
}

#[derive(Debug)]
struct Shared {
    latest: Mutex<Option<Snapshot>>,
    link: Mutex<LinkState>,
    stop: AtomicBool,
}

impl Shared {
    fn set_link(&self, state: LinkState) {
        *self.link.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }
}

/// Starts sessions. See [`Session::spawn`].
#[derive(Debug)]
pub struct Session(());

impl Session {
    /// Starts the session thread. Returns the handle for the control loop and the receiver of
    /// validated commands (a channel of the configured capacity).
    pub fn spawn(
        config: SessionConfig,
        settings: BrokerSettings,
    ) -> Result<(SessionHandle, Receiver<InboundCommand>), SessionError> {
        let (commands_tx, commands_rx) = mpsc::sync_channel(config.command_capacity);
        let handle = Self::spawn_into(config, settings, commands_tx)?;
        Ok((handle, commands_rx))
    }

    /// Starts the session thread, sending validated commands into `commands` as `T`: the
    /// control loop's own input channel, so a command reaches the loop without another thread
    /// in between. The configured command capacity does not apply; the channel's own does.
    pub fn spawn_into<T>(
        config: SessionConfig,
        settings: BrokerSettings,
        commands: SyncSender<T>,
    ) -> Result<SessionHandle, SessionError>
    where
        T: From<InboundCommand> + Send + 'static,
    {
        let (answers_tx, answers_rx) = channel::bounded(ANSWER_CAPACITY);
        // One pending wake-up is enough: the session reads the latest state when it wakes.
        let (wake_tx, wake_rx) = channel::bounded(1);
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        let shared = Arc::new(Shared {
            latest: Mutex::new(None),
            link: Mutex::new(LinkState::Connecting),
            stop: AtomicBool::new(false),
        });
        let reload = Arc::new(AtomicBool::new(false));
        let watched = config
            .reloader
            .as_ref()
            .and_then(|r| r.0.watched_file())
            .map(|path| {
                let stamp = FileStamp::of(&path);
                (path, stamp)
            });
        let runner = Runner {
            reload: Arc::clone(&reload),
            watched,
            next_file_check: Duration::ZERO,
            limiter: RateLimiter::new(config.rate_limit),
            schedule: RetrySchedule::new(config.retry),
            config,
            settings,
            shared: Arc::clone(&shared),
            commands,
            answers: answers_rx,
            wake: wake_rx,
            link_info: LinkInfo::default(),
            last_published: None,
            last_rejection: None,
            probe: Probe::default(),
            start: Instant::now(),
        };
        let thread = thread::Builder::new()
            .name("mqtt-session".into())
            .spawn(move || {
                runner.run();
                let _ = done_tx.send(());
            })
            .map_err(SessionError::Spawn)?;
        Ok(SessionHandle {
            reload,
            shared,
            answers: answers_tx,
            wake: wake_tx,
            done: done_rx,
            thread: Some(thread),
        })
    }
}

/// The control loop's side of the session. No method waits on the network.
#[derive(Debug)]
pub struct SessionHandle {
    reload: Arc<AtomicBool>,
    shared: Arc<Shared>,
    answers: channel::Sender<Answer>,
    wake: channel::Sender<()>,
    done: Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

impl SessionHandle {
    /// Makes `status` the state to publish. Only the latest snapshot is kept.
    pub fn publish_state(&self, status: Status) {
        let snapshot = Snapshot {
            status,
            time: SystemTime::now(),
            fresh: true,
        };
        *self
            .shared
            .latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(snapshot);
        self.wake();
    }

    /// What asks the session to read its credentials again (for the SIGHUP handler).
    pub fn reload_trigger(&self) -> ReloadTrigger {
        ReloadTrigger {
            flag: Arc::clone(&self.reload),
            wake: self.wake.clone(),
        }
    }

    /// Wakes the session thread; a wake-up already pending covers this one.
    fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// Answers `command` on the result topic with the controller's verdict. Dropped (and logged)
    /// when the answer queue is full.
    /// `pending` is what a minimum ON/OFF time still holds back after the command.
    pub fn report(
        &self,
        command: &InboundCommand,
        result: &Result<CommandOutcome, CommandError>,
        pending: &Pending,
    ) {
        let answer = Answer::from_outcome(&command.topic, result).with_pending(pending);
        if let Err(channel::TrySendError::Full(a) | channel::TrySendError::Disconnected(a)) =
            self.answers.try_send(answer)
        {
            warn!(
                "MQTT answer to {} dropped: the session is busy or stopped",
                a.topic
            );
        }
    }

    /// The link state now.
    pub fn link(&self) -> LinkState {
        self.shared
            .link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Publishes `offline` (retained), disconnects and joins the thread, waiting at most
    /// `timeout`. After a timeout the thread is left to finish on its own.
    pub fn shutdown(mut self, timeout: Duration) -> Result<(), SessionError> {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.wake();
        match self.done.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => match self.thread.take() {
                Some(t) => t.join().map_err(|_| SessionError::Panicked),
                None => Ok(()),
            },
            Err(RecvTimeoutError::Timeout) => {
                warn!("MQTT session did not stop within {timeout:?}; leaving it behind");
                Err(SessionError::ShutdownTimeout(timeout))
            }
        }
    }
}

impl Drop for SessionHandle {
    /// Tells the thread to stop without waiting for it.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.wake();
    }
}

struct Runner<T> {
    config: SessionConfig,
    settings: BrokerSettings,
    shared: Arc<Shared>,
    commands: SyncSender<T>,
    answers: channel::Receiver<Answer>,
    /// Signalled by the handle on every new state and at shutdown.
    wake: channel::Receiver<()>,
    limiter: RateLimiter,
    schedule: RetrySchedule,
    link_info: LinkInfo,
    /// The status last published and when.
    last_published: Option<(Status, Instant)>,
    /// The reason of the last rejection since the last successful connection, to log only the
    /// first of a row at error.
    last_rejection: Option<String>,
    /// The reachability probe: the broker's addresses (resolved once per outage) and when it
    /// last ran.
    probe: Probe,
    start: Instant,
    /// Set by [`ReloadTrigger::request`].
    reload: Arc<AtomicBool>,
    /// The reloader's password file and how it looked when last read.
    watched: Option<(PathBuf, FileStamp)>,
    /// No `stat` of the watched file before this (at most one per [`FILE_CHECK_INTERVAL`],
    /// however often the session wakes).
    next_file_check: Duration,
}

/// The reachability probe's state in the session (mqtt-auth's [`reach`]).
#[derive(Debug, Default)]
struct Probe {
    addrs: Option<Vec<std::net::SocketAddr>>,
    last: Option<Duration>,
}

type Inbox = paho::SyncReceiver<Option<paho::Message>>;

impl<T: From<InboundCommand>> Runner<T> {
    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    /// Sleeps until woken (a new state, shutdown) or `timeout`; answers that arrive meanwhile
    /// are dropped, since they cannot be delivered while disconnected and are not retained.
    fn idle(&self, timeout: Duration) {
        select! {
            // A closed wake channel means the handle is gone; its drop set `stop` first.
            recv(self.wake) -> _ => {}
            recv(self.answers) -> _ => {}
            default(timeout) => {}
        }
    }

    fn will(&self) -> LastWill {
        LastWill {
            topic: self.config.topics.availability(),
            payload: OFFLINE.as_bytes().to_vec(),
            qos: QOS,
            retained: true,
        }
    }

    fn run(mut self) {
        let client = match create_client(&self.settings) {
            Ok(client) => client,
            Err(e) => {
                error!("MQTT client cannot be created: {e}; fix: {}", e.fix());
                self.shared.set_link(LinkState::Rejected {
                    reason: e.to_string(),
                    fix: e.fix(),
                });
                while !self.stopping() {
                    self.idle(Duration::MAX);
                }
                return;
            }
        };
        // Before connecting, or the receiver misses messages.
        let inbox = client.start_consuming();
        let mut connected = false;
        while !self.stopping() {
            self.reload_if_asked(connected);
            if connected {
                connected = self.serve(&client, &inbox);
            } else {
                connected = self.try_connect(&client, &inbox);
            }
        }
        if connected {
            self.go_offline(&client);
        }
        self.shared.set_link(LinkState::Stopped);
        info!("MQTT session stopped");
    }

    /// Waits for the next attempt (or makes it); true when connected and announced.
    fn try_connect(&mut self, client: &MqttClient, inbox: &Inbox) -> bool {
        // Answers cannot be delivered while down; they are not retained anyway.
        while self.answers.try_recv().is_ok() {}
        let now = self.start.elapsed();
        if !self.schedule.is_due(now) {
            if self.schedule.probe_may_end_wait(now) {
                self.probe_or_idle(now);
                return false;
            }
            let mut wait = self.schedule.wait(now);
            if self.refused() && self.watched.is_some() {
                // Wake to look at the password file (a stat) while refused.
                wait = wait.min(self.next_file_check.saturating_sub(now).max(MIN_FILE_WAIT));
            }
            self.idle(wait);
            return false;
        }
        // Anything left from the previous connection (a stale "lost" marker) is dropped.
        let stale = inbox.try_iter().count();
        if stale > 0 {
            debug!("MQTT: dropped {stale} inbound item(s) from the previous connection");
        }
        self.shared.set_link(LinkState::Connecting);
        let will = self.will();
        match connect(client, &self.settings, Identity::Configured, Some(&will)) {
            Ok(_) => match self.announce_new(client) {
                Ok(()) => {
                    self.schedule.on_success(self.start.elapsed());
                    // Resolved again at the next outage (the broker may have moved).
                    self.probe = Probe::default();
                    self.last_rejection = None;
                    self.shared.set_link(LinkState::Connected);
                    info!(
                        "MQTT session connected to {} (connection #{})",
                        self.settings.broker_addr(),
                        self.link_info.connects
                    );
                    log_link(&LinkEvent::Connected {
                        broker: self.settings.broker_addr(),
                        tls: self.settings.tls().is_some(),
                        connects: self.link_info.connects,
                    });
                    true
                }
                Err(e) => {
                    warn!("MQTT: setting up the connection failed: {e}; reconnecting");
                    let _ = client.disconnect(None);
                    let wait = self.failed(
                        Class::Transient,
                        LinkState::Down {
                            reason: format!("setup after connect failed: {e}"),
                        },
                    );
                    log_connect_failed(Class::Transient, wait);
                    false
                }
            },
            Err(e) => {
                let class = e.class();
                let reason = e.to_string();
                let note = FailureNote::classify(class, self.last_rejection.as_deref(), &reason);
                let state = match note {
                    FailureNote::FirstRejection | FailureNote::RepeatedRejection => {
                        LinkState::Rejected {
                            reason: reason.clone(),
                            fix: e.fix(),
                        }
                    }
                    FailureNote::Failure => LinkState::Down {
                        reason: reason.clone(),
                    },
                };
                let wait = self.failed(class, state);
                log_connect_failed(class, wait);
                let line = note.line(
                    &self.settings.broker_addr(),
                    &reason,
                    &e.fix(),
                    self.schedule.backoff().rejections(),
                    wait,
                );
                log::log!(note.level(), "{line}");
                if note != FailureNote::Failure {
                    self.last_rejection = Some(reason);
                }
                false
            }
        }
    }

    /// Waits for the next probe (at most [`reach::PROBE_EVERY`] apart), then probes the broker's
    /// port; when it accepts, the next attempt is due at once. The attempt itself still counts
    /// as one, and one that fails again waits its whole delay (mqtt-auth's `RetrySchedule`).
    fn probe_or_idle(&mut self, now: Duration) {
        let next_probe = self
            .probe
            .last
            .map_or(now, |last| last.saturating_add(reach::PROBE_EVERY));
        if now < next_probe {
            self.idle(self.schedule.wait(now).min(next_probe - now));
            return;
        }
        let addrs = self
            .probe
            .addrs
            .get_or_insert_with(|| reach::resolve(self.settings.host(), self.settings.port()));
        let accepts = reach::port_accepts(addrs, reach::PROBE_TIMEOUT);
        let now = self.start.elapsed();
        self.probe.last = Some(now);
        if accepts && self.schedule.on_reachable(now) {
            debug!(
                "MQTT: {} accepts TCP again: connecting now",
                self.settings.broker_addr()
            );
        }
    }

    /// True while the last attempt was refused (credentials, ACL, settings).
    fn refused(&self) -> bool {
        matches!(
            self.schedule.last_class(),
            Some(Class::AuthRejected | Class::Configuration)
        )
    }

    /// True when the watched password file looks different from when it was last read.
    fn file_changed(&mut self) -> bool {
        let now = self.start.elapsed();
        if now < self.next_file_check {
            return false;
        }
        self.next_file_check = now + FILE_CHECK_INTERVAL;
        match &mut self.watched {
            Some((path, stamp)) => {
                let now = FileStamp::of(path);
                let changed = now != *stamp;
                *stamp = now;
                changed
            }
            None => false,
        }
    }

    /// Reloads on SIGHUP, or while refused when the password file changed.
    fn reload_if_asked(&mut self, connected: bool) {
        let trigger = if self.reload.swap(false, Ordering::SeqCst) {
            Trigger::Signal
        } else if !connected && self.refused() && self.file_changed() {
            Trigger::FileChanged
        } else {
            return;
        };
        let Some(reloader) = self.config.reloader.clone() else {
            warn!(
                "MQTT credentials: reload asked for ({}), but nothing to reload them from",
                trigger.as_str()
            );
            return;
        };
        // What is read now is what the next change is compared with, loaded or not.
        if let Some((path, stamp)) = &mut self.watched {
            *stamp = FileStamp::of(path);
        }
        match reloader.0.load() {
            Ok(credentials) => {
                self.settings = self.settings.clone().with_credentials(credentials);
                // A refusal with the new credentials is a new row: at error, with its fix.
                self.last_rejection = None;
                if connected {
                    info!(
                        "MQTT credentials reloaded ({}); used from the next connection",
                        trigger.as_str()
                    );
                } else {
                    self.schedule.retry_now(self.start.elapsed());
                    info!(
                        "MQTT credentials reloaded ({}); connecting now",
                        trigger.as_str()
                    );
                }
                log_link(&LinkEvent::CredentialsReloaded {
                    trigger: trigger.as_str().to_owned(),
                });
            }
            Err(line) => {
                error!(
                    "MQTT credentials not reloaded ({}): {line}; the credentials in use stay",
                    trigger.as_str()
                );
                log_link(&LinkEvent::CredentialsReloadFailed {
                    trigger: trigger.as_str().to_owned(),
                });
            }
        }
    }

    /// Records a failure; returns the wait until the next attempt.
    fn failed(&mut self, class: Class, state: LinkState) -> Duration {
        let now = self.start.elapsed();
        let due = self.schedule.on_failure(now, class, &mut rand::rng());
        self.shared.set_link(state);
        due.saturating_sub(now)
    }

    /// Counts the connection, then announces it.
    fn announce_new(&mut self, client: &MqttClient) -> Result<(), paho::Error> {
        self.link_info.connects += 1;
        self.announce(client)
    }

    /// `online`, subscriptions, discovery, state: after every connect.
    fn announce(&mut self, client: &MqttClient) -> Result<(), paho::Error> {
        let topics = &self.config.topics;
        publish(client, &topics.availability(), ONLINE, true, QOS)?;
        // One filter for every command topic, so that an unknown one is answered too.
        let filters = [topics.command_filter(), topics.ha_status()];
        client.subscribe_many(&filters, &[QOS.paho(), QOS.paho()])?;
        self.publish_discovery(client)?;
        self.publish_state(client, true)
    }

    fn publish_discovery(&self, client: &MqttClient) -> Result<(), paho::Error> {
        if !self.config.discovery {
            return Ok(());
        }
        for m in discovery_messages(&self.config.topics, &self.config.device) {
            publish(client, &m.topic, &m.payload, true, QOS)?;
        }
        Ok(())
    }

    /// Publishes the latest state if the loop handed over a new one since, or `force` (after a
    /// connect, or Home Assistant coming online). No throttle here: the loop's (heat-loop's
    /// `Throttle`) already decided that a handed-over state is due (changed, or its heartbeat).
    fn publish_state(&mut self, client: &MqttClient, force: bool) -> Result<(), paho::Error> {
        let latest = {
            let mut slot = self
                .shared
                .latest
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let latest = slot.clone();
            if let Some(s) = slot.as_mut() {
                s.fresh = false;
            }
            latest
        };
        let Some(snapshot) = latest else {
            return Ok(());
        };
        if !(force || snapshot.fresh) {
            return Ok(());
        }
        let topic = self.config.topics.state();
        match StateJson::new(&snapshot.status, self.link_info, snapshot.time).to_json() {
            Ok(json) => publish(client, &topic, &json, true, QOS)?,
            // Not a link failure: reconnecting would not help. The retained state stays the last
            // good one, and the next change or heartbeat tries again.
            Err(e) => {
                error!("MQTT: the state for {topic} cannot be serialised, not published: {e}")
            }
        }
        self.last_published = Some((snapshot.status, Instant::now()));
        Ok(())
    }

    /// How long `serve` may sleep: until the next heartbeat.
    fn serve_timeout(&self) -> Duration {
        match &self.last_published {
            Some((_, at)) => self.config.heartbeat.saturating_sub(at.elapsed()),
            None => self.config.heartbeat,
        }
    }

    /// One round while connected: waits for a message, an answer, a new state or the heartbeat,
    /// and handles it. False when the connection is gone.
    fn serve(&mut self, client: &MqttClient, inbox: &Inbox) -> bool {
        let mut answer = None;
        select! {
            recv(inbox) -> item => match item {
                Ok(Some(msg)) => {
                    if let Err(e) = self.on_message(client, &msg) {
                        return self.lost(client, &format!("handling a message failed: {e}"));
                    }
                }
                // paho's "connection lost" marker; `try_connect` drops stale ones.
                Ok(None) | Err(_) => return self.lost(client, "connection lost"),
            },
            recv(self.answers) -> item => answer = item.ok(),
            recv(self.wake) -> _ => {}
            default(self.serve_timeout()) => {}
        }
        // The state first: a command's answer then finds its effect already published.
        if let Err(e) = self.publish_state(client, false) {
            return self.lost(client, &format!("publishing the state failed: {e}"));
        }
        for answer in answer.into_iter().chain(self.answers.try_iter()) {
            if let Err(e) = self.answer(client, &answer) {
                return self.lost(client, &format!("publishing an answer failed: {e}"));
            }
        }
        true
    }

    fn lost(&mut self, client: &MqttClient, why: &str) -> bool {
        if client.is_connected() {
            // A publish failed on a live connection: start over with a clean one.
            let _ = client.disconnect(None);
        }
        let wait = self.failed(
            Class::Transient,
            LinkState::Down {
                reason: why.to_owned(),
            },
        );
        warn!("MQTT connection lost ({why}); reconnecting in {wait:.1?}");
        log_link(&LinkEvent::Lost {
            reason: why.to_owned(),
        });
        false
    }

    fn on_message(&mut self, client: &MqttClient, msg: &paho::Message) -> Result<(), paho::Error> {
        let topic = msg.topic();
        if topic == self.config.topics.ha_status() {
            if msg.payload() == ONLINE.as_bytes() {
                info!("Home Assistant is online: publishing discovery and state again");
                self.publish_discovery(client)?;
                self.publish_state(client, true)?;
            }
            return Ok(());
        }
        let verdict = self.validate(msg);
        match verdict {
            Ok(command) => {
                let inbound = InboundCommand {
                    topic: topic.to_owned(),
                    command,
                };
                match self.commands.try_send(T::from(inbound)) {
                    Ok(()) => {
                        debug!("MQTT command on {topic}: {command:?}");
                        Ok(())
                    }
                    Err(TrySendError::Full(_)) => {
                        warn!("MQTT command on {topic} dropped: the controller's queue is full");
                        self.reject(client, topic, "controller busy: too many pending commands")
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        warn!("MQTT command on {topic} dropped: nobody takes commands");
                        self.reject(client, topic, "the controller does not take commands")
                    }
                }
            }
            Err(Some(rejection)) => {
                warn!(
                    "MQTT command on {} refused: {rejection} (payload {})",
                    render_payload(topic.as_bytes()),
                    render_payload(msg.payload())
                );
                self.reject(client, topic, &rejection.to_string())
            }
            // A flood: counted, answered once per flood.
            Err(None) => {
                self.link_info.commands_rejected += 1;
                Ok(())
            }
        }
    }

    /// `Err(None)`: refused by the rate limiter after the first refusal of a flood.
    fn validate(&mut self, msg: &paho::Message) -> Result<Command, Option<RejectReason>> {
        let Some(which) = CommandTopic::from_topic(self.config.topics.prefix(), msg.topic()) else {
            return Err(Some(RejectReason::Rejection(
                CommandRejection::UnknownTopic,
            )));
        };
        if msg.retained() {
            return Err(Some(RejectReason::Retained {
                topic: self.config.topics.command(which),
            }));
        }
        match self.limiter.check(which, self.start.elapsed()) {
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
        parse_for(which, msg.payload()).map_err(|r| Some(RejectReason::Rejection(r)))
    }

    fn reject(
        &mut self,
        client: &MqttClient,
        topic: &str,
        reason: &str,
    ) -> Result<(), paho::Error> {
        self.link_info.commands_rejected += 1;
        self.answer(client, &Answer::new(topic, false, reason))
    }

    fn answer(&self, client: &MqttClient, answer: &Answer) -> Result<(), paho::Error> {
        let topic = self.config.topics.result();
        match answer.to_json() {
            Ok(json) => publish(client, &topic, &json, false, ANSWER_QOS),
            Err(e) => {
                error!(
                    "MQTT: the answer to {} cannot be serialised, not published on {topic}: {e}",
                    answer.topic
                );
                Ok(())
            }
        }
    }

    fn go_offline(&self, client: &MqttClient) {
        if let Err(e) = publish(
            client,
            &self.config.topics.availability(),
            OFFLINE,
            true,
            QOS,
        ) {
            warn!("MQTT: publishing offline at shutdown failed: {e}");
        }
        if let Err(e) = client.disconnect(None) {
            debug!("MQTT: disconnect at shutdown failed: {e}");
        }
    }
}

/// How the session logs a failed connection attempt: decided by [`FailureNote::classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureNote {
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
    fn classify(class: Class, last_rejection: Option<&str>, reason: &str) -> Self {
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
    fn level(self) -> log::Level {
        match self {
            FailureNote::FirstRejection => log::Level::Error,
            FailureNote::RepeatedRejection | FailureNote::Failure => log::Level::Warn,
        }
    }

    /// The log line for a failed attempt to `addr`: `rejections` is the count of rejections in
    /// a row including this one, `wait` the time until the next attempt.
    fn line(self, addr: &str, reason: &str, fix: &str, rejections: u32, wait: Duration) -> String {
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
enum RejectReason {
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

/// Logs `event` as JSON on heat-state's [`LINK_TARGET`], for tools (the sentences above are
/// for people).
fn log_link(event: &LinkEvent) {
    let level = match event {
        LinkEvent::Connected { .. } | LinkEvent::CredentialsReloaded { .. } => log::Level::Info,
        LinkEvent::ConnectFailed { .. } | LinkEvent::Lost { .. } => log::Level::Warn,
        LinkEvent::CredentialsReloadFailed { .. } => log::Level::Error,
    };
    heat_state::log::emit(LINK_TARGET, level, event.kind(), event);
}

fn log_connect_failed(class: Class, wait: Duration) {
    log_link(&LinkEvent::ConnectFailed {
        class: class.as_str().to_owned(),
        retry_in_s: wait.as_secs_f64(),
    });
}

/// `text` in single quotes for a POSIX shell. A command topic only holds letters, digits, `_`,
/// `-` and `/` (the prefix is validated), but the quoting does not rely on it.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn publish(
    client: &MqttClient,
    topic: &str,
    payload: &str,
    retained: bool,
    qos: QoS,
) -> Result<(), paho::Error> {
    let msg = if retained {
        paho::Message::new_retained(topic, payload, qos.paho())
    } else {
        paho::Message::new(topic, payload, qos.paho())
    };
    client.publish(msg)
}

#[cfg(test)]
mod tests;
