"""MLLOG training logs: streaming parser, rules as data (safe expressions), observations."""
