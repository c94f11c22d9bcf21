"""A corpus of real tool outputs: many architectures, every tool a user runs, and injected violations.

Reference models are PyTorch modules (or transformers models with small configs and random weights, so
nothing is downloaded) exported to ONNX; candidates are what the real tools make of them, and the same
modules with one violation injected. ``corpus.build`` writes everything into a folder with a manifest
of what each candidate is and the verdict each rulebook must reach.
"""
