"""Ways to reach a Session: native messaging (Chrome) and the demo page (aiohttp)."""
