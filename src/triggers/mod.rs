//! Trigger functions. The CREATE TRIGGER statements are in `sql/triggers.sql`.

pub mod guards;
pub mod policy;
pub mod region;
mod row;
pub mod state;
