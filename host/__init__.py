"""moodtune's local host: camera, face, emotion, mood and music for the Chrome extension."""

import time

__version__ = "0.1.0"

# Taken before OpenCV or LiteRT are imported, for `moodtune bench`'s start-up figure.
STARTED = time.perf_counter()
