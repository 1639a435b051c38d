"""The web console: static pages served by callrec itself, talking to the same API."""
