"""Plain SQL migrations, NNNN_name.sql, applied in order by veza.db.migrate."""
