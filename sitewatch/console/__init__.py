"""The operator's console: server-rendered pages (cameras, review queue, incidents, analyses) served by the API."""
