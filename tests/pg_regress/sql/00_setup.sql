SET client_min_messages = warning;
DROP EXTENSION IF EXISTS grse CASCADE;
CREATE EXTENSION grse;
