"""Data layer: taxonomy, schemas, loaders, importers and market data."""
