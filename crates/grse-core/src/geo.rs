//! Geographic routing: the nearest eligible region to a location.
//!
//! Distance is the great-circle distance on a sphere of the Earth's mean
//! radius (6371.0088 km), by the haversine formula. Among the regions the
//! best-region choice may pick (normal and cautious ones), the nearest
//! wins; regions without coordinates come last; equal distances go to the
//! lower pressure of the job type, then the higher capacity, then the
//! smaller id (the same tie-breaks as without a location).

use crate::mode::Mode;
use crate::routing::Candidate;
use std::cmp::Ordering;

/// The Earth's mean radius, km (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A point: latitude and longitude in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

/// Great-circle distance between two points, km.
pub fn distance_km(a: Point, b: Point) -> f64 {
    let (p1, p2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dp = p2 - p1;
    let dl = (b.longitude - a.longitude).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The nearest eligible candidate to `near` (see the module doc).
pub fn nearest<Id: Ord>(candidates: &[(Candidate<Id>, Option<Point>)], near: Point) -> Option<&Candidate<Id>> {
    let key = |(_, at): &(Candidate<Id>, Option<Point>)| at.map(|p| distance_km(p, near)).unwrap_or(f64::INFINITY);
    candidates
        .iter()
        .filter(|(c, _)| matches!(c.mode, Mode::Normal | Mode::Cautious))
        .min_by(|a, b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(Ordering::Equal)
                .then(a.0.type_pressure.cmp(&b.0.type_pressure))
                .then(b.0.capacity.cmp(&a.0.capacity))
                .then(a.0.id.cmp(&b.0.id))
        })
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::Centi;

    fn cand(id: u8, mode: Mode, pressure: i64) -> Candidate<u8> {
        Candidate { id, mode, capacity: Centi(8000), type_pressure: Centi(pressure) }
    }

    const BERLIN: Point = Point { latitude: 52.52, longitude: 13.405 };
    const PARIS: Point = Point { latitude: 48.8566, longitude: 2.3522 };
    const NEW_YORK: Point = Point { latitude: 40.7128, longitude: -74.006 };

    #[test]
    fn known_distances() {
        // Berlin-Paris about 878 km, Paris-New York about 5837 km
        assert!((distance_km(BERLIN, PARIS) - 878.0).abs() < 5.0);
        assert!((distance_km(PARIS, NEW_YORK) - 5837.0).abs() < 10.0);
        assert_eq!(distance_km(PARIS, PARIS), 0.0);
        // antipodes: half the circumference
        let a = Point { latitude: 0.0, longitude: 0.0 };
        let b = Point { latitude: 0.0, longitude: 180.0 };
        assert!((distance_km(a, b) - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn nearest_eligible_first_then_no_coordinates() {
        let cands = vec![
            (cand(1, Mode::Normal, 0), Some(NEW_YORK)),
            (cand(2, Mode::Frozen, 0), Some(BERLIN)),
            (cand(3, Mode::Cautious, 90_00), Some(PARIS)),
            (cand(4, Mode::Normal, 0), None),
        ];
        assert_eq!(nearest(&cands, BERLIN).map(|c| c.id), Some(3));
        let only_unknown = vec![(cand(4, Mode::Normal, 10), None), (cand(5, Mode::Normal, 5), None)];
        assert_eq!(nearest(&only_unknown, BERLIN).map(|c| c.id), Some(5));
        let none_open = vec![(cand(2, Mode::Throttled, 0), Some(BERLIN))];
        assert!(nearest(&none_open, BERLIN).is_none());
    }

    #[test]
    fn equal_distance_goes_to_lower_pressure() {
        let cands = vec![(cand(1, Mode::Normal, 50_00), Some(PARIS)), (cand(2, Mode::Normal, 10_00), Some(PARIS))];
        assert_eq!(nearest(&cands, BERLIN).map(|c| c.id), Some(2));
    }
}
