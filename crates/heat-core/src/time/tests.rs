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

#[test]
fn local_time_splits_local_seconds_into_day_minute_and_weekday() {
    // 2026-03-29 01:59 local (the CET → CEST change day in the EU) is day 20 541.
    let t = LocalTime::from_local_seconds(20_541 * 86_400 + 119 * 60 + 59);
    assert_eq!((t.day(), t.minute_of_day()), (20_541, 119));
    assert_eq!(t.weekday(), Weekday::Sunday);
    assert_eq!(
        LocalTime::from_local_seconds(0).weekday(),
        Weekday::Thursday
    );
    // Before 1970 the day is negative and the minute still counts from midnight.
    let before = LocalTime::from_local_seconds(-60);
    assert_eq!((before.day(), before.minute_of_day()), (-1, 1439));
    assert_eq!(before.weekday(), Weekday::Wednesday);
    assert_eq!(LocalTime::new(3, 1440), None);
    assert_eq!(
        LocalTime::new(3, 1439).map(LocalTime::minute_of_day),
        Some(1439)
    );
}

#[test]
fn local_time_from_unix_adds_the_offset_east_positive() {
    // 2026-03-29T00:59:00Z is 01:59 CET (+1 h); 01:00Z is 03:00 CEST (+2 h).
    let before = LocalTime::from_unix(1_774_745_940, 3600);
    assert_eq!((before.day(), before.minute_of_day()), (20_541, 119));
    let after = LocalTime::from_unix(1_774_746_000, 7200);
    assert_eq!((after.day(), after.minute_of_day()), (20_541, 180));
    // West of Greenwich the local date can still be the day before.
    let ny = LocalTime::from_unix(1_774_746_000, -4 * 3600);
    assert_eq!((ny.day(), ny.minute_of_day()), (20_540, 21 * 60));
    assert_eq!(
        LocalTime::from_unix(i64::MAX, 3600),
        LocalTime::from_local_seconds(i64::MAX)
    );
}
