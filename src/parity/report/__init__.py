"""Rendering results for people and programs; reads findings, knows nothing of engines."""
