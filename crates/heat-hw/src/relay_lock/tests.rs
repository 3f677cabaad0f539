//! The lock is exclusive, names its holder, creates its directory and is free again once
//! released.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::Path,
};

use super::{RelayLock, RelayLockError, read_pid};

fn open(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap()
}

#[test]
fn creates_its_directory_writes_the_pid_and_clears_it_on_release() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/heat-controller/lock");
    let lock = RelayLock::acquire(&path).unwrap();
    assert_eq!(lock.path(), path);
    let mut other = open(&path);
    assert_eq!(read_pid(&mut other), Some(std::process::id()));
    assert!(other.try_lock().is_err(), "the lock must be exclusive");
    lock.release();
    other.try_lock().unwrap();
    assert_eq!(read_pid(&mut other), None);
}

#[test]
fn a_second_holder_in_this_process_is_refused_then_admitted_after_release() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock");
    let first = RelayLock::acquire(&path).unwrap();
    match RelayLock::acquire(&path) {
        Err(RelayLockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("expected Held, got {other:?}"),
    }
    drop(first);
    RelayLock::acquire(&path).unwrap();
}

#[test]
fn is_refused_while_held_and_names_the_pid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock");
    let mut holder = open(&path);
    holder.try_lock().unwrap();
    holder.write_all(b"4242\n").unwrap();
    let err = RelayLock::acquire(&path).unwrap_err();
    assert!(
        matches!(
            err,
            RelayLockError::Held {
                pid: Some(4242),
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("pid 4242"), "{text}");
    assert!(text.contains("stop it first"), "{text}");
    // The refused attempt leaves the holder's pid in place.
    assert_eq!(read_pid(&mut holder), Some(4242));
    holder.set_len(0).unwrap();
    let err = RelayLock::acquire(&path).unwrap_err();
    assert!(err.to_string().contains("no pid in the file"), "{err}");
}

#[test]
fn an_unusable_path_is_an_io_error_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "not a directory").unwrap();
    let err = RelayLock::acquire(&file.join("lock")).unwrap_err();
    assert!(matches!(err, RelayLockError::Io { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("cannot lock"), "{text}");
    assert!(text.contains("controller.lock_file"), "{text}");
}
