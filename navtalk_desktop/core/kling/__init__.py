"""Kling AI image-to-video: client, image pre-flight, capability map, resumable generation."""
