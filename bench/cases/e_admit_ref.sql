-- (e) admission, ref: the PL/pgSQL admit_job (mode, budget, priority, wait,
-- shard key hashtext(tenant) % 16, queue + 1 under the row lock); same inputs
-- as e_admit_grse.sql.
\set r random(1, 100)
\set cost random(1, 100)
\set t random(1, 100000)
SELECT * FROM ref.admit_job('posting', ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :cost,
                            ('00000000-0000-4000-9000-' || lpad(:t::text, 12, '0'))::uuid);
