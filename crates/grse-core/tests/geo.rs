//! Property tests of geographic routing (`grse_core::geo`): the great-circle
//! distance and the ordering of the nearest eligible region.

use grse_core::geo::{distance_km, nearest, Point, EARTH_RADIUS_KM};
use grse_core::routing::Candidate;
use grse_core::{Centi, Mode};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 3000, ..ProptestConfig::default() }
}

fn point() -> impl Strategy<Value = Point> {
    (-90.0f64..=90.0, -180.0f64..=180.0).prop_map(|(latitude, longitude)| Point { latitude, longitude })
}

/// A few fixed places too, so that equal distances (same coordinates) occur.
fn place() -> impl Strategy<Value = Option<Point>> {
    prop_oneof![
        1 => Just(None),
        2 => prop::sample::select(vec![
            Point { latitude: 52.52, longitude: 13.405 },
            Point { latitude: 48.8566, longitude: 2.3522 },
            Point { latitude: 40.7128, longitude: -74.006 },
        ]).prop_map(Some),
        3 => point().prop_map(Some),
    ]
}

fn candidates() -> impl Strategy<Value = Vec<(Candidate<u32>, Option<Point>)>> {
    prop::collection::vec((prop::sample::select(Mode::ALL.to_vec()), 0i64..=10_000, 0i64..=10_000, place()), 0..12)
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (mode, capacity, p, at))| {
                    (Candidate { id: i as u32, mode, capacity: Centi(capacity), type_pressure: Centi(p) }, at)
                })
                .collect()
        })
}

fn open(mode: Mode) -> bool {
    matches!(mode, Mode::Normal | Mode::Cautious)
}

proptest! {
    #![proptest_config(config())]

    /// A distance: zero to itself, symmetric, at most half the circumference,
    /// and within the triangle inequality.
    #[test]
    fn great_circle_distance_is_a_metric(a in point(), b in point(), c in point()) {
        let (ab, ba, ac, cb) = (distance_km(a, b), distance_km(b, a), distance_km(a, c), distance_km(c, b));
        prop_assert!(distance_km(a, a).abs() < 1e-9);
        prop_assert!((ab - ba).abs() < 1e-6);
        prop_assert!((0.0..=std::f64::consts::PI * EARTH_RADIUS_KM + 1e-6).contains(&ab));
        prop_assert!(ab <= ac + cb + 1e-6);
    }

    /// The choice is an open (normal or cautious) region; none open is
    /// nearer; with equal distance none has a lower pressure of the job type;
    /// a region without coordinates is chosen only when no open region has
    /// them; nothing is chosen only when nothing is open.
    #[test]
    fn the_nearest_open_region_wins_and_pressure_breaks_ties(cands in candidates(), near in point()) {
        let chosen = nearest(&cands, near);
        let open_ones: Vec<_> = cands.iter().filter(|(c, _)| open(c.mode)).collect();
        prop_assert_eq!(chosen.is_none(), open_ones.is_empty());
        let Some(chosen) = chosen else { return Ok(()) };
        prop_assert!(open(chosen.mode));
        let at = cands.iter().find(|(c, _)| c.id == chosen.id).unwrap().1;
        let d = |p: Option<Point>| p.map(|p| distance_km(p, near)).unwrap_or(f64::INFINITY);
        for (c, p) in &open_ones {
            prop_assert!(d(*p) >= d(at), "region {} is nearer than the chosen {}", c.id, chosen.id);
            if d(*p) == d(at) {
                prop_assert!(c.type_pressure >= chosen.type_pressure);
            }
        }
        if at.is_none() {
            prop_assert!(open_ones.iter().all(|(_, p)| p.is_none()));
        }
    }

    /// The order of the candidates does not matter.
    #[test]
    fn the_choice_does_not_depend_on_the_order(cands in candidates(), near in point(), seed in any::<u64>()) {
        let mut shuffled = cands.clone();
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(nearest(&cands, near).map(|c| c.id), nearest(&shuffled, near).map(|c| c.id));
    }

    /// Moving one open region onto the location itself makes it the choice
    /// (unless another open one is there too and has a lower pressure).
    #[test]
    fn a_region_at_the_location_wins(mut cands in candidates(), near in point(), pick in any::<prop::sample::Index>()) {
        let open_idx: Vec<usize> = (0..cands.len()).filter(|&i| open(cands[i].0.mode)).collect();
        prop_assume!(!open_idx.is_empty());
        let i = open_idx[pick.index(open_idx.len())];
        for (c, p) in cands.iter_mut() {
            if p.is_some_and(|p| distance_km(p, near) == 0.0) && c.id != i as u32 {
                *p = None;
            }
        }
        cands[i].1 = Some(near);
        prop_assert_eq!(nearest(&cands, near).map(|c| c.id), Some(i as u32));
    }
}
