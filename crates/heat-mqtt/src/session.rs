//! The MQTT session thread: one paho client with the stable client id, connected through
//! `mqtt_auth`, reconnected by `mqtt_auth`'s `RetrySchedule` (paho's automatic reconnect stays
//! off), never waited on by the control loop.
//!
//! Two halves, in rumqttc's shape: the pure [`SessionState`] (`session/machine.rs`) decides
//! everything (when to connect and probe, what a connection announces, which messages become
//! commands, what is answered, how the link is and what is logged), and the thin driver here
//! turns paho's inbox, the handle's hand-overs and the clock into its [`Event`]s and executes its
//! [`Action`]s. The machine is tested as tables of events and actions; the driver against a real
//! Mosquitto (`tests/it`).
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
//! channel the handle signals on every new state, with a timeout only for the machine's next
//! [`Action::WakeAt`] (the next attempt or probe, or, while refused with a watched password file,
//! the next `stat` of it). A changed file, or a [`ReloadTrigger::request`] (SIGHUP), reads the
//! credentials again and makes the next attempt due at once; a failed reload keeps the
//! credentials in use.
//!
//! A command crosses paho's callback thread, this thread and the control loop, and its new state
//! goes out as soon as the loop has applied it.

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
use heat_state::{Answer, LinkEvent, log::LINK_TARGET};
use log::{debug, error, warn};
use mqtt_auth::{
    BrokerSettings, RetryPolicy,
    connect::{Identity, Incoming, LastWill, MqttClient, connect, create_client},
    reach,
};

use crate::{
    command::RateLimit,
    discovery::Device,
    reload::{FileStamp, ReloadTrigger, Reloader, Trigger},
    topics::{OFFLINE, Topics},
};

mod machine;

pub(crate) use machine::QOS;
pub use machine::{
    Action, Event, Inbound, Loss, MachineConfig, Peer, Refusal, SessionState, TAKEOVER_FIX,
    TAKEOVER_WINDOW, Undelivered,
};

/// Default capacity of the command channel.
pub const DEFAULT_COMMAND_CAPACITY: usize = 64;
/// Capacity of the queue of answers from [`SessionHandle::report`].
const ANSWER_CAPACITY: usize = 64;

/// How the session behaves. Built with [`SessionConfig::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    topics: Topics,
    device: Device,
    discovery: bool,
    retry: RetryPolicy,
    rate_limit: RateLimit,
    command_capacity: usize,
    reloader: Option<Reloader>,
}

