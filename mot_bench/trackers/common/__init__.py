"""Pieces shared by several trackers: Kalman filters, matching, the JDE-family track and bookkeeping."""
