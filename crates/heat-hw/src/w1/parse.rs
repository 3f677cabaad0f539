//! Parsers for the kernel w1_therm attribute files. Total: any bytes give a value or an error.

use crate::sensor::{Provenance, Scratchpad, SensorError, classify_milli};

/// Parses `w1_slave`: two lines, the first ending in `YES`/`NO` (the kernel's CRC verdict), the
/// second ending in `t=<milli °C>`.
///
/// ```text
/// 72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
/// 72 01 4b 46 7f ff 0e 10 57 t=23125
/// ```
pub fn parse_w1_slave(raw: &[u8]) -> Result<f64, SensorError> {
    parse_w1_slave_with_provenance(raw).0
}

/// [`parse_w1_slave`], plus whether the scratchpad bytes settled the 85.000 °C question.
///
/// When the first line carries the nine scratchpad bytes, a power-on pattern
/// ([`Scratchpad::is_power_on`]) is [`SensorError::PowerOnValue`] and any other 85.000 °C is a
/// real reading ([`Provenance::Scratchpad`]). Without them only `t=` is known
/// ([`Provenance::ValueOnly`]).
pub fn parse_w1_slave_with_provenance(raw: &[u8]) -> (Result<f64, SensorError>, Provenance) {
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(_) => {
            return (
                Err(malformed("w1_slave is not UTF-8")),
                Provenance::ValueOnly,
            );
        }
    };
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(crc_line) = lines.next() else {
        return (Err(malformed("w1_slave is empty")), Provenance::ValueOnly);
    };
    let pad = scratchpad(crc_line);
    let provenance = if pad.is_some() {
        Provenance::Scratchpad
    } else {
        Provenance::ValueOnly
    };
    (parse_lines(crc_line, lines.next(), pad), provenance)
}

fn parse_lines(
    crc_line: &str,
    value_line: Option<&str>,
    pad: Option<Scratchpad>,
) -> Result<f64, SensorError> {
    let value_line = value_line.ok_or_else(|| malformed("w1_slave has no temperature line"))?;
    if crc_line.ends_with("NO") {
        return Err(SensorError::Crc);
    }
    if !crc_line.ends_with("YES") {
        return Err(malformed("w1_slave CRC line ends in neither YES nor NO"));
    }
    // A bus held low reads as an all-zero scratchpad whose CRC (0) is "valid".
    if pad.is_some_and(|p| p.0 == [0; 9]) {
        return Err(SensorError::Disconnected);
    }
    if pad.is_some_and(|p| p.is_power_on()) {
        return Err(SensorError::PowerOnValue);
    }
    let (_, milli) = value_line
        .rsplit_once("t=")
        .ok_or_else(|| malformed("w1_slave has no t= field"))?;
    classify_milli(parse_milli(milli)?)
}

/// The nine hex bytes that open the kernel's CRC line, if they are all there.
fn scratchpad(crc_line: &str) -> Option<Scratchpad> {
    let mut pad = [0u8; 9];
    let mut words = crc_line.split_whitespace();
    for byte in &mut pad {
        let word = words.next()?;
        if word.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(word, 16).ok()?;
    }
    Some(Scratchpad(pad))
}

/// Parses `temperature` (newer kernels): the reading in milli °C as decimal text.
pub fn parse_temperature(raw: &[u8]) -> Result<f64, SensorError> {
    let text = std::str::from_utf8(raw).map_err(|_| malformed("temperature is not UTF-8"))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(malformed("temperature is empty"));
    }
    classify_milli(parse_milli(text)?)
}

/// Parses the bus master's `therm_bulk_read`: `-1` while a conversion runs.
pub(crate) fn bulk_in_progress(raw: &[u8]) -> bool {
    std::str::from_utf8(raw).is_ok_and(|t| t.trim() == "-1")
}

fn parse_milli(text: &str) -> Result<i64, SensorError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| malformed("temperature is not an integer"))
}

// Fixed descriptions only: file contents could be anything and must not end up in logs raw.
fn malformed(what: &str) -> SensorError {
    SensorError::Malformed(what.to_owned())
}

/// Renders a `w1_slave` file the way the kernel does after a real conversion to `milli`, with
/// the scratchpad of a genuine DS18B20 ([`Scratchpad::after_conversion`]), for fakes and tests.
pub fn render_w1_slave(milli: i64, crc_ok: bool) -> String {
    // 12-bit register: 1/16 °C per LSB, two's complement.
    let raw = ((milli as f64) * 16.0 / 1000.0).round() as i16;
    render_scratchpad(&Scratchpad::after_conversion(raw, 0x7f), crc_ok)
}

/// Renders a `w1_slave` file holding `pad`, the way the kernel prints it.
pub fn render_scratchpad(pad: &Scratchpad, crc_ok: bool) -> String {
    let hex: Vec<String> = pad.0.iter().map(|b| format!("{b:02x}")).collect();
    let hex = hex.join(" ");
    let verdict = if crc_ok { "YES" } else { "NO" };
    // The kernel prints the register value, not the requested one.
    let t = i64::from(pad.raw()) * 1000 / 16;
    format!("{hex} : crc={:02x} {verdict}\n{hex} t={t}\n", pad.0[8])
}
