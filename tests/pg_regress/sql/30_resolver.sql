-- 30_resolver: which region an agency, a client or a request belongs to.
--   resolve_region_for_agency: the agency's active license in an active
--     region; the primary license first, then the oldest; else NULL.
--   resolve_region_for_client: client -> agency -> that rule.
--   resolve_region_from_headers: x-region-id wins (NULL if unknown/inactive),
--     else x-agency-id's region, else NULL; names case-insensitive.
\ir ../common/preamble.sql

-- The slug of a region id; a NULL id shows as <null>.
CREATE FUNCTION pg_temp.slug(id uuid) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN slug.id IS NULL THEN '<null>'
                ELSE COALESCE((SELECT r.slug FROM grse.regions r WHERE r.id = slug.id), '<no such region>') END
$$;

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'Alpha', 'alpha', 'DE', 'Europe/Berlin', true),
    ('00000000-0000-0000-0000-0000000000a2', 'Beta',  'beta',  'US', 'America/New_York', true),
    ('00000000-0000-0000-0000-0000000000a3', 'Gamma', 'gamma', 'JP', 'Asia/Tokyo', false);

-- Agencies 0...e1 .. 0...e9 and their licenses.
INSERT INTO grse.agency_regions (agency_id, region_id, status, is_primary, created_at) VALUES
    -- e1: one active license in alpha
    ('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-0000000000a1', 'active',    false, '2024-01-01'),
    -- e2/e3/e4: only suspended / expired / cancelled licenses in alpha
    ('00000000-0000-0000-0000-0000000000e2', '00000000-0000-0000-0000-0000000000a1', 'suspended', false, '2024-01-01'),
    ('00000000-0000-0000-0000-0000000000e3', '00000000-0000-0000-0000-0000000000a1', 'expired',   false, '2024-01-01'),
    ('00000000-0000-0000-0000-0000000000e4', '00000000-0000-0000-0000-0000000000a1', 'cancelled', false, '2024-01-01'),
    -- e5: an active license, but in the inactive region gamma
    ('00000000-0000-0000-0000-0000000000e5', '00000000-0000-0000-0000-0000000000a3', 'active',    true,  '2024-01-01'),
    -- e6: older license in alpha, newer primary license in beta -> primary wins
    ('00000000-0000-0000-0000-0000000000e6', '00000000-0000-0000-0000-0000000000a1', 'active',    false, '2023-01-01'),
    ('00000000-0000-0000-0000-0000000000e6', '00000000-0000-0000-0000-0000000000a2', 'active',    true,  '2024-06-01'),
    -- e7: no primary; beta is older than alpha -> oldest wins
    ('00000000-0000-0000-0000-0000000000e7', '00000000-0000-0000-0000-0000000000a2', 'active',    false, '2024-01-01'),
    ('00000000-0000-0000-0000-0000000000e7', '00000000-0000-0000-0000-0000000000a1', 'active',    false, '2024-06-01'),
    -- e8: primary license in the inactive gamma, plain one in beta -> beta
    ('00000000-0000-0000-0000-0000000000e8', '00000000-0000-0000-0000-0000000000a3', 'active',    true,  '2023-01-01'),
    ('00000000-0000-0000-0000-0000000000e8', '00000000-0000-0000-0000-0000000000a2', 'active',    false, '2024-01-01'),
    -- e9: suspended primary in alpha, active plain one in beta -> beta
    ('00000000-0000-0000-0000-0000000000e9', '00000000-0000-0000-0000-0000000000a1', 'suspended', true,  '2023-01-01'),
    ('00000000-0000-0000-0000-0000000000e9', '00000000-0000-0000-0000-0000000000a2', 'active',    false, '2024-01-01');

-- The status column defaults to active.
SELECT column_default FROM information_schema.columns
 WHERE table_schema = 'grse' AND table_name = 'agency_regions' AND column_name = 'status';

