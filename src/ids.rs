//! Ids of the rows grse creates (budget holds, job records): UUIDs of
//! version 7 (RFC 9562), whose first 48 bits are the creation time in
//! milliseconds. Each new id then sorts after the ids made before it, so its
//! primary-key entry goes to the right edge of the index: a busy table dirties
//! (and, after a checkpoint, logs in full) a few index pages, not one page per
//! id as random (version 4) ids do. Ids made by one backend are strictly
//! increasing; ids of different backends in the same millisecond interleave.
//! Nothing reads meaning into an id: it is a key, and `created_at` says when.

use pgrx::Uuid;

/// A new, time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::from_bytes(*uuid::Uuid::now_v7().as_bytes())
}
