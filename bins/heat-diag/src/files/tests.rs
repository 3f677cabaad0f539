//! Unit tests of the file helpers.

use super::*;

#[test]
fn write_refuses_existing_files_unless_forced_and_sets_the_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    write(&path, b"one", 0o600, false).unwrap();
    assert_eq!(loose_bits(&path).unwrap(), 0);
    let err = write(&path, b"two", 0o600, false).unwrap_err();
    assert!(matches!(err, WriteError::Exists(_)));
    assert!(err.to_string().contains("secret"), "{err}");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    write(&path, b"two", 0o600, true).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"two");
    assert_eq!(
        loose_bits(&path).unwrap(),
        0,
        "forced write tightens the mode"
    );
}

#[test]
fn replace_swaps_content_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passwd");
    replace(&path, b"a\n", 0o600).unwrap();
    replace(&path, b"b\n", 0o600).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"b\n");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn replace_keeps_owner_group_and_mode_and_creates_new_files_0600() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passwd");
    assert_eq!(replace(&path, b"a\n", 0o600).unwrap(), 0o600);
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);

    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    // Another owner and group than the caller's when running as root (as CI does); otherwise
    // the caller's own ids, which still must survive.
    let (uid, gid) = if nix_is_root() {
        (4242, 4343)
    } else {
        let m = fs::metadata(&path).unwrap();
        (m.uid(), m.gid())
    };
    std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
    let before_ino = fs::metadata(&path).unwrap().ino();
    assert_eq!(replace(&path, b"b\n", 0o600).unwrap(), 0o640);
    let meta = fs::metadata(&path).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"b\n");
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (uid, gid, 0o640)
    );
    assert_ne!(
        meta.ino(),
        before_ino,
        "a new inode: renamed, not rewritten in place"
    );
}

#[test]
fn replace_through_a_symlink_replaces_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::write(&real, b"a\n").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    replace(&link, b"b\n", 0o600).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&real).unwrap(), b"b\n");
}

fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file just created is the effective user.
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().metadata().unwrap().uid() == 0
}
