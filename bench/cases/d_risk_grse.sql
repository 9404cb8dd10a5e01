-- (d) global risk over the 10,000-region fixture (grse), 1 client.
SELECT grse.compute_global_risk();
