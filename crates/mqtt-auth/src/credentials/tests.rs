//! Unit tests of username and password validation.

use secrecy::SecretString;

use super::*;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn username_rules() {
    let cases: &[(&str, Result<(), CredentialError>)] = &[
        ("heat-controller", Ok(())),
        ("", Err(CredentialError::Empty)),
        ("   \t", Err(CredentialError::Blank)),
        ("a\0b", Err(CredentialError::Nul)),
        ("your_username", Err(CredentialError::Placeholder)),
        ("<username>", Err(CredentialError::Placeholder)),
        ("CHANGE-ME", Err(CredentialError::Placeholder)),
    ];
    for (input, expected) in cases {
        assert_eq!(
            Username::new(*input).map(|_| ()),
            *expected,
            "input {input:?}"
        );
    }
    assert_eq!(
        Username::new("u".repeat(MAX_FIELD_LEN + 1)).map(|_| ()),
        Err(CredentialError::TooLong)
    );
}

#[test]
fn password_rules() {
    assert_eq!(validate_password(&secret("correct horse battery")), Ok(()));
    assert_eq!(validate_password(&secret("")), Err(CredentialError::Empty));
    assert_eq!(
        validate_password(&secret("\n")),
        Err(CredentialError::Blank)
    );
    assert_eq!(
        validate_password(&secret("change-me")),
        Err(CredentialError::Placeholder)
    );
    assert_eq!(
        validate_password(&secret("pa\0ss")),
        Err(CredentialError::Nul)
    );
}

#[test]
fn weak_password_warns_without_echoing_it() {
    let warning = password_warning(&secret("short-pass")).expect("10 characters is weak");
    assert!(warning.contains("10 characters"), "{warning}");
    assert!(!warning.contains("short-pass"));
    assert_eq!(password_warning(&secret("sixteen-chars-ok")), None);
}

#[test]
fn debug_redacts_password() {
    let creds = Credentials::new(
        Username::new("alice").unwrap(),
        secret("hunter2-hunter2-hunter2"),
    )
    .unwrap();
    let shown = format!("{creds:?}");
    assert!(shown.contains("alice"));
    assert!(!shown.contains("hunter2"), "{shown}");
}
