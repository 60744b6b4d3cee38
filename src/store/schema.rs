//! Schema versions and migrations (to be written).
