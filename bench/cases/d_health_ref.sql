-- (d) health of every active region of the 10,000-region fixture (ref), 1 client.
SELECT * FROM ref.get_all_regions_health();
