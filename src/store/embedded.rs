//! The embedded redb backend (to be written).
