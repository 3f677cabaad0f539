//! A chip that does not exist, a directory, a regular file and a character device that is not a
//! GPIO chip, each named with its fix; the permission message from the io error (as root the
//! kernel lets every open through; the heat-controller integration test runs it as `nobody`).

use std::io;
use std::path::Path;

use linux_embedded_hal::gpio_cdev::LineRequestFlags;

use super::{GpioError, GpioFailure, request_line};

fn open(chip: &Path) -> GpioError {
    request_line(chip, 17, LineRequestFlags::OUTPUT, 1, "heat-hw-test").unwrap_err()
}

#[test]
fn a_missing_chip_names_chip_line_and_the_fix_once() {
    let dir = tempfile::tempdir().unwrap();
    let chip = dir.path().join("gpiochip9");
    let err = open(&chip);
    assert_eq!(err.failure(), &GpioFailure::ChipMissing);
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!((err.chip(), err.line()), (chip.as_path(), 17));
    let text = err.to_string();
    assert!(
        text.contains(&format!("GPIO line 17 needs {}", chip.display())),
        "{text}"
    );
    assert!(text.contains("ls -l /dev/gpiochip*"), "{text}");
    assert_eq!(
        text.matches(&*chip.display().to_string()).count(),
        1,
        "{text}"
    );
    assert!(!text.contains("os error"), "{text}");
    assert!(
        std::error::Error::source(&err).is_none(),
        "no chain to print again"
    );
}

#[test]
fn a_directory_a_file_and_another_device_are_not_chips() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gpiochip0");
    std::fs::write(&file, "").unwrap();
    for chip in [dir.path(), file.as_path(), Path::new("/dev/null")] {
        let err = open(chip);
        assert_eq!(err.failure(), &GpioFailure::NotAChip, "{}", chip.display());
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let text = err.to_string();
        assert!(text.contains("is not a GPIO chip device"), "{text}");
        assert!(text.contains("ls -l /dev/gpiochip*"), "{text}");
    }
}

#[test]
fn permission_denied_says_which_group_to_join() {
    let chip = Path::new("/dev/gpiochip0");
    let denied = io::Error::from(io::ErrorKind::PermissionDenied);
    let err = GpioError::opening(chip, 27, &denied);
    assert_eq!(err.failure(), &GpioFailure::PermissionDenied);
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    let text = err.to_string();
    for needle in [
        "GPIO line 27 needs /dev/gpiochip0",
        "ls -l /dev/gpiochip0",
        "gpio",
        "usermod -aG gpio",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

#[test]
fn every_failure_names_chip_and_line() {
    let chip = Path::new("/dev/gpiochip0");
    let failures = [
        GpioFailure::ChipMissing,
        GpioFailure::PermissionDenied,
        GpioFailure::NotAChip,
        GpioFailure::NoSuchLine { lines: 54 },
        GpioFailure::Busy {
            consumer: Some("heat-hw".into()),
        },
        GpioFailure::Busy { consumer: None },
        GpioFailure::Other("EIO".into()),
    ];
    for failure in failures {
        let text = GpioError::new(chip, 17, failure.clone(), io::ErrorKind::Other).to_string();
        assert!(text.contains("/dev/gpiochip0"), "{failure:?}: {text}");
        assert!(text.contains("line 17"), "{failure:?}: {text}");
    }
    let text = GpioError::new(
        chip,
        60,
        GpioFailure::NoSuchLine { lines: 54 },
        io::ErrorKind::InvalidInput,
    )
    .to_string();
    assert!(text.contains("0 to 53") && text.contains("BCM"), "{text}");
}
