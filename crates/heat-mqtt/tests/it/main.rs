//! Integration tests of heat-mqtt against a real Mosquitto (added with the session).
