//! Parsers for the kernel w1_therm attribute files. Total: any bytes give a value or an error.

use crate::sensor::{SensorError, classify_milli};

/// Parses `w1_slave`: two lines, the first ending in `YES`/`NO` (the kernel's CRC verdict), the
/// second ending in `t=<milli °C>`.
///
/// ```text
/// 72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
/// 72 01 4b 46 7f ff 0e 10 57 t=23125
/// ```
pub fn parse_w1_slave(raw: &[u8]) -> Result<f64, SensorError> {
    let text = std::str::from_utf8(raw).map_err(|_| malformed("w1_slave is not UTF-8"))?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let crc_line = lines.next().ok_or_else(|| malformed("w1_slave is empty"))?;
    let value_line = lines
        .next()
        .ok_or_else(|| malformed("w1_slave has no temperature line"))?;
    if crc_line.ends_with("NO") {
        return Err(SensorError::Crc);
    }
    if !crc_line.ends_with("YES") {
        return Err(malformed("w1_slave CRC line ends in neither YES nor NO"));
    }
    // A bus held low reads as an all-zero scratchpad whose CRC (0) is "valid".
    if is_all_zero_scratchpad(crc_line) {
        return Err(SensorError::Disconnected);
    }
    let (_, milli) = value_line
        .rsplit_once("t=")
        .ok_or_else(|| malformed("w1_slave has no t= field"))?;
    classify_milli(parse_milli(milli)?)
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

fn is_all_zero_scratchpad(crc_line: &str) -> bool {
    let bytes: Vec<&str> = crc_line.split_whitespace().take(9).collect();
    bytes.len() == 9 && bytes.iter().all(|b| *b == "00")
}

// Fixed descriptions only: file contents could be anything and must not end up in logs raw.
fn malformed(what: &str) -> SensorError {
    SensorError::Malformed(what.to_owned())
}

/// Renders a `w1_slave` file the way the kernel does, for fakes and tests.
pub fn render_w1_slave(milli: i64, crc_ok: bool) -> String {
    // 12-bit register: 1/16 °C per LSB, two's complement.
    let raw = ((milli as f64) * 16.0 / 1000.0).round() as i16;
    let [lo, hi] = raw.to_le_bytes();
    let mut pad = [lo, hi, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0];
    pad[8] = one_wire_bus::crc::crc8(&pad[..8]);
    let hex: Vec<String> = pad.iter().map(|b| format!("{b:02x}")).collect();
    let hex = hex.join(" ");
    let verdict = if crc_ok { "YES" } else { "NO" };
    // The kernel prints the register value, not the requested one.
    let t = i64::from(raw) * 1000 / 16;
    format!("{hex} : crc={:02x} {verdict}\n{hex} t={t}\n", pad[8])
}
