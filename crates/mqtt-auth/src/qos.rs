//! MQTT quality of service: the three levels as a type, so a QoS travels as [`QoS`] and becomes
//! paho-mqtt's integer only at the paho call.
//!
//! Decoding is total: every byte (or paho integer) is a level or an [`InvalidQos`] that names the
//! value; nothing falls back to a default level.

use std::fmt;

#[cfg(test)]
mod tests;

/// An MQTT QoS level (MQTT 3.1.1 §4.3, MQTT 5 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum QoS {
    /// QoS 0: delivered at most once, no acknowledgement.
    AtMostOnce = 0,
    /// QoS 1: delivered at least once (PUBACK).
    AtLeastOnce = 1,
    /// QoS 2: delivered exactly once (PUBREC/PUBREL/PUBCOMP).
    ExactlyOnce = 2,
}

impl QoS {
    /// Every level, lowest first.
    pub const ALL: [QoS; 3] = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];

    /// The level's number on the wire: 0, 1 or 2.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The level as paho-mqtt takes it (`Message::new`, `subscribe`, `LastWill`).
    pub const fn paho(self) -> i32 {
        self as i32
    }
}

impl fmt::Display for QoS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QoS {}", self.number())
    }
}

/// A number that is no MQTT QoS level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("QoS {0} is not an MQTT QoS level (expected 0, 1 or 2)")]
pub struct InvalidQos(pub i64);

impl TryFrom<u8> for QoS {
    type Error = InvalidQos;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            other => Err(InvalidQos(i64::from(other))),
        }
    }
}

impl TryFrom<i32> for QoS {
    type Error = InvalidQos;

    /// paho-mqtt reports levels as `i32` (e.g. `Message::qos`, a SUBACK's granted levels).
    fn try_from(value: i32) -> Result<Self, Self::Error> {
        u8::try_from(value)
            .map_err(|_| InvalidQos(i64::from(value)))
            .and_then(QoS::try_from)
    }
}

impl From<QoS> for u8 {
    fn from(qos: QoS) -> Self {
        qos.number()
    }
}

impl From<QoS> for i32 {
    fn from(qos: QoS) -> Self {
        qos.paho()
    }
}
