"""workflows of wildrydes-mr."""
