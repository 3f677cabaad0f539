//! Tests of the package's generated files: the Debian changelog from CHANGELOG.md, its dates,
//! and the shipped heat.env.

use super::*;

const CHANGELOG: &str = "\
# Changelog

All notable changes to this project are documented in this file.

## [Unreleased]

### Added
- Not released yet: must not appear.

## [0.2.0] - 2027-03-04

### Fixed
- The watchdog no longer fires during a slow first sweep, which
  took up to 3 s on a Pi Zero 2.

## [0.1.0] - 2026-12-01

### Added
- Debian packages for arm64, armhf and amd64.
- `Type=notify` with a watchdog.

### Changed
- Version 0.1.0.

[Unreleased]: https://example.org/compare/v0.2.0...HEAD
[0.2.0]: https://example.org/compare/v0.1.0...v0.2.0
";

#[test]
fn released_sections_are_read_newest_first_without_unreleased() {
    let releases = releases(CHANGELOG).unwrap();
    assert_eq!(
        releases
            .iter()
            .map(|r| r.version.as_str())
            .collect::<Vec<_>>(),
        ["0.2.0", "0.1.0"]
    );
    assert_eq!(releases[1].date, (2026, 12, 1));
    assert_eq!(
        releases[0].entries,
        [
            "Fixed: The watchdog no longer fires during a slow first sweep, which took up to 3 s on a Pi Zero 2."
        ]
    );
    assert_eq!(
        releases[1].entries,
        [
            "Added: Debian packages for arm64, armhf and amd64.",
            "Added: `Type=notify` with a watchdog.",
            "Changed: Version 0.1.0.",
        ]
    );
}

#[test]
fn the_debian_changelog_has_one_entry_per_release_in_debian_format() {
    let text = debian_changelog(CHANGELOG, "0.2.0").unwrap();
    let expected_start = "\
heat-controller (0.2.0-1) unstable; urgency=medium

  * Fixed: The watchdog no longer fires during a slow first sweep, which took
    up to 3 s on a Pi Zero 2.

 -- Solar heating controller maintainers <heat-controller@example.org>  Thu, 04 Mar 2027 00:00:00 +0000

heat-controller (0.1.0-1) unstable; urgency=medium

  * Added: Debian packages for arm64, armhf and amd64.
";
    assert!(text.starts_with(expected_start), "{text}");
    assert!(
        text.ends_with("  Tue, 01 Dec 2026 00:00:00 +0000\n"),
        "{text}"
    );
    assert!(!text.contains("Not released yet"), "{text}");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80 || line.starts_with(" -- "),
            "too long: {line}"
        );
    }
}

#[test]
fn a_package_version_without_its_changelog_section_is_refused() {
    let err = debian_changelog(CHANGELOG, "0.3.0")
        .unwrap_err()
        .to_string();
    assert!(err.contains("newest release is 0.2.0"), "{err}");
    assert!(err.contains("## [0.3.0] - YYYY-MM-DD"), "{err}");
    let err = debian_changelog("# Changelog\n\n## [Unreleased]\n- x\n", "0.1.0")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no released section"), "{err}");
}

#[test]
fn a_malformed_release_heading_names_its_line() {
    let err = releases("# Changelog\n\n## 0.1.0 on the first of December\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3"), "{err}");
    let err = releases("## [0.1.0] - 2026-13-01\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 1") && err.contains("YYYY-MM-DD"),
        "{err}"
    );
}

#[test]
fn dates_get_their_weekday() {
    assert_eq!(rfc2822((1970, 1, 1)), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_eq!(rfc2822((2000, 2, 29)), "Tue, 29 Feb 2000 00:00:00 +0000");
    assert_eq!(rfc2822((2026, 12, 1)), "Tue, 01 Dec 2026 00:00:00 +0000");
    assert_eq!(rfc2822((2024, 3, 1)), "Fri, 01 Mar 2024 00:00:00 +0000");
}

#[test]
fn the_shipped_heat_env_sets_no_password() {
    let env = heat_env();
    assert!(
        !env.lines()
            .any(|l| l.trim_start().starts_with("MQTT_PASSWORD=")),
        "{env}"
    );
    assert!(env.contains("\n# MQTT_PASSWORD="), "{env}");
    assert!(env.contains("/etc/heat-controller/mqtt_password"), "{env}");
    // Everything else of .env.example is there, in order.
    let kept: Vec<&str> = ENV_EXAMPLE
        .lines()
        .filter(|l| !l.starts_with("MQTT_PASSWORD="))
        .collect();
    let first = ENV_EXAMPLE.lines().next().unwrap();
    let body = &env[env.find(first).unwrap()..];
    let shipped: Vec<&str> = body.lines().filter(|l| kept.contains(l)).collect();
    assert_eq!(shipped, kept);
}

#[test]
fn the_deb_is_named_for_version_revision_and_architecture() {
    assert_eq!(
        deb_name("0.1.0", &crate::cross::AARCH64),
        "heat-controller_0.1.0-1_arm64.deb"
    );
    assert_eq!(
        deb_name("0.1.0", &crate::cross::ARMV7),
        "heat-controller_0.1.0-1_armhf.deb"
    );
}
