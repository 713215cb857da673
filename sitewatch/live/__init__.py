"""Live cameras: watch streams, run the detector online, raise incidents and send alerts (`sitewatch watch`)."""
