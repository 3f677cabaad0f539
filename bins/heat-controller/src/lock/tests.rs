//! The lock file is exclusive, names its holder and is free again once released.

use super::{LockError, LockFile};

#[test]
fn a_second_holder_is_refused_with_the_pid_then_admitted_after_release() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/heat-controller/lock");
    let first = LockFile::acquire(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().trim(),
        std::process::id().to_string()
    );
    match LockFile::acquire(&path) {
        Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("expected Held, got {other:?}"),
    }
    first.release();
    let again = LockFile::acquire(&path).unwrap();
    assert_eq!(again.path(), path);
}

#[test]
fn an_unwritable_place_is_an_io_error_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let err = LockFile::acquire(&blocker.join("lock")).unwrap_err();
    assert!(matches!(err, LockError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("controller.lock_file"), "{err}");
}