impl SessionConfig {
    /// Defaults: discovery on, mqtt-auth's default retry policy (1 s → 60 s after
    /// transient failures; 30 s, 1, 2, 5 min, then every 5 min after rejections), 5 commands at
    /// once then one per second per topic, a command channel of 64.
    pub fn new(topics: Topics, device: Device) -> Self {
        Self {
            topics,
            device,
            discovery: true,
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

/// A status the loop handed over and the session has not taken yet.
#[derive(Debug, Clone)]
struct Snapshot {
    status: Status,
    time: SystemTime,
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
        let peer = Peer {
            broker: settings.broker_addr(),
            tls: settings.tls().is_some(),
            client_id: settings.client_id().as_str().to_owned(),
        };
        let machine = SessionState::new(
            MachineConfig {
                topics: config.topics.clone(),
                device: config.device.clone(),
                discovery: config.discovery,
                retry: config.retry,
                rate_limit: config.rate_limit,
                watch_password_file: watched.is_some(),
            },
            peer,
            rand::random(),
        );
        let driver = Driver {
            machine,
            availability: config.topics.availability(),
            reloader: config.reloader,
            settings,
            shared: Arc::clone(&shared),
            commands,
            answers: answers_rx,
            wake: wake_rx,
            reload: Arc::clone(&reload),
            watched,
            probe_addrs: None,
            wake_at: None,
            start: Instant::now(),
        };
        let thread = thread::Builder::new()
            .name("mqtt-session".into())
            .spawn(move || {
                driver.run();
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

/// The thin IO half of the session: it turns paho's inbox, the handle's hand-overs and the
/// clock into [`Event`]s for the [`SessionState`], and executes its [`Action`]s.
struct Driver<T> {
    machine: SessionState,
    settings: BrokerSettings,
    reloader: Option<Reloader>,
    shared: Arc<Shared>,
    commands: SyncSender<T>,
    answers: channel::Receiver<Answer>,
    /// Signalled by the handle on every new state, on a reload request and at shutdown.
    wake: channel::Receiver<()>,
    /// Set by [`ReloadTrigger::request`].
    reload: Arc<AtomicBool>,
    /// The reloader's password file and how it looked when last read.
    watched: Option<(PathBuf, FileStamp)>,
    /// The broker's addresses for the reachability probe, resolved once per outage.
    probe_addrs: Option<Vec<std::net::SocketAddr>>,
    /// The next [`Action::WakeAt`], if any.
    wake_at: Option<Duration>,
    /// The availability topic, for the last will.
    availability: String,
    start: Instant,
}

impl<T: From<InboundCommand>> Driver<T> {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
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
                    let _ = self.wake.recv();
                }
                self.shared.set_link(LinkState::Stopped);
                return;
            }
        };
        self.feed(&client, Event::Tick);
        while !self.stopping() {
            let event = self.next_event(&client);
            if let Some(event) = event {
                self.feed(&client, event);
            }
        }
        self.feed(&client, Event::Stop);
    }

    /// Waits for the next event: a message or the end of the connection, an answer, a new
    /// state, a reload request, or the next wake-up time.
    fn next_event(&mut self, client: &MqttClient) -> Option<Event> {
        if self.reload.swap(false, Ordering::SeqCst) {
            return self.reload_credentials(Trigger::Signal);
        }
        if let Some(event) = self.take_status() {
            return Some(event);
        }
        let timeout = self
            .wake_at
            .map_or(Duration::MAX, |at| at.saturating_sub(self.now()));
        select! {
            recv(client.inbox()) -> item => match item {
                Ok(Incoming::Message { topic, payload, retained }) => {
                    Some(Event::Message(Inbound { topic, payload, retained }))
                }
                Ok(Incoming::Lost) => {
                    debug!("MQTT inbox: connection lost");
                    Some(Event::Lost(Loss::Dropped))
                }
                Ok(Incoming::Disconnected(code)) => {
                    debug!("MQTT inbox: DISCONNECT from the broker, reason {}", code.number());
                    Some(Event::Lost(Loss::Disconnected(code)))
                }
                Err(_) => Some(Event::Lost(Loss::Dropped)),
            },
            recv(self.answers) -> item => {
                // The state first: an answer then finds its command's effect already published.
                if let Some(status) = self.take_status() {
                    self.feed(client, status);
                }
                item.ok().map(Event::Answer)
            },
            // A closed wake channel means the handle is gone; its drop set `stop` first.
            recv(self.wake) -> _ => self.take_status(),
            default(timeout) => {
                self.wake_at = None;
                Some(Event::Tick)
            }
        }
    }

    /// The state the loop handed over since the last look, if any.
    fn take_status(&self) -> Option<Event> {
        let mut slot = self
            .shared
            .latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.take()
            .map(|snapshot| Event::NewStatus(Box::new(snapshot.status), snapshot.time))
    }

    /// Hands `event` to the machine and executes what it says; the results of actions (a
    /// connect, a probe, a failed publish) go back in as events.
    fn feed(&mut self, client: &MqttClient, event: Event) {
        let mut pending = std::collections::VecDeque::from([event]);
        while let Some(event) = pending.pop_front() {
            let actions = self.machine.handle(self.now(), event);
            for action in actions {
                let Some(result) = self.execute(client, action) else {
                    continue;
                };
                let failed = matches!(result, Event::Lost(Loss::Failed(_)));
                pending.push_back(result);
                if failed {
                    // The rest of this batch was for a connection that is gone: the machine
                    // decides anew from the failure.
                    break;
                }
            }
        }
    }

    /// Executes one action; an event when its result is news for the machine.
    fn execute(&mut self, client: &MqttClient, action: Action) -> Option<Event> {
        match action {
            Action::Connect => Some(self.connect(client)),
            Action::Publish(message) => client.publish(&message).err().map(|e| {
                Event::Lost(Loss::Failed(format!(
                    "publishing on {} failed: {e}",
                    message.topic
                )))
            }),
            Action::Subscribe(filters) => client
                .subscribe(&filters, QOS)
                .err()
                .map(|e| Event::Lost(Loss::Failed(format!("subscribing failed: {e}")))),
            Action::Deliver(command) => {
                let topic = command.topic.clone();
                match self.commands.try_send(T::from(command)) {
                    Ok(()) => None,
                    Err(TrySendError::Full(_)) => Some(Event::Undelivered {
                        topic,
                        why: Undelivered::Busy,
                    }),
                    Err(TrySendError::Disconnected(_)) => Some(Event::Undelivered {
                        topic,
                        why: Undelivered::Closed,
                    }),
                }
            }
            Action::Answer(answer) => {
                let message = self.machine.answer_message(&answer)?;
                client
                    .publish(&message)
                    .err()
                    .map(|e| Event::Lost(Loss::Failed(format!("publishing an answer failed: {e}"))))
            }
            Action::SetLink(state) => {
                self.shared.set_link(state);
                None
            }
            Action::WakeAt(at) => {
                self.wake_at = Some(at);
                None
            }
            Action::Probe => {
                let addrs = self.probe_addrs.get_or_insert_with(|| {
                    reach::resolve(self.settings.host(), self.settings.port())
                });
                Some(Event::Reachable(reach::port_accepts(
                    addrs,
                    reach::PROBE_TIMEOUT,
                )))
            }
            Action::CheckPasswordFile => {
                let (path, stamp) = self.watched.as_mut()?;
                let now = FileStamp::of(path);
                if now == *stamp {
                    return None;
                }
                self.reload_credentials(Trigger::FileChanged)
            }
            Action::Disconnect => {
                if client.is_connected()
                    && let Err(e) = client.disconnect()
                {
                    debug!("MQTT: disconnect failed: {e}");
                }
                None
            }
            Action::Report(event) => {
                log_link(&event);
                None
            }
        }
    }

    fn connect(&mut self, client: &MqttClient) -> Event {
        // Anything left from the previous connection (a stale "lost" marker) is dropped.
        let stale = client.inbox().try_iter().count();
        if stale > 0 {
            debug!("MQTT: dropped {stale} inbound item(s) from the previous connection");
        }
        let will = LastWill {
            topic: self.availability.clone(),
            payload: OFFLINE.as_bytes().to_vec(),
            qos: QOS,
            retained: true,
        };
        match connect(client, &self.settings, Identity::Configured, Some(&will)) {
            Ok(connected) => {
                // Resolved again at the next outage (the broker may have moved).
                self.probe_addrs = None;
                Event::Connected {
                    session_present: connected.session_present,
                }
            }
            Err(e) => Event::ConnectFailed(Refusal {
                class: e.class(),
                reason: e.to_string(),
                fix: e.fix(),
            }),
        }
    }

    /// Reads the credentials again; the event that tells the machine how it went.
    fn reload_credentials(&mut self, trigger: Trigger) -> Option<Event> {
        let Some(reloader) = self.reloader.clone() else {
            warn!(
                "MQTT credentials: reload asked for ({}), but nothing to reload them from",
                trigger.as_str()
            );
            return None;
        };
        // What is read now is what the next change is compared with, loaded or not.
        if let Some((path, stamp)) = &mut self.watched {
            *stamp = FileStamp::of(path);
        }
        Some(match reloader.0.load() {
            Ok(credentials) => {
                self.settings = self.settings.clone().with_credentials(credentials);
                Event::CredentialsReloaded(trigger)
            }
            Err(line) => Event::CredentialsReloadFailed(trigger, line),
        })
    }
}

/// Logs `event` as JSON on heat-state's [`LINK_TARGET`], for tools (the machine's sentences are
/// for people).
fn log_link(event: &LinkEvent) {
    let level = match event {
        LinkEvent::Connected { .. } | LinkEvent::CredentialsReloaded { .. } => log::Level::Info,
        LinkEvent::ConnectFailed { .. } | LinkEvent::Lost { .. } | LinkEvent::TakenOver { .. } => {
            log::Level::Warn
        }
        LinkEvent::CredentialsReloadFailed { .. } => log::Level::Error,
    };
    heat_state::log::emit(LINK_TARGET, level, event.kind(), event);
}

#[cfg(test)]
mod tests;
