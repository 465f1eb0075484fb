"""moodtune\x27s local host: camera, face, emotion, mood and music for the Chrome extension."""

__version__ = "0.1.0"
