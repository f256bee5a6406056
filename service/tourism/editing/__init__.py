"""Editors write heritage content: sites, points, tours, and narration tracks (uploaded or synthesised)."""
