"""LoadGen's files, read as facts: summaries, detail logs, accuracy logs, accuracy.txt and verify files.

Each reader is bounded (file size, line length, integer digits, nesting) and never raises on content:
what it cannot read becomes a problem it reports, so an inference audit can say *which* file is
unverifiable instead of stopping (the official checker aborts on the first missing file). Only the
standard library, so the readers can run on a fast path.
"""
