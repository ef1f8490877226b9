"""resources of wildrydes-mr."""
