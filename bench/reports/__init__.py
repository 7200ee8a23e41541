"""Report speed at province scale: per-response rows vs SQL cell totals (issue 20)."""
