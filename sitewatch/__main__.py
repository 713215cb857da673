"""Allow `python -m sitewatch`."""

from sitewatch.cli import main

main()