-- ---------------------------------------------------------------------------
-- resolve_region_for_agency
-- ---------------------------------------------------------------------------
SELECT a.label, pg_temp.slug(grse.resolve_region_for_agency(a.id)) AS region
  FROM (VALUES
    (1, 'e1 active license in alpha -> alpha',        '00000000-0000-0000-0000-0000000000e1'::uuid),
    (2, 'e2 suspended only -> NULL',                   '00000000-0000-0000-0000-0000000000e2'),
    (3, 'e3 expired only -> NULL',                     '00000000-0000-0000-0000-0000000000e3'),
    (4, 'e4 cancelled only -> NULL',                   '00000000-0000-0000-0000-0000000000e4'),
    (5, 'e5 active license, inactive region -> NULL',  '00000000-0000-0000-0000-0000000000e5'),
    (6, 'e6 newer primary beta beats older alpha',     '00000000-0000-0000-0000-0000000000e6'),
    (7, 'e7 no primary: oldest (beta) wins',           '00000000-0000-0000-0000-0000000000e7'),
    (8, 'e8 primary in inactive gamma skipped -> beta','00000000-0000-0000-0000-0000000000e8'),
    (9, 'e9 suspended primary skipped -> beta',        '00000000-0000-0000-0000-0000000000e9'),
    (10, 'unknown agency -> NULL',                     '00000000-0000-0000-0000-0000000000ff')
  ) AS a(n, label, id)
 ORDER BY a.n;

-- the answer is really NULL (not an error) for an unknown agency
SELECT grse.resolve_region_for_agency('00000000-0000-0000-0000-0000000000ff') IS NULL AS unknown_is_null;

-- a license that becomes suspended stops resolving; reactivated, it resolves again
UPDATE grse.agency_regions SET status = 'suspended'
 WHERE agency_id = '00000000-0000-0000-0000-0000000000e1';
SELECT pg_temp.slug(grse.resolve_region_for_agency('00000000-0000-0000-0000-0000000000e1')) AS e1_suspended;
UPDATE grse.agency_regions SET status = 'active'
 WHERE agency_id = '00000000-0000-0000-0000-0000000000e1';
SELECT pg_temp.slug(grse.resolve_region_for_agency('00000000-0000-0000-0000-0000000000e1')) AS e1_active_again;

-- a region that becomes inactive stops resolving (e7 falls back to its alpha license)
UPDATE grse.regions SET active = false WHERE id = '00000000-0000-0000-0000-0000000000a2';
SELECT pg_temp.slug(grse.resolve_region_for_agency('00000000-0000-0000-0000-0000000000e7')) AS e7_beta_inactive;
UPDATE grse.regions SET active = true WHERE id = '00000000-0000-0000-0000-0000000000a2';
SELECT pg_temp.slug(grse.resolve_region_for_agency('00000000-0000-0000-0000-0000000000e7')) AS e7_beta_active;

-- NULL agency id: 22004
SELECT pg_temp.err($$SELECT grse.resolve_region_for_agency(NULL)$$) AS null_agency;

-- ---------------------------------------------------------------------------
-- resolve_region_for_client: client -> agency -> active license
-- ---------------------------------------------------------------------------
INSERT INTO grse.client_agencies (client_id, agency_id) VALUES
    ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000e1'),  -- alpha
    ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000e2'),  -- suspended only
    ('00000000-0000-0000-0000-0000000000c6', '00000000-0000-0000-0000-0000000000e6'),  -- primary beta
    ('00000000-0000-0000-0000-0000000000c7', '00000000-0000-0000-0000-0000000000ee');  -- agency without licenses

SELECT c.label, pg_temp.slug(grse.resolve_region_for_client(c.id)) AS region
  FROM (VALUES
    (1, 'c1 (agency e1) -> alpha',                 '00000000-0000-0000-0000-0000000000c1'::uuid),
    (2, 'c2 (agency e2, suspended) -> NULL',       '00000000-0000-0000-0000-0000000000c2'),
    (3, 'c6 (agency e6, primary beta) -> beta',    '00000000-0000-0000-0000-0000000000c6'),
    (4, 'c7 (agency without licenses) -> NULL',    '00000000-0000-0000-0000-0000000000c7'),
    (5, 'unknown client -> NULL',                  '00000000-0000-0000-0000-0000000000cf'),
    (6, 'an agency id is not a client id -> NULL', '00000000-0000-0000-0000-0000000000e1')
  ) AS c(n, label, id)
 ORDER BY c.n;

SELECT grse.resolve_region_for_client('00000000-0000-0000-0000-0000000000cf') IS NULL AS unknown_is_null;

-- NULL client id: 22004
SELECT pg_temp.err($$SELECT grse.resolve_region_for_client(NULL)$$) AS null_client;

