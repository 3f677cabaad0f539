//! Unit tests of `$7$` lines and the password-file editor.

use secrecy::SecretString;

use super::*;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn hash_then_verify_round_trips_and_wrong_password_fails() {
    let line = hash_line("heat", &secret("correct horse battery"), 1_000).unwrap();
    assert!(line.starts_with("heat:$7$1000$"), "{line}");
    assert_eq!(
        verify_line(&line, &secret("correct horse battery")),
        Ok(true)
    );
    assert_eq!(
        verify_line(&line, &secret("correct horse batterY")),
        Ok(false)
    );
    assert_eq!(verify_line(&line, &secret("")), Ok(false));
}

#[test]
fn salts_are_fresh_and_twelve_bytes() {
    let a = PasswordLine::hash("u", &secret("same"), 10).unwrap();
    let b = PasswordLine::hash("u", &secret("same"), 10).unwrap();
    assert_ne!(a.to_string(), b.to_string(), "same salt twice");
    let salt_b64 = a.to_string().split('$').nth(3).unwrap().to_owned();
    assert_eq!(base64::decode_block(&salt_b64).unwrap().len(), SALT_LEN);
}

#[test]
fn vector_from_mosquitto_passwd_verifies() {
    // Written by `mosquitto_passwd -b` (Mosquitto 2.0.11) for user "u" and the throwaway
    // password "p", 101 iterations (its default).
    let line = "u:$7$101$Wwv24bn8jhA44kVA$xEuYtfQQZSdkVZqkpz9twYhe24LyujSEfrwBeF/zkrZIoHjaW0W2i7Q0MG4OA/lBAPr+njJ/K4KDO4222Zmvbg==";
    let parsed = PasswordLine::parse(line).unwrap();
    assert_eq!(parsed.user(), "u");
    assert_eq!(parsed.iterations(), 101);
    assert_eq!(parsed.to_string(), line, "re-encodes byte for byte");
    assert_eq!(verify_line(line, &secret("p")), Ok(true));
    assert_eq!(verify_line(line, &secret("q")), Ok(false));
}

