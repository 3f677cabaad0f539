//! End to end: the controller process (release build) against a private Mosquitto on loopback,
//! without TLS, next to the broker's own round trip measured in the same run.
//!
//! Prints: the broker's round trip (a client publishing QoS 1 to itself), command → state echo
//! through the controller, startup → first state, the controller's resident and private memory
//! after 1000 commands, and its CPU time per hour of steady operation (an idle real-time window
//! for the fixed costs plus an accelerated simulation for the cost per tick). With `BENCH_RECORDS`
//! set it also appends these figures, with their goals, for `cargo xtask bench` (see
//! `bench-report`).

#![allow(clippy::print_stdout)]

mod support;

use std::{
    fs, thread,
    time::{Duration, Instant},
};

use bench_report::{
    Recorder, Stats,
    proc::{Memory, kb_field},
};
use mqtt_auth::{
    QoS,
    connect::{MqttClient, Publish},
};

use crate::support::{Ctl, Inbox, WAIT, broker, recv_until, tester};

const ROUNDS: usize = 1000;
/// Time between the echo's commands (the session allows one per topic per second; 18 topics
/// round-robin), and between the paced round trips.
const PACE: Duration = Duration::from_millis(60);
const COMMANDS: usize = 1000;
const STARTS: usize = 10;
const CPU_WINDOW: Duration = Duration::from_secs(20);

/// Parameters toggled by the echo series, each between its default and a neighbour that keeps
/// every cross-field rule.
const TOGGLES: [(&str, f64, f64); 18] = [
    ("dt_start", 8.0, 8.5),
    ("dt_stop", 4.0, 4.5),
    ("eco_dt_start", 10.0, 10.5),
    ("eco_dt_stop", 6.0, 6.5),
    ("collector_cooling", 90.0, 91.0),
    ("collector_cooling_hysteresis", 4.0, 4.5),
    ("boil_stop", 150.0, 155.0),
    ("boil_stop_hysteresis", 10.0, 11.0),
    ("tank_max", 90.0, 89.0),
    ("tank_max_hysteresis", 5.0, 5.5),
    ("heater_setpoint", 60.0, 59.0),
    ("eco_heater_setpoint", 45.0, 44.0),
    ("heater_hysteresis", 5.0, 5.5),
    ("frost_on", 3.0, 2.5),
    ("frost_off", 5.0, 5.5),
    ("night_cooling_tank", 80.0, 79.0),
    ("night_cooling_hysteresis", 5.0, 5.5),
    ("night_cooling_dt", 5.0, 5.5),
];

/// Prints a row of the table; the summary in milliseconds.
fn row(name: &str, samples: &[Duration]) -> Stats {
    let s = Stats::of_ms(samples);
    println!(
        "{name:<44} {:>8.3} {:>8.3} {:>8.3}   (n = {})",
        s.p50, s.p99, s.max, s.n
    );
    s
}

/// CPU time of every thread of `pid`, seconds: the first field of each thread's
/// `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds (`/proc/<pid>/stat` counts 10 ms ticks,
/// too coarse for a process that sleeps almost all the time). Threads that ended are missed,
/// so this is a lower bound; the controller's threads live as long as it does.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    let ns: u64 = tasks
        .filter_map(|t| fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e9
}

/// Round trips of `client` publishing QoS 1 to itself, `pause` between rounds.
fn round_trips(client: &MqttClient, inbox: &Inbox, pause: Duration) -> Vec<Duration> {
    (0..ROUNDS)
        .map(|i| {
            let payload = i.to_string();
            let start = Instant::now();
            client
                .publish(&Publish::new(
                    "bench/rtt",
                    payload.clone(),
                    QoS::AtLeastOnce,
                    false,
                ))
                .unwrap();
            let rtt = recv_until(inbox, WAIT, "round trip", |m| {
                m.payload() == payload.as_bytes()
            }) - start;
            thread::sleep(pause.saturating_sub(start.elapsed()));
            rtt
        })
        .collect()
}

