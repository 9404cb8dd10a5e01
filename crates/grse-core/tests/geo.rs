//! Property tests of geographic routing (`grse_core::geo`): the distance is a
//! metric on the sphere, and the nearest region wins among the eligible ones.

use grse_core::geo::{distance_km, nearest, Point, EARTH_RADIUS_KM};
use grse_core::routing::Candidate;
use grse_core::{Centi, Mode};
use proptest::prelude::*;

fn point() -> impl Strategy<Value = Point> {
    (-90.0f64..=90.0, -180.0f64..=180.0).prop_map(|(latitude, longitude)| Point { latitude, longitude })
}

fn candidate() -> impl Strategy<Value = (Candidate<u16>, Option<Point>)> {
    (any::<u16>(), prop::sample::select(Mode::ALL.to_vec()), 0i64..=10_000, 0i64..=10_000, prop::option::of(point()))
        .prop_map(|(id, mode, capacity, pressure, at)| {
            (Candidate { id, mode, capacity: Centi(capacity), type_pressure: Centi(pressure) }, at)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn distance_is_a_metric(a in point(), b in point(), c in point()) {
        let ab = distance_km(a, b);
        prop_assert!((0.0..=std::f64::consts::PI * EARTH_RADIUS_KM + 1e-6).contains(&ab));
        prop_assert!((ab - distance_km(b, a)).abs() < 1e-6);
        prop_assert!(distance_km(a, a) < 1e-6);
        prop_assert!(distance_km(a, c) <= ab + distance_km(b, c) + 1e-6);
    }

    #[test]
    fn nearest_is_eligible_and_no_eligible_region_is_nearer(
        cands in prop::collection::vec(candidate(), 0..12),
        near in point(),
    ) {
        let open = |c: &Candidate<u16>| matches!(c.mode, Mode::Normal | Mode::Cautious);
        let key = |at: &Option<Point>| at.map(|p| distance_km(p, near)).unwrap_or(f64::INFINITY);
        match nearest(&cands, near) {
            None => prop_assert!(cands.iter().all(|(c, _)| !open(c))),
            Some(best) => {
                prop_assert!(open(best));
                let best_at = cands.iter().find(|(c, _)| c == best).map(|(_, at)| *at).unwrap();
                for (c, at) in cands.iter().filter(|(c, _)| open(c)) {
                    prop_assert!(key(&best_at) <= key(at), "{:?} is nearer than the winner {:?}", c, best);
                }
                // a region without coordinates wins only when no eligible region has any
                if best_at.is_none() {
                    prop_assert!(cands.iter().filter(|(c, _)| open(c)).all(|(_, at)| at.is_none()));
                }
            }
        }
    }
}

/// Candidates with distinct ids, often at one of a few shared places (so that
/// equal distances occur) or without coordinates.
fn crowd() -> impl Strategy<Value = Vec<(Candidate<u16>, Option<Point>)>> {
    let place = prop_oneof![
        1 => Just(None),
        2 => prop::sample::select(vec![
            Point { latitude: 52.52, longitude: 13.405 },
            Point { latitude: 48.8566, longitude: 2.3522 },
        ]).prop_map(Some),
        2 => point().prop_map(Some),
    ];
    prop::collection::vec((candidate(), place), 0..12).prop_map(|v| {
        v.into_iter().enumerate().map(|(i, ((c, _), at))| (Candidate { id: i as u16, ..c }, at)).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Pressure breaks ties: no eligible region at the winner's distance has
    /// a lower pressure of the job type.
    #[test]
    fn equal_distances_go_to_the_lower_pressure(cands in crowd(), near in point()) {
        let open = |c: &Candidate<u16>| matches!(c.mode, Mode::Normal | Mode::Cautious);
        let key = |at: &Option<Point>| at.map(|p| distance_km(p, near)).unwrap_or(f64::INFINITY);
        if let Some(best) = nearest(&cands, near) {
            let best_at = cands.iter().find(|(c, _)| c.id == best.id).map(|(_, at)| *at).unwrap();
            for (c, at) in cands.iter().filter(|(c, at)| open(c) && key(at) == key(&best_at)) {
                prop_assert!(c.type_pressure >= best.type_pressure, "{:?} at {:?} has a lower pressure than {:?}", c, at, best);
            }
        }
    }

    /// The order in which the candidates come does not change the winner.
    #[test]
    fn the_winner_does_not_depend_on_the_order(cands in crowd(), near in point(), rotate in any::<prop::sample::Index>()) {
        let mut turned = cands.clone();
        if !turned.is_empty() {
            let k = rotate.index(turned.len());
            turned.rotate_left(k);
            turned.reverse();
        }
        prop_assert_eq!(nearest(&cands, near).map(|c| c.id), nearest(&turned, near).map(|c| c.id));
    }
}
