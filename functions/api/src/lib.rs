//! The photo-sharing HTTP API.
