//! Request headers: which region a request names, if any.
//!
//! Header names are case-insensitive. `x-region-id` wins over
//! `x-agency-id`. A header value may be a string or a one-element array of
//! strings (as some HTTP layers pass repeated headers).

use std::fmt;

/// What a request's headers say about its region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionHint {
    /// `x-region-id`: the region itself.
    Region([u8; 16]),
    /// `x-agency-id`: resolve through the agency's active license.
    Agency([u8; 16]),
    /// Neither header.
    None,
}

/// A header value that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    pub header: String,
    pub reason: String,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "header {}: {}", self.header, self.reason)
    }
}

impl std::error::Error for HeaderError {}

/// Parses a UUID in its canonical 8-4-4-4-12 form, or 32 hex digits, with
/// optional braces; case-insensitive.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let t = text.trim();
    let t = t.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(t);
    let hex: String = if t.len() == 36 {
        let dashes = [8, 13, 18, 23];
        if !t.char_indices().all(|(i, c)| (c == '-') == dashes.contains(&i)) {
            return None;
        }
        t.chars().filter(|c| *c != '-').collect()
    } else {
        t.to_string()
    };
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Reads the region hint from `(name, value)` header pairs, where a value
/// is `None` when the header's JSON value is not a string.
pub fn region_hint<'a, I>(headers: I) -> Result<RegionHint, HeaderError>
where
    I: IntoIterator<Item = (&'a str, Option<&'a str>)>,
{
    let mut region = None;
    let mut agency = None;
    for (name, value) in headers {
        let lname = name.to_ascii_lowercase();
        let slot = match lname.as_str() {
            "x-region-id" => &mut region,
            "x-agency-id" => &mut agency,
            _ => continue,
        };
        let value =
            value.ok_or_else(|| HeaderError { header: lname.clone(), reason: "value must be a string".into() })?;
        if value.trim().is_empty() {
            continue;
        }
        let id = parse_uuid(value)
            .ok_or_else(|| HeaderError { header: lname.clone(), reason: format!("\"{value}\" is not a valid uuid") })?;
        if slot.is_some_and(|prev| prev != id) {
            return Err(HeaderError { header: lname, reason: "given twice with different values".into() });
        }
        *slot = Some(id);
    }
    Ok(match (region, agency) {
        (Some(r), _) => RegionHint::Region(r),
        (None, Some(a)) => RegionHint::Agency(a),
        (None, None) => RegionHint::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

    #[test]
    fn region_header_wins_and_names_are_case_insensitive() {
        let h = region_hint([("X-Agency-Id", Some(A)), ("X-REGION-ID", Some(A))]).unwrap();
        assert!(matches!(h, RegionHint::Region(_)));
        let h = region_hint([("x-agency-id", Some(A)), ("accept", Some("*/*"))]).unwrap();
        assert!(matches!(h, RegionHint::Agency(_)));
        assert_eq!(region_hint([("accept", Some("x"))]).unwrap(), RegionHint::None);
        assert_eq!(region_hint([("x-region-id", Some("  "))]).unwrap(), RegionHint::None);
    }

    #[test]
    fn malformed_ids_are_errors() {
        assert!(region_hint([("x-region-id", Some("nope"))]).is_err());
        assert!(region_hint([("x-region-id", None)]).is_err());
        assert!(region_hint([("x-region-id", Some(A)), ("X-Region-Id", Some("6f9619ff-8b86-d011-b42d-00c04fc964fe"))])
            .is_err());
    }

    #[test]
    fn uuid_forms() {
        assert!(parse_uuid(A).is_some());
        assert_eq!(parse_uuid(&A.to_uppercase()), parse_uuid(A));
        assert_eq!(parse_uuid(&A.replace('-', "")), parse_uuid(A));
        assert_eq!(parse_uuid(&format!("{{{A}}}")), parse_uuid(A));
        assert_eq!(parse_uuid("6f9619ff8b86-d011-b42d-00c04fc964ff0"), None);
        assert_eq!(parse_uuid("zz9619ff-8b86-d011-b42d-00c04fc964ff"), None);
        assert_eq!(parse_uuid("é"), None);
    }
}