#[test]
fn parser_refuses_what_mosquitto_drops() {
    let good = hash_line("u", &secret("pw"), 10).unwrap();
    let fields: Vec<&str> = good.split('$').collect();
    let (salt, hash) = (fields[3], fields[4]);
    let short_salt = base64::encode_block(&[0u8; 11]);
    let long_salt = base64::encode_block(&[0u8; 16]);
    let short_hash = base64::encode_block(&[0u8; 32]);
    let cases: Vec<(String, ParseError)> = vec![
        ("no-colon".to_owned(), ParseError::NoSeparator),
        (format!(":$7$10${salt}${hash}"), ParseError::Username),
        (format!("a b:$7$10${salt}${hash}"), ParseError::Username),
        (format!("u:$6${salt}${hash}"), ParseError::HashType),
        ("u:plain".to_owned(), ParseError::HashType),
        (format!("u:$7$10${salt}"), ParseError::Fields),
        (format!("u:$7$10${salt}${hash}$x"), ParseError::Fields),
        (format!("u:$7$ten${salt}${hash}"), ParseError::Iterations),
        (format!("u:$7$0${salt}${hash}"), ParseError::Iterations),
        (
            format!("u:$7$99999999999${salt}${hash}"),
            ParseError::Iterations,
        ),
        (format!("u:$7$10$!!!${hash}"), ParseError::Base64("salt")),
        (format!("u:$7$10${salt}$***"), ParseError::Base64("hash")),
        (
            format!("u:$7$10${short_salt}${hash}"),
            ParseError::SaltLength(11),
        ),
        (
            format!("u:$7$10${long_salt}${hash}"),
            ParseError::SaltLength(16),
        ),
        (
            format!("u:$7$10${salt}${short_hash}"),
            ParseError::HashLength(32),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(PasswordLine::parse(&line), Err(expected.clone()), "{line}");
        assert_eq!(verify_line(&line, &secret("pw")), Err(expected), "{line}");
    }
    assert!(PasswordLine::parse(&format!("{good}\r\n")).is_ok());
}

#[test]
fn hash_refuses_bad_usernames_and_iterations() {
    for user in ["", "a:b", "a b", "a\nb", "tab\t"] {
        assert!(matches!(
            PasswordLine::hash(user, &secret("pw"), 10),
            Err(Error::Username(_))
        ));
    }
    assert!(matches!(
        PasswordLine::hash("u", &secret("pw"), 0),
        Err(Error::Iterations(0))
    ));
    assert!(matches!(
        PasswordLine::hash("u", &secret("pw"), MAX_ITERATIONS + 1),
        Err(Error::Iterations(_))
    ));
}

#[test]
fn default_iterations_are_far_above_mosquitto_passwd() {
    const { assert!(DEFAULT_ITERATIONS >= 10_000) };
}

#[test]
fn debug_shows_neither_salt_nor_hash() {
    let line = PasswordLine::hash("u", &secret("pw"), 10).unwrap();
    let text = line.to_string();
    let shown = format!("{line:?}");
    assert!(shown.contains("\"u\""), "{shown}");
    for field in text.split('$').skip(3) {
        assert!(!shown.contains(field), "{shown}");
    }
}

/// A `$7$` line Mosquitto accepts, for `user` (10 iterations: fast).
fn good_line(user: &str) -> String {
    PasswordLine::hash(user, &secret("pw-of-some-length"), 10)
        .unwrap()
        .to_string()
}

#[test]
fn editor_adds_and_rotates_one_user_and_keeps_the_rest() {
    let (alice, bob) = (good_line("alice"), good_line("bob"));
    let text = format!("# managed by hand\n{alice}\n\n{bob}\n   \n");
    let mut file = PasswdFile::parse(&text).unwrap();
    assert_eq!(file.users(), vec!["alice", "bob"]);

    let carol = PasswordLine::hash("carol", &secret("c-pw"), 10).unwrap();
    assert_eq!(file.set(&carol), Change::Added);
    assert_eq!(file.to_text(), format!("{text}{carol}\n"));

    let new_bob = PasswordLine::hash("bob", &secret("new"), 10).unwrap();
    assert_eq!(file.set(&new_bob), Change::Rotated);
    assert_eq!(
        file.to_text(),
        format!("# managed by hand\n{alice}\n\n{new_bob}\n   \n{carol}\n")
    );
    assert!(
        file.get("bob")
            .unwrap()
            .unwrap()
            .verify(&secret("new"))
            .unwrap()
    );
    assert!(
        file.get("alice")
            .unwrap()
            .unwrap()
            .verify(&secret("pw-of-some-length"))
            .unwrap()
    );
    assert!(file.get("nobody").is_none());
}

#[test]
fn parse_refuses_a_line_the_broker_would_drop_and_names_it() {
    let good = good_line("alice");
    let cases: [(&str, usize, ParseError); 4] = [
        ("weird line", 3, ParseError::NoSeparator),
        ("bob:$7$101$AAAA$BBBB", 3, ParseError::SaltLength(3)),
        ("bob:plaintext", 3, ParseError::HashType),
        // `#` only starts a comment in the first column, for Mosquitto too.
        ("  # bob:x", 3, ParseError::Username),
    ];
    for (bad, line, reason) in cases {
        let text = format!("# comment\n{good}\n{bad}\n");
        let err = PasswdFile::parse(&text).unwrap_err();
        assert_eq!(err, FileError { line, reason }, "{bad:?}");
        assert!(
            err.to_string().starts_with(&format!("line {line}: ")),
            "{err}"
        );
        assert!(!err.to_string().contains(&good), "{err}");
    }
}

#[test]
fn parse_keeps_sha512_lines_and_rotating_one_writes_7() {
    let salt = openssl::base64::encode_block(&[7u8; 12]);
    let hash = openssl::base64::encode_block(&[9u8; HASH_LEN]);
    let old = format!("old:$6${salt}${hash}");
    let mut file = PasswdFile::parse(&format!("{old}\n")).unwrap();
    assert_eq!(file.users(), vec!["old"]);
    let short = format!("old:$6${salt}${salt}\n");
    assert_eq!(
        PasswdFile::parse(&short).unwrap_err().reason,
        ParseError::HashType
    );
    let new = PasswordLine::hash("old", &secret("pw"), 10).unwrap();
    assert_eq!(file.set(&new), Change::Rotated);
    assert_eq!(file.to_text(), format!("{new}\n"));
}

#[test]
fn editor_collapses_duplicates_of_the_edited_user_only() {
    let (a1, b1, a2, b2) = (
        good_line("a"),
        good_line("b"),
        good_line("a"),
        good_line("b"),
    );
    let mut file = PasswdFile::parse(&format!("{a1}\n{b1}\n{a2}\n{b2}\n")).unwrap();
    let a = PasswordLine::hash("a", &secret("pw"), 10).unwrap();
    assert_eq!(file.set(&a), Change::Rotated);
    assert_eq!(file.to_text(), format!("{a}\n{b1}\n{b2}\n"));
    assert!(file.remove("b"));
    assert!(!file.remove("b"));
    assert_eq!(file.to_text(), format!("{a}\n"));
    assert_eq!(PasswdFile::new().to_text(), "");
}
