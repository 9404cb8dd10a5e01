-- (d) global risk over the 10,000-region fixture (ref), 1 client.
SELECT ref.compute_global_risk();
