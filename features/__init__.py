"""Feature jobs: polars expressions over the lake, one definition of each feature."""
