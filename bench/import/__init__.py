"""bench/import: `survey responses import` rows per second (see __main__)."""
