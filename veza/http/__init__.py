"""HTTP plumbing shared by every REST domain: envelope, errors, routing, middlewares."""
