//! The file stamp notices a rewrite, a replacement and a removal.

use std::{
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use super::*;

#[test]
fn the_stamp_changes_with_size_mtime_inode_and_presence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mqtt_password");
    assert_eq!(FileStamp::of(&path), FileStamp::Absent);
    std::fs::write(&path, "first\n").unwrap();
    let first = FileStamp::of(&path);
    assert_ne!(first, FileStamp::Absent);
    assert_eq!(FileStamp::of(&path), first, "unchanged file, same stamp");
    // Same size, later mtime.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&path, "secnd\n").unwrap();
    let rewritten = FileStamp::of(&path);
    assert_ne!(rewritten, first);
    // Replaced by rename: a new inode.
    let other = dir.path().join("new");
    std::fs::write(&other, "third!\n").unwrap();
    std::fs::rename(&other, &path).unwrap();
    let replaced = FileStamp::of(&path);
    assert_ne!(replaced, rewritten);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(FileStamp::of(&path), FileStamp::Absent);
}

#[test]
fn a_request_sets_the_flag_and_wakes_once() {
    let (wake, woken) = crossbeam_channel::bounded(1);
    let trigger = ReloadTrigger {
        flag: Arc::new(AtomicBool::new(false)),
        wake,
    };
    trigger.request();
    trigger.request();
    assert!(trigger.flag.load(Ordering::SeqCst));
    assert_eq!(woken.try_iter().count(), 1);
}

#[test]
fn triggers_have_stable_names() {
    assert_eq!(Trigger::Signal.as_str(), "sighup");
    assert_eq!(Trigger::FileChanged.as_str(), "file_changed");
}
