"""HTTP plumbing shared by every REST domain: envelope, errors, routing, the edge every request passes."""
