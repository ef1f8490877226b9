"""local of wildrydes-mr."""
