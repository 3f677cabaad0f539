//! Bit-banged DS18B20 tests: the pin's transactions are generated bit by bit from the 1-Wire
//! protocol and replayed by embedded-hal-mock; a virtual clock stands in for the delay.

use std::io::ErrorKind;
use std::time::Duration;

use embedded_hal_mock::eh1::MockError;
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as T};

use super::*;
use crate::clock::VirtualClock;

const ROM: Address = Address(0x5a00_0000_1234_5628);
const ROM2: Address = Address(0x3300_0000_abcd_ef28);

fn level(high: bool) -> State {
    if high { State::High } else { State::Low }
}

/// Expected transactions, built like the protocol.
#[derive(Default)]
struct Script(Vec<T>);

impl Script {
    fn new_bus() -> Self {
        Self(vec![T::set(State::High)])
    }
    fn reset(mut self, present: bool) -> Self {
        self.0.extend([
            T::get(State::High),     // wait for the idle line
            T::set(State::Low),      // reset pulse
            T::set(State::High),     // release
            T::get(level(!present)), // presence pulse pulls low
        ]);
        self
    }
    fn write(mut self, bytes: &[u8]) -> Self {
        // Every write slot is low-then-release; the bit lives in the timing, which
        // `SlotRecorder` checks.
        for _slot in 0..bytes.len() * 8 {
            self.0.extend([T::set(State::Low), T::set(State::High)]);
        }
        self
    }
    fn read(mut self, bytes: &[u8]) -> Self {
        for byte in bytes {
            for bit in 0..8 {
                self.0.extend([
                    T::set(State::Low),
                    T::set(State::High),
                    T::get(level(byte >> bit & 1 == 1)),
                ]);
            }
        }
        self
    }
    fn match_rom(self, rom: Address) -> Self {
        self.write(&[0x55]).write(&rom.0.to_le_bytes())
    }
    fn convert_all(self) -> Self {
        self.reset(true).write(&[0xCC, 0x44])
    }
    fn read_pad(self, rom: Address, pad: &[u8; 9]) -> Self {
        self.reset(true).match_rom(rom).write(&[0xBE]).read(pad)
    }
    fn mock(&self) -> PinMock {
        PinMock::new(&self.0)
    }
}

/// Records every delay; the pin mock cannot see which bit a write slot carries (both are
/// low-then-release), but the slot timing can: 6+64 µs is a 1, 60+10 µs a 0, 6+9+55 µs a read.
#[derive(Default)]
struct SlotRecorder(Vec<u32>);

impl DelayNs for SlotRecorder {
    fn delay_ns(&mut self, ns: u32) {
        self.0.push(ns);
    }
}

#[derive(Debug, PartialEq)]
enum Op {
    Reset,
    Write(u8),
    ReadBits(usize),
    WaitMs(u32),
}

impl SlotRecorder {
    fn decode(&self) -> Vec<Op> {
        let us: Vec<u32> = self.0.iter().map(|ns| ns / 1000).collect();
        let (mut ops, mut bits, mut nbits, mut i) = (Vec::new(), 0u8, 0, 0);
        while i < us.len() {
            match us[i..] {
                [480, 70, 410, ..] => (ops.push(Op::Reset), i += 3).1,
                [6, 64, ..] | [60, 10, ..] => {
                    bits |= u8::from(us[i] == 6) << nbits;
                    nbits += 1;
                    if nbits == 8 {
                        ops.push(Op::Write(bits));
                        (bits, nbits) = (0, 0);
                    }
                    i += 2;
                }
                [6, 9, 55, ..] => {
                    match ops.last_mut() {
                        Some(Op::ReadBits(n)) => *n += 1,
                        _ => ops.push(Op::ReadBits(1)),
                    }
                    i += 3;
                }
                [2, ..] => i += 1, // polling for the idle line
                [other, ..] => (ops.push(Op::WaitMs(other / 1000)), i += 1).1,
                [] => break,
            }
        }
        ops
    }
}

/// A scratchpad for a raw register value, with a correct CRC unless `corrupt`.
fn pad(raw: i16, config: u8, corrupt: bool) -> [u8; 9] {
    let [lo, hi] = raw.to_le_bytes();
    let mut p = [lo, hi, 0, 0, config, 0xff, 0x0c, 0x10, 0];
    p[8] = one_wire_bus::crc::crc8(&p[..8]) ^ u8::from(corrupt);
    p
}

