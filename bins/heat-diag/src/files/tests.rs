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
