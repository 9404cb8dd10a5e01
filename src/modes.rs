//! Operator pins of a region's scaling mode, and the stored mode state that
//! the invariant checks judge from. The rules (hysteresis, pins) are in
//! `grse_core::hysteresis`; the state trigger applies them on every write.

use crate::clock::{now_us, timestamp_text};
use crate::error::{internal, invalid, not_found, required, GResult, SpiResultExt};
use crate::region::{require_active, with_writes};
use grse_core::hysteresis::{ModeState, Pin};
use grse_core::mode::Mode;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::Uuid;

/// Why a `region_mode_transitions` row was written (its `cause` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransitionCause {
    /// The metrics moved the mode (thresholds, hysteresis).
    Metrics,
    /// An operator pinned the region.
    Pin,
    /// An operator unpinned the region.
    Unpin,
    /// The pin reached its `until`.
    PinExpired,
}

impl TransitionCause {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionCause::Metrics => "metrics",
            TransitionCause::Pin => "pin",
            TransitionCause::Unpin => "unpin",
            TransitionCause::PinExpired => "pin_expired",
        }
    }
}

fn mode_arg(mode: Option<&str>) -> GResult<Mode> {
    let text = required(mode, "mode")?;
    Mode::parse(text).ok_or_else(|| {
        invalid(format!("unknown scaling mode \"{text}\"")).set_hint("Use normal, cautious, throttled or frozen.")
    })
}

/// The stored mode state of a region and the instant it was last judged
/// (`updated_at`): judging its stored metrics again from there must give its
/// stored mode (what `verify_invariants` checks).
pub fn stored_mode_state(region_id: Uuid) -> GResult<(ModeState, i64)> {
    Spi::connect(|client| {
        let t = client
            .select(
                "SELECT s.scaling_mode, s.mode_since, s.pinned_mode, s.pinned_until, s.updated_at
                   FROM grse.region_scaling_state s WHERE s.region_id = $1",
                Some(1),
                &[region_id.into()],
            )
            .or_internal()?;
        if t.is_empty() {
            return Err(not_found("region", region_id));
        }
        let row = t.first();
        let mode_named = |name: &str| -> GResult<Option<Mode>> {
            match row.get_by_name::<String, _>(name).or_internal()? {
                Some(text) => Mode::parse(&text).map(Some).ok_or_else(|| internal(format!("unknown mode {text}"))),
                None => Ok(None),
            }
        };
        let time = |name: &str| -> GResult<Option<i64>> {
            Ok(row.get_by_name::<TimestampWithTimeZone, _>(name).or_internal()?.map(pg_sys::TimestampTz::from))
        };
        let mode = mode_named("scaling_mode")?.ok_or_else(|| internal("NULL scaling_mode"))?;
        let pin = mode_named("pinned_mode")?.map(|mode| Pin { mode, until_us: None });
        let pin = match pin {
            Some(p) => Some(Pin { until_us: time("pinned_until")?, ..p }),
            None => None,
        };
        let since_us = time("mode_since")?.ok_or_else(|| internal("NULL mode_since"))?;
        let at = time("updated_at")?.ok_or_else(|| internal("NULL updated_at"))?;
        Ok((ModeState { mode, since_us, pin }, at))
    })
}

/// Pins a region's scaling mode: until `until` (NULL: until unpinned),
/// metric writes still update every score but the mode stays `mode`. The
/// pin is recorded in `region_mode_transitions` (cause `pin`) with the
/// reason. Returns the region's mode afterwards (the pinned one).
#[pg_extern(volatile, parallel_unsafe)]
pub fn pin_scaling_mode(
    region_id: Option<Uuid>,
    mode: Option<&str>,
    until: default!(Option<TimestampWithTimeZone>, "NULL"),
    reason: default!(Option<&str>, "NULL"),
) -> GResult<String> {
    let region_id = required(region_id, "region_id")?;
    let mode = mode_arg(mode)?;
    if let Some(until) = until {
        if pg_sys::TimestampTz::from(until) <= now_us() {
            return Err(invalid(format!("until must be in the future, got {}", timestamp_text(until.into())?))
                .set_hint("Pass NULL to pin until unpin_scaling_mode is called."));
        }
    }
    require_active(region_id)?;
    with_writes(|client| {
        let t = crate::statements::run(
            client,
            "UPDATE grse.region_scaling_state
                    SET pinned_mode = $2, pinned_until = $3, pin_reason = $4, pinned_at = pg_catalog.now()
                  WHERE region_id = $1 RETURNING scaling_mode",
            &[region_id.into(), mode.as_str().into(), until.into(), reason.into()],
        )?;
        if t.is_empty() {
            return Err(not_found("region", region_id));
        }
        t.first().get_one::<String>().or_internal()?.ok_or_else(|| internal("NULL scaling_mode"))
    })
}

/// Ends a region's pin: the region is judged by its metrics again at once
/// (hysteresis applies from the pinned mode). The unpin is recorded in
/// `region_mode_transitions` (cause `unpin`). A region without a pin is left
/// as it is. Returns the region's mode afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn unpin_scaling_mode(region_id: Option<Uuid>) -> GResult<String> {
    let region_id = required(region_id, "region_id")?;
    require_active(region_id)?;
    with_writes(|client| {
        let t = crate::statements::run(
            client,
            "WITH u AS (
                   UPDATE grse.region_scaling_state
                      SET pinned_mode = NULL, pinned_until = NULL, pin_reason = NULL, pinned_at = NULL
                    WHERE region_id = $1 AND pinned_mode IS NOT NULL
                   RETURNING scaling_mode)
                 SELECT COALESCE((SELECT scaling_mode FROM u),
                                 (SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = $1))",
            &[region_id.into()],
        )?;
        t.first().get_one::<String>().or_internal()?.ok_or_else(|| not_found("region", region_id))
    })
}
