"""What the camera sees, step by step: camera → faces → emotion → mood, and the live pipeline."""
