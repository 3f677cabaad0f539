//! Small decisions of startup.

use std::path::Path;

use std::error::Error as _;

use super::{ConfigFailure, config_failure, lock_path};

#[test]
fn a_simulation_at_the_default_lock_path_locks_in_the_temp_dir() {
    let default = Path::new(heat_config::DEFAULT_LOCK_FILE);
    assert_eq!(lock_path(default, false), default);
    assert!(lock_path(default, true).starts_with(std::env::temp_dir()));
    let custom = Path::new("/tmp/x/lock");
    assert_eq!(lock_path(custom, true), custom);
}

/// A cause with a cause of its own, as a settings error wrapping an IO error would be.
#[derive(Debug, thiserror::Error)]
#[error("config file /etc/heat/heat.toml cannot be read")]
struct Unreadable(#[source] std::io::Error);

#[test]
fn a_config_failure_keeps_its_source_chain_and_still_decides_exit_2() {
    let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
    let err = config_failure(Unreadable(io));
    assert!(err.is::<ConfigFailure>());
    assert_eq!(
        format!("{err:#}"),
        "configuration error: config file /etc/heat/heat.toml cannot be read: permission denied"
    );
    // Context added on the way up does not hide it from main's exit-code decision.
    let err = err.context("startup");
    assert!(err.is::<ConfigFailure>());
    let failure = err.downcast_ref::<ConfigFailure>().unwrap();
    let cause = failure.source().expect("the cause is the source");
    assert!(cause.is::<Unreadable>(), "{cause}");
    assert!(failure.cause().is::<Unreadable>());
    let root = cause.source().expect("the cause keeps its own source");
    assert_eq!(root.to_string(), "permission denied");
}

#[test]
fn a_checks_refusal_is_a_config_failure_with_the_settings_error_as_source() {
    let dir = tempfile::tempdir().unwrap();
    // No MQTT credentials at all: the settings do not load.
    let sources = heat_config::Sources::new(dir.path());
    let failure = crate::checks::check(&sources, true).unwrap_err();
    let cause = failure.source().expect("the settings error is kept");
    assert!(cause.is::<heat_config::ConfigError>(), "cause is {cause:?}");
    let expected = format!("configuration error: {cause}");
    assert_eq!(format!("{:#}", anyhow::Error::new(failure)), expected);
}
