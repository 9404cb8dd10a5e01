\ir ../common/preamble.sql
