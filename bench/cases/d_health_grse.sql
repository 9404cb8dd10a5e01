-- (d) health of every active region of the 10,000-region fixture (grse), 1 client.
SELECT * FROM grse.get_all_regions_health();