#[test]
fn no_presence_pulse_is_an_error() {
    let mut pin = Script::new_bus().reset(false).mock();
    let mut bus = Ds18b20Bus::new(pin.clone()).unwrap();
    let clock = VirtualClock::new();
    assert_eq!(
        bus.start_conversion(&mut clock.clone()),
        Err(Error::NoPresence)
    );
    assert_eq!(
        Error::<MockError>::NoPresence.to_sensor_error(),
        SensorError::Missing
    );
    bus.release();
    pin.done();
}

#[test]
fn sweep_converts_once_waits_once_and_reads_each_rom() {
    let script = Script::new_bus()
        .convert_all()
        .read_pad(ROM, &pad(0x0191, 0x7f, false)) // 25.0625 °C
        .read_pad(ROM2, &pad(-0x00a2, 0x7f, false)); // -10.125 °C
    let mut pin = script.mock();
    let mut bus = Ds18b20Bus::new(pin.clone()).unwrap();
    let mut slots = SlotRecorder::default();
    let results = bus.sweep(&[ROM, ROM2], &mut slots).unwrap();
    assert_eq!(results, [Ok(25.0625), Ok(-10.125)]);
    // Skip-ROM CONVERT T once, one 750 ms wait, then MATCH ROM + READ SCRATCHPAD per device.
    let mut expected = vec![Op::Reset, Op::Write(0xCC), Op::Write(0x44), Op::WaitMs(750)];
    for rom in [ROM, ROM2] {
        expected.extend([Op::Reset, Op::Write(0x55)]);
        expected.extend(rom.0.to_le_bytes().map(Op::Write));
        expected.extend([Op::Write(0xBE), Op::ReadBits(72)]);
    }
    assert_eq!(slots.decode(), expected);
    bus.release();
    pin.done();
}

#[test]
fn crc_error_is_retried_once_then_reported() {
    let bad = pad(0x0191, 0x7f, true);
    let script = Script::new_bus()
        .convert_all()
        .read_pad(ROM, &bad)
        .read_pad(ROM, &bad)
        .read_pad(ROM2, &bad)
        .read_pad(ROM2, &pad(0x0191, 0x7f, false));
    let mut pin = script.mock();
    let mut bank = GpioBank::new(
        Ds18b20Bus::new(pin.clone()).unwrap(),
        vec![(SensorRole::Collector, ROM), (SensorRole::TankTop, ROM2)],
    );
    let sweep = bank.sweep(&mut VirtualClock::new());
    assert_eq!(sweep.get(SensorRole::Collector), Err(SensorError::Crc));
    assert_eq!(sweep.get(SensorRole::TankTop), Ok(25.0625));
    bank.release().release();
    pin.done();
}

#[test]
fn a_real_85_from_a_converted_scratchpad_is_a_reading() {
    // A genuine part after converting 85.000 °C: byte 6 = 0x10, not the power-on 0x0C.
    let mut real = pad(85 * 16, 0x7f, false);
    real[6] = 0x10;
    real[8] = one_wire_bus::crc::crc8(&real[..8]);
    let script = Script::new_bus().convert_all().read_pad(ROM, &real);
    let mut pin = script.mock();
    let mut bank = GpioBank::new(
        Ds18b20Bus::new(pin.clone()).unwrap(),
        vec![(SensorRole::Collector, ROM)],
    );
    let sweep = bank.sweep(&mut VirtualClock::new());
    assert_eq!(sweep.get(SensorRole::Collector), Ok(85.0));
    assert_eq!(
        sweep.to_readings().collector,
        heat_core::Reading::Converted(85.0)
    );
    bank.release().release();
    pin.done();
}

#[test]
fn power_on_value_and_missing_bus_through_the_bank() {
    let script = Script::new_bus()
        .convert_all()
        .read_pad(ROM, &pad(85 * 16, 0x7f, false));
    let mut pin = script.mock();
    let mut bank = GpioBank::new(
        Ds18b20Bus::new(pin.clone()).unwrap(),
        vec![(SensorRole::Collector, ROM)],
    );
    assert_eq!(bank.roles(), [SensorRole::Collector]);
    assert_eq!(
        bank.sweep(&mut VirtualClock::new())
            .get(SensorRole::Collector),
        Err(SensorError::PowerOnValue)
    );
    bank.release().release();
    pin.done();

    // Nobody answers the conversion reset: every role is missing.
    let mut pin = Script::new_bus().reset(false).mock();
    let mut bank = GpioBank::new(
        Ds18b20Bus::new(pin.clone()).unwrap(),
        vec![(SensorRole::Collector, ROM), (SensorRole::TankBottom, ROM2)],
    );
    let sweep = bank.sweep(&mut VirtualClock::new());
    assert_eq!(sweep.get(SensorRole::Collector), Err(SensorError::Missing));
    assert_eq!(sweep.get(SensorRole::TankBottom), Err(SensorError::Missing));
    bank.release().release();
    pin.done();
}

