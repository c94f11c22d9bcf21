"""Engines observe how a candidate differs from its reference; they never decide what is allowed."""
