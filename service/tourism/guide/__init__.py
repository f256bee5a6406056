"""The audio guide: what to play at a position (from an in-memory index) and offline packs."""
