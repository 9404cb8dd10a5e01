//! The region context resolver: which region an agency, a client or a
//! request belongs to. Unknown ids resolve to NULL, as in the seed.

use crate::convert::JsonText;
use crate::error::{invalid, not_found, required, GResult};
use grse_core::headers::{region_hint, RegionHint};
use pgrx::prelude::*;
use pgrx::Uuid;

/// The region of an agency's active license in an active region: the
/// primary license first, then the oldest, then the smallest region id.
pub fn region_for_agency(agency_id: Uuid) -> GResult<Option<Uuid>> {
    crate::statements::one::<Uuid>(
        "SELECT (SELECT l.region_id
                   FROM grse.agency_regions l JOIN grse.regions r ON r.id = l.region_id
                  WHERE l.agency_id = $1 AND l.status = 'active' AND r.active
                  ORDER BY l.is_primary DESC, l.created_at, l.region_id
                  LIMIT 1)",
        &[agency_id.into()],
    )
}

fn agency_of_client(client_id: Uuid) -> GResult<Option<Uuid>> {
    crate::statements::one::<Uuid>(
        "SELECT (SELECT agency_id FROM grse.client_agencies WHERE client_id = $1)",
        &[client_id.into()],
    )
}

fn exists(sql: &str, id: Uuid) -> GResult<bool> {
    Ok(crate::statements::one::<bool>(sql, &[id.into()])?.unwrap_or(false))
}

/// P0002 unless the client is known (has a row in grse.client_agencies).
pub fn require_client(client_id: Uuid) -> GResult<()> {
    if exists("SELECT EXISTS (SELECT 1 FROM grse.client_agencies WHERE client_id = $1)", client_id)? {
        Ok(())
    } else {
        Err(not_found("client", client_id))
    }
}

/// P0002 unless the agency is known (holds a license in grse.agency_regions, of any status).
pub fn require_agency(agency_id: Uuid) -> GResult<()> {
    if exists("SELECT EXISTS (SELECT 1 FROM grse.agency_regions WHERE agency_id = $1)", agency_id)? {
        Ok(())
    } else {
        Err(not_found("agency", agency_id))
    }
}

/// A client's region: client → agency → the agency's active license.
pub fn region_for_client(client_id: Uuid) -> GResult<Option<Uuid>> {
    match agency_of_client(client_id)? {
        Some(agency) => region_for_agency(agency),
        None => Ok(None),
    }
}

fn active_region(region_id: Uuid) -> GResult<Option<Uuid>> {
    crate::statements::one::<Uuid>("SELECT id FROM grse.regions WHERE id = $1 AND active", &[region_id.into()])
}

/// Region of an agency (its active license), or NULL.
#[pg_extern(stable, parallel_safe)]
pub fn resolve_region_for_agency(agency_id: Option<Uuid>) -> GResult<Option<Uuid>> {
    region_for_agency(required(agency_id, "agency_id")?)
}

/// Region of a client (through its agency's active license), or NULL.
#[pg_extern(stable, parallel_safe)]
pub fn resolve_region_for_client(client_id: Option<Uuid>) -> GResult<Option<Uuid>> {
    region_for_client(required(client_id, "client_id")?)
}

/// Region of a request from its headers (a JSON object of header name →
/// value, names case-insensitive): `x-region-id` if present (NULL if that
/// region is unknown or inactive), else the region of `x-agency-id`'s active
/// license, else NULL. A malformed id is an error (22P02); a document
/// nested deeper than 32 levels too (54001).
#[pg_extern(stable, parallel_safe)]
pub fn resolve_region_from_headers(headers: Option<JsonText>) -> GResult<Option<Uuid>> {
    let headers = required(headers, "headers")?.parse("headers")?;
    let obj = headers.as_object().ok_or_else(|| invalid("headers must be a JSON object of header names to values"))?;
    let pairs = obj.iter().map(|(k, v)| {
        let value = match v {
            serde_json::Value::String(s) => Some(s.as_str()),
            serde_json::Value::Array(a) if a.len() == 1 => a[0].as_str(),
            _ => None,
        };
        (k.as_str(), value)
    });
    let hint = region_hint(pairs)
        .map_err(|e| crate::error::report(crate::error::Error::BadText(format!("invalid request header: {e}"))))?;
    match hint {
        RegionHint::Region(id) => active_region(Uuid::from_bytes(id)),
        RegionHint::Agency(id) => region_for_agency(Uuid::from_bytes(id)),
        RegionHint::None => Ok(None),
    }
}
