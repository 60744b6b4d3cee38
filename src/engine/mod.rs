//! The engine: a pure state machine for matching and chatting.
pub mod effect;
