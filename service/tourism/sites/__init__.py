"""Published heritage content: the read model (schemas, queries), its public views, GeoJSON and search."""