#[test]
fn resolution_is_written_to_all_and_sets_the_wait() {
    let script = Script::new_bus()
        .reset(true)
        .write(&[0xCC, 0x4E, 0, 0, 0x1F])
        .convert_all();
    let mut pin = script.mock();
    let mut bus = Ds18b20Bus::new(pin.clone()).unwrap();
    let mut slots = SlotRecorder::default();
    bus.set_resolution(Resolution::Bits9, &mut slots).unwrap();
    assert_eq!(bus.resolution(), Resolution::Bits9);
    assert_eq!(bus.sweep(&[], &mut slots), Ok(Vec::new()));
    // WRITE SCRATCHPAD TH=0 TL=0 config=9 bit to all, then one 94 ms conversion wait.
    let expected = [
        Op::Reset,
        Op::Write(0xCC),
        Op::Write(0x4E),
        Op::Write(0),
        Op::Write(0),
        Op::Write(0x1F),
        Op::Reset,
        Op::Write(0xCC),
        Op::Write(0x44),
        Op::WaitMs(94),
    ];
    assert_eq!(slots.decode(), expected);
    bus.release();
    pin.done();
}

#[test]
fn low_resolution_masks_undefined_bits() {
    // 9 bit: the three low register bits are undefined and must not leak into the value.
    let script = Script::new_bus()
        .reset(true)
        .write(&[0xCC, 0x4E, 0, 0, 0x1F])
        .read_pad(ROM, &pad(0x0197, 0x1f, false));
    let mut pin = script.mock();
    let mut bus = Ds18b20Bus::new(pin.clone()).unwrap();
    let mut clock = VirtualClock::new();
    bus.set_resolution(Resolution::Bits9, &mut clock).unwrap();
    assert_eq!(bus.read_temperature(&ROM, &mut clock), Ok(25.0));
    bus.release();
    pin.done();
}

#[test]
fn pin_failure_and_wrong_family_are_errors() {
    let mut pin = PinMock::new(&[
        T::set(State::High),
        T::get(State::High).with_error(MockError::Io(ErrorKind::Other)),
    ]);
    let mut bus = Ds18b20Bus::new(pin.clone()).unwrap();
    let mut clock = VirtualClock::new();
    let err = bus.start_conversion(&mut clock).unwrap_err();
    assert_eq!(err, Error::Bus(MockError::Io(ErrorKind::Other)));
    assert!(matches!(err.to_sensor_error(), SensorError::Io(_)));
    // Validated before touching the bus: no transactions.
    assert_eq!(
        bus.read_temperature(&Address(0x10), &mut clock),
        Err(Error::NotDs18b20(0x10))
    );
    bus.release();
    pin.done();
}

#[test]
fn resolution_table() {
    assert_eq!(Resolution::from_bits(8), None);
    assert_eq!(Resolution::from_bits(13), None);
    let cases = [
        (9, 0x1F, 94),
        (10, 0x3F, 188),
        (11, 0x5F, 375),
        (12, 0x7F, 750),
    ];
    for (bits, byte, ms) in cases {
        let r = Resolution::from_bits(bits).unwrap();
        assert_eq!(r.config_byte(), byte);
        assert_eq!(r.conversion_time(), Duration::from_millis(ms));
    }
}

#[test]
fn spin_delay_waits_at_least_the_time_asked() {
    let start = std::time::Instant::now();
    SpinDelay.delay_us(200);
    assert!(start.elapsed() >= Duration::from_micros(200));
}

#[test]
fn w1_ids_and_rom_addresses_convert_both_ways() {
    let address = address_from_w1_id("28-0123456789ab").expect("valid id");
    let rom = address.0.to_le_bytes();
    assert_eq!(rom[..7], [0x28, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]);
    // A ROM including its CRC byte checks to zero.
    assert_eq!(one_wire_bus::crc::crc8(&rom), 0);
    assert_eq!(w1_id(address), "28-0123456789ab");
    for bad in [
        "28-0123456789a",
        "28-0123456789abc",
        "10-0123456789ab",
        "28-0123456789ag",
        "",
    ] {
        assert_eq!(address_from_w1_id(bad), None, "{bad:?}");
    }
}
