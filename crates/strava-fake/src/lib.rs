//! A fake Strava API server.