fn main() {
    let rec = Recorder::from_env("e2e");
    let broker = broker();
    let port = broker.port();
    println!(
        "{:<44} {:>8} {:>8} {:>8}",
        "series", "p50 ms", "p99 ms", "max ms"
    );

    // 1. The broker's own round trip: QoS 1 to a topic this client is subscribed to; back to
    //    back, and paced like the echo's commands below. Paced, every round starts with idle
    //    threads and CPUs, whose wake-up latency (large in a VM) the echo pays several times.
    let (client, inbox) = tester(port, "bench-rtt");
    client
        .subscribe(&["bench/rtt".into()], QoS::AtLeastOnce)
        .unwrap();
    let rtt = row(
        "broker round trip (QoS 1 to itself)",
        &round_trips(&client, &inbox, Duration::ZERO),
    );
    rec.write(rec.stats(
        "rtt",
        "broker round trip (QoS 1, a client to itself), back to back",
        "ms",
        rtt,
    ));
    let rtt_paced = row(
        "broker round trip, one every 60 ms",
        &round_trips(&client, &inbox, PACE),
    );
    rec.write(rec.stats(
        "rtt-paced",
        "broker round trip, one every 60 ms (the echo's pace)",
        "ms",
        rtt_paced,
    ));
    let _ = client.disconnect();

    // 2. Startup to the first state (period 1 s, real time, no probe).
    let (watch, inbox) = tester(port, "bench-start");
    watch
        .subscribe(&["solar_heating/state".into()], QoS::AtLeastOnce)
        .unwrap();
    // Drain the retained state of an earlier run, if any.
    while inbox.recv_timeout(Duration::from_millis(200)).is_ok() {}
    let mut starts = Vec::new();
    for i in 0..STARTS {
        let start = Instant::now();
        let ctl = Ctl::start(port, &format!("bench-ctl-start-{i}"), 1, 1, None, "");
        starts.push(recv_until(&inbox, WAIT, "first state", |m| !m.retained()) - start);
        ctl.stop();
        while inbox.recv_timeout(Duration::from_millis(100)).is_ok() {}
    }
    let startup = row("process start -> first state received", &starts);
    rec.write(
        rec.stats(
            "startup",
            "controller start → first state received",
            "ms",
            startup,
        )
        .goal("p50 ≤ 30 ms", startup.p50 <= 30.0),
    );

    // 3. Command -> state echo, 1000 commands; period 30 s in real time, so ticks rarely
    //    publish in between and every echo is the command's own.
    let ctl = Ctl::start(port, "bench-ctl-echo", 30, 1, None, "");
    recv_until(&inbox, WAIT, "first state", |m| !m.retained());
    let mut echo = Vec::with_capacity(COMMANDS);
    for i in 0..COMMANDS {
        let (name, a, b) = TOGGLES[i % TOGGLES.len()];
        let parameter: heat_core::Parameter = name.parse().expect("a settable parameter");
        let value = if (i / TOGGLES.len()).is_multiple_of(2) {
            b
        } else {
            a
        };
        let began = Instant::now();
        watch
            .publish(&Publish::new(
                format!("solar_heating/{name}/set"),
                value.to_string(),
                QoS::AtLeastOnce,
                false,
            ))
            .unwrap();
        let got = recv_until(&inbox, WAIT, "echo", |m| {
            serde_json::from_slice::<heat_state::StateJson>(m.payload())
                .ok()
                .and_then(|v| v.parameter(parameter))
                == Some(value)
        });
        echo.push(got - began);
        // One command per topic per second at most: the session's rate limit.
        thread::sleep(PACE.saturating_sub(began.elapsed()));
    }
    let echo = row("command -> state echo via heat-controller", &echo);
    // Judged against both round trips: the paced one shares the echo's conditions.
    let goal_echo = 2.0 * rtt_paced.p99 + 1.0;
    let goal_echo_b2b = 2.0 * rtt.p99 + 1.0;
    rec.write(
        rec.stats(
            "echo",
            "command → state echo via heat-controller",
            "ms",
            echo,
        )
        .goal(
            format!("p99 ≤ 2 × paced broker p99 + 1 ms = {goal_echo:.3} ms"),
            echo.p99 <= goal_echo,
        ),
    );
    rec.write(
        rec.value(
            "echo-p99-b2b",
            "command → state echo p99, against the back-to-back round trip",
            "ms",
            echo.p99,
        )
        .goal(
            format!("≤ 2 × back-to-back broker p99 + 1 ms = {goal_echo_b2b:.3} ms"),
            echo.p99 <= goal_echo_b2b,
        ),
    );

    let pid = ctl.pid();
    let memory = Memory::of(pid);
    let (rss, anon) = (memory.map(|m| m.vm_rss), memory.map(|m| m.anonymous));
    let dirty = fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|rollup| kb_field(&rollup, "Private_Dirty"));

    // 4. CPU: the echo controller idles in real time (period 30 s) while a second one runs the
    //    same loop 1000× faster; both measured over the same window.
    let fast = Ctl::start(port, "bench-ctl-fast", 30, 1000, None, "");
    thread::sleep(Duration::from_secs(2));
    let (idle0, fast0, t0) = (cpu_secs(pid), cpu_secs(fast.pid()), Instant::now());
    thread::sleep(CPU_WINDOW);
    let (idle1, fast1, window) = (cpu_secs(pid), cpu_secs(fast.pid()), t0.elapsed());
    fast.stop();
    ctl.stop();

    let idle_per_hour = (idle1 - idle0) / window.as_secs_f64() * 3600.0;
    let fast_ticks = window.as_secs_f64() * 1000.0 / 30.0;
    let per_tick = ((fast1 - fast0) - (idle1 - idle0)).max(0.0) / fast_ticks;
    let per_hour = idle_per_hour + per_tick * 120.0;
    let kb = |v: Option<u64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v} kB"));

    println!();
    println!(
        "memory after {COMMANDS} commands: VmRSS {}, Anonymous {}, Private_Dirty {}",
        kb(rss),
        kb(anon),
        kb(dirty)
    );
    println!(
        "CPU: idle (real time, 30 s period) {:.2} s per hour; {:.3} ms per tick (sim at 1000x, \
         {:.0} ticks in {:.1} s); steady operation at 120 ticks/h: {:.2} s CPU per hour",
        idle_per_hour,
        per_tick * 1e3,
        fast_ticks,
        window.as_secs_f64(),
        per_hour
    );
    println!();
    println!(
        "goals: echo p99 {:.3} ms vs 2 x paced broker p99 + 1 ms = {goal_echo:.3} ms ({}), vs \
         2 x back-to-back broker p99 + 1 ms = {goal_echo_b2b:.3} ms ({}); echo p50 {:.3} ms; \
         startup p50 {:.1} ms vs 30 ms ({}); RSS {} vs 7 MB; private {} vs 1.5 MB",
        echo.p99,
        if echo.p99 <= goal_echo {
            "met"
        } else {
            "MISSED"
        },
        if echo.p99 <= goal_echo_b2b {
            "met"
        } else {
            "MISSED"
        },
        echo.p50,
        startup.p50,
        if startup.p50 <= 30.0 { "met" } else { "MISSED" },
        kb(rss),
        kb(anon),
    );

    if let Some(rss) = rss {
        rec.write(
            rec.value(
                "rss",
                &format!("resident memory after {COMMANDS} commands (VmRSS)"),
                "kB",
                rss as f64,
            )
            .goal("≤ 7 MB (7168 kB)", rss <= 7 * 1024),
        );
    }
    if let Some(anon) = anon {
        rec.write(
            rec.value(
                "private",
                "private memory (smaps_rollup Anonymous)",
                "kB",
                anon as f64,
            )
            .goal("≤ 1.5 MB (1536 kB)", anon <= 1536),
        );
    }
    rec.write(rec.value(
        "cpu-hour",
        "CPU per hour of operation (30 s period, simulated plant)",
        "s/h",
        per_hour,
    ));
    rec.write(rec.value(
        "cpu-tick",
        "CPU per control tick (simulated plant at 1000×)",
        "ms",
        per_tick * 1e3,
    ));
}
