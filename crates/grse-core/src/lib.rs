//! Pure domain rules of grse, the Global Region Scaling Engine.
//!
//! Nothing here knows about PostgreSQL: every rule takes plain values and
//! returns plain values, so it can be unit- and property-tested with
//! `cargo test -p grse-core`. The pgrx layer in the `grse` crate only
//! fetches rows, calls these functions and writes the results back.
//!
//! Scores (pressures, capacity, fatigue, warning index) are fixed-point
//! hundredths ([`Centi`]), weights are ten-thousandths ([`Weight`]); all
//! arithmetic is exact integer arithmetic with PostgreSQL's `round()`
//! semantics (half away from zero), so a result computed here is the same
//! value `numeric` arithmetic in SQL gives for the documented formulas.

pub mod alert_rules;
pub mod capacity;
pub mod conditions;
pub mod evaluate;
pub mod fatigue;
pub mod fixed;
pub mod forecast;
pub mod geo;
pub mod headers;
pub mod hysteresis;
pub mod json;
pub mod mode;
pub mod numeric_digits;
pub mod policy;
pub mod pressure;
pub mod risk;
pub mod routing;
pub mod rules;
pub mod shard;
pub mod slots;
pub mod trend;
pub mod warning;

pub use fixed::{Centi, Weight};
pub use mode::Mode;
pub use policy::Policy;
