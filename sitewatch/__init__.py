"""sitewatch: a video safety assistant for construction sites and factories."""

__version__ = "0.1.0"
