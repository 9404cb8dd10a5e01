//! `#[pg_test]`s: run inside a real PostgreSQL by `cargo pgrx test`.

use pgrx::prelude::*;

#[pg_test]
fn creates_state_and_opening_allocation() {
    let id = Spi::get_one::<pgrx::Uuid>(
        "INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES ('EU', 'eu', 'DE', 'Europe/Berlin') RETURNING id",
    )
    .unwrap()
    .unwrap();
    let remaining = Spi::get_one_with_args::<i64>(
        "SELECT ai_budget_remaining FROM grse.region_scaling_state WHERE region_id = $1",
        &[id.into()],
    )
    .unwrap();
    assert_eq!(remaining, Some(100_000));
}
