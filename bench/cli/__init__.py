"""bench/cli: start-up time of the `survey` command (see __main__)."""
