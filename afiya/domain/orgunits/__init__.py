"""Organisation units: country → region → district → facility → department → ward."""