-- ---------------------------------------------------------------------------
-- resolve_region_from_headers
-- ---------------------------------------------------------------------------
SELECT h.label, pg_temp.slug(grse.resolve_region_from_headers(h.headers)) AS region
  FROM (VALUES
    (1,  'x-region-id beta -> beta',
         '{"x-region-id": "00000000-0000-0000-0000-0000000000a2"}'::jsonb),
    (2,  'both headers: x-region-id (beta) wins over agency e1 (alpha)',
         '{"x-region-id": "00000000-0000-0000-0000-0000000000a2", "x-agency-id": "00000000-0000-0000-0000-0000000000e1"}'),
    (3,  'names are case-insensitive: X-Region-Id',
         '{"X-Region-Id": "00000000-0000-0000-0000-0000000000a2"}'),
    (4,  'X-AGENCY-ID e1 -> alpha (fallback to the agency license)',
         '{"X-AGENCY-ID": "00000000-0000-0000-0000-0000000000e1"}'),
    (5,  'x-agency-id e6 -> beta (primary license)',
         '{"x-agency-id": "00000000-0000-0000-0000-0000000000e6", "accept": "*/*"}'),
    (6,  'x-agency-id with only a suspended license -> NULL',
         '{"x-agency-id": "00000000-0000-0000-0000-0000000000e2"}'),
    (7,  'x-agency-id unknown -> NULL',
         '{"x-agency-id": "00000000-0000-0000-0000-0000000000ff"}'),
    (8,  'neither header -> NULL',
         '{"accept": "application/json", "x-client-id": "00000000-0000-0000-0000-0000000000c1"}'),
    (9,  'empty object -> NULL',
         '{}'),
    (10, 'x-region-id unknown -> NULL',
         '{"x-region-id": "00000000-0000-0000-0000-0000000000ff"}'),
    (11, 'x-region-id unknown still wins over a resolvable agency -> NULL',
         '{"x-region-id": "00000000-0000-0000-0000-0000000000ff", "x-agency-id": "00000000-0000-0000-0000-0000000000e1"}'),
    (12, 'x-region-id of the inactive gamma -> NULL',
         '{"x-region-id": "00000000-0000-0000-0000-0000000000a3"}'),
    (13, 'upper-case uuid -> beta',
         '{"x-region-id": "00000000-0000-0000-0000-0000000000A2"}'),
    (14, 'uuid in braces -> beta',
         '{"x-region-id": "{00000000-0000-0000-0000-0000000000a2}"}'),
    (15, 'uuid without dashes -> beta',
         '{"x-region-id": "000000000000000000000000000000a2"}'),
    (16, 'one-element array value -> beta',
         '{"x-region-id": ["00000000-0000-0000-0000-0000000000a2"]}'),
    (17, 'blank x-region-id is absent: agency e1 -> alpha',
         '{"x-region-id": "  ", "x-agency-id": "00000000-0000-0000-0000-0000000000e1"}')
  ) AS h(n, label, headers)
 ORDER BY h.n;

-- Bad headers: malformed ids 22P02, non-object JSON 22023, SQL NULL 22004.
SELECT e.label, pg_temp.err(format('SELECT grse.resolve_region_from_headers(%s)', l.lit)) AS result
  FROM (VALUES
    (1,  'malformed x-region-id',        $q${"x-region-id": "not-a-uuid"}$q$),
    (2,  'malformed x-agency-id',        $q${"x-agency-id": "nope"}$q$),
    (3,  'x-region-id one digit short',  $q${"x-region-id": "00000000-0000-0000-0000-0000000000a"}$q$),
    (4,  'x-region-id as a number',      $q${"x-region-id": 42}$q$),
    (5,  'same header twice, differing', $q${"x-region-id": "00000000-0000-0000-0000-0000000000a1", "X-Region-Id": "00000000-0000-0000-0000-0000000000a2"}$q$),
    (6,  'JSON array',                   $q$[]$q$),
    (7,  'JSON string',                  $q$"x-region-id"$q$),
    (8,  'JSON null',                    $q$null$q$),
    (9,  'JSON number',                  $q$1$q$)
  ) AS e(n, label, arg)
 CROSS JOIN LATERAL (SELECT quote_literal(e.arg) || '::jsonb' AS lit) l
 ORDER BY e.n;

SELECT pg_temp.err($$SELECT grse.resolve_region_from_headers(NULL)$$) AS sql_null_headers;
