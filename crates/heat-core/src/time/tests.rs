//! Unit tests of timestamp arithmetic: saturating, never panicking.

use super::*;

#[test]
fn arithmetic_saturates_instead_of_panicking() {
    let t = Timestamp::from_secs(10);
    assert_eq!(t.as_millis(), 10_000);
    assert_eq!(
        t + Duration::from_millis(500),
        Timestamp::from_millis(10_500)
    );
    assert_eq!(
        t.saturating_duration_since(Timestamp::from_secs(4)),
        Duration::from_secs(6)
    );
    assert_eq!(
        Timestamp::from_secs(4).saturating_duration_since(t),
        Duration::ZERO
    );
    assert_eq!(
        Timestamp::from_millis(u64::MAX) + Duration::from_secs(1),
        Timestamp::from_millis(u64::MAX)
    );
    assert_eq!(
        Timestamp::from_secs(u64::MAX),
        Timestamp::from_millis(u64::MAX)
    );
    assert_eq!(t + Duration::MAX, Timestamp::from_millis(u64::MAX));
}
