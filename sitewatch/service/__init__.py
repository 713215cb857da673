"""The service layer: what a request is run with, built once; surfaces build requests, this does the work."""
