"""Reports in words and files: English and Korean summaries, JSON, HTML with keyframes and a timeline."""
